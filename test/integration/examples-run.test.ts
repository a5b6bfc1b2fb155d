/**
 * Examples run as their comments say, long enough to show their point (ports and /tmp directories rewritten).
 * Covered here: netcat-logger, interceptors, failover, replicating, multiplexing, seq-file-roll, file-channel.
 * Elsewhere, from the example files themselves: avro-two-tier and avro-consolidation (avro-chain.test.ts),
 * avro-failover (avro-failover.test.ts), spooldir (files-spooldir.test.ts), taildir-app-log (files-taildir.test.ts),
 * syslog and http-json (syslog-logger.test.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AgentProcess, freePort, ROOT, tcpExchange, tmpDir, writeConfig } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

/** The example's text with port 44444 and every /tmp/<dir> moved into `dir`. */
function example(name: string, dir: string, port: number): string {
  return fs
    .readFileSync(path.join(ROOT, 'examples', name), 'utf8')
    .replace(/port = 44444/g, `port = ${port}`)
    .replace(/\/tmp\/([\w.-]+)/g, (_m, d: string) => path.join(dir, d));
}

function linesIn(dir: string): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return [];
  return fs
    .readdirSync(dir)
    .sort()
    .flatMap((f) => fs.readFileSync(path.join(dir, f), 'utf8').split('\n'))
    .filter((l) => l !== '');
}

async function run(
  name: string,
  dirs: string[],
  body: (agent: AgentProcess, dir: string, port: number) => Promise<void>,
  edit: (text: string) => string = (t) => t,
): Promise<void> {
  const dir = tmpDir('flume-example-');
  const port = await freePort();
  for (const d of dirs) fs.mkdirSync(path.join(dir, d), { recursive: true });
  const agent = AgentProcess.agent(writeConfig(dir, edit(example(name, dir, port))));
  try {
    await agent.waitForOutput(/Agent started/);
    await body(agent, dir, port);
    assert.equal(await agent.stop(), 0);
  } finally {
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const send = (port: number, text: string) =>
  tcpExchange(port, text, { until: (r) => r.split('\n').length > text.split('\n').length - 1 });

test('netcat-logger: each line typed is logged as an event', () =>
  run('netcat-logger.properties', [], async (agent, _dir, port) => {
    await send(port, 'hello\n');
    await agent.waitForOutput(/Event: \{ headers:\{\} body: 68 65 6C 6C 6F\s+hello \}/);
  }));

test('interceptors: the DEBUG line is dropped; the logger shows the headers and the masked card number', () =>
  run('interceptors.properties', [], async (agent, _dir, port) => {
    await send(port, '2024-01-02 03:04 paid with 4111 1111 1111 1111\nDEBUG noise\n');
    // the body's hex dump runs over several lines, its text on the right
    await agent.waitForOutput(/ paid with 4111-\s[\s\S]*XXXX-XXXX-1111 \}/);
    const line = /Event: [^\n]*/.exec(agent.stdout)![0];
    for (const h of ['timestamp=', 'host=', 'env=prod', 'id=', 'logtime='])
      assert.ok(line.includes(h), `${h} in ${line}`);
    assert.ok(!agent.stdout.includes('noise'), 'the DEBUG line was dropped');
  }));

test('failover: k1 takes the lines, k2 while k1 is broken as the comment says, k1 again once repaired', () =>
  run('failover.properties', ['flume-primary', 'flume-secondary'], async (agent, dir, port) => {
    const primary = path.join(dir, 'flume-primary');
    const off = path.join(dir, 'flume-primary.off');
    const secondary = path.join(dir, 'flume-secondary');
    await send(port, 'one\n');
    await waitFor(() => linesIn(primary).includes('one'), 10_000, 'one under primary');
    fs.renameSync(primary, off);
    fs.writeFileSync(primary, '');
    let n = 0;
    // the comment says "a second later": keep sending until k1 has rolled onto the broken directory
    await waitFor(
      async () => {
        await send(port, `two ${n++}\n`);
        return linesIn(secondary).length > 0;
      },
      15_000,
      'lines under secondary',
    );
    await agent.waitForOutput(/WARN .*Sink failed; its batch was rolled back and goes to the next sink .*sink=k1/);
    fs.rmSync(primary);
    fs.renameSync(off, primary);
    await waitFor(
      async () => {
        await send(port, `three ${n++}\n`);
        return linesIn(primary).some((l) => l.startsWith('three'));
      },
      15_000,
      'k1 delivers again',
    );
    await agent.waitForOutput(/INFO .*Sink recovered .*sink=k1/);
    const all = [...linesIn(primary), ...linesIn(secondary)];
    assert.ok(all.includes('one'));
    for (let i = 0; i < n - 1; i++)
      assert.ok(
        all.some((l) => l.endsWith(` ${i}`)),
        `line ${i} delivered`,
      );
  }));

test('replicating: the two file_roll copies are identical', () =>
  run('replicating.properties', ['flume-copy-a', 'flume-copy-b'], async (_agent, dir) => {
    const a = path.join(dir, 'flume-copy-a');
    const b = path.join(dir, 'flume-copy-b');
    await waitFor(() => linesIn(a).length === 10_000 && linesIn(b).length === 10_000, 20_000, '10000 in each');
    assert.deepEqual(linesIn(a), linesIn(b));
  }));

test('multiplexing: error lines go to the errors directory (and the logger), warn to warnings, the rest to the logger', () =>
  run('multiplexing.properties', ['flume-errors', 'flume-warnings'], async (agent, dir, port) => {
    await send(port, 'error disk full\nwarn disk at 80%\ninfo started\n');
    await waitFor(() => linesIn(path.join(dir, 'flume-errors')).includes('error disk full'), 10_000, 'errors');
    await waitFor(() => linesIn(path.join(dir, 'flume-warnings')).includes('warn disk at 80%'), 10_000, 'warnings');
    await agent.waitForOutput(/info started \}/);
    await agent.waitForOutput(/error disk full \}/);
    assert.ok(!/warn disk/.test(agent.stdout));
  }));

test('seq-file-roll: the numbers 0..99999, one per line, in events-*.log files', () =>
  run('seq-file-roll.properties', ['flume-out'], async (_agent, dir) => {
    const out = path.join(dir, 'flume-out');
    await waitFor(() => linesIn(out).length === 100_000, 30_000, '100000 lines');
    assert.ok(fs.readdirSync(out).every((f) => /^events-.*\.log$/.test(f)));
    const lines = linesIn(out);
    assert.equal(lines[0], '0');
    assert.equal(lines[99_999], '99999');
  }));

test('file-channel: seq -> file channel -> file_roll; the store and checkpoint live where the example says', () =>
  run(
    'file-channel.properties',
    ['flume-ts-example/out'],
    async (agent, dir) => {
      const out = path.join(dir, 'flume-ts-example', 'out');
      await waitFor(() => linesIn(out).length === 20_000, 60_000, 'every event through the file channel');
      assert.ok(fs.readdirSync(path.join(dir, 'flume-ts-example', 'file-channel', 'data')).length > 0);
      assert.ok(fs.existsSync(path.join(dir, 'flume-ts-example', 'file-channel', 'checkpoint')));
      assert.ok(!/ERROR/.test(agent.stdout), agent.stdout);
    },
    // a million events as in the example take too long for a test; the path is the same
    (t) => t.replace('totalEvents = 1000000', 'totalEvents = 20000').replace('= 512m', '= 64m'),
  ));
