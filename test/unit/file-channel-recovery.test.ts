/**
 * File channel recovery and disk space: a damaged store refuses to start with a recovery hint and recover = true
 * salvages it reporting what was lost; a checkpoint that names another store (or a store that lost its tail) is
 * refused; below minimumRequiredSpace puts are refused while takes go on; a real ENOSPC (tmpfs) rolls the
 * transaction back and the channel resumes once space is freed.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Level } from 'level';
import fileDef, { FileChannel, FileChannelError } from '../../src/channels/file/index.js';
import type { FileChannelInternals } from '../../src/channels/file/channel.js';
import { recordKey } from '../../src/channels/file/codec.js';
import { componentOptions } from '../../src/config/validate/index.js';
import { formatIssues } from '../../src/config/issues.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { systemClock } from '../../src/core/clock.js';
import { AgentError } from '../../src/core/errors.js';
import { ChannelCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-recovery-'));
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function make(dir: string, props: Record<string, string> = {}, internals: FileChannelInternals = {}): FileChannel {
  const r = componentOptions(fileDef, {
    dataDirs: path.join(dir, 'data'),
    checkpointDir: path.join(dir, 'cp'),
    minimumRequiredSpace: '1m',
    transactionCapacity: '1000',
    capacity: '100000',
    ...props,
  });
  if (!r.options) throw new Error(formatIssues(r.issues));
  return new FileChannel(
    r.options as any,
    { name: 'c1', logger: silentLogger(), clock: systemClock, agentDir: dir, counters: new ChannelCounters('c1') },
    internals,
  );
}
async function open(
  dir: string,
  props: Record<string, string> = {},
  internals: FileChannelInternals = {},
): Promise<FileChannel> {
  const ch = make(dir, props, internals);
  await ch.start();
  cleanup.push(() => ch.close());
  return ch;
}

/** Event i carries its number in the body and a header, so a delivered event can be checked on its own. */
const ev = (i: number, pad = 0): FlumeEvent =>
  makeEvent(`e${i}:${crypto.randomBytes(pad).toString('base64')}`, { i: String(i) });
const valid = (e: FlumeEvent) => e.body.toString().startsWith(`e${e.headers.i}:`);
const num = (e: FlumeEvent) => Number(e.headers.i);

async function fill(ch: FileChannel, batches: number, per: number, pad = 0): Promise<void> {
  for (let b = 0; b < batches; b++) {
    const tx = ch.begin();
    tx.put(Array.from({ length: per }, (_, j) => ev(b * per + j, pad)));
    await tx.commit();
  }
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
async function refused(dir: string, reason: string, re: RegExp): Promise<FileChannelError> {
  const ch = make(dir);
  let caught: unknown;
  await ch.start().catch((e) => (caught = e));
  assert.ok(caught instanceof FileChannelError, `expected a refusal, got ${String(caught)}`);
  assert.equal(caught.reason, reason, caught.message);
  assert.match(caught.message, re);
  return caught;
}
async function withDb(dir: string, fn: (db: Level<Buffer, Buffer>) => Promise<void>): Promise<void> {
  const db = new Level<Buffer, Buffer>(path.join(dir, 'data', 'leveldb'), {
    keyEncoding: 'buffer',
    valueEncoding: 'buffer',
  });
  await db.open();
  try {
    await fn(db);
  } finally {
    await db.close();
  }
}
/** Puts 1000 events (10 x 100 by default), closes, and reopens once so LevelDB moves the log into a table. */
async function prepared(batches = 10, per = 100, pad = 0): Promise<string> {
  const dir = tmp();
  const ch = await open(dir);
  await fill(ch, batches, per, pad);
  await ch.close();
  await (await open(dir)).close();
  return dir;
}

test('a damaged record refuses the start with a recovery hint; recover = true drops it and reports the loss', async () => {
  const dir = await prepared();
  await withDb(dir, async (db) => {
    const k = recordKey(300, 100);
    const v = (await db.get(k))!;
    v[v.length - 5]! ^= 0xff;
    await db.put(k, v);
  });
  const err = await refused(dir, 'corrupt', /checksum mismatch/);
  assert.match(err.message, /recover = true/);
  assert.match(err.message, /back up/);
  const ch = await open(dir, { recover: 'true' });
  const got = await drain(ch);
  assert.equal(got.length, 900);
  assert.ok(got.every(valid));
  assert.deepEqual(
    got.map(num),
    [...Array(1000).keys()].filter((i) => i < 300 || i >= 400),
  );
  assert.equal(ch.lostEvents, 100);
});

test('a record missing from the middle is detected as lost events, not skipped silently', async () => {
  const dir = await prepared();
  await withDb(dir, (db) => db.del(recordKey(500, 100)));
  await refused(dir, 'corrupt', /100 committed events \(indices 500\.\.599\) are missing/);
  const ch = await open(dir, { recover: 'true' });
  const got = await drain(ch);
  assert.deepEqual(
    got.map(num),
    [...Array(1000).keys()].filter((i) => i < 500 || i >= 600),
  );
  assert.equal(ch.lostEvents, 100);
  await ch.close();
  const again = await open(dir);
  assert.equal(again.size(), 0, 'the loss was recorded: no refusal on the next start');
});

test('CURRENT deleted: refused (LevelDB would start empty); recover = true repairs it and nothing is lost', async () => {
  const dir = await prepared();
  fs.rmSync(path.join(dir, 'data', 'leveldb', 'CURRENT'));
  await refused(dir, 'corrupt', /CURRENT file is missing/);
  const ch = await open(dir, { recover: 'true' });
  const got = await drain(ch);
  assert.deepEqual(got.map(num), [...Array(1000).keys()]);
});

test('an empty MANIFEST: refused; recover = true repairs it', async () => {
  const dir = await prepared();
  const ldb = path.join(dir, 'data', 'leveldb');
  const manifest = fs.readdirSync(ldb).find((n) => n.startsWith('MANIFEST-'))!;
  fs.truncateSync(path.join(ldb, manifest), 0);
  await refused(dir, 'corrupt', /LevelDB/);
  const ch = await open(dir, { recover: 'true' });
  const got = await drain(ch);
  assert.deepEqual(got.map(num), [...Array(1000).keys()]);
});

test('random bytes flipped in a table: never a wrong event; refused, or recovered with the loss counted', async (t) => {
  const dir = await prepared(100, 10, 150);
  const ldb = path.join(dir, 'data', 'leveldb');
  const table = fs
    .readdirSync(ldb)
    .filter((n) => n.endsWith('.ldb'))
    .sort()
    .pop()!;
  const file = path.join(ldb, table);
  const buf = fs.readFileSync(file);
  let seed = 7;
  for (let i = 0; i < 16; i++) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    buf[seed % Math.floor(buf.length * 0.7)]! ^= 0x5a;
  }
  fs.writeFileSync(file, buf);
  const first = make(dir);
  let refusedErr: unknown;
  await first.start().catch((e) => (refusedErr = e));
  if (!refusedErr) {
    // damage outside the first read window: found while draining
    cleanup.push(() => first.close());
    await assert.rejects(drain(first), (e: unknown) => e instanceof FileChannelError && e.reason === 'corrupt');
    await first.close();
  } else {
    assert.ok(refusedErr instanceof AgentError, String(refusedErr));
  }
  const ch = await open(dir, { recover: 'true' });
  const got = await drain(ch);
  assert.ok(got.every(valid), 'every delivered event is intact');
  const nums = got.map(num);
  assert.deepEqual(
    nums,
    [...nums].sort((a, b) => a - b),
    'order kept',
  );
  assert.equal(new Set(nums).size, nums.length, 'no duplicates');
  assert.equal(got.length + ch.lostEvents, 1000, `recovered ${got.length} + lost ${ch.lostEvents}`);
  t.diagnostic(
    `first start: ${refusedErr ? `refused (${(refusedErr as Error).message.slice(0, 120)}...)` : 'found while draining'}; recover: recovered ${got.length}, lost ${ch.lostEvents}`,
  );
});

test('a data directory that vanished is refused (the checkpoint remembers the events); recover = true accepts the loss', async () => {
  const dir = tmp();
  const ch = await open(dir);
  await fill(ch, 2, 50);
  await ch.close();
  fs.rmSync(path.join(dir, 'data'), { recursive: true });
  await refused(dir, 'mismatch', /held 100 events.*has no store.*not mounted/);
  const again = await open(dir, { recover: 'true' });
  assert.equal(again.size(), 0);
  await again.close();
  await (await open(dir)).close();
});

test('a store that lost committed events after the last checkpoint (older copy restored) is refused', async () => {
  const dir = tmp();
  let ch = await open(dir);
  await fill(ch, 2, 50);
  await ch.close();
  const backup = path.join(dir, 'backup');
  fs.cpSync(path.join(dir, 'data'), backup, { recursive: true });
  ch = await open(dir);
  await fill(ch, 1, 50);
  await ch.close();
  fs.rmSync(path.join(dir, 'data'), { recursive: true });
  fs.cpSync(backup, path.join(dir, 'data'), { recursive: true });
  await refused(dir, 'corrupt', /ends at event index 100 but checkpoint\.json saw 150/);
});

test('below minimumRequiredSpace puts are refused with ChannelFullError; takes go on; puts resume when space returns', async () => {
  const dir = tmp();
  let free = 10 * 1024 * 1024 * 1024;
  const ch = await open(dir, { minimumRequiredSpace: '100m' }, { statfs: async () => ({ free }) });
  await fill(ch, 1, 10);
  free = 50 * 1024 * 1024;
  await new Promise((r) => setTimeout(r, 300)); // let the 250 ms statfs cache expire
  const tx = ch.begin();
  tx.put([ev(99)]);
  await assert.rejects(tx.commit(), (e: unknown) => {
    assert.ok(e instanceof AgentError && e.code === 'FLUME_ERR_CHANNEL_FULL', String(e));
    assert.match(e.message, /50(\.0)? MiB free .*below minimumRequiredSpace 100 MiB/);
    return true;
  });
  assert.equal(ch.counters.get('Unhealthy'), 1);
  assert.equal(ch.size(), 10);
  assert.equal((await drain(ch)).length, 10, 'takes still drain below the floor');
  free = 10 * 1024 * 1024 * 1024;
  await new Promise((r) => setTimeout(r, 300));
  await fill(ch, 1, 5);
  assert.equal(ch.counters.get('Unhealthy'), 0);
  assert.equal(ch.size(), 5);
});

test('the floor uses the real free space of the volume (configured above it)', async () => {
  const dir = tmp();
  const ch = await open(dir, { minimumRequiredSpace: '1000000g' });
  const tx = ch.begin();
  tx.put([ev(1)]);
  await assert.rejects(tx.commit(), /below minimumRequiredSpace/);
  assert.equal(ch.size(), 0);
});

function mountTmpfs(dir: string, size: string): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  return r.status === 0;
}

test('ENOSPC inside a write rolls the transaction back; committed events stay; the channel resumes once space is freed', async (t) => {
  const dir = tmp();
  const mnt = path.join(dir, 'mnt');
  fs.mkdirSync(mnt);
  if (!mountTmpfs(mnt, '24m')) {
    t.skip('cannot mount a tmpfs here (needs root on Linux)');
    return;
  }
  cleanup.push(() => {
    spawnSync('umount', ['-l', mnt]);
  });
  const filler = path.join(mnt, 'filler');
  fs.writeFileSync(filler, Buffer.alloc(12 * 1024 * 1024));
  // the floor is bypassed (statfs says plenty) so the real ENOSPC is hit
  const ch = make(
    mnt,
    { transactionCapacity: '1000' },
    { statfs: async () => ({ free: 1e15 }), writeBufferSize: 1024 * 1024 },
  );
  await ch.start();
  cleanup.push(() => ch.close());
  let committed = 0;
  let failure: unknown;
  for (let b = 0; b < 200 && !failure; b++) {
    const tx = ch.begin();
    tx.put(Array.from({ length: 100 }, (_, j) => ev(b * 100 + j, 1000)));
    try {
      await tx.commit();
      committed = (b + 1) * 100;
    } catch (err) {
      failure = err;
      await tx.rollback();
    }
  }
  assert.ok(failure, 'the disk filled up');
  assert.ok(failure instanceof AgentError && failure.retriable, String(failure));
  assert.match((failure as Error).message, /full|No space/i);
  t.diagnostic(`committed ${committed} events before: ${(failure as Error).message}`);
  assert.equal(ch.size(), committed, 'a failed put adds nothing');
  fs.rmSync(filler);
  await new Promise((r) => setTimeout(r, 1100)); // reopen attempts are spaced 1 s apart
  const tx = ch.begin();
  tx.put([ev(committed)]);
  await tx.commit();
  const got = await drain(ch);
  assert.deepEqual(got.map(num), [...Array(committed + 1).keys()]);
  assert.ok(got.every(valid));
  await ch.close();
  const again = await open(mnt);
  assert.equal(again.size(), 0);
});
