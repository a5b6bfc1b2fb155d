import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import netcat, { NetcatSource } from '../../src/sources/netcat.js';
import { resolveCharset } from '../../src/text/index.js';
import { MemoryChannel } from '../../src/channels/memory.js';
import { ChannelCounters, sourceCounters, type SourceCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { AgentError, ChannelFullError } from '../../src/core/errors.js';
import { OptionError, type Resolved, type SourceContext } from '../../src/contract/index.js';
import type { FlumeEvent } from '../../src/core/event.js';
import { countEmits } from '../../src/runtime/channel-processor.js';
import { waitFor } from '../helpers/wait.js';

type Opts = Resolved<typeof netcat.options>;

/** Resolves options the way the config layer does: raw strings through each option's parser, else defaults. */
function options(raw: Record<string, string | number | boolean>): Opts {
  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(netcat.options)) {
    out[k] = raw[k] !== undefined ? spec.parse(String(raw[k])) : spec.default;
  }
  return out as Opts;
}

interface Harness {
  ctx: SourceContext;
  counters: SourceCounters;
  batches: FlumeEvent[][];
  bodies(): string[];
}

function recordingCtx(opts: { maxBatchSize?: number; emit?: (b: FlumeEvent[]) => Promise<void> } = {}): Harness {
  const batches: FlumeEvent[][] = [];
  const counters = sourceCounters('r1');
  const ctx: SourceContext = {
    name: 'r1',
    logger: silentLogger(),
    clock: systemClock,
    counters,
    maxBatchSize: opts.maxBatchSize ?? 1000,
    emit: countEmits(
      opts.emit ??
        (async (b) => {
          batches.push(b);
        }),
      counters,
    ),
  };
  return { ctx, counters, batches, bodies: () => batches.flat().map((e) => e.body.toString('utf8')) };
}

function memoryChannel(capacity: number): MemoryChannel {
  const ch = new MemoryChannel(
    { capacity, transactionCapacity: capacity, 'keep-alive': 0, byteCapacity: 0, byteCapacityBufferPercentage: 20 },
    { name: 'c1', logger: silentLogger(), clock: systemClock, agentDir: '.', counters: new ChannelCounters('c1') },
  );
  return ch;
}

/** A ctx whose emit is a put transaction on a real memory channel. */
function channelCtx(ch: MemoryChannel): Harness {
  return recordingCtx({
    maxBatchSize: ch.transactionCapacity,
    emit: async (batch) => {
      const tx = ch.begin();
      try {
        tx.put(batch);
        await tx.commit();
      } catch (err) {
        await tx.rollback();
        throw err;
      }
    },
  });
}

async function takeAll(ch: MemoryChannel, max: number): Promise<FlumeEvent[]> {
  const tx = ch.begin();
  const evs = await tx.take(max);
  await tx.commit();
  return evs;
}

async function startSource(raw: Record<string, string | number | boolean>, h: Harness): Promise<NetcatSource> {
  const src = netcat.create(options({ bind: '127.0.0.1', port: 0, ...raw }), h.ctx) as NetcatSource;
  await src.start();
  return src;
}

interface Client {
  sock: net.Socket;
  data: Buffer;
  closed: boolean;
  text(): string;
}

async function connect(port: number): Promise<Client> {
  const sock = net.connect({ host: '127.0.0.1', port });
  sock.setNoDelay(true);
  const c: Client = { sock, data: Buffer.alloc(0), closed: false, text: () => c.data.toString('utf8') };
  sock.on('data', (d: Buffer) => {
    c.data = Buffer.concat([c.data, d]);
  });
  sock.on('close', () => {
    c.closed = true;
  });
  sock.on('error', () => {});
  await once(sock, 'connect');
  return c;
}

const FRENCH = "Maître Corbeau, sur un arbre perché, Tenait en son bec un fromage. Maître Renard, par l'odeur alléché";
const ENGLISH = 'At the top of a tree perched Master Crow; In his beak he was holding a cheese.';

test('lines split across chunks reassemble; \\r is kept; one OK per line', async () => {
  const h = recordingCtx();
  const src = await startSource({}, h);
  const c = await connect(src.port);
  try {
    c.sock.write('hel');
    c.sock.write('lo\r\nwor');
    await waitFor(() => h.bodies().length === 1, 5000, 'first line');
    c.sock.write('ld\na\nb\n');
    await waitFor(() => h.bodies().length === 4, 5000, 'four lines');
    // a multi-byte character split across two reads stays byte-exact
    const e = Buffer.from('é', 'utf8');
    c.sock.write(Buffer.concat([Buffer.from('x\n'), e.subarray(0, 1)]));
    await waitFor(() => h.bodies().length === 5, 5000, 'x');
    c.sock.write(Buffer.concat([e.subarray(1), Buffer.from('\n\n')]));
    await waitFor(() => h.bodies().length === 7, 5000, 'é and empty line');
    assert.deepEqual(h.bodies(), ['hello\r', 'world', 'a', 'b', 'x', 'é', '']);
    assert.deepEqual(h.batches.flat()[5]!.body, e);
    assert.equal(Object.keys(h.batches.flat()[0]!.headers).length, 0);
    await waitFor(() => c.text() === 'OK\n'.repeat(7), 5000, 'acks');
    assert.equal(h.counters.get('EventReceivedCount'), 7);
    assert.equal(h.counters.get('EventAcceptedCount'), 7);
  } finally {
    c.sock.destroy();
    await src.close();
  }
});

test('all lines of a chunk go out in batches of at most batchSize and maxBatchSize, acks in one write', async () => {
  const h = recordingCtx({ maxBatchSize: 4 });
  const src = await startSource({ batchSize: 3 }, h);
  const c = await connect(src.port);
  try {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    c.sock.write(lines.map((l) => `${l}\n`).join(''));
    await waitFor(() => h.bodies().length === 20, 5000, '20 lines');
    assert.deepEqual(h.bodies(), lines);
    for (const b of h.batches) assert.ok(b.length <= 3, `batch of ${b.length}`);
    await waitFor(() => c.text() === 'OK\n'.repeat(20), 5000, 'acks');
  } finally {
    c.sock.destroy();
    await src.close();
  }
  const h2 = recordingCtx({ maxBatchSize: 2 });
  const src2 = await startSource({ batchSize: 1000 }, h2);
  const c2 = await connect(src2.port);
  try {
    c2.sock.write('a\nb\nc\nd\ne\n');
    await waitFor(() => h2.bodies().length === 5, 5000, '5 lines');
    for (const b of h2.batches) assert.ok(b.length <= 2, `batch of ${b.length}`);
  } finally {
    c2.sock.destroy();
    await src2.close();
  }
});

test('ack-every-event=false sends nothing back; unterminated data at EOF is discarded and counted', async () => {
  const h = recordingCtx();
  const src = await startSource({ 'ack-every-event': false }, h);
  const c = await connect(src.port);
  try {
    c.sock.end('a\nb\ntail without newline');
    await waitFor(() => c.closed, 5000, 'server closes after EOF');
    assert.deepEqual(h.bodies(), ['a', 'b']);
    assert.equal(c.data.length, 0);
    assert.equal(h.counters.get('EventReadFail'), 1);
  } finally {
    await src.close();
  }
});

test('a line longer than max-line-length gets the exact FAILED reply and the connection is closed', async () => {
  const h = recordingCtx();
  const src = await startSource({ 'max-line-length': 10 }, h);
  const c = await connect(src.port);
  try {
    c.sock.write('123456789\n'); // 10 chars including the newline: fits
    await waitFor(() => c.text() === 'OK\n', 5000, 'first ack');
    // 9 two-byte characters + newline = 10 chars (19 bytes): fits, max-line-length counts chars
    c.sock.write('ééééééééé\n');
    await waitFor(() => c.text() === 'OK\nOK\n', 5000, 'second ack');
    // lines before the long one in the same chunk are delivered first
    c.sock.write(`ab\ncd\n${ENGLISH}\nnever\n`);
    await waitFor(() => c.closed, 5000, 'connection closed');
    assert.equal(c.text(), 'OK\nOK\nOK\nOK\nFAILED: Event exceeds the maximum length (10 chars, including newline)\n');
    assert.deepEqual(h.bodies(), ['123456789', 'ééééééééé', 'ab', 'cd']);
    assert.equal(h.counters.get('EventReadFail'), 1);
    await waitFor(() => h.counters.get('OpenConnectionCount') === 0, 5000, 'connection count');
  } finally {
    await src.close();
  }
  // exactly one char too many: 10 chars + newline
  const h2 = recordingCtx();
  const src2 = await startSource({ 'max-line-length': 10, 'ack-every-event': false }, h2);
  const c2 = await connect(src2.port);
  try {
    c2.sock.write('1234567890\n');
    await waitFor(() => c2.closed, 5000, 'closed');
    assert.equal(c2.text(), 'FAILED: Event exceeds the maximum length (10 chars, including newline)\n');
    assert.equal(h2.bodies().length, 0);
  } finally {
    await src2.close();
  }
});

test('an unterminated remainder is capped: endless bytes without a newline are refused, not buffered', async () => {
  const h = recordingCtx();
  const src = await startSource({ 'max-line-length': 10 }, h);
  const c = await connect(src.port);
  try {
    c.sock.write('abcdefghi'); // 9 chars pending: may still get its newline
    c.sock.write('\n');
    await waitFor(() => h.bodies().length === 1, 5000, 'line');
    c.sock.write('abcdefghij'); // 10 chars pending: with its newline it would be 11
    await waitFor(() => c.closed, 5000, 'closed');
    assert.equal(c.text(), 'OK\nFAILED: Event exceeds the maximum length (10 chars, including newline)\n');
  } finally {
    await src.close();
  }
  const h2 = recordingCtx();
  const src2 = await startSource({}, h2); // default 512
  const c2 = await connect(src2.port);
  try {
    const mb = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    while (!c2.closed && sent < 64) {
      c2.sock.write(mb);
      sent++;
      if (sent % 4 === 0) await new Promise((r) => setImmediate(r));
    }
    await waitFor(() => c2.closed, 5000, 'closed');
    assert.equal(c2.text(), 'FAILED: Event exceeds the maximum length (512 chars, including newline)\n');
    assert.equal(h2.bodies().length, 0);
    assert.equal(h2.counters.get('EventReadFail'), 1);
  } finally {
    await src2.close();
  }
});

test('encodings: utf-16le is decoded and re-encoded as UTF-8, replies are in utf-16le', async () => {
  const h = recordingCtx();
  const src = await startSource({ encoding: 'UTF-16LE' }, h);
  const c = await connect(src.port);
  try {
    const bytes = Buffer.from(`${FRENCH}\n${ENGLISH}\n`, 'utf16le');
    const cut = 2 * FRENCH.length + 2 + 7; // inside the second line, in the middle of a UTF-16 unit
    c.sock.write(bytes.subarray(0, cut));
    await waitFor(() => h.bodies().length === 1, 5000, 'first line');
    c.sock.write(bytes.subarray(cut));
    await waitFor(() => h.bodies().length === 2, 5000, 'second line');
    assert.deepEqual(h.batches.flat()[0]!.body, Buffer.from(FRENCH, 'utf8'));
    assert.deepEqual(h.batches.flat()[1]!.body, Buffer.from(ENGLISH, 'utf8'));
    await waitFor(() => c.data.equals(Buffer.from('OK\nOK\n', 'utf16le')), 5000, 'utf-16le acks');
  } finally {
    c.sock.destroy();
    await src.close();
  }
});

test('encodings: Java UTF-16 (BOM, big-endian default) and ISO-8859-1', async () => {
  const h = recordingCtx();
  const src = await startSource({ encoding: 'UTF-16' }, h);
  const c = await connect(src.port);
  try {
    const be = Buffer.from(`${FRENCH}\r\n`, 'utf16le').swap16();
    c.sock.write(Buffer.concat([Buffer.from([0xfe, 0xff]), be]));
    await waitFor(() => h.bodies().length === 1, 5000, 'line');
    assert.deepEqual(h.batches[0]![0]!.body, Buffer.from(`${FRENCH}\r`, 'utf8'));
    const ok = Buffer.from('OK\n', 'utf16le').swap16();
    await waitFor(() => c.data.equals(Buffer.concat([Buffer.from([0xfe, 0xff]), ok])), 5000, 'BOM + UTF-16BE ack');
  } finally {
    c.sock.destroy();
    await src.close();
  }
  const h2 = recordingCtx();
  const src2 = await startSource({ encoding: 'ISO-8859-1', 'max-line-length': 1000 }, h2);
  const c2 = await connect(src2.port);
  try {
    c2.sock.write(Buffer.from(`${FRENCH}\nplain ascii\n`, 'latin1'));
    await waitFor(() => h2.bodies().length === 2, 5000, 'lines');
    assert.deepEqual(h2.bodies(), [FRENCH, 'plain ascii']);
  } finally {
    c2.sock.destroy();
    await src2.close();
  }
});

test('encodings: UTF-32 (a name other components accept) and windows-1252 as Windows has it', async () => {
  const h = recordingCtx();
  const src = await startSource({ encoding: 'UTF-32' }, h);
  const c = await connect(src.port);
  try {
    const text = `${FRENCH}\n\u{1F600}\n`;
    const enc = Buffer.concat(
      [...text].map((ch) => {
        const b = Buffer.alloc(4);
        b.writeUInt32BE(ch.codePointAt(0)!);
        return b;
      }),
    );
    c.sock.write(enc.subarray(0, 6)); // a character split across writes
    c.sock.write(enc.subarray(6));
    await waitFor(() => h.bodies().length === 2, 5000, 'lines');
    assert.deepEqual(h.bodies(), [FRENCH, '\u{1F600}']);
    const acks = Buffer.from('0000004f0000004b0000000a'.repeat(2), 'hex');
    await waitFor(() => c.data.equals(acks), 5000, 'UTF-32 acks, no BOM');
  } finally {
    c.sock.destroy();
    await src.close();
  }
  const h2 = recordingCtx();
  const src2 = await startSource({ encoding: 'Cp1252' }, h2);
  const c2 = await connect(src2.port);
  try {
    c2.sock.write(Buffer.from([0x80, 0x20, 0x93, 0x71, 0x94, 0x0a]));
    await waitFor(() => h2.bodies().length === 1, 5000, 'line');
    assert.deepEqual(h2.bodies(), ['\u20ac \u201cq\u201d']);
  } finally {
    c2.sock.destroy();
    await src2.close();
  }
});

test('encoding option is validated by its parser', () => {
  const enc = netcat.options.encoding;
  assert.equal(enc.parse('UTF-8'), 'utf-8');
  assert.equal(enc.parse('UTF-16LE'), 'utf-16le');
  assert.equal(enc.parse('utf-16'), 'utf-16');
  assert.equal(enc.parse('ISO-8859-1'), 'iso-8859-1');
  assert.equal(enc.parse('US-ASCII'), 'us-ascii');
  assert.equal(enc.parse('Cp1252'), 'windows-1252');
  assert.equal(enc.parse('Shift_JIS'), 'shift_jis');
  assert.equal(resolveCharset('latin1'), 'iso-8859-1');
  assert.throws(() => enc.parse('klingon-8'), OptionError);
  assert.throws(() => enc.parse('iso-2022-kr'), OptionError); // WHATWG "replacement" encoding: cannot decode
  assert.equal(enc.default, 'utf-8');
});

test('options and claims', () => {
  const o = options({ bind: '0.0.0.0', port: 44444 });
  assert.equal(o['max-line-length'], 512);
  assert.equal(o['ack-every-event'], true);
  assert.equal(o.batchSize, 1000);
  assert.equal(o.maxConnections, 1000);
  assert.deepEqual(netcat.claims!(o), [{ resource: 'tcp', id: '0.0.0.0:44444', key: 'port' }]);
  assert.deepEqual(netcat.claims!(options({ bind: '0.0.0.0', port: 0 })), []);
  assert.throws(() => netcat.options.port.parse('65536'), OptionError);
  assert.ok(netcat.classNames!.includes('org.apache.flume.source.NetcatSource'));
});

test('full channel: reading pauses, the same batch is retried, all 1000 lines arrive once and in order', async () => {
  const ch = memoryChannel(10);
  await ch.start();
  const h = channelCtx(ch);
  const src = await startSource({}, h);
  src.retryInitialMs = 10;
  src.retryMaxMs = 100;
  const c = await connect(src.port);
  const lines = Array.from({ length: 1000 }, (_, i) => `line-${String(i).padStart(4, '0')}`);
  const got: string[] = [];
  let draining = true;
  let drainer: Promise<void> | undefined;
  try {
    c.sock.write(lines.map((l) => `${l}\n`).join(''));
    await waitFor(() => h.counters.get('ChannelWriteFail') >= 3, 5000, 'channel full, retried');
    // the first batch is in, the second waits; nothing beyond it was taken in
    assert.equal(ch.size(), 10);
    assert.equal(h.counters.get('EventAcceptedCount'), 10);
    assert.equal(h.counters.get('EventReceivedCount'), 20);
    assert.equal(c.text(), 'OK\n'.repeat(10));
    drainer = (async () => {
      while (draining) {
        await ch.waitForEvents(20);
        for (const e of await takeAll(ch, 10)) got.push(e.body.toString('utf8'));
      }
    })();
    await waitFor(() => got.length >= 1000, 20000, 'all lines drained');
    assert.deepEqual(got, lines);
    await waitFor(() => c.text() === 'OK\n'.repeat(1000), 5000, '1000 acks');
    assert.equal(h.counters.get('EventReceivedCount'), 1000);
    assert.equal(h.counters.get('EventAcceptedCount'), 1000);
    assert.ok(h.counters.get('ChannelWriteFail') >= 3);
    assert.equal(ch.size(), 0);
  } finally {
    draining = false;
    await drainer;
    c.sock.destroy();
    await src.close();
    await ch.close();
  }
});

test('a full channel is not answered with FAILED (unlike Flume) and a rejection is only retried, never duplicated', async () => {
  let calls = 0;
  const h = recordingCtx({
    emit: async (b) => {
      calls++;
      if (calls <= 3) throw new ChannelFullError('full');
      h.batches.push(b);
    },
  });
  const src = await startSource({}, h);
  src.retryInitialMs = 5;
  const c = await connect(src.port);
  try {
    c.sock.write('a\nb\n');
    await waitFor(() => c.text() === 'OK\nOK\n', 5000, 'acks');
    assert.deepEqual(h.bodies(), ['a', 'b']);
    assert.equal(h.counters.get('ChannelWriteFail'), 3);
    assert.equal(h.counters.get('EventReceivedCount'), 2);
    assert.equal(h.counters.get('EventAcceptedCount'), 2);
  } finally {
    c.sock.destroy();
    await src.close();
  }
});

test('other emit errors are answered FAILED: <message> per line, the connection goes on', async () => {
  let fail = true;
  const h = recordingCtx({
    emit: async (b) => {
      if (fail) throw new Error('boom');
      h.batches.push(b);
    },
  });
  const src = await startSource({}, h);
  const c = await connect(src.port);
  try {
    c.sock.write('a\nb\n');
    await waitFor(() => c.text() === 'FAILED: boom\nFAILED: boom\n', 5000, 'FAILED replies');
    fail = false;
    c.sock.write('c\n');
    await waitFor(() => c.text().endsWith('OK\n'), 5000, 'ack after recovery');
    assert.deepEqual(h.bodies(), ['c']);
    assert.equal(h.counters.get('ChannelWriteFail'), 1);
    assert.equal(h.counters.get('EventAcceptedCount'), 1);
    assert.equal(h.counters.get('EventReceivedCount'), 3);
  } finally {
    c.sock.destroy();
    await src.close();
  }
});

test('start fails with FLUME_ERR_SOURCE_START naming bind:port when the port is in use', async () => {
  const src1 = await startSource({}, recordingCtx());
  const port = src1.port;
  try {
    const src2 = netcat.create(options({ bind: '127.0.0.1', port }), recordingCtx().ctx);
    await assert.rejects(src2.start(), (err: unknown) => {
      assert.ok(err instanceof AgentError);
      assert.equal(err.code, 'FLUME_ERR_SOURCE_START');
      assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      return true;
    });
    await src2.close();
  } finally {
    await src1.close();
  }
});

test('OpenConnectionCount follows connections; maxConnections refuses extra clients', async () => {
  const h = recordingCtx();
  const src = await startSource({ maxConnections: 2 }, h);
  const a = await connect(src.port);
  const b = await connect(src.port);
  try {
    await waitFor(() => h.counters.get('OpenConnectionCount') === 2, 5000, 'two open');
    const extra = await connect(src.port);
    await waitFor(() => extra.closed, 5000, 'third connection closed');
    b.sock.destroy();
    await waitFor(() => h.counters.get('OpenConnectionCount') === 1, 5000, 'one open');
    a.sock.write('still here\n');
    await waitFor(() => a.text() === 'OK\n', 5000, 'ack');
  } finally {
    a.sock.destroy();
    await src.close();
  }
});

test('close() ends idle connections, stops listening, is idempotent; retries give up after the grace', async () => {
  const h = recordingCtx();
  const src = await startSource({}, h);
  const port = src.port;
  const c = await connect(port);
  c.sock.write('x\n');
  await waitFor(() => c.text() === 'OK\n', 5000, 'ack');
  await Promise.all([src.close(), src.close()]);
  await waitFor(() => c.closed, 5000, 'client closed');
  await src.close();
  await assert.rejects(connect(port));
  assert.equal(h.counters.get('OpenConnectionCount'), 0);

  // a batch stuck on a full channel: close waits for the grace, then gives up (the batch was never acked)
  const stuck = recordingCtx({
    emit: async () => {
      throw new ChannelFullError('full');
    },
  });
  const src2 = await startSource({}, stuck);
  src2.closeGraceMs = 100;
  src2.retryInitialMs = 10;
  const c2 = await connect(src2.port);
  c2.sock.write('y\n');
  await waitFor(() => stuck.counters.get('ChannelWriteFail') >= 1, 5000, 'retrying');
  await src2.close();
  await waitFor(() => c2.closed, 5000, 'client closed');
  assert.equal(c2.data.length, 0);
  assert.equal(stuck.counters.get('EventAcceptedCount'), 0);
});

test('close() lets an in-flight batch finish and acks it', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const h = recordingCtx({
    emit: async (b) => {
      await gate;
      h.batches.push(b);
    },
  });
  const src = await startSource({}, h);
  const c = await connect(src.port);
  c.sock.write('in flight\n');
  await waitFor(() => h.counters.get('EventReceivedCount') === 1, 5000, 'batch in flight');
  const closing = src.close();
  release();
  await closing;
  await waitFor(() => c.closed, 5000, 'client closed');
  assert.deepEqual(h.bodies(), ['in flight']);
  assert.equal(c.text(), 'OK\n');
});
