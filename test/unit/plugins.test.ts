/**
 * Plugins, in process: each way a `type` loads a plugin (a file relative to the configuration, an absolute file, an
 * installed package, a package on the plugins path), each failure (not found, fails to import, no default export,
 * wrong kind, not a definition, create() throws, a type defined twice, a missing plugins directory) as a validation
 * error naming the file and the cause, option tables validated like built-ins, the plugin's `import 'flume-ts'`
 * resolving to this agent, and a plugin failing at runtime isolated and named by health().
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfigWithPlugins, loadDocumentWithPlugins, type PluginOptions } from '../../src/config/plugins/index.js';
import type { ConfigIssue } from '../../src/config/issues.js';
import { AgentError } from '../../src/core/errors.js';
import * as publicApi from '../../src/index.js';
import { tmpDir } from '../helpers/cli.js';
import { startPlan } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import { ConfigReloader } from '../../src/runtime/reload.js';
import { FileStore, type ConfigStore } from '../../src/config/stores/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';

const UPPER = `import { defineInterceptor, opt, makeEvent } from 'flume-ts';
export default defineInterceptor({
  type: 'upper',
  summary: 'Upper-cases bodies.',
  options: { header: opt.string({ default: 'upper', doc: 'Header set on each event.' }) },
  create: (o) => ({
    intercept: (events) => events.map((e) => makeEvent(e.body.toString().toUpperCase(), { ...e.headers, [o.header]: 'y' })),
  }),
});
`;

/** A sink that records what it was given (on globalThis, shared with the test) and fails while told to. */
const RECORDER = `import { defineSink, opt, AgentError } from 'flume-ts';
globalThis.pluginAgentError = AgentError;
export default defineSink({
  type: 'recorder',
  summary: 'Records events.',
  options: { batchSize: opt.int({ default: 10, min: 1, doc: 'Batch size.' }) },
  batchSize: (o) => o.batchSize,
  create: (o) => ({
    batchSize: o.batchSize,
    start: async () => {},
    close: async () => {},
    deliver: async (batch) => {
      const r = (globalThis.recorded ??= { events: [], fail: false });
      if (r.fail) throw new Error('downstream is down');
      r.events.push(...batch.map((e) => e.body.toString()));
    },
  }),
});
`;

interface Recorded {
  events: string[];
  fail: boolean;
}
const recorded = () => ((globalThis as { recorded?: Recorded }).recorded ??= { events: [], fail: false });

function write(dir: string, rel: string, text: string): string {
  const f = path.join(dir, rel);
  fs.mkdirSync(path.dirname(f), { recursive: true });
  fs.writeFileSync(f, text);
  return f;
}

function conf(interceptorType: string, extra = '', sinkType = 'null'): string {
  return [
    'a1.sources = r1',
    'a1.channels = c1',
    'a1.sinks = k1',
    'a1.sources.r1.type = seq',
    'a1.sources.r1.totalEvents = 3',
    'a1.sources.r1.channels = c1',
    'a1.sources.r1.interceptors = i1',
    `a1.sources.r1.interceptors.i1.type = ${interceptorType}`,
    'a1.channels.c1.type = memory',
    `a1.sinks.k1.type = ${sinkType}`,
    'a1.sinks.k1.channel = c1',
    extra,
  ].join('\n');
}

async function load(dir: string, text: string, plugins: PluginOptions = {}) {
  const file = write(dir, 'conf/agent.properties', text);
  return loadConfigWithPlugins({ files: [file], agent: 'a1', sys: {}, env: {}, ...plugins });
}

function errorsOf(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return issues.filter((i) => i.severity === 'error');
}

test('a type written as a file relative to the configuration file loads the plugin, which imports flume-ts', async () => {
  const dir = tmpDir();
  write(dir, 'conf/plugins/upper.mjs', UPPER);
  const res = await load(dir, conf('./plugins/upper.mjs'));
  assert.deepEqual(errorsOf(res.issues), []);
  const i = res.plan!.sources[0]!.interceptors[0]!;
  assert.equal(i.def.type, 'upper');
  assert.equal(i.def.plugin, path.join(dir, 'conf/plugins/upper.mjs'));
  assert.deepEqual(i.options, { header: 'upper' });
  const out = i.def
    .create(i.options, { name: 'i1', logger: undefined as never })
    .intercept([publicApi.makeEvent('ab')]);
  assert.equal(out[0]!.body.toString(), 'AB');
});

test('an absolute path loads too, and one module used twice is imported once', async () => {
  const dir = tmpDir();
  const f = write(dir, 'elsewhere/upper.mjs', UPPER);
  const text = conf(f, `a1.sources.r1.interceptors = i1 i2\na1.sources.r1.interceptors.i2.type = ${f}`);
  const res = await load(dir, text);
  assert.deepEqual(errorsOf(res.issues), []);
  const [a, b] = res.plan!.sources[0]!.interceptors;
  assert.equal(a!.def, b!.def);
});

test("a plugin's keys go through its option table: unknown key with did-you-mean, bad value, file:line", async () => {
  const dir = tmpDir();
  write(dir, 'conf/upper.mjs', UPPER);
  const res = await load(dir, conf('./upper.mjs', 'a1.sources.r1.interceptors.i1.headr = x'));
  assert.equal(res.plan, undefined);
  const [e] = errorsOf(res.issues);
  assert.match(e!.message, /unknown property 'headr' for interceptor type 'upper'/);
  assert.equal(e!.hint, "did you mean 'header'?");
  assert.equal(e!.line, 12);
  assert.equal(e!.file, path.join(dir, 'conf/agent.properties'));
});

test('an installed npm package named as the type loads its entry point (exports, import condition)', async () => {
  const dir = tmpDir();
  write(
    dir,
    'node_modules/@acme/flume-upper/package.json',
    JSON.stringify({ name: '@acme/flume-upper', type: 'module', exports: { '.': { import: './lib/main.js' } } }),
  );
  write(dir, 'node_modules/@acme/flume-upper/lib/main.js', UPPER);
  const res = await load(dir, conf('@acme/flume-upper'));
  assert.deepEqual(errorsOf(res.issues), []);
  assert.equal(res.plan!.sources[0]!.interceptors[0]!.def.type, 'upper');
});

test('packages on the plugins path register their type names; configs use them like built-ins', async () => {
  const dir = tmpDir();
  write(dir, 'plugins.d/upper/package.json', JSON.stringify({ name: 'upper', type: 'module', main: 'index.js' }));
  write(dir, 'plugins.d/upper/index.js', UPPER);
  write(dir, 'plugins.d/recorder/index.mjs', RECORDER);
  const res = await load(dir, conf('UPPER', '', 'recorder'), { pluginsPath: [path.join(dir, 'plugins.d')] });
  assert.deepEqual(errorsOf(res.issues), []);
  assert.equal(res.plan!.sinks[0]!.def.type, 'recorder');
  assert.equal(res.plan!.sources[0]!.interceptors[0]!.def.type, 'upper');
});

test('a plugins-path plugin that declares the Flume class name it replaces runs the old configuration unchanged', async () => {
  const dir = tmpDir();
  const cls = 'com.example.flume.UpperInterceptor$Builder';
  write(dir, 'plugins.d/upper/index.mjs', UPPER.replace("type: 'upper',", `type: 'upper', classNames: ['${cls}'],`));
  const res = await load(dir, conf(cls), { pluginsPath: [path.join(dir, 'plugins.d')] });
  assert.deepEqual(errorsOf(res.issues), []);
  assert.equal(res.plan!.sources[0]!.interceptors[0]!.def.type, 'upper');
});

test('a Flume Java plugin directory on the plugins path is skipped with a warning', async () => {
  const dir = tmpDir();
  write(dir, 'plugins.d/java-thing/lib/thing.jar', 'PK');
  const res = await load(dir, conf('timestamp'), { pluginsPath: [path.join(dir, 'plugins.d')] });
  assert.ok(res.plan);
  assert.match(res.issues.find((i) => i.severity === 'warning')!.message, /Java plugin/);
});

/** Each failure: the configuration is refused, the error names the file and the cause. */
const FAILURES: { name: string; files: Record<string, string>; type: string; want: RegExp }[] = [
  { name: 'file not found', files: {}, type: './missing.mjs', want: /plugin file not found: .*conf\/missing\.mjs/ },
  {
    name: 'fails to import (syntax error)',
    files: { 'conf/bad.mjs': 'export default {;' },
    type: './bad.mjs',
    want: /plugin .*conf\/bad\.mjs failed to import: .*Unexpected token/,
  },
  {
    name: 'throws while importing',
    files: { 'conf/throws.mjs': "throw new Error('no licence key');" },
    type: './throws.mjs',
    want: /plugin .*throws\.mjs failed to import: no licence key/,
  },
  {
    name: 'no default export',
    files: { 'conf/named.mjs': 'export const x = 1;' },
    type: './named.mjs',
    want: /plugin .*named\.mjs has no default export/,
  },
  {
    name: 'exports something that is not a definition',
    files: { 'conf/obj.mjs': 'export default { type: "x" };' },
    type: './obj.mjs',
    want: /plugin .*obj\.mjs: the default export is not made by a define\* helper/,
  },
  {
    name: 'exports the wrong kind',
    files: { 'conf/rec.mjs': RECORDER },
    type: './rec.mjs',
    want: /plugin .*rec\.mjs exports a sink \(recorder\), not a interceptor/,
  },
  {
    name: 'throws in create()',
    files: {
      'conf/boom.mjs': `import { defineInterceptor } from 'flume-ts';
        export default defineInterceptor({ type: 'boom', summary: 's', options: {},
          create: () => { throw new Error('cannot reach the GeoIP database'); } });`,
    },
    type: './boom.mjs',
    want: /plugin .*boom\.mjs: create\(\) threw: cannot reach the GeoIP database/,
  },
];

for (const f of FAILURES) {
  test(`a plugin that ${f.name} is a validation error naming the file and the cause`, async () => {
    const dir = tmpDir();
    for (const [rel, text] of Object.entries(f.files)) write(dir, rel, text);
    const res = await load(dir, conf(f.type));
    assert.equal(res.plan, undefined);
    const errors = errorsOf(res.issues);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]!.message, f.want);
    assert.equal(errors[0]!.file, path.join(dir, 'conf/agent.properties'));
    assert.equal(errors[0]!.line, 8, 'at the type key');
  });
}

test('a plugins-path type that a built-in or another plugin already has is refused', async () => {
  const dir = tmpDir();
  write(dir, 'p/a/index.mjs', UPPER);
  write(dir, 'p/b/index.mjs', UPPER);
  write(dir, 'p/c/index.mjs', UPPER.replace("type: 'upper'", "type: 'timestamp'"));
  const res = await load(dir, conf('upper'), { pluginsPath: [path.join(dir, 'p')] });
  assert.equal(res.plan, undefined);
  const msgs = errorsOf(res.issues).map((i) => i.message);
  assert.ok(
    msgs.some((m) => /interceptor type 'upper' .*is already defined by .*p\/a\/index\.mjs/.test(m)),
    msgs.join(),
  );
  assert.ok(
    msgs.some((m) => /interceptor type 'timestamp' .*is already defined by flume-ts itself/.test(m)),
    msgs.join(),
  );
});

test('a missing plugins directory is an error when given explicitly, and fine as the default', async () => {
  const dir = tmpDir();
  const missing = path.join(dir, 'nope');
  const bad = await load(dir, conf('timestamp'), { pluginsPath: [missing], pluginsPathExplicit: true });
  assert.equal(bad.plan, undefined);
  assert.deepEqual(
    errorsOf(bad.issues).map((i) => [i.file, i.message]),
    [[missing, 'plugins directory not found']],
  );
  assert.ok((await load(dir, conf('timestamp'), { pluginsPath: [missing] })).plan);
});

test('an unknown type that names no file or package stays an unknown type; Java class names point to plugins', async () => {
  const dir = tmpDir();
  const res = await load(dir, conf('com.example.flume.MaskInterceptor$Builder'));
  assert.match(
    errorsOf(res.issues)[0]!.message,
    /custom Java classes cannot be loaded; a JavaScript plugin .*plugins\.md/,
  );
  const res2 = await load(dir, conf('not-installed-anywhere'));
  assert.match(errorsOf(res2.issues)[0]!.message, /unknown interceptor type 'not-installed-anywhere'/);
});

test('a plugin sink failing at runtime backs off and is named by health(); nothing is lost', async () => {
  const dir = tmpDir();
  write(dir, 'conf/recorder.mjs', RECORDER);
  const r = recorded();
  r.fail = true;
  const res = await load(dir, conf('timestamp', '', './recorder.mjs'));
  assert.ok(res.plan, JSON.stringify(res.issues));
  const agent = await startPlan(res.plan, { unhealthyAfterMs: 0 });
  try {
    await waitFor(() => agent.health().some((h) => h.component === 'sink.k1'), 5000, 'sink reported failing');
    const h = agent.health().find((x) => x.component === 'sink.k1')!;
    assert.match(h.reason, /downstream is down/);
    assert.deepEqual(h.plugins, [path.join(dir, 'conf/recorder.mjs')]);
    r.fail = false;
    await waitFor(() => r.events.length === 3, 5000, 'all three events delivered after the failure');
    assert.deepEqual(r.events.sort(), ['0', '1', '2']);
    const theirs = (globalThis as { pluginAgentError?: unknown }).pluginAgentError;
    assert.equal(theirs, AgentError, "the plugin's import 'flume-ts' is this agent: one AgentError class");
  } finally {
    await agent.stop();
  }
});

test('a plugin source whose start() throws is retried by the supervisor and named by health()', async () => {
  const dir = tmpDir();
  write(
    dir,
    'conf/flaky.mjs',
    `import { defineSource } from 'flume-ts';
     export default defineSource({ type: 'flaky', summary: 's', options: {},
       create: () => ({ start: async () => { throw new Error('port busy'); }, close: async () => {} }) });`,
  );
  const text = conf('timestamp').replace('a1.sources.r1.type = seq', 'a1.sources.r1.type = ./flaky.mjs');
  const res = await load(dir, text.replace('a1.sources.r1.totalEvents = 3\n', ''));
  assert.ok(res.plan, JSON.stringify(res.issues));
  const agent = await startPlan(res.plan, { restartBaseMs: 10, restartMaxMs: 20 });
  try {
    await waitFor(() => agent.health().some((h) => h.component === 'source.r1'), 5000, 'source reported');
    const h = agent.health().find((x) => x.component === 'source.r1')!;
    assert.match(h.reason, /port busy/);
    assert.deepEqual(h.plugins, [path.join(dir, 'conf/flaky.mjs')]);
  } finally {
    await agent.stop();
  }
});

test('the public entry exports the plugin API and no internals', () => {
  assert.deepEqual(Object.keys(publicApi).sort(), [
    'AgentError',
    'ChannelFullError',
    'KINDS',
    'OptionError',
    'PLUGIN_API_VERSION',
    'copyHeaders',
    'defineChannel',
    'defineInterceptor',
    'defineProcessor',
    'defineSelector',
    'defineSink',
    'defineSource',
    'isRetriable',
    'makeEvent',
    'opt',
    'parseDurationMs',
    'parseSize',
    'withHeaders',
  ]);
  assert.ok(new publicApi.AgentError('FLUME_ERR_PLUGIN', 'x') instanceof AgentError);
});

test('an interceptor plugin that throws fails the put as a whole; the source retries and nothing is lost', async () => {
  const dir = tmpDir();
  write(
    dir,
    'conf/flaky-interceptor.mjs',
    `import { defineInterceptor } from 'flume-ts';
     let calls = 0;
     export default defineInterceptor({ type: 'flaky', summary: 's', options: {},
       create: () => ({ intercept: (events) => { if (++calls <= 2) throw new Error('lookup timed out'); return events; } }) });`,
  );
  write(dir, 'conf/recorder.mjs', RECORDER);
  const r = recorded();
  r.fail = false;
  r.events.length = 0;
  const quick = 'a1.sources.r1.backoffSleepIncrement = 10\na1.sources.r1.maxBackoffSleep = 20';
  const res = await load(dir, conf('./flaky-interceptor.mjs', quick, './recorder.mjs'));
  assert.ok(res.plan, JSON.stringify(res.issues));
  const agent = await startPlan(res.plan);
  try {
    await waitFor(() => r.events.length >= 3, 10_000, 'the three events delivered after two failed puts');
    assert.deepEqual(r.events, ['0', '1', '2']);
    assert.ok(agent.sources.get('r1')!.counters.get('ChannelWriteFail') >= 1, 'the failed puts are counted');
  } finally {
    await agent.stop();
  }
});

test('a configuration reload imports the plugins the new configuration names', async () => {
  const dir = tmpDir();
  write(dir, 'conf/recorder.mjs', RECORDER);
  const file = write(dir, 'conf/agent.properties', conf('timestamp'));
  const first = await loadConfigWithPlugins({ files: [file], agent: 'a1', sys: {}, env: {} });
  const agent = await startPlan(first.plan!);
  try {
    const store = new FileStore([file], 60_000);
    const reloader = new ConfigReloader(agent, {
      store,
      initial: await store.read(),
      agentName: 'a1',
      sys: {},
      logger: silentLogger(),
      plugins: { pluginsPath: [] },
    });
    fs.writeFileSync(file, conf('timestamp', '', './recorder.mjs'));
    await reloader.reload('test');
    assert.equal(reloader.status.status, 'ok', JSON.stringify(reloader.status.issues));
    assert.equal(agent.sinks.get('k1')!.planned.def.type, 'recorder');
    fs.writeFileSync(file, conf('timestamp', '', './missing.mjs'));
    await reloader.reload('test');
    assert.equal(reloader.status.status, 'failed');
    assert.match(reloader.status.issues![0]!, /plugin file not found: .*missing\.mjs/);
    assert.equal(agent.sinks.get('k1')!.planned.def.type, 'recorder', 'the running configuration stays');
  } finally {
    await agent.stop();
  }
});

test('a configuration from ZooKeeper or etcd loads its plugins at every reload; relative types resolve from baseDir', async () => {
  const dir = tmpDir();
  write(dir, 'plugins/recorder.mjs', RECORDER);
  let text = conf('timestamp');
  let n = 0;
  // a store double: what etcd or ZooKeeper would hand the reloader (parts named after the key, not a file)
  const store: ConfigStore = {
    kind: 'etcd',
    location: 'etcd http://127.0.0.1:2379 key /flume/a1',
    read: () =>
      Promise.resolve({ parts: [{ name: 'etcd:/flume/a1', text }], version: `revision ${++n}`, changeId: `${n}` }),
    watch: () => undefined,
    connection: () => undefined,
    close: () => Promise.resolve(),
  };
  const plugins = { pluginsPath: [], baseDir: path.join(dir, 'plugins') };
  const first = await loadDocumentWithPlugins(await store.read(10), { agent: 'a1', sys: {}, env: {}, ...plugins });
  const agent = await startPlan(first.plan!);
  try {
    const reloader = new ConfigReloader(agent, {
      store,
      initial: await store.read(10),
      agentName: 'a1',
      sys: {},
      logger: silentLogger(),
      plugins,
    });
    text = conf('timestamp', '', './recorder.mjs');
    await reloader.reload('test');
    assert.equal(reloader.status.status, 'ok', JSON.stringify(reloader.status.issues));
    assert.equal(agent.sinks.get('k1')!.planned.def.type, 'recorder');
  } finally {
    await agent.stop();
  }
});
