/**
 * forward source with a client that pipelines: many PackedForward requests written at once on one connection (as a
 * client that does not wait for each ack may). The source reads on while a request is committed, but each ack comes
 * in request order and only after that request's events were committed; a slow channel still bounds the bytes held;
 * the buffer an open connection keeps between requests.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { FlumeEvent } from '../../src/core/event.js';
import { pack } from '../../src/rpc/forward/msgpack.js';
import { startForward } from '../helpers/forward.js';
import { waitFor } from '../helpers/wait.js';

const ENTRIES = 1000;

/** Request `r`: `[tag, bin entries, {chunk: "cNNN", size}]`, entries `[time, {"m": "rNNN-KKK" + padding}]`. */
function request(r: number): Buffer {
  const entries = Array.from({ length: ENTRIES }, (_, k) =>
    pack([1700000000 + k, { m: `r${String(r).padStart(3, '0')}-${String(k).padStart(3, '0')}`.padEnd(200, '.') }]),
  );
  return pack(['t', Buffer.concat(entries), { chunk: chunk(r), size: ENTRIES }]);
}
const chunk = (r: number) => `c${String(r).padStart(3, '0')}`;
const ACK_BYTES = pack({ ack: chunk(0) }).length;

/** Sends every request in one write; records each ack with the count of committed events when it arrived. */
function pipeline(port: number, requests: Buffer[], committed: () => number) {
  const acks: { chunk: string; committedThen: number }[] = [];
  let got = Buffer.alloc(0);
  const s = net.connect(port, '127.0.0.1', () => s.write(Buffer.concat(requests)));
  s.on('error', () => {});
  s.on('data', (d: Buffer) => {
    got = Buffer.concat([got, d]);
    while (got.length >= ACK_BYTES) {
      const ack = got.subarray(0, ACK_BYTES);
      got = got.subarray(ACK_BYTES);
      acks.push({ chunk: ack.subarray(ACK_BYTES - 4).toString('latin1'), committedThen: committed() });
    }
  });
  return { acks, socket: s };
}

function assertInOrderAfterCommit(acks: { chunk: string; committedThen: number }[], n: number): void {
  assert.deepEqual(
    acks.map((a) => a.chunk),
    Array.from({ length: n }, (_, r) => chunk(r)),
  );
  acks.forEach((a, r) =>
    assert.ok(a.committedThen >= (r + 1) * ENTRIES, `ack ${r} came with ${a.committedThen} events committed`),
  );
}

function assertEvents(events: FlumeEvent[], n: number): void {
  assert.equal(events.length, n * ENTRIES);
  events.forEach((e, i) => {
    const r = Math.floor(i / ENTRIES);
    const k = i % ENTRIES;
    const want = `r${String(r).padStart(3, '0')}-${String(k).padStart(3, '0')}`;
    assert.equal((JSON.parse(e.body.toString()) as { m: string }).m.slice(0, want.length), want);
  });
}

test('pipelined requests on one connection are each acked, in order, after their commit', async () => {
  const n = 20;
  const f = await startForward({}, { maxBatchSize: 150 });
  const c = pipeline(
    f.port,
    Array.from({ length: n }, (_, r) => request(r)),
    () => f.events.length,
  );
  try {
    await waitFor(() => c.acks.length === n, 10_000, 'every ack');
    assertInOrderAfterCommit(c.acks, n);
    assertEvents(f.events, n);
    assert.equal(f.counters.get('AppendBatchAcceptedCount'), n);
  } finally {
    c.socket.destroy();
    await f.stop();
  }
});

test('a slow channel bounds the bytes read ahead from a pipelining client', async () => {
  const n = 40; // about 9 MB sent at once, 215 KB a request
  const committed: FlumeEvent[] = [];
  let open = false;
  const f = await startForward(
    {},
    {
      emit: async (b) => {
        await waitFor(() => open, 10_000, 'the channel to open');
        committed.push(...b);
      },
    },
  );
  const reqs = Array.from({ length: n }, (_, r) => request(r));
  const c = pipeline(f.port, reqs, () => committed.length);
  try {
    // the first request is held in the channel: the source reads the next one, then stops reading
    await waitFor(() => f.counters.get('AppendBatchReceivedCount') >= 1, 5000, 'a commit under way');
    const one = reqs[0]!.length;
    await waitFor(() => f.source.bufferedBytes >= one, 5000, 'the next request read ahead');
    await new Promise((resolve) => setTimeout(resolve, 100)); // would it read on? (nothing to wait on for "not")
    assert.ok(f.source.bufferedBytes <= 4 * one, `buffered ${f.source.bufferedBytes}, request ${one}`);
    assert.equal(c.acks.length, 0);
    open = true;
    await waitFor(() => c.acks.length === n, 10_000, 'every ack');
    assertInOrderAfterCommit(c.acks, n);
    assertEvents(committed, n);
  } finally {
    c.socket.destroy();
    await f.stop();
  }
});

test('a bad request behind a good one: the good one is committed and acked first, then the connection closes', async () => {
  const f = await startForward();
  const c = pipeline(f.port, [request(0), Buffer.from([0x93, 0xc1])], () => f.events.length);
  const closed = new Promise<void>((resolve) => c.socket.on('close', () => resolve()));
  try {
    await closed;
    assertInOrderAfterCommit(c.acks, 1);
    assertEvents(f.events, 1);
    assert.equal(f.counters.get('EventReadFail'), 1);
  } finally {
    c.socket.destroy();
    await f.stop();
  }
});

test('an open connection keeps its buffer for the next request only while the budget has room; closing gives it back', async () => {
  for (const [budget, kept] of [
    ['256m', true],
    ['448k', false], // the 256 KiB buffer would hold more than half
  ] as const) {
    const f = await startForward({ maxBufferedBytes: budget, maxMessageBytes: '1m' });
    const c = pipeline(f.port, [request(0)], () => f.events.length);
    try {
      await waitFor(() => c.acks.length === 1, 5000, 'the ack');
      if (kept) assert.ok(f.source.bufferedBytes > 0 && f.source.bufferedBytes <= 1024 * 1024);
      else assert.equal(f.source.bufferedBytes, 0);
      c.socket.destroy();
      await waitFor(() => f.source.bufferedBytes === 0, 5000, 'the buffer given back');
    } finally {
      c.socket.destroy();
      await f.stop();
    }
  }
});
