/**
 * File channel housekeeping over many intervals, driven by injected timers:
 * - it runs at every interval (it used to run at most once: a run that had nothing to do left a settled promise
 *   behind that made every later tick a no-op), so checkpoint.json follows the queue;
 * - a drained channel gives its disk space back (compaction) soon after it is idle, and after a restart;
 * - health shows the disk floor as soon as it is crossed, without waiting for a put, and clears by itself.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileChannel } from '../../src/channels/file/index.js';
import type { FileChannelInternals } from '../../src/channels/file/channel.js';
import type { CheckpointFile } from '../../src/channels/file/checkpoint.js';
import { makeEvent } from '../../src/core/event.js';
import { ManualTimers } from '../helpers/manual-timers.js';
import { openFileChannel } from '../helpers/file-channel.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-housekeeping-'));
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function open(
  dir: string,
  timers: ManualTimers,
  props: Record<string, string> = {},
  internals: FileChannelInternals = {},
): Promise<FileChannel> {
  return openFileChannel(
    dir,
    cleanup,
    { transactionCapacity: '1000', capacity: '1000000', ...props },
    { timers, ...internals },
  );
}

const checkpoint = (dir: string) =>
  JSON.parse(fs.readFileSync(path.join(dir, 'cp', 'checkpoint.json'), 'utf8')) as CheckpointFile;

function storeBytes(dir: string): number {
  const d = path.join(dir, 'data', 'leveldb');
  let n = 0;
  for (const f of fs.readdirSync(d)) n += fs.statSync(path.join(d, f)).size;
  return n;
}

let seq = 0;
async function put(ch: FileChannel, n: number, bytes = 20): Promise<void> {
  const tx = ch.begin();
  tx.put(Array.from({ length: n }, () => makeEvent(crypto.randomBytes(bytes).toString('base64'), { i: `${seq++}` })));
  await tx.commit();
}
async function take(ch: FileChannel, n: number): Promise<number> {
  const tx = ch.begin();
  const got = await tx.take(n);
  await tx.commit();
  return got.length;
}
async function drain(ch: FileChannel): Promise<number> {
  let total = 0;
  for (let n = await take(ch, 1000); n > 0; n = await take(ch, 1000)) total += n;
  return total;
}
async function advance(ch: FileChannel, timers: ManualTimers, ms: number): Promise<void> {
  timers.advance(ms);
  await ch.housekeepingIdle();
}

test('housekeeping runs at every interval: checkpoint.json follows the queue over 50 intervals (injected timers)', async () => {
  const dir = tmp();
  const timers = new ManualTimers();
  const ch = await open(dir, timers, { checkpointInterval: '30000' });
  assert.equal(timers.live, 2, 'a one-second tick and the checkpoint interval');
  const seen: number[] = [];
  for (let i = 0; i < 50; i++) {
    // intervals where nothing changed (housekeeping has nothing to do) alternate with puts and takes
    if (i % 3 === 0) await put(ch, 1000);
    if (i % 7 === 6) await take(ch, 1500);
    await advance(ch, timers, 30_000);
    const cp = checkpoint(dir);
    assert.equal(cp.size, ch.size(), `interval ${i}: checkpoint.json says ${cp.size}, the channel holds ${ch.size()}`);
    assert.equal(cp.clean, false);
    seen.push(cp.size);
  }
  assert.ok(new Set(seen).size >= 8, `the checkpoint was rewritten with many different depths: ${seen.join(' ')}`);
  await ch.close();
  assert.equal(timers.live, 0, 'close() cancels the timers');
  assert.deepEqual([checkpoint(dir).size, checkpoint(dir).clean], [ch.size(), true]);
});

test('a drained channel gives its disk space back once idle (compaction), and a restart does too', async () => {
  const dir = tmp();
  const timers = new ManualTimers();
  // 12,000 x ~400 B events, 1 MiB memtables: most of it lands in LevelDB tables
  let ch = await open(dir, timers, {}, { writeBufferSize: 1048576 });
  for (let b = 0; b < 12; b++) await put(ch, 1000, 300);
  const full = storeBytes(dir);
  assert.ok(full > 4 * 1048576, `the store holds ${full} bytes`);
  assert.equal(await drain(ch), 12_000);
  await advance(ch, timers, 1000); // not idle yet: takes happened since the previous tick
  await advance(ch, timers, 1000);
  await advance(ch, timers, 1000);
  const drained = storeBytes(dir);
  assert.ok(drained < 1048576, `a drained, idle channel keeps ${drained} bytes (was ${full})`);

  // the same again, closed before any tick: the first tick after the restart compacts
  for (let b = 0; b < 12; b++) await put(ch, 1000, 300);
  assert.equal(await drain(ch), 12_000);
  await ch.close();
  const before = storeBytes(dir);
  assert.ok(before > 4 * 1048576, `closed before compacting: ${before} bytes`);
  ch = await open(dir, timers, {}, { writeBufferSize: 1048576 });
  assert.equal(ch.size(), 0);
  await advance(ch, timers, 1000);
  const after = storeBytes(dir);
  assert.ok(after < 1048576, `after a restart and one tick the store keeps ${after} bytes (was ${before})`);
});

test('health shows the disk floor as soon as it is crossed, without a put, and clears when space returns', async () => {
  const dir = tmp();
  const timers = new ManualTimers();
  let free = 10 * 1024 ** 3;
  const ch = await open(dir, timers, { minimumRequiredSpace: '100m' }, { statfs: () => Promise.resolve({ free }) });
  await put(ch, 10);
  assert.deepEqual(ch.health(), { ok: true });
  free = 50 * 1048576;
  await advance(ch, timers, 1000);
  const h = ch.health();
  assert.equal(h.ok, false);
  assert.match(h.reason!, /disk floor reached: 50(\.0)? MiB free .*below minimumRequiredSpace 100 MiB plus .* LevelDB/);
  assert.equal(ch.counters.get('Unhealthy'), 1);
  free = 10 * 1024 ** 3;
  await advance(ch, timers, 1000);
  assert.deepEqual(ch.health(), { ok: true });
  assert.equal(ch.counters.get('Unhealthy'), 0);
  await put(ch, 10);
  assert.equal(ch.size(), 20);
});
