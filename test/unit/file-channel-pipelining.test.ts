/**
 * File channel put ordering and the take log:
 * - puts are admitted and written in commit() order whatever they wait for, and a retriable failure fails every
 *   put submitted after it (so a producer with several puts in flight never reorders its events);
 * - a netcat connection pipelines batches into a file channel (through the real ChannelProcessor) and keeps its
 *   lines in order, once each, through channel-full retries;
 * - committed takes live in takes.log: a restart does not redeliver them even when the store's copy of the take
 *   state lags; a torn tail, a missing or a foreign takes.log never lose events.
 */
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { once } from 'node:events';
import { FileChannel, FileChannelError } from '../../src/channels/file/index.js';
import { TAKE_LOG_FILE } from '../../src/channels/file/take-log.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { AgentError, ChannelFullError } from '../../src/core/errors.js';
import netcat, { NetcatSource } from '../../src/sources/netcat.js';
import syslogtcp from '../../src/sources/syslog/syslogtcp.js';
import type { TcpIntake } from '../../src/sources/syslog/tcp-intake.js';
import { waitFor } from '../helpers/wait.js';
import { openFileChannel, sourceInto } from '../helpers/file-channel.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-pipe-'));
  cleanup.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function open(dir: string, props: Record<string, string> = {}): Promise<FileChannel> {
  return openFileChannel(dir, cleanup, { transactionCapacity: '100', capacity: '100000', ...props });
}

const ev = (i: number): FlumeEvent => makeEvent(`e${i}`);
const ids = (evs: readonly FlumeEvent[]) => evs.map((e) => Number(e.body.toString().slice(1)));
const seq = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

function submit(ch: FileChannel, from: number, n: number): Promise<void> {
  const tx = ch.begin();
  tx.put(seq(from, from + n).map(ev));
  return tx.commit();
}

async function takeN(ch: FileChannel, n: number): Promise<number[]> {
  const tx = ch.begin();
  const got = await tx.take(n);
  await tx.commit();
  return ids(got);
}

async function drain(ch: FileChannel): Promise<number[]> {
  const out: number[] = [];
  for (;;) {
    const got = await takeN(ch, 100);
    if (got.length === 0) return out;
    out.push(...got);
  }
}

test('puts submitted together are written in submission order (group commit), and the channel offers pipelining', async () => {
  const ch = await open(tmp());
  assert.ok((ch.putsInFlight ?? 1) > 1);
  // 60 transactions of 1..10 events, all submitted before any is written
  const commits: Promise<void>[] = [];
  let next = 0;
  for (let i = 0; i < 60; i++) {
    const n = 1 + (i % 10);
    commits.push(submit(ch, next, n));
    next += n;
  }
  await Promise.all(commits);
  assert.deepEqual(await drain(ch), seq(0, next));
});

test('a put waiting for room holds back the puts submitted after it, and its failure fails them too', async () => {
  const ch = await open(tmp(), { capacity: '10', transactionCapacity: '10', 'keep-alive': '200ms' });
  await submit(ch, 0, 8);
  // B (5) does not fit; C (1) would, but must not overtake B
  const b = submit(ch, 100, 5);
  const c = submit(ch, 200, 1);
  const outcomes = await Promise.allSettled([b, c]);
  for (const o of outcomes) {
    assert.equal(o.status, 'rejected');
    assert.ok((o as PromiseRejectedResult).reason instanceof ChannelFullError);
  }
  assert.match(String((outcomes[1] as PromiseRejectedResult).reason.message), /a put submitted before it failed/);
  assert.equal(ch.size(), 8);
  // retried in order once there is room: the order is the submission order
  assert.deepEqual(await takeN(ch, 8), seq(0, 8));
  await submit(ch, 100, 5);
  await submit(ch, 200, 1);
  assert.deepEqual(await drain(ch), [...seq(100, 105), 200]);
});

test('a put waiting for room is admitted, in order, when takes free it', async () => {
  const ch = await open(tmp(), { capacity: '10', transactionCapacity: '10', 'keep-alive': '3s' });
  await submit(ch, 0, 8);
  const b = submit(ch, 100, 5);
  const c = submit(ch, 200, 1);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(ch.size(), 8, 'C did not overtake B');
  assert.deepEqual(await takeN(ch, 8), seq(0, 8));
  await Promise.all([b, c]);
  assert.deepEqual(await drain(ch), [...seq(100, 105), 200]);
});

test('an unencodable put fails alone (FLUME_ERR_CHANNEL_RECORD); the puts behind it are written', async () => {
  const ch = await open(tmp());
  const headers: Record<string, string> = {};
  for (let i = 0; i <= 0xffff; i++) headers[`h${i}`] = '';
  const a = submit(ch, 0, 3);
  const tx = ch.begin();
  tx.put([makeEvent('too many headers', headers)]);
  const b = tx.commit();
  const c = submit(ch, 100, 2);
  const [ra, rb, rc] = await Promise.allSettled([a, b, c]);
  assert.equal(ra.status, 'fulfilled');
  assert.equal(rc.status, 'fulfilled', 'an encoding failure is not retriable: it does not fail the puts behind it');
  assert.equal(rb.status, 'rejected');
  const err = (rb as PromiseRejectedResult).reason as unknown;
  assert.ok(err instanceof AgentError, String(err));
  assert.equal(err.code, 'FLUME_ERR_CHANNEL_RECORD');
  assert.equal(err.retriable, false);
  assert.match(err.message, /65536 headers/);
  assert.deepEqual(await drain(ch), [...seq(0, 3), ...seq(100, 102)]);
});

test('netcat pipelines batches into a file channel: 20,000 lines through channel-full retries arrive once each, in order', async () => {
  const dir = tmp();
  const ch = await open(dir, { capacity: '3000', transactionCapacity: '500', 'keep-alive': '50ms' });
  const { src, processor, counters } = await sourceInto<NetcatSource>(
    netcat,
    { bind: '127.0.0.1', port: '0' },
    ch,
    cleanup,
    {
      initialMs: 5,
      maxMs: 20,
    },
  );
  assert.equal(processor.pipelineDepth, ch.putsInFlight);
  const sock = net.connect({ host: '127.0.0.1', port: src.port });
  let acks = 0;
  sock.on('data', (d: Buffer) => {
    for (const b of d) if (b === 0x0a) acks++;
  });
  await once(sock, 'connect');
  cleanup.push(() => {
    sock.destroy();
  });
  const N = 20_000;
  const payload = seq(0, N)
    .map((i) => `e${i}\n`)
    .join('');
  for (let off = 0; off < payload.length; off += 16384) sock.write(payload.slice(off, off + 16384));
  // a slow sink: small takes with pauses, so the channel is full again and again
  const got: number[] = [];
  while (got.length < N) {
    await ch.waitForEvents(50);
    got.push(...(await takeN(ch, 200)));
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.equal(got.length, N);
  assert.deepEqual(got, seq(0, N), 'every line once, in order');
  await waitFor(() => acks === N, 5000, 'one OK per line');
  assert.ok(counters.get('ChannelWriteFail') > 0, 'the channel was full at least once (retries happened)');
  assert.equal(counters.get('EventAcceptedCount'), N);
});

test('syslogtcp pipelines into a file channel: 10,000 messages then EOF, through channel-full retries, once each and in order', async () => {
  const ch = await open(tmp(), { capacity: '2000', transactionCapacity: '300', 'keep-alive': '50ms' });
  const { src, counters } = await sourceInto<TcpIntake>(syslogtcp, { host: '127.0.0.1', port: '0' }, ch, cleanup, {
    initialMs: 5,
    maxMs: 20,
  });
  const N = 10_000;
  const sock = net.connect({ host: '127.0.0.1', port: src.ports[0]! });
  await once(sock, 'connect');
  const closed = once(sock, 'close');
  sock.on('error', () => {});
  sock.end(
    seq(0, N)
      .map((i) => `<13>1 - host app - - - n${i}\n`)
      .join(''),
  );
  const got: string[] = [];
  while (got.length < N) {
    await ch.waitForEvents(50);
    const tx = ch.begin();
    for (const e of await tx.take(150)) got.push(e.body.toString());
    await tx.commit();
    await new Promise((r) => setTimeout(r, 2));
  }
  assert.deepEqual(
    got,
    seq(0, N).map((i) => `app - - - n${i}`),
    'every message once, in order',
  );
  await closed; // the source closed the connection after the last batch committed
  assert.ok(counters.get('ChannelWriteFail') > 0, 'the channel was full at least once');
  assert.equal(counters.get('EventAcceptedCount'), N);
});

test('takes.log: committed takes are not redelivered though the store copy lags; a torn tail keeps the last whole record', async () => {
  const dir = tmp();
  let ch = await open(dir);
  await submit(ch, 0, 100); // one record of 100 events
  assert.deepEqual(await takeN(ch, 30), seq(0, 30)); // the record is not fully consumed: only takes.log knows
  await ch.close();
  const log = path.join(dir, 'data', TAKE_LOG_FILE);
  fs.appendFileSync(log, Buffer.from([0, 0, 0, 40, 1, 2, 3])); // a torn record at the end
  ch = await open(dir);
  assert.equal(ch.size(), 70);
  assert.deepEqual(await takeN(ch, 20), seq(30, 50));
  await ch.close();
  ch = await open(dir);
  assert.deepEqual(await drain(ch), seq(50, 100));
});

test('takes.log missing or from another store: the store copy is used (events may come again, none is lost)', async () => {
  const dir = tmp();
  let ch = await open(dir);
  await submit(ch, 0, 100);
  await submit(ch, 100, 100);
  assert.deepEqual(await takeN(ch, 100), seq(0, 100)); // consumes the first record: reclaimed with a store copy
  assert.deepEqual(await takeN(ch, 30), seq(100, 130)); // only in takes.log
  await ch.close();
  const log = path.join(dir, 'data', TAKE_LOG_FILE);
  const kept = fs.readFileSync(log);
  fs.rmSync(log);
  ch = await open(dir);
  assert.deepEqual(
    await drain(ch),
    seq(100, 200),
    'the 30 events only takes.log knew are delivered again; nothing lost',
  );
  await ch.close();
  // a takes.log of another store (same bytes, other id) is ignored
  const foreign = Buffer.from(kept);
  foreign.write('00000000-0000-0000-0000-000000000000', 8, 'latin1');
  const other = tmp();
  ch = await open(other);
  await submit(ch, 0, 10);
  await ch.close();
  fs.writeFileSync(path.join(other, 'data', TAKE_LOG_FILE), foreign);
  ch = await open(other);
  assert.deepEqual(await drain(ch), seq(0, 10));
});

test('takes.log that cannot be written: start is refused with a message naming it, and the queued events stay', async () => {
  const dir = tmp();
  let ch = await open(dir);
  await submit(ch, 0, 10);
  await ch.close();
  const log = path.join(dir, 'data', TAKE_LOG_FILE);
  fs.rmSync(log);
  fs.mkdirSync(log);
  fs.writeFileSync(path.join(log, 'in-the-way'), 'x'); // works as root too, unlike chmod
  await assert.rejects(
    open(dir),
    (e: unknown) =>
      e instanceof FileChannelError && e.reason === 'io' && e.message.includes(log) && /writable/.test(e.message),
  );
  fs.rmSync(log, { recursive: true });
  ch = await open(dir);
  assert.deepEqual(await drain(ch), seq(0, 10));
});
