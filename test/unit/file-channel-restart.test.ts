/**
 * File channel across restarts (in process, clean close): committed puts and uncommitted takes survive, committed
 * takes do not come back, out-of-order commits are remembered, the read window stays bounded, the lock names the
 * holder, options and defaults.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fileDef, { FileChannel, FileChannelError } from '../../src/channels/file/index.js';
import type { FileChannelInternals } from '../../src/channels/file/channel.js';
import { componentOptions } from '../../src/config/validate/index.js';
import { formatIssues } from '../../src/config/issues.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { systemClock } from '../../src/core/clock.js';
import { ChannelCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { configFromText } from '../../src/config/load.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-restart-'));
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function options(dir: string, props: Record<string, string> = {}): any {
  const r = componentOptions(fileDef, {
    dataDirs: path.join(dir, 'data'),
    checkpointDir: path.join(dir, 'cp'),
    minimumRequiredSpace: '1m',
    transactionCapacity: '100',
    capacity: '100000',
    ...props,
  });
  if (!r.options) throw new Error(formatIssues(r.issues));
  return r.options;
}

async function open(
  dir: string,
  props: Record<string, string> = {},
  internals: FileChannelInternals = {},
): Promise<FileChannel> {
  const ch = new FileChannel(
    options(dir, props),
    { name: 'c1', logger: silentLogger(), clock: systemClock, agentDir: dir, counters: new ChannelCounters('c1') },
    internals,
  );
  await ch.start();
  cleanup.push(() => ch.close());
  return ch;
}

const ev = (i: number): FlumeEvent => makeEvent(`e${i}`, { i: String(i) });
const ids = (evs: readonly FlumeEvent[]) => evs.map((e) => Number(e.body.toString().slice(1)));
const seq = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

async function put(ch: FileChannel, from: number, n: number): Promise<void> {
  const tx = ch.begin();
  tx.put(seq(from, from + n).map(ev));
  await tx.commit();
}
async function drain(ch: FileChannel, batch = 100): Promise<number[]> {
  const out: number[] = [];
  for (;;) {
    const tx = ch.begin();
    const got = await tx.take(batch);
    await tx.commit();
    if (got.length === 0) return out;
    out.push(...ids(got));
  }
}

test('restart: committed puts are kept, committed takes gone, uncommitted takes back at the head in order', async () => {
  const dir = tmp();
  let ch = await open(dir);
  await put(ch, 0, 10);
  await put(ch, 10, 10);
  const t1 = ch.begin();
  assert.deepEqual(ids(await t1.take(4)), [0, 1, 2, 3]);
  await t1.commit();
  const t2 = ch.begin();
  assert.deepEqual(ids(await t2.take(5)), [4, 5, 6, 7, 8]);
  // t2 never commits: the channel closes under it
  await ch.close();
  ch = await open(dir);
  assert.equal(ch.size(), 16);
  assert.equal(ch.counters.get('ChannelSize'), 16);
  assert.deepEqual(await drain(ch, 7), seq(4, 20));
});

test('rollback after a restart returns the events in order', async () => {
  const dir = tmp();
  let ch = await open(dir);
  await put(ch, 0, 30);
  await ch.close();
  ch = await open(dir);
  const tx = ch.begin();
  assert.deepEqual(ids(await tx.take(12)), seq(0, 12));
  await tx.rollback();
  await put(ch, 30, 5);
  assert.deepEqual(await drain(ch, 9), seq(0, 35));
});

test('out-of-order take commits are durable: the later batch is not redelivered', async () => {
  const dir = tmp();
  let ch = await open(dir);
  await put(ch, 0, 40);
  const a = ch.begin();
  const b = ch.begin();
  assert.deepEqual(ids(await a.take(10)), seq(0, 10));
  assert.deepEqual(ids(await b.take(10)), seq(10, 20));
  await b.commit();
  await ch.close(); // a is still open: its events must come back, b's must not
  ch = await open(dir);
  assert.equal(ch.size(), 30);
  assert.deepEqual(await drain(ch), [...seq(0, 10), ...seq(20, 40)]);
});

test('the read window stays bounded and FIFO holds across many small records and a restart', async () => {
  const dir = tmp();
  const internals = { windowEvents: 50 };
  let ch = await open(dir, {}, internals);
  let n = 0;
  for (let i = 0; i < 300; i++) {
    const k = 1 + (i % 7);
    await put(ch, n, k);
    n += k;
  }
  assert.ok(ch.windowSize <= 50 + 7, `window ${ch.windowSize}`);
  const first = [];
  for (let i = 0; i < 10; i++) {
    const tx = ch.begin();
    first.push(...ids(await tx.take(33)));
    await tx.commit();
    assert.ok(ch.windowSize <= 100, `window ${ch.windowSize}`);
  }
  await ch.close();
  ch = await open(dir, {}, internals);
  assert.ok(ch.windowSize <= 50 + 7, `window after restart ${ch.windowSize}`);
  const rest = await drain(ch, 41);
  assert.deepEqual([...first, ...rest], seq(0, n));
  // everything consumed: records deleted, the state says empty
  await ch.close();
  ch = await open(dir, {}, internals);
  assert.equal(ch.size(), 0);
  assert.deepEqual(await drain(ch), []);
});

test('puts and takes interleaved at random keep FIFO and the count (model check)', async () => {
  const dir = tmp();
  let ch = await open(dir, {}, { windowEvents: 64 });
  let seed = 42;
  const rnd = (m: number) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % m;
  let next = 0;
  const delivered: number[] = [];
  for (let step = 0; step < 400; step++) {
    const r = rnd(10);
    if (r < 5) {
      const k = 1 + rnd(60);
      await put(ch, next, k);
      next += k;
    } else if (r < 9) {
      const tx = ch.begin();
      const got = ids(await tx.take(1 + rnd(100)));
      if (rnd(4) === 0) await tx.rollback();
      else {
        await tx.commit();
        delivered.push(...got);
      }
    } else {
      await ch.close();
      ch = await open(dir, {}, { windowEvents: 64 });
    }
    assert.equal(ch.size(), next - delivered.length);
  }
  delivered.push(...(await drain(ch)));
  assert.deepEqual(delivered, seq(0, next));
});

test('a second channel on the same directory fails with a lock error naming the directory and the holder', async () => {
  const dir = tmp();
  await open(dir);
  const second = new FileChannel(options(dir), {
    name: 'c2',
    logger: silentLogger(),
    clock: systemClock,
    agentDir: dir,
    counters: new ChannelCounters('c2'),
  });
  await assert.rejects(second.start(), (e: unknown) => {
    assert.ok(e instanceof FileChannelError);
    assert.equal(e.reason, 'locked');
    assert.match(e.message, new RegExp(path.join(dir, 'data').replace(/[/.]/g, '\\$&')));
    assert.match(e.message, new RegExp(`this same process|pid ${process.pid}`));
    assert.match(e.message, /own dataDirs/);
    return true;
  });
  assert.equal(fs.readFileSync(path.join(dir, 'data', 'in_use.pid'), 'utf8').split('\n')[0], String(process.pid));
});

test('defaults live under <agent dir>/.flume-ts/file-channel/<name>; the pid file goes away on close', async () => {
  const dir = tmp();
  const r = componentOptions(fileDef, { minimumRequiredSpace: '1m' });
  const ch = new FileChannel(r.options as any, {
    name: 'chan-x',
    logger: silentLogger(),
    clock: systemClock,
    agentDir: dir,
    counters: new ChannelCounters('chan-x'),
  });
  assert.equal(ch.capacity, 1000000);
  assert.equal(ch.transactionCapacity, 10000);
  await ch.start();
  const base = path.join(dir, '.flume-ts', 'file-channel', 'chan-x');
  assert.ok(fs.existsSync(path.join(base, 'data', 'leveldb', 'CURRENT')));
  assert.ok(fs.existsSync(path.join(base, 'data', 'in_use.pid')));
  await ch.close();
  assert.ok(!fs.existsSync(path.join(base, 'data', 'in_use.pid')));
  const cp = JSON.parse(fs.readFileSync(path.join(base, 'checkpoint', 'checkpoint.json'), 'utf8'));
  assert.equal(cp.size, 0);
  assert.equal(ch.counters.get('Open'), 0);
  assert.equal(ch.counters.get('Closed'), 1);
});

test('config: Flume keys accepted, ignored ones warned, shared directories refused, dataDirs comma list', () => {
  const text = [
    'a1.channels = c1 c2',
    'a1.sinks = k1 k2',
    'a1.sinks.k1.type = null',
    'a1.sinks.k1.channel = c1',
    'a1.sinks.k2.type = null',
    'a1.sinks.k2.channel = c2',
    'a1.channels.c1.type = file',
    'a1.channels.c1.checkpointDir = /tmp/x/cp',
    'a1.channels.c1.dataDirs = /tmp/x/d1, /tmp/x/d2',
    'a1.channels.c1.useDualCheckpoints = true',
    'a1.channels.c1.use-fast-replay = true',
    'a1.channels.c2.type = org.apache.flume.channel.file.FileChannel',
    'a1.channels.c2.dataDirs = /tmp/x/d1',
  ].join('\n');
  const res = configFromText(text, { agent: 'a1', sys: {}, env: {} });
  assert.equal(res.plan, undefined);
  const errors = res.issues.filter((i) => i.severity === 'error');
  assert.equal(errors.length, 1, JSON.stringify(res.issues, null, 1));
  assert.match(errors[0]!.message, /\/tmp\/x\/d1.*also claimed/);
  const warned = res.issues
    .filter((i) => i.severity === 'warning')
    .map((i) => i.key ?? '')
    .join(' ');
  for (const k of ['useDualCheckpoints', 'use-fast-replay']) assert.match(warned, new RegExp(k.replace('.', '\\.')));
  const enc = componentOptions(fileDef, { 'encryption.activeKey': 'key-0' });
  assert.equal(enc.options, undefined, 'encryption keys are refused: events would be stored unencrypted');
  assert.match(enc.issues[0]!.message, /encryption is not supported/);
  const ok = componentOptions(fileDef, { dataDirs: '/a, /b', transactionCapacity: '5', capacity: '4' });
  assert.equal(ok.options, undefined, 'transactionCapacity > capacity is refused');
  const o = componentOptions(fileDef, {
    dataDirs: '/a, /b',
    'keep-alive': '2',
    minimumRequiredSpace: '1g',
    checkpointInterval: '1000',
  }).options!;
  assert.deepEqual(o.dataDirs, ['/a', '/b']);
  assert.equal(o['keep-alive'], 2000);
  assert.equal(o.minimumRequiredSpace, 1024 ** 3);
  assert.equal(
    componentOptions(fileDef, { minimumRequiredSpace: '1000' }).options,
    undefined,
    'floor of 1 MiB like Flume',
  );
});

test('spillablememory: arrival order across memory and overflow; after a restart only the spilled part is there', async () => {
  const { default: spillDef, SpillableMemoryChannel } = await import('../../src/channels/spillable-memory.js');
  const dir = tmp();
  const r = componentOptions(spillDef, {
    memoryCapacity: '5',
    overflowCapacity: '1000',
    overflowTimeout: '0',
    transactionCapacity: '100',
    dataDirs: path.join(dir, 'data'),
    checkpointDir: path.join(dir, 'cp'),
    minimumRequiredSpace: '1m',
  });
  const mk = () =>
    new SpillableMemoryChannel(r.options as any, {
      name: 's1',
      logger: silentLogger(),
      clock: systemClock,
      agentDir: dir,
      counters: new ChannelCounters('s1'),
    });
  let ch = mk();
  await ch.start();
  cleanup.push(() => ch.close());
  const putS = async (from: number, n: number) => {
    const tx = ch.begin();
    tx.put(seq(from, from + n).map(ev));
    await tx.commit();
  };
  await putS(0, 3); // memory
  await putS(3, 4); // 2 to memory, 2 to the overflow
  await putS(7, 10); // overflow
  const t = ch.begin();
  assert.deepEqual(ids(await t.take(4)), [0, 1, 2, 3]);
  await t.commit();
  await putS(17, 2); // memory again (it has room and the overflow may be drained in order)
  assert.equal(ch.size(), 15);
  await ch.close();
  ch = mk();
  await ch.start();
  assert.equal(ch.size(), 12, 'the 3 events held in memory are gone, the 12 spilled survive');
  const out: number[] = [];
  for (;;) {
    const tx = ch.begin();
    const got = await tx.take(7);
    await tx.commit();
    if (got.length === 0) break;
    out.push(...ids(got));
  }
  assert.deepEqual(out, seq(5, 17));
});
