/** The agent through the real CLI: quick start, file_roll output, graceful drain, config errors, backpressure. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AgentProcess, freePort, runCli, runCliAsync, tcpExchange, tmpDir, writeConfig, ROOT } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

function netcatConfig(
  port: number,
  sink: string,
  channel = 'a1.channels.c1.type = memory\na1.channels.c1.capacity = 10000\na1.channels.c1.transactionCapacity = 1000',
): string {
  return `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${port}
a1.sources.r1.channels = c1
${channel}
${sink}
a1.sinks.k1.channel = c1
`;
}

function outputFiles(dir: string): string[] {
  return fs
    .readdirSync(dir)
    .sort()
    .map((f) => path.join(dir, f));
}

test("quick start: netcat -> memory -> logger logs each line in Flume's format and acks OK", async () => {
  const port = await freePort();
  const dir = tmpDir();
  const conf = fs
    .readFileSync(path.join(ROOT, 'conf/flume-conf.properties'), 'utf8')
    .replace('port = 44444', `port = ${port}`);
  const agent = AgentProcess.agent(writeConfig(dir, conf));
  try {
    await agent.waitForOutput(/Agent started/);
    const reply = await tcpExchange(port, 'hello\nHello world!\r\n', { until: (r) => r === 'OK\nOK\n' });
    assert.equal(reply, 'OK\nOK\n');
    await agent.waitForOutput(
      /Event: \{ headers:\{\} body: 48 65 6C 6C 6F 20 77 6F 72 6C 64 21 0D\s+Hello world!\. \}/,
    );
    assert.match(agent.stdout, /Event: \{ headers:\{\} body: 68 65 6C 6C 6F\s+hello \}/);
  } finally {
    assert.equal(await agent.stop(), 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('file_roll output is byte for byte what was sent, and SIGTERM flushes it', async () => {
  const port = await freePort();
  const dir = tmpDir();
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const conf =
    netcatConfig(
      port,
      `a1.sinks.k1.type = file_roll\na1.sinks.k1.sink.directory = ${out}\na1.sinks.k1.sink.rollInterval = 0\na1.sinks.k1.sink.batchSize = 1000`,
    ) + 'a1.sources.r1.ack-every-event = false\n';
  const agent = AgentProcess.agent(writeConfig(dir, conf));
  try {
    await agent.waitForOutput(/Agent started/);
    let sent = '';
    for (let i = 0; i < 5000; i++) sent += `line ${i} \u00e9\u4e2d ${'x'.repeat(i % 50)}\n`;
    await tcpExchange(port, sent);
    await waitFor(
      () => outputFiles(out).length === 1 && fs.statSync(outputFiles(out)[0]!).size === Buffer.byteLength(sent),
      10_000,
      'all bytes in the file',
    );
    assert.equal(await agent.stop(), 0);
    const files = outputFiles(out);
    assert.equal(files.length, 1);
    assert.equal(fs.readFileSync(files[0]!, 'utf8'), sent);
  } finally {
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('SIGTERM stops intake and drains the memory channel into file_roll before exit', async () => {
  const dir = tmpDir();
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const conf = `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.batchSize = 1000
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 200000
a1.channels.c1.transactionCapacity = 1000
a1.sinks.k1.type = file_roll
a1.sinks.k1.sink.directory = ${out}
a1.sinks.k1.sink.rollInterval = 0
a1.sinks.k1.sink.batchSize = 10
a1.sinks.k1.channel = c1
`;
  const agent = AgentProcess.agent(writeConfig(dir, conf));
  try {
    await agent.waitForOutput(/Agent started/);
    await waitFor(
      () => outputFiles(out).length > 0 && fs.statSync(outputFiles(out)[0]!).size > 100_000,
      10_000,
      'events flowing',
    );
    assert.equal(await agent.stop('SIGTERM'), 0);
    const lines = fs.readFileSync(outputFiles(out)[0]!, 'utf8').split('\n');
    assert.equal(lines.pop(), '');
    // every event the source committed was delivered exactly once, in order
    for (let i = 0; i < lines.length; i++) if (lines[i] !== String(i)) assert.fail(`line ${i} is ${lines[i]}`);
    assert.match(agent.stdout, /Agent stopped eventsLeftInChannels=0/);
  } finally {
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a broken config exits 78 and lists every problem (golden file)', () => {
  const fixture = path.join('test', 'fixtures', 'configs', 'broken.properties');
  const r = runCli(['agent', '-n', 'a1', '-f', fixture, '--no-reload-conf']);
  assert.equal(r.code, 78);
  const golden = fs.readFileSync(path.join(ROOT, 'test/fixtures/configs/broken.expected.txt'), 'utf8');
  const actual = r.stderr.split(path.resolve(ROOT, fixture)).join(fixture);
  if (process.env.UPDATE_GOLDEN) fs.writeFileSync(path.join(ROOT, 'test/fixtures/configs/broken.expected.txt'), actual);
  assert.equal(actual, golden);
  const v = runCli(['validate', '-n', 'a1', '-f', fixture]);
  assert.equal(v.code, 78);
});

test('validate: a valid config exits 0; an unknown agent name exits 78', () => {
  const ok = runCli(['validate', '-n', 'edge', '-f', 'test/fixtures/configs/multi-agent.properties']);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /is valid: 1 source/);
  const bad = runCli(['validate', '-n', 'egde', '-f', 'test/fixtures/configs/multi-agent.properties']);
  assert.equal(bad.code, 78);
  assert.match(bad.stderr, /no configuration found for agent 'egde'[\s\S]*did you mean -n edge/);
});

test('usage errors exit 64 with a clear message', () => {
  const r1 = runCli(['agent', '-f', 'conf/flume-conf.properties']);
  assert.equal(r1.code, 64);
  assert.match(r1.stderr, /missing required option -n\/--name/);
  const r2 = runCli(['agent', '-n', 'a1']);
  assert.equal(r2.code, 64);
  assert.match(r2.stderr, /no configuration was provided/);
  const r3 = runCli(['agent', '-n', 'a1', '-f', 'x', '--bogus']);
  assert.equal(r3.code, 64);
  assert.match(r3.stderr, /Unknown argument: bogus/);
  const r4 = runCli(['frobnicate']);
  assert.equal(r4.code, 64);
  const r5 = runCli(['agent', '-n', 'a1', '-f', '/nonexistent/flume.properties']);
  assert.equal(r5.code, 78);
  assert.match(r5.stderr, /flume.properties: error: configuration file not found/);
});

test('describe and version', () => {
  const d = runCli(['describe', 'channel', 'memory']);
  assert.equal(d.code, 0);
  assert.match(d.stdout, /transactionCapacity\s+int >= 1; default 100/);
  const bad = runCli(['describe', 'sink', 'loger']);
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /did you mean 'logger'/);
  const v = runCli(['version']);
  assert.match(v.stdout, /^flume-ts \d+\.\d+\.\d+/);
});

test('netcat backpressure: a tiny channel in front of a slow sink loses no line', async () => {
  const port = await freePort();
  const dir = tmpDir();
  const conf = netcatConfig(
    port,
    'a1.sinks.k1.type = logger\na1.sinks.k1.batchSize = 5',
    'a1.channels.c1.type = memory\na1.channels.c1.capacity = 10\na1.channels.c1.transactionCapacity = 5\na1.channels.c1.keep-alive = 0',
  );
  const agent = AgentProcess.agent(writeConfig(dir, conf));
  try {
    await agent.waitForOutput(/Agent started/);
    const n = 3000;
    let sent = '';
    for (let i = 0; i < n; i++) sent += `m${String(i).padStart(5, '0')}\n`;
    const reply = await tcpExchange(port, sent, { until: (r) => r.length >= n * 3, timeoutMs: 60_000 });
    assert.equal(reply, 'OK\n'.repeat(n));
    await waitFor(() => (agent.stdout.match(/Event: \{/g) ?? []).length >= n, 30_000, 'all events logged');
    const seen = [...agent.stdout.matchAll(/body: [0-9A-F ]+\s+(m\d{5}) \}/g)].map((m) => m[1]);
    assert.equal(seen.length, n);
    for (let i = 0; i < n; i++) assert.equal(seen[i], `m${String(i).padStart(5, '0')}`);
  } finally {
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('every example in examples/ validates', async () => {
  const dir = path.join(ROOT, 'examples');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.properties'));
  assert.ok(files.length >= 2, 'examples/ has at least two topologies');
  // three CLI processes at a time: one after the other, ~20 examples take most of this file's time budget
  const queue = [...files];
  const failures: string[] = [];
  const worker = async () => {
    for (let f = queue.shift(); f !== undefined; f = queue.shift()) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const agent = /^#\s*agent:\s*(\S+)/m.exec(text)?.[1] ?? 'a1';
      const r = await runCliAsync(['validate', '-n', agent, '-f', path.join('examples', f)]);
      if (r.code !== 0) failures.push(`${f} (exit ${r.code}): ${r.stderr}${r.stdout}`);
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  assert.deepEqual(failures, []);
});

test('-Dflume.root.logger=INFO,LOGFILE writes the agent log (and the logger sink) to flume.log.dir/flume.log.file', async () => {
  const dir = tmpDir();
  const logs = path.join(dir, 'logs');
  const conf = writeConfig(
    dir,
    `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = 3
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = logger
a1.sinks.k1.channel = c1
`,
  );
  const agent = new AgentProcess([
    'agent',
    '-n',
    'a1',
    '-f',
    conf,
    '--no-reload-conf',
    '-Dflume.root.logger=INFO,LOGFILE',
    `-Dflume.log.dir=${logs}`,
    '-Dflume.log.file=agent.log',
  ]);
  try {
    const file = path.join(logs, 'agent.log');
    await waitFor(
      () => fs.existsSync(file) && /body: 32\s+2 \}/.test(fs.readFileSync(file, 'utf8')),
      10_000,
      'events in the log file',
    );
    assert.equal(await agent.stop(), 0);
    const text = fs.readFileSync(file, 'utf8');
    assert.match(text, /INFO \[sink.k1\] Event: \{ headers:\{\} body: 30\s+0 \}/);
    assert.match(text, /Agent stopped/);
    assert.equal(agent.stdout, '', 'nothing on stdout');
  } finally {
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a second signal aborts at once with exit 1', async () => {
  const dir = tmpDir();
  // a sink that cannot deliver (its directory disappears) keeps the drain waiting for the shutdown timeout
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const conf = writeConfig(
    dir,
    `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000
a1.sinks.k1.type = file_roll
a1.sinks.k1.sink.directory = ${out}
a1.sinks.k1.sink.rollInterval = 0.2
a1.sinks.k1.channel = c1
`,
  );
  const agent = AgentProcess.agent(conf, 'a1', ['--shutdown-timeout', '60']);
  try {
    await agent.waitForOutput(/Agent started/);
    fs.rmSync(out, { recursive: true, force: true });
    fs.writeFileSync(out, 'not a directory');
    await agent.waitForOutput(/Sink delivery failed/);
    agent.proc.kill('SIGTERM');
    await agent.waitForOutput(/Stopping: intake stopped/);
    const t0 = Date.now();
    agent.proc.kill('SIGTERM');
    assert.equal(await agent.exited, 1);
    assert.ok(Date.now() - t0 < 5000);
    assert.match(agent.stdout, /Second signal: exiting now without draining/);
  } finally {
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
