/**
 * Issue 17 items 3 and 4: a total cap on the bytes buffered from clients (avro, netcat/syslogtcp through the
 * shared src/net plumbing), idle connections closed and never locking new clients out, and one limiter for
 * repeated warnings (with the count of what it left out). The full-size reproduction (RSS): bench/net-memory.mjs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import zlib from 'node:zlib';
import netcat, { NetcatSource } from '../../src/sources/netcat.js';
import { AvroRpcServer } from '../../src/rpc/avro/server.js';
import { AvroRpcClient } from '../../src/rpc/avro/client.js';
import { DEFAULT_DECODE_LIMITS } from '../../src/rpc/avro/protocol.js';
import { ByteBudget } from '../../src/net/byte-budget.js';
import { WarnLimiter } from '../../src/net/warn-limiter.js';
import { sourceCounters } from '../../src/telemetry/counters.js';
import { systemClock } from '../../src/core/clock.js';
import { ChannelFullError } from '../../src/core/errors.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import type { Logger } from '../../src/telemetry/logger.js';
import type { Resolved, SourceContext } from '../../src/contract/index.js';
import { waitFor } from '../helpers/wait.js';

interface Line {
  level: string;
  message: string;
  fields: Record<string, unknown>;
}

/** A logger that keeps what it is given (only the methods the network code calls). */
function captureLogger(): { logger: Logger; lines: Line[]; count(level: string, re: RegExp): number } {
  const lines: Line[] = [];
  const at =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      lines.push({ level, message, fields });
  const logger = {
    error: at('error'),
    warn: at('warn'),
    info: at('info'),
    debug: at('debug'),
    verbose: at('verbose'),
  } as unknown as Logger;
  return { logger, lines, count: (level, re) => lines.filter((l) => l.level === level && re.test(l.message)).length };
}

type NetcatOpts = Resolved<typeof netcat.options>;
function netcatOptions(raw: Record<string, string | number>): NetcatOpts {
  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(netcat.options))
    out[k] = raw[k] !== undefined ? spec.parse(String(raw[k])) : spec.default;
  return out as NetcatOpts;
}

function ctxWith(logger: Logger, emit: (b: FlumeEvent[]) => Promise<void>): SourceContext {
  return { name: 'r1', logger, clock: systemClock, counters: sourceCounters('r1'), maxBatchSize: 1000, emit };
}

async function connect(port: number): Promise<{ sock: net.Socket; text: () => string; closed: () => boolean }> {
  const sock = net.connect({ host: '127.0.0.1', port });
  let data = '';
  let closed = false;
  sock.on('data', (d: Buffer) => (data += d.toString()));
  sock.on('close', () => (closed = true));
  sock.on('error', () => {});
  await once(sock, 'connect');
  return { sock, text: () => data, closed: () => closed };
}

test('WarnLimiter: one line per key and interval; the next line carries the count left out', async () => {
  const cap = captureLogger();
  const w = new WarnLimiter(30);
  for (let i = 0; i < 500; i++) w.log(cap.logger, 'drop', 'refused', { i });
  w.log(cap.logger, 'other', 'another kind');
  assert.equal(cap.count('warn', /refused/), 1);
  assert.equal(cap.count('warn', /another kind/), 1);
  assert.equal(cap.count('debug', /refused/), 499, 'what is left out still goes to debug');
  await waitFor(
    () => w.hit('probe') >= 0 && (w.log(cap.logger, 'drop', 'refused'), cap.count('warn', /refused/) === 2),
  );
  const last = cap.lines.filter((l) => l.level === 'warn' && l.message === 'refused').pop()!;
  assert.ok((last.fields.suppressed as number) >= 499, `the count of what was left out: ${last.fields.suppressed}`);
});

test('ByteBudget: take refuses past the limit, force goes past it, release wakes the waiters', () => {
  const b = new ByteBudget(100);
  assert.equal(b.take(60), true);
  assert.equal(b.take(50), false);
  b.force(50);
  assert.equal(b.full, true);
  let woken = 0;
  b.onRelease(() => woken++);
  b.give(5);
  assert.equal(woken, 0, 'still at the limit');
  b.give(10);
  assert.equal(woken, 1);
  b.give(1000);
  assert.equal(b.used, 0);
});

test('netcat: a silent connection is closed after idleTimeout', async () => {
  const cap = captureLogger();
  const src = netcat.create(
    netcatOptions({ bind: '127.0.0.1', port: 0, idleTimeout: '200ms' }),
    ctxWith(cap.logger, async () => {}),
  ) as NetcatSource;
  await src.start();
  try {
    const c = await connect(src.port);
    await waitFor(() => src.connectionCount === 1);
    await waitFor(c.closed, 5000, 'the idle connection is closed');
    await waitFor(() => src.connectionCount === 0);
  } finally {
    await src.close();
  }
});

test('netcat: with maxConnections held by idle clients a new client is still served', async () => {
  const cap = captureLogger();
  const got: string[] = [];
  const src = netcat.create(
    netcatOptions({ bind: '127.0.0.1', port: 0, maxConnections: 5, idleTimeout: 0 }),
    ctxWith(cap.logger, async (b) => void got.push(...b.map((e) => e.body.toString()))),
  ) as NetcatSource;
  await src.start();
  const idle = [];
  try {
    for (let i = 0; i < 5; i++) idle.push(await connect(src.port));
    await waitFor(() => src.connectionCount === 5);
    // a well-behaved client: retries until it is answered (before: refused for as long as the idle ones stay)
    let answered = false;
    await waitFor(
      async () => {
        const c = await connect(src.port);
        c.sock.write('hello\n');
        await waitFor(() => c.text() === 'OK\n' || c.closed(), 3000).catch(() => undefined);
        answered = c.text() === 'OK\n';
        c.sock.destroy();
        return answered;
      },
      8000,
      'a new client is served',
    );
    assert.deepEqual(got, ['hello']);
    assert.ok(
      idle.some((c) => c.closed()),
      'an idle connection made room',
    );
    // a flood of refused connections logs one warning (with the count of the rest), not one each
    const flood = [];
    for (let i = 0; i < 40; i++) flood.push(connect(src.port).catch(() => undefined));
    await Promise.all(flood);
    assert.ok(cap.count('warn', /maxConnections reached/) <= 1, 'refused connections: one line per interval');
  } finally {
    for (const c of idle) c.sock.destroy();
    await src.close();
  }
});

test('netcat: bytes read ahead over all connections stay under maxBufferedBytes; nothing is lost', async () => {
  const cap = captureLogger();
  let full = true;
  const got: string[] = [];
  const src = netcat.create(
    netcatOptions({ bind: '127.0.0.1', port: 0, maxBufferedBytes: '64k', 'ack-every-event': 'false' }),
    ctxWith(cap.logger, async (b) => {
      if (full) throw new ChannelFullError('full');
      for (const e of b) got.push(e.body.toString());
    }),
  ) as NetcatSource;
  src.retryInitialMs = 10;
  src.retryMaxMs = 20;
  await src.start();
  const conns = 8;
  const perConn = 20_000; // lines of 50 bytes: 1 MB each
  const clients = [];
  try {
    let peak = 0;
    for (let i = 0; i < conns; i++) {
      const c = await connect(src.port);
      clients.push(c);
      const line = `${String(i).padStart(2, '0')}:${'x'.repeat(46)}\n`;
      c.sock.write(line.repeat(perConn));
    }
    // every connection reads until the cap (one socket chunk of 64 KiB each at most past it), then waits
    await waitFor(() => src.buffered.used >= src.buffered.limit, 5000, 'the cap is reached');
    const deadline = performance.now() + 300;
    while (performance.now() < deadline) {
      peak = Math.max(peak, src.buffered.used);
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(peak <= 64 * 1024 + conns * 65536, `buffered ${peak} bytes (before: up to 256 KiB per connection)`);
    full = false;
    await waitFor(() => got.length === conns * perConn, 20_000, `all lines delivered (${got.length})`);
    await waitFor(() => src.buffered.used === 0, 5000, 'the budget is given back');
  } finally {
    for (const c of clients) c.sock.destroy();
    await src.close();
  }
});

function avroServer(
  logger: Logger,
  o: { maxBufferedBytes?: number; maxConnections?: number; deflate?: boolean } = {},
): AvroRpcServer {
  return new AvroRpcServer(
    {
      host: '127.0.0.1',
      port: 0,
      layers: o.deflate ? { deflate: { level: 6 } } : {},
      frameLimits: { maxFramesPerMessage: 65536, maxFrameBytes: 1 << 20, maxMessageBytes: 1 << 20 },
      decodeLimits: DEFAULT_DECODE_LIMITS,
      readTimeoutMs: 30_000,
      idleTimeoutMs: 0,
      maxConnections: o.maxConnections ?? 1000,
      maxBufferedBytes: o.maxBufferedBytes,
      logger,
    },
    { handle: async () => 'OK' },
  );
}

/** A frame header declaring one buffer of `len` bytes, then `send` bytes of it, on a fresh connection. */
async function partialFrame(port: number, len: number, send: number): Promise<net.Socket> {
  const s = net.connect({ host: '127.0.0.1', port });
  s.on('error', () => {});
  await once(s, 'connect');
  const h = Buffer.alloc(12);
  h.writeInt32BE(1, 0);
  h.writeInt32BE(1, 4);
  h.writeInt32BE(len, 8);
  s.write(h);
  s.write(Buffer.alloc(send, 7));
  return s;
}

test('avro: partial messages over all connections stay under maxBufferedBytes; a connected client gets room', async () => {
  const cap = captureLogger();
  const server = avroServer(cap.logger, { maxBufferedBytes: 2 << 20 });
  const port = await server.listen();
  const hostile: net.Socket[] = [];
  try {
    // 10 clients declare 1 MB messages and send 900 KB of each, without a handshake (before: 9 MB held)
    for (let i = 0; i < 10; i++) hostile.push(await partialFrame(port, 1_000_000, 900_000));
    const closed = () => hostile.filter((s) => s.destroyed || s.readableEnded).length;
    await waitFor(() => server.budget.used >= 1_800_000 && closed() + server.openConnections >= 10, 5000);
    await waitFor(
      () => server.openConnections <= 3,
      5000,
      `connections refused past the cap (${server.openConnections})`,
    );
    assert.ok(server.budget.used <= server.budget.limit, `buffered ${server.budget.used}`);
    assert.ok(cap.count('warn', /maxBufferedBytes/) <= 1, 'the refusals are logged once (rate-limited)');
    // a client that completed its handshake sends a 700 KB batch: pre-handshake partial messages make room
    const good = await AvroRpcClient.connect({
      host: '127.0.0.1',
      port,
      connectTimeoutMs: 3000,
      requestTimeoutMs: 5000,
    });
    try {
      const body = Buffer.alloc(700_000, 65);
      assert.equal(await good.appendBatch([makeEvent(body)]), 'OK');
    } finally {
      await good.close();
    }
    for (const s of hostile) s.destroy();
    await waitFor(() => server.openConnections === 0, 5000);
    assert.equal(server.budget.used, 0, 'memory is given back when the connections close');
  } finally {
    for (const s of hostile) s.destroy();
    server.destroy();
  }
});

test('avro: refused connections at maxConnections log one warning with a count, not one line each', async () => {
  const cap = captureLogger();
  const server = avroServer(cap.logger, { maxConnections: 2 });
  const port = await server.listen();
  const socks: net.Socket[] = [];
  try {
    for (let i = 0; i < 60; i++) {
      const s = net.connect({ host: '127.0.0.1', port });
      s.on('error', () => {});
      socks.push(s);
    }
    await waitFor(() => cap.lines.filter((l) => /maxConnections reached/.test(l.message)).length >= 50, 5000);
    assert.equal(cap.count('warn', /maxConnections reached/), 1);
  } finally {
    for (const s of socks) s.destroy();
    server.destroy();
  }
});

test('avro with deflate: a few KB on the wire inflating to megabytes are counted after inflating', async () => {
  const cap = captureLogger();
  const server = avroServer(cap.logger, { maxBufferedBytes: 2 << 20, deflate: true });
  const port = await server.listen();
  const socks: net.Socket[] = [];
  try {
    let wire = 0;
    let closedByServer = 0;
    for (let i = 0; i < 10; i++) {
      const s = net.connect({ host: '127.0.0.1', port });
      s.on('error', () => {});
      s.on('close', () => closedByServer++);
      await once(s, 'connect');
      socks.push(s);
      const z = zlib.createDeflate();
      z.on('data', (d: Buffer) => {
        wire += d.length;
        if (!s.destroyed) s.write(d);
      });
      const h = Buffer.alloc(12);
      h.writeInt32BE(1, 0);
      h.writeInt32BE(1, 4);
      h.writeInt32BE(1_000_000, 8);
      z.write(h);
      z.write(Buffer.alloc(900_000)); // zeros: about 1 KB deflated
      z.flush(zlib.constants.Z_SYNC_FLUSH);
    }
    // 10 x 900 KB inflated against a 2 MiB cap: at most 3 fit (before: all 10 held, 9 MB)
    await waitFor(() => closedByServer >= 7, 5000, `connections closed past the cap (${closedByServer})`);
    assert.ok(server.budget.used <= server.budget.limit, `buffered ${server.budget.used} bytes`);
    assert.ok(wire < 100_000, `little on the wire (${wire} bytes)`);
  } finally {
    for (const s of socks) s.destroy();
    server.destroy();
  }
  await waitFor(() => server.openConnections === 0, 5000);
  assert.equal(server.budget.used, 0);
});
