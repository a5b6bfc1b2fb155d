/**
 * The TypeScript plugin template (examples/plugins/template) built as its users build it (tsc against the installed
 * flume-ts's declarations), its own tests run (flume-ts/testing), then installed on the default plugins path (plugins.d
 * next to the -c directory) and run end to end by the real CLI; describe and validate with plugins; version.
 */
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { AgentProcess, ROOT, runCli, tmpDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const TEMPLATE = path.join(ROOT, 'examples/plugins/template');
const home = tmpDir('flume-plugins-');
const build = path.join(home, 'build');
const installed = path.join(home, 'plugins.d', 'flume-plugin-template');

function run(cmd: string, args: string[], cwd: string): string {
  const env = { ...process.env };
  delete env.NODE_TEST_CONTEXT; // a nested `node --test` would report to this runner instead of printing
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, `${cmd} ${args.join(' ')}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

before(() => {
  // the template's project, with flume-ts "installed" (a link to this checkout: its package.json exports and .d.ts)
  fs.cpSync(TEMPLATE, build, { recursive: true, filter: (s) => !/[\\/](dist|node_modules)$/.test(s) });
  fs.mkdirSync(path.join(build, 'node_modules'));
  fs.symlinkSync(ROOT, path.join(build, 'node_modules', 'flume-ts'));
  fs.symlinkSync(path.join(ROOT, 'node_modules', '@types'), path.join(build, 'node_modules', '@types'));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  run(process.execPath, [tsc, '-p', '.'], build);
  // installed as the README says: package.json and the built code, nothing else (no node_modules: the agent resolves
  // the plugin's `import 'flume-ts'` to itself)
  fs.mkdirSync(installed, { recursive: true });
  fs.copyFileSync(path.join(build, 'package.json'), path.join(installed, 'package.json'));
  fs.cpSync(path.join(build, 'dist', 'src'), path.join(installed, 'dist', 'src'), { recursive: true });
});

test("the template's own tests pass (flume-ts/testing contract checks)", () => {
  const out = run(process.execPath, ['--test', 'dist/test/'], build);
  assert.match(out, /# pass 3\b/);
  assert.match(out, /# fail 0\b/);
});

test('the template runs end to end from plugins.d next to the -c directory: masked, enriched, delivered', async () => {
  const conf = path.join(home, 'conf');
  fs.mkdirSync(conf, { recursive: true });
  const out = path.join(home, 'events.jsonl');
  const file = path.join(conf, 'agent.properties');
  fs.writeFileSync(
    file,
    [
      'a1.sources = r1',
      'a1.channels = c1',
      'a1.sinks = k1',
      'a1.sources.r1.type = seq',
      'a1.sources.r1.totalEvents = 20',
      'a1.sources.r1.channels = c1',
      'a1.sources.r1.interceptors = m',
      'a1.sources.r1.interceptors.m.type = mask',
      'a1.sources.r1.interceptors.m.pattern = 1',
      'a1.sources.r1.interceptors.m.replacement = #',
      'a1.sources.r1.interceptors.m.countHeader = masked',
      'a1.channels.c1.type = memory',
      'a1.sinks.k1.type = jsonl',
      `a1.sinks.k1.path = ${out}`,
      'a1.sinks.k1.batchSize = 7',
      'a1.sinks.k1.channel = c1',
      '',
    ].join('\n'),
  );
  const agent = AgentProcess.agent(file, 'a1', ['-c', conf]);
  try {
    const lines = () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean) : []);
    await waitFor(() => lines().length === 20, 15_000, `20 events in ${out}\n${agent.stderr}`);
    const events = lines().map((l) => JSON.parse(l) as { headers: Record<string, string>; body: string });
    assert.deepEqual(
      events.map((e) => e.body),
      Array.from({ length: 20 }, (_, i) => String(i).replaceAll('1', '#')),
    );
    assert.equal(events[11]!.headers.masked, '2');
    assert.equal(events[2]!.headers.masked, '0');
  } finally {
    assert.equal(await agent.stop(), 0, agent.stderr);
  }
});

test('describe lists and prints plugin components (--plugins-path, --plugin with a package directory or a file)', () => {
  const pp = path.join(home, 'plugins.d');
  const list = runCli(['describe', '--plugins-path', pp]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /^interceptor: .*\bmask$/m);
  assert.match(list.stdout, /^sink: .*\bjsonl$/m);
  const one = runCli(['describe', '--plugins-path', pp, 'interceptor', 'mask']);
  assert.equal(one.code, 0, one.stderr);
  assert.match(one.stdout, /countHeader\s+string/);
  assert.match(one.stdout, /\(plugin: .*flume-plugin-template\/dist\/src\/index\.js\)/);
  const pkg = runCli(['describe', '--plugin', installed, 'sink', 'jsonl', '--markdown']);
  assert.equal(pkg.code, 0, pkg.stderr);
  assert.match(pkg.stdout, /jsonl/);
  assert.match(pkg.stdout, /`path`/);
  const bad = runCli(['describe', '--plugin', path.join(home, 'nope.mjs')]);
  assert.equal(bad.code, 78);
  assert.match(bad.stderr, /plugin file not found: .*nope\.mjs/);
});

test('validate and agent refuse a broken plugin with exit 78, naming the file and the cause; nothing starts', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'broken.mjs'), "import { nothing } from 'flume-ts';\nexport default nothing;\n");
  const file = path.join(dir, 'agent.properties');
  fs.writeFileSync(
    file,
    [
      'a1.sources = r1',
      'a1.channels = c1',
      'a1.sources.r1.type = netcat',
      'a1.sources.r1.bind = 127.0.0.1',
      'a1.sources.r1.port = 0',
      'a1.sources.r1.channels = c1',
      'a1.channels.c1.type = ./broken.mjs',
      '',
    ].join('\n'),
  );
  for (const cmd of ['validate', 'agent']) {
    const r = runCli([cmd, '-n', 'a1', '-f', file, '--plugins-path', home]);
    assert.equal(r.code, 78, `${cmd}: ${r.stdout}${r.stderr}`);
    assert.match(
      r.stderr,
      /agent\.properties:7: error: channel c1: a1\.channels\.c1\.type: plugin .*broken\.mjs failed to import: .*nothing/,
    );
    assert.doesNotMatch(r.stdout + r.stderr, /Agent started/);
  }
});

test('version prints the plugin API version', () => {
  const r = runCli(['version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^Plugin API 1\.\d+$/m);
});
