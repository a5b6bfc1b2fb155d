/**
 * Hostile and broken clients against the avro source (reliability M7): each one is disconnected with a logged
 * reason and an EventReadFail count, nothing is allocated for a hostile length, and a well-behaved client on
 * another connection keeps getting OK the whole time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { AvroSource } from '../../src/sources/avro.js';
import { AvroRpcClient } from '../../src/rpc/avro/client.js';
import { encodeCallFrame, PROTOCOL_HASH } from '../../src/rpc/avro/protocol.js';
import { encodeFrame } from '../../src/rpc/avro/framing.js';
import { makeEvent } from '../../src/core/event.js';
import type { Channel } from '../../src/contract/index.js';
import type { Agent } from '../../src/runtime/agent.js';
import { startAgent } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';

const inst = <T>(r: unknown): T => (r as { sup?: { instance: T } }).sup?.instance ?? (r as { instance: T }).instance;

const CONFIG = `
a1.sources = r1
a1.channels = c1
a1.sources.r1.type = avro
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = 0
a1.sources.r1.channels = c1
a1.sources.r1.readTimeout = 400ms
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000000
a1.channels.c1.transactionCapacity = 1000
`;

/** Deterministic garbage (an LCG), so a failure can be replayed. */
function garbage(n: number, seed = 12345): Buffer {
  const b = Buffer.allocUnsafe(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function header(serial: number, count: number, ...lens: number[]): Buffer {
  const b = Buffer.alloc(8 + lens.length * 4);
  b.writeInt32BE(serial, 0);
  b.writeInt32BE(count, 4);
  lens.forEach((l, i) => b.writeInt32BE(l, 8 + i * 4));
  return b;
}

const ping = () =>
  encodeCallFrame('', [], {
    serial: 1,
    handshake: { clientHash: PROTOCOL_HASH, clientProtocol: null, serverHash: PROTOCOL_HASH, meta: null },
  });

interface Attack {
  name: string;
  /** Written in order; a function runs after the previous writes (e.g. to wait for an answer). */
  steps: (Buffer | ((s: net.Socket, got: () => Buffer) => Promise<void>))[];
}

/** Runs one attack; resolves with the ms until the server closed the connection. */
async function attack(port: number, a: Attack, timeoutMs = 5000): Promise<number> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => {});
  let received = Buffer.alloc(0);
  s.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
  const closed = new Promise<void>((resolve) => s.on('close', () => resolve()));
  await new Promise<void>((resolve) => s.once('connect', () => resolve()));
  const t0 = performance.now();
  for (const step of a.steps) {
    if (typeof step === 'function') await step(s, () => received);
    else if (!s.destroyed) s.write(step);
  }
  const timer = setTimeout(() => s.destroy(new Error('not closed by the server')), timeoutMs);
  await closed;
  clearTimeout(timer);
  assert.ok(
    !s.errored || !/not closed by the server/.test(String(s.errored)),
    `${a.name}: the server did not close the connection within ${timeoutMs} ms`,
  );
  return performance.now() - t0;
}

test('hostile clients are disconnected and counted while a well-behaved client keeps getting OK', async () => {
  const agent: Agent = await startAgent(CONFIG);
  const src = inst<AvroSource>(agent.sources.get('r1'));
  const ch = inst<Channel>(agent.channels.get('c1'));
  const readFails = () => agent.sources.get('r1')!.counters.get('EventReadFail');
  const port = src.port;

  // the well-behaved client: small batches, back to back, on its own connection
  const good = await AvroRpcClient.connect({ host: '127.0.0.1', port, connectTimeoutMs: 2000, requestTimeoutMs: 5000 });
  const statuses = new Map<string, number>();
  let sent = 0;
  let stop = false;
  const goodLoop = (async () => {
    while (!stop) {
      const st = await good.appendBatch(Array.from({ length: 10 }, (_, i) => makeEvent(`good ${sent + i}`)));
      statuses.set(st, (statuses.get(st) ?? 0) + 1);
      sent += 10;
      await new Promise((r) => setImmediate(r));
    }
  })();

  const tenMiB = garbage(10 * 1024 * 1024);
  const attacks: Attack[] = [
    { name: '10 MiB of random bytes', steps: [tenMiB] },
    { name: 'frame count 0x7fffffff', steps: [header(1, 0x7fffffff)] },
    { name: 'negative frame count', steps: [header(1, -2)] },
    { name: 'negative buffer length', steps: [header(1, 1, -5)] },
    { name: 'buffer length 0x7fffffff then stall', steps: [header(1, 1, 0x7fffffff)] },
    { name: 'truncated handshake in a complete frame', steps: [encodeFrame(1, ping().subarray(12, 12 + 10))] },
    { name: 'handshake frame cut short, then stall', steps: [ping().subarray(0, 20)] },
    { name: 'connects and never sends a byte', steps: [] },
    {
      name: 'valid handshake, then a garbage call',
      steps: [
        ping(),
        async (_s, got) => waitFor(() => got().length >= 12, 2000, 'handshake answer'),
        encodeFrame(2, garbage(64, 7)),
      ],
    },
    {
      name: 'valid handshake, then garbage framing',
      steps: [
        ping(),
        async (_s, got) => waitFor(() => got().length >= 12, 2000, 'handshake answer'),
        garbage(4096, 99),
      ],
    },
    {
      name: 'a plausible appendBatch without a handshake',
      steps: [encodeCallFrame('appendBatch', [makeEvent('x')], { serial: 3 })],
    },
  ];
  try {
    for (const a of attacks) {
      const before = readFails();
      const ms = await attack(port, a);
      await waitFor(() => readFails() === before + 1, 2000, `EventReadFail for: ${a.name}`);
      assert.ok(ms < 3000, `${a.name}: closed after ${ms} ms`);
    }

    // a declared 60 MiB message (under the 64 MiB limit) that stalls after 1 MiB: only what arrived is held, and
    // the connection is closed after readTimeout
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
    const before = readFails();
    const ms = await attack(port, {
      name: 'declared 60 MiB, sends 1 MiB, stalls',
      steps: [header(1, 1, 60 << 20), Buffer.alloc(1 << 20, 0x41)],
    });
    clearInterval(sampler);
    await waitFor(() => readFails() === before + 1, 2000, 'EventReadFail for the stalled big message');
    assert.ok(ms >= 350, `closed only after readTimeout (${ms} ms)`);
    assert.ok(peak - rssBefore < 32 * 1024 * 1024, `memory grew by ${((peak - rssBefore) / 1048576).toFixed(1)} MiB`);

    await waitFor(() => sent >= 200, 10_000, 'the good client made progress');
  } finally {
    stop = true;
    await goodLoop;
    await good.close();
  }
  assert.deepEqual([...statuses.keys()], ['OK'], `the good client only got OK: ${JSON.stringify([...statuses])}`);
  assert.equal(src.openConnections, 0);
  // every acknowledged event is in the channel, nothing from the attackers is
  let queued = 0;
  for (;;) {
    const tx = ch.begin();
    const evs = await tx.take(1000);
    await tx.commit();
    if (evs.length === 0) break;
    for (const e of evs) assert.match(e.body.toString(), /^good \d+$/);
    queued += evs.length;
  }
  assert.equal(queued, sent);
  await agent.stop(1000);
});

test('maxConnections bounds concurrent connections; the source survives and serves again', async () => {
  const agent: Agent = await startAgent(`${CONFIG}\na1.sources.r1.maxConnections = 2\n`);
  const src = inst<AvroSource>(agent.sources.get('r1'));
  const clients: AvroRpcClient[] = [];
  try {
    for (let i = 0; i < 2; i++)
      clients.push(
        await AvroRpcClient.connect({
          host: '127.0.0.1',
          port: src.port,
          connectTimeoutMs: 2000,
          requestTimeoutMs: 2000,
        }),
      );
    await assert.rejects(
      AvroRpcClient.connect({ host: '127.0.0.1', port: src.port, connectTimeoutMs: 1000, requestTimeoutMs: 1000 }),
    );
    assert.equal(src.openConnections, 2);
    await clients.pop()!.close();
    await waitFor(() => src.openConnections === 1, 2000);
    const c = await AvroRpcClient.connect({
      host: '127.0.0.1',
      port: src.port,
      connectTimeoutMs: 2000,
      requestTimeoutMs: 2000,
    });
    assert.equal(await c.appendBatch([makeEvent('x')]), 'OK');
    clients.push(c);
  } finally {
    for (const c of clients) await c.close();
    await agent.stop(1000);
  }
});
