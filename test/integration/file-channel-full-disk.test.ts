/**
 * The file channel on a full disk, on a real 64 MiB ext4 (loop-mounted; skipped where mounting is not permitted):
 * - a dead sink: the floor holds (it counts what LevelDB writes by itself), puts are refused with ChannelFullError
 *   only, health reports the floor; drained, the space comes back (compaction) and puts resume by themselves;
 * - netcat into the channel with a dead sink: backpressure, never FAILED; every line arrives once the sink drains;
 * - another process fills the disk: a failing write rolls back (ChannelFullError), health is red at once, and the
 *   channel recovers by itself when the space is freed.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { once } from 'node:events';
import { FileChannel } from '../../src/channels/file/index.js';
import type { FileChannelInternals } from '../../src/channels/file/channel.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { ChannelFullError } from '../../src/core/errors.js';
import netcat, { NetcatSource } from '../../src/sources/netcat.js';
import { mountExt4, type LoopFs } from '../helpers/loop-fs.js';
import { waitFor } from '../helpers/wait.js';
import { openFileChannel, sourceInto } from '../helpers/file-channel.js';

const MiB = 1048576;
const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function volume(t: { skip(msg: string): void }): LoopFs | undefined {
  const v = mountExt4(64);
  if (typeof v === 'string') {
    t.skip(`${v}: the full-disk tests need a small real filesystem`);
    return undefined;
  }
  cleanup.push(() => v.unmount());
  return v;
}

function open(
  dir: string,
  props: Record<string, string> = {},
  internals: FileChannelInternals = {},
): Promise<FileChannel> {
  const defaults = { transactionCapacity: '1000', capacity: '1000000', 'keep-alive': '100ms' };
  return openFileChannel(dir, cleanup, { ...defaults, ...props }, internals);
}

/** Random printable bytes: LevelDB's Snappy cannot shrink them, as real log lines would be shrunk. */
const POOL = crypto.randomBytes(3 * MiB).toString('base64');
const body = (i: number, len = 390) => {
  const o = (i * 7919) % (POOL.length - len);
  return `${String(i).padStart(9, '0')} ${POOL.slice(o, o + len)}`;
};
const ev = (i: number): FlumeEvent => makeEvent(body(i));
const num = (e: FlumeEvent) => Number(e.body.subarray(0, 9).toString());

/** Samples the lowest free space of the volume every few milliseconds. */
function lowWater(v: LoopFs): { readonly min: number; stop(): void } {
  let min = v.free();
  const timer = setInterval(() => (min = Math.min(min, v.free())), 3);
  return {
    get min() {
      return Math.min(min, v.free());
    },
    stop: () => clearInterval(timer),
  };
}

async function drain(ch: FileChannel): Promise<FlumeEvent[]> {
  const out: FlumeEvent[] = [];
  for (;;) {
    const tx = ch.begin();
    const got = await tx.take(1000);
    await tx.commit();
    if (got.length === 0) return out;
    out.push(...got);
  }
}

test('dead sink on a 64 MiB volume: the floor holds with what LevelDB writes, puts get ChannelFullError only, space comes back once drained', async (t) => {
  const v = volume(t);
  if (!v) return;
  const free0 = v.free();
  const ch = await open(v.dir);
  const low = lowWater(v);
  let accepted = 0;
  let refusals = 0;
  for (let b = 0; refusals < 20; b++) {
    const tx = ch.begin();
    tx.put(Array.from({ length: 1000 }, (_, j) => ev(accepted + j)));
    try {
      await tx.commit();
      accepted += 1000;
      refusals = 0;
    } catch (err) {
      await tx.rollback();
      assert.ok(err instanceof ChannelFullError, `refused with ${String(err)}`);
      assert.match(err.message, /below minimumRequiredSpace 1\.0 MiB plus .* LevelDB needs/);
      refusals++;
    }
  }
  assert.match(ch.health().reason ?? '', /disk floor reached/);
  // LevelDB finishes what it started by itself (table writes, merges): wait until the free space stops moving
  let last = v.free();
  let stableSince = performance.now();
  await waitFor(
    () => {
      const f = v.free();
      if (f !== last) [last, stableSince] = [f, performance.now()];
      return performance.now() - stableSince > 1500;
    },
    30_000,
    'LevelDB to settle',
  );
  low.stop();
  const summary =
    `accepted ${accepted} events (${(accepted * 400) / MiB} MiB of records) on a volume with ` +
    `${(free0 / MiB).toFixed(1)} MiB free; lowest free ${(low.min / MiB).toFixed(2)} MiB`;
  t.diagnostic(summary);
  assert.ok(accepted >= 40_000, `the volume was put to use: ${summary}`);
  assert.ok(low.min >= MiB, `the 1 MiB floor held: ${summary}`);
  assert.equal(ch.counters.get('EventPutErrorCount'), 0, 'no write failed: the floor stopped puts before ENOSPC');
  assert.equal(ch.size(), accepted);

  const got = await drain(ch);
  assert.equal(got.length, accepted);
  assert.ok(
    got.every((e, i) => num(e) === i),
    'every accepted event, in order',
  );
  // the drained, idle channel compacts: the space comes back and puts resume, with no restart and no put needed
  await waitFor(() => v.free() > free0 - 4 * MiB && ch.health().ok, 15_000, 'the space to come back');
  t.diagnostic(`free after the drain: ${(v.free() / MiB).toFixed(1)} MiB`);
  const tx = ch.begin();
  tx.put([ev(0)]);
  await tx.commit();
});

test('netcat into a file channel on a full 64 MiB volume: backpressure, never FAILED; every line arrives once drained', async (t) => {
  const v = volume(t);
  if (!v) return;
  const ch = await open(v.dir, { transactionCapacity: '500' });
  const { src, counters } = await sourceInto<NetcatSource>(netcat, { bind: '127.0.0.1', port: '0' }, ch, cleanup, {
    initialMs: 20,
    maxMs: 200,
  });
  const sock = net.connect({ host: '127.0.0.1', port: src.port });
  let ok = 0;
  let failed = 0;
  let firstFailed = '';
  let rest = '';
  sock.setEncoding('utf8').on('data', (d: string) => {
    rest += d;
    for (let i = rest.indexOf('\n'); i >= 0; i = rest.indexOf('\n')) {
      const line = rest.slice(0, i);
      rest = rest.slice(i + 1);
      if (line === 'OK') ok++;
      else {
        failed++;
        firstFailed ||= line;
      }
    }
  });
  await once(sock, 'connect');
  cleanup.push(() => {
    sock.destroy();
  });
  // 100,000 lines of 400 B: more than the volume holds
  const N = 100_000;
  const writing = (async () => {
    for (let i = 0; i < N; i += 100) {
      const chunk = Array.from({ length: 100 }, (_, j) => `${body(i + j)}\n`).join('');
      if (!sock.write(chunk)) await once(sock, 'drain');
    }
  })();
  // the dead sink: nothing is taken until the channel refuses puts (the floor)
  await waitFor(() => !ch.health().ok, 60_000, 'the disk floor');
  const queued = ch.size();
  assert.ok(queued < N, 'the volume cannot hold every line');
  assert.equal(failed, 0, `no FAILED answer while the disk is at its floor: ${firstFailed}`);
  // the sink comes back
  const got: number[] = [];
  while (got.length < N) {
    await ch.waitForEvents(100);
    const tx = ch.begin();
    for (const e of await tx.take(500)) got.push(num(e));
    await tx.commit();
  }
  await writing;
  await waitFor(() => ok + failed === N, 10_000, 'an answer per line');
  t.diagnostic(`queued ${queued} lines at the floor; delivered ${got.length}; OK ${ok}, FAILED ${failed}`);
  assert.equal(failed, 0, `never FAILED: ${firstFailed}`);
  assert.equal(ok, N);
  assert.ok(
    got.every((n, i) => n === i),
    'every line once, in order',
  );
  assert.ok(counters.get('ChannelWriteFail') > 0, 'the source was refused (and retried) at the floor');
});

test('another process fills the disk: the failed write rolls back with ChannelFullError, health is red at once, recovery by itself', async (t) => {
  const v = volume(t);
  if (!v) return;
  // statfs says there is plenty, so the floor does not stop the puts and LevelDB meets the real ENOSPC
  const ch = await open(v.dir, {}, { statfs: () => Promise.resolve({ free: 1e15 }), writeBufferSize: MiB });
  let committed = 0;
  for (let b = 0; b < 5; b++) {
    const tx = ch.begin();
    tx.put(Array.from({ length: 1000 }, (_, j) => ev(committed + j)));
    await tx.commit();
    committed += 1000;
  }
  const filler = path.join(v.dir, 'filler');
  const fd = fs.openSync(filler, 'w');
  try {
    const block = Buffer.alloc(MiB, 1);
    for (;;) fs.writeSync(fd, block);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    fs.closeSync(fd);
  }
  const errors: unknown[] = [];
  for (let b = 0; b < 10 && errors.length < 3; b++) {
    const tx = ch.begin();
    tx.put(Array.from({ length: 1000 }, (_, j) => ev(committed + j)));
    try {
      await tx.commit();
      committed += 1000;
    } catch (err) {
      errors.push(err);
      await tx.rollback();
    }
  }
  assert.ok(errors.length > 0, 'the disk filled up');
  for (const e of errors) assert.ok(e instanceof ChannelFullError, `refused with ${String(e)}`);
  assert.equal(ch.health().ok, false);
  assert.ok(ch.counters.get('EventPutErrorCount') > 0);
  // the filler goes away: the channel reopens its store by itself (no put or take asks for it)
  fs.rmSync(filler);
  await waitFor(() => ch.health().ok, 10_000, 'the channel to recover by itself');
  const tx = ch.begin();
  tx.put([ev(committed)]);
  await tx.commit();
  const got = await drain(ch);
  assert.deepEqual(
    got.map(num),
    Array.from({ length: committed + 1 }, (_, i) => i),
  );
});
