/**
 * File channel crash tests with real processes and SIGKILL:
 *  1. the CLI agent (seq -> file -> file_roll) killed several times during a 200,000-event run and restarted:
 *     lost = 0, duplicates <= one sink batch per kill;
 *  2. a process putting batches killed at random: every acknowledged batch is there, no batch is half there;
 *  3. a process holding an uncommitted take killed: those events come back first, in order; committed takes do not.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { AgentProcess, ROOT, tmpDir } from '../helpers/cli.js';
import { FileChannel, FileChannelError } from '../../src/channels/file/index.js';
import { componentOptions } from '../../src/config/validate/index.js';
import fileDef from '../../src/channels/file/index.js';
import { systemClock } from '../../src/core/clock.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { ChannelCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';

const dirs: string[] = [];
const procs: ChildProcess[] = [];
after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = tmpDir('fc-crash-');
  dirs.push(d);
  return d;
}

function outputLines(dir: string): string[] {
  const lines: string[] = [];
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const text = fs.readFileSync(path.join(dir, f), 'latin1');
    for (const l of text.split('\n')) if (l !== '') lines.push(l);
  }
  return lines;
}
function countLines(dir: string): number {
  let n = 0;
  for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
    const b = fs.readFileSync(path.join(dir, f));
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) n++;
  }
  return n;
}
async function until(cond: () => boolean, timeoutMs: number, what: string, proc?: AgentProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (proc && proc.proc.exitCode !== null)
      throw new Error(
        `agent exited (${proc.proc.exitCode}) while waiting for ${what}:\n${proc.stdout.slice(-3000)}\n${proc.stderr.slice(-3000)}`,
      );
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${proc ? `:\n${proc.stdout.slice(-3000)}` : ''}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
async function kill9(a: AgentProcess): Promise<void> {
  a.proc.kill('SIGKILL');
  await a.exited;
}

test(
  'CLI agent seq -> file -> file_roll survives repeated kill -9: lost = 0, duplicates <= one sink batch per kill',
  { timeout: 60_000 },
  async (t) => {
    const dir = tmp();
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    const TOTAL = 200_000;
    const SINK_BATCH = 100;
    const channel = [
      'a1.channels = c1',
      'a1.channels.c1.type = file',
      `a1.channels.c1.checkpointDir = ${path.join(dir, 'cp')}`,
      `a1.channels.c1.dataDirs = ${path.join(dir, 'data')}`,
      'a1.channels.c1.transactionCapacity = 1000',
      'a1.channels.c1.minimumRequiredSpace = 1m',
      'a1.sinks = k1',
      'a1.sinks.k1.type = file_roll',
      'a1.sinks.k1.channel = c1',
      `a1.sinks.k1.sink.directory = ${out}`,
      'a1.sinks.k1.sink.rollInterval = 0',
      `a1.sinks.k1.sink.batchSize = ${SINK_BATCH}`,
    ];
    // the filling run has no sink on c1 (a sink that keeps up with the source would leave nothing to kill mid-drain)
    const withSource = path.join(dir, 'fill.properties');
    fs.writeFileSync(
      withSource,
      [
        ...channel.map((l) => l.replace('a1.sinks.k1.channel = c1', 'a1.sinks.k1.channel = c2')),
        'a1.channels = c1 c2',
        'a1.channels.c2.type = memory',
        'a1.sources = r1',
        'a1.sources.r1.type = seq',
        'a1.sources.r1.channels = c1',
        'a1.sources.r1.batchSize = 1000',
        `a1.sources.r1.totalEvents = ${TOTAL}`,
      ].join('\n'),
    );
    const drainOnly = path.join(dir, 'drain.properties');
    fs.writeFileSync(drainOnly, channel.join('\n'));

    // run 1: the source fills the channel; killed right after the last put was acknowledged
    let kills = 0;
    const killedAt: number[] = [];
    let agent = AgentProcess.agent(withSource);
    procs.push(agent.proc);
    await agent.waitForOutput(/Sequence generator source finished/, 30_000);
    await kill9(agent);
    kills++;
    killedAt.push(countLines(out));
    // runs 2..4: restart without the source; kill once more lines have been written
    for (const target of [0.3, 0.55, 0.8]) {
      agent = AgentProcess.agent(drainOnly);
      procs.push(agent.proc);
      await until(() => countLines(out) >= target * TOTAL, 30_000, `${target * TOTAL} lines`, agent);
      await kill9(agent);
      kills++;
      killedAt.push(countLines(out));
    }
    // last run: drain to the end, then a clean stop
    agent = AgentProcess.agent(drainOnly);
    procs.push(agent.proc);
    await until(() => countLines(out) >= TOTAL, 30_000, 'all events', agent);
    await agent.waitForOutput(/File channel ready/, 5000);
    assert.equal(await agent.stop('SIGTERM'), 0, agent.stdout.slice(-2000));
    assert.match(agent.stdout, /eventsLeftInChannels=0/);

    const lines = outputLines(out);
    const seen = new Uint8Array(TOTAL);
    let unexpected = 0;
    for (const l of lines) {
      const n = Number(l);
      if (!Number.isInteger(n) || n < 0 || n >= TOTAL) unexpected++;
      else seen[n]!++;
    }
    let unique = 0;
    let maxDup = 0;
    for (let i = 0; i < TOTAL; i++) {
      if (seen[i]! > 0) unique++;
      maxDup = Math.max(maxDup, seen[i]!);
    }
    const lost = TOTAL - unique;
    const dups = lines.length - unexpected - unique;
    const bound = kills * SINK_BATCH;
    const summary = `file-channel crash: kills=${kills} sent=${TOTAL} delivered=${lines.length} unique=${unique} lost=${lost} duplicates=${dups} maxCopies=${maxDup} unexpected=${unexpected} bound=${bound} linesAtKills=${killedAt.join(',')}`;
    t.diagnostic(summary);
    console.log(summary);
    assert.equal(unexpected, 0, summary);
    assert.equal(lost, 0, summary);
    assert.ok(dups <= bound, summary);
    assert.ok(killedAt[1]! < TOTAL && killedAt[3]! < TOTAL, `the kills landed mid-drain: ${summary}`);
  },
);

// ------------------------------------------------------------------------------------------------ direct children

const channelUrl = pathToFileURL(path.join(ROOT, 'dist', 'src', 'channels', 'file', 'index.js')).href;
const helperUrls = {
  validate: pathToFileURL(path.join(ROOT, 'dist', 'src', 'config', 'validate', 'index.js')).href,
  counters: pathToFileURL(path.join(ROOT, 'dist', 'src', 'telemetry', 'counters.js')).href,
  logger: pathToFileURL(path.join(ROOT, 'dist', 'src', 'telemetry', 'logger.js')).href,
};

/** Child code: opens the channel in `dir` (argv[1]) and runs `body` with `ch`, `ev`, `say`. */
function childScript(body: string): string {
  return `
import fileDef, { FileChannel } from ${JSON.stringify(channelUrl)};
import { componentOptions } from ${JSON.stringify(helperUrls.validate)};
import { ChannelCounters } from ${JSON.stringify(helperUrls.counters)};
import { silentLogger } from ${JSON.stringify(helperUrls.logger)};
const dir = process.argv[1];
const arg = Number(process.argv[2] ?? 0);
const o = componentOptions(fileDef, { dataDirs: dir + '/data', checkpointDir: dir + '/cp', minimumRequiredSpace: '1m', transactionCapacity: '1000' }).options;
const ch = new FileChannel(o, { name: 'c1', logger: silentLogger(), clock: { monotonicMs: () => performance.now(), nowMs: () => Date.now() }, agentDir: dir, counters: new ChannelCounters('c1') });
await ch.start();
const ev = (i) => ({ headers: { i: String(i) }, body: Buffer.from('e' + i) });
const say = (s) => new Promise((r) => process.stdout.write(s + '\\n', r));
${body}
`;
}

function runChild(script: string, args: string[]): { proc: ChildProcess; lines: string[]; exited: Promise<void> } {
  const proc = spawn(process.execPath, ['--input-type=module', '-e', script, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  procs.push(proc);
  const lines: string[] = [];
  let buf = '';
  let err = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<void>((resolve) =>
    proc.on('exit', () => {
      if (err.trim()) lines.push(`STDERR ${err}`);
      resolve();
    }),
  );
  return { proc, lines, exited };
}

async function openHere(dir: string): Promise<FileChannel> {
  const o = componentOptions(fileDef, {
    dataDirs: `${dir}/data`,
    checkpointDir: `${dir}/cp`,
    minimumRequiredSpace: '1m',
    transactionCapacity: '1000',
  }).options!;
  const ch = new FileChannel(o as any, {
    name: 'c1',
    logger: silentLogger(),
    clock: systemClock,
    agentDir: dir,
    counters: new ChannelCounters('c1'),
  });
  await ch.start();
  return ch;
}
async function drainAll(ch: FileChannel): Promise<FlumeEvent[]> {
  const all: FlumeEvent[] = [];
  for (;;) {
    const tx = ch.begin();
    const got = await tx.take(1000);
    await tx.commit();
    if (got.length === 0) return all;
    all.push(...got);
  }
}

test(
  'kill -9 while putting: every acknowledged batch is there, no batch is half there, order kept',
  { timeout: 30_000 },
  async (t) => {
    const dir = tmp();
    const BATCH = 100;
    const acked: number[] = [];
    const script = childScript(`
for (let b = arg; ; b++) {
  const tx = ch.begin();
  tx.put(Array.from({ length: ${BATCH} }, (_, j) => ev(b * ${BATCH} + j)));
  await tx.commit();
  await say('C ' + b);
}`);
    for (const [round, stopAfter] of [
      [0, 40],
      [1, 7],
      [2, 150],
    ] as const) {
      const c = runChild(script, [dir, String(round * 100_000)]);
      await until(
        () => c.lines.filter((l) => l.startsWith('C ')).length >= stopAfter || c.proc.exitCode !== null,
        20_000,
        'acknowledged puts',
      );
      c.proc.kill('SIGKILL');
      await c.exited;
      const bad = c.lines.find((l) => !l.startsWith('C '));
      assert.equal(bad, undefined, bad);
      for (const l of c.lines) acked.push(Number(l.slice(2)));
    }
    const ch = await openHere(dir);
    const got = (await drainAll(ch)).map((e) => Number(e.headers.i));
    await ch.close();
    const batches = new Map<number, number>();
    for (const i of got) batches.set(Math.floor(i / BATCH), (batches.get(Math.floor(i / BATCH)) ?? 0) + 1);
    for (const b of acked) assert.equal(batches.get(b), BATCH, `acknowledged batch ${b} is complete`);
    for (const [b, n] of batches) assert.equal(n, BATCH, `batch ${b} is all or nothing`);
    for (let i = 1; i < got.length; i++) assert.ok(got[i]! > got[i - 1]!, 'FIFO');
    t.diagnostic(
      `acknowledged batches ${acked.length}, present ${batches.size} (the extra ones were committed but not yet acknowledged when killed)`,
    );
    assert.ok(batches.size >= acked.length && batches.size <= acked.length + 3);
  },
);

test(
  'kill -9 while holding a take: uncommitted events come back first, in order; committed ones do not',
  { timeout: 30_000 },
  async () => {
    const dir = tmp();
    let ch = await openHere(dir);
    const tx0 = ch.begin();
    tx0.put(Array.from({ length: 1000 }, (_, i) => makeEvent(`e${i}`, { i: String(i) })));
    await tx0.commit();
    await ch.close();
    const c = runChild(
      childScript(`
for (let k = 0; k < 3; k++) {
  const tx = ch.begin();
  const got = await tx.take(100);
  await tx.commit();
  await say('T ' + got[0].headers.i + ' ' + got[got.length - 1].headers.i);
}
const hold = ch.begin();
const held = await hold.take(250);
await say('HOLD ' + held[0].headers.i + ' ' + held[held.length - 1].headers.i);
setInterval(() => {}, 1000);`),
      [dir],
    );
    await until(() => c.lines.some((l) => l.startsWith('HOLD')) || c.proc.exitCode !== null, 20_000, 'the held take');
    c.proc.kill('SIGKILL');
    await c.exited;
    assert.deepEqual(c.lines, ['T 0 99', 'T 100 199', 'T 200 299', 'HOLD 300 549']);
    ch = await openHere(dir);
    assert.equal(ch.size(), 700);
    const tx = ch.begin();
    const first = (await tx.take(250)).map((e) => Number(e.headers.i));
    assert.deepEqual(
      first,
      Array.from({ length: 250 }, (_, i) => 300 + i),
    );
    await tx.rollback();
    const all = (await drainAll(ch)).map((e) => Number(e.headers.i));
    await ch.close();
    assert.deepEqual(
      all,
      Array.from({ length: 700 }, (_, i) => 300 + i),
    );
  },
);

test(
  'kill -9, then the data directory goes missing (unmounted volume): the start is refused, never empty',
  { timeout: 30_000 },
  async () => {
    const dir = tmp();
    // the checkpoint is written at start (0 events) and every 30 s: the kill comes before the next one, so
    // checkpoint.json still says 0 events; what tells the next start is that the channel did not stop cleanly
    const c = runChild(
      childScript(`
for (let b = 0; b < 5; b++) {
  const tx = ch.begin();
  tx.put(Array.from({ length: 1000 }, (_, j) => ev(b * 1000 + j)));
  await tx.commit();
}
await say('PUT 5000');
setInterval(() => {}, 1000);`),
      [dir],
    );
    await until(() => c.lines.includes('PUT 5000') || c.proc.exitCode !== null, 20_000, 'the puts');
    c.proc.kill('SIGKILL');
    await c.exited;
    assert.deepEqual(c.lines, ['PUT 5000']);
    const cp = JSON.parse(fs.readFileSync(path.join(dir, 'cp', 'checkpoint.json'), 'utf8'));
    assert.equal(cp.clean, false);
    fs.renameSync(path.join(dir, 'data'), path.join(dir, 'unmounted'));
    await assert.rejects(openHere(dir), (err: unknown) => {
      assert.ok(err instanceof FileChannelError, String(err));
      assert.equal(err.reason, 'mismatch');
      assert.match(err.message, /was not stopped cleanly .* has no store .*volume not mounted/);
      return true;
    });
    assert.ok(!fs.existsSync(path.join(dir, 'data', 'leveldb', 'CURRENT')), 'no empty store was created in its place');
    // the volume is back: everything is there
    fs.rmSync(path.join(dir, 'data'), { recursive: true, force: true });
    fs.renameSync(path.join(dir, 'unmounted'), path.join(dir, 'data'));
    const ch = await openHere(dir);
    const got = (await drainAll(ch)).map((e) => Number(e.headers.i));
    await ch.close();
    assert.deepEqual(
      got,
      Array.from({ length: 5000 }, (_, i) => i),
    );
  },
);
