/**
 * Avro RPC wire format: the byte-level example of reference §11.3 (golden), encoding primitives, handshakes, frame
 * limits.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeEvent } from '../../src/core/event.js';
import { AvroDecodeError, Reader, Writer } from '../../src/rpc/avro/avro-binary.js';
import { encodeFrameBuffers, FrameDecoder, FrameError, type FrameLimits } from '../../src/rpc/avro/framing.js';
import {
  decodeEventDatum,
  encodeCallFrame,
  encodeEventDatum,
  encodeResponseFrame,
  PROTOCOL_HASH,
  PROTOCOL_JSON,
  readCallHead,
  readCallResult,
  readEventArray,
  readHandshakeRequest,
  readHandshakeResponse,
  writeHandshakeRequest,
  writeHandshakeResponse,
  DEFAULT_DECODE_LIMITS,
} from '../../src/rpc/avro/protocol.js';

const hex = (s: string) => Buffer.from(s.replace(/[\s|]/g, ''), 'hex');

// reference §11.3, appendBatch([{headers:{a:"b"}, body:"hi"}]) with serial 7 on a connected connection
const GOLDEN_PAYLOAD = hex('00 16 61 70 70 65 6E 64 42 61 74 63 68 02 02 02 61 02 62 00 04 68 69 00');
const GOLDEN_FRAME = hex('00 00 00 07 | 00 00 00 01 | 00 00 00 18');
const GOLDEN_REPLY = hex('00 00 00 07 | 00 00 00 01 | 00 00 00 03 | 00 00 00');

const LIMITS: FrameLimits = { maxFramesPerMessage: 16, maxFrameBytes: 1024, maxMessageBytes: 4096 };

function decodeAll(chunks: Buffer[], limits = LIMITS): { serial: number; msg: Buffer }[] {
  const out: { serial: number; msg: Buffer }[] = [];
  const d = new FrameDecoder(limits, (serial, msg) => out.push({ serial, msg }));
  for (const c of chunks) d.push(c);
  return out;
}

test('golden §11.3: appendBatch request frame is byte-exact', () => {
  assert.equal(GOLDEN_PAYLOAD.length, 24);
  const frame = encodeCallFrame('appendBatch', [makeEvent('hi', { a: 'b' })], { serial: 7 });
  assert.deepEqual(frame, Buffer.concat([GOLDEN_FRAME, GOLDEN_PAYLOAD]));
});

test('golden §11.3: OK reply frame is byte-exact, and FAILED/UNKNOWN encode as 02/04', () => {
  assert.deepEqual(encodeResponseFrame(7, undefined, { status: 'OK' }), GOLDEN_REPLY);
  assert.equal(encodeResponseFrame(7, undefined, { status: 'FAILED' }).at(-1), 0x02);
  assert.equal(encodeResponseFrame(7, undefined, { status: 'UNKNOWN' }).at(-1), 0x04);
});

test('golden §11.3: the request decodes back, fed one byte at a time', () => {
  const bytes = Buffer.concat([GOLDEN_FRAME, GOLDEN_PAYLOAD]);
  const msgs = decodeAll([...bytes].map((b) => Buffer.from([b])));
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0]!.serial, 7);
  const r = new Reader(msgs[0]!.msg);
  assert.equal(readCallHead(r), 'appendBatch');
  const events = readEventArray(r);
  assert.equal(events.length, 1);
  assert.deepEqual({ ...events[0]!.headers }, { a: 'b' });
  assert.equal(events[0]!.body.toString(), 'hi');
  assert.equal(r.remaining, 0);
  const reply = decodeAll([GOLDEN_REPLY]);
  assert.deepEqual(readCallResult(new Reader(reply[0]!.msg)), { status: 'OK' });
});

test('varints: zig-zag round trip over small, large and negative values', () => {
  const values = [
    0,
    -1,
    1,
    63,
    64,
    -64,
    -65,
    127,
    128,
    8191,
    8192,
    2 ** 31 - 1,
    -(2 ** 31),
    2 ** 40 + 3,
    -(2 ** 45),
    2 ** 52,
    -(2 ** 52),
  ];
  const w = new Writer(8);
  for (const v of values) w.long(v);
  const r = new Reader(Buffer.from(w.finish()));
  for (const v of values) assert.equal(r.long(), v);
  assert.equal(r.remaining, 0);
  // known encodings
  const w2 = new Writer();
  w2.long(-1);
  w2.long(64);
  assert.deepEqual(Buffer.from(w2.finish()), hex('01 80 01'));
});

test('reader refuses truncated, negative and oversized lengths without slicing', () => {
  assert.throws(() => new Reader(hex('80')).long(), AvroDecodeError);
  assert.throws(() => new Reader(hex('ff ff ff ff ff ff ff ff ff 01')).long(), /out of range/);
  assert.throws(() => new Reader(hex('01')).bytes(), /negative/);
  assert.throws(() => new Reader(hex('fe ff ff ff 0f 00')).bytes(), /exceeds the 1 bytes left/);
  assert.throws(() => new Reader(hex('02')).bool(), /bad boolean/);
  // an array block claiming more items than bytes could hold
  assert.throws(() => readEventArray(new Reader(hex('fe ff ff ff 0f 00 00'))), /exceeds the bytes left/);
  // negative block count with a byte size is legal Avro
  const w = new Writer();
  w.long(-1);
  w.long(5);
  w.long(0);
  w.bytes(Buffer.from('abc'));
  w.long(0);
  const evs = readEventArray(new Reader(Buffer.from(w.finish())));
  assert.equal(evs[0]!.body.toString(), 'abc');
});

test('event limits: too many events in a batch, too many headers', () => {
  const ev = [makeEvent('x'), makeEvent('y'), makeEvent('z')];
  const frame = encodeCallFrame('appendBatch', ev, { serial: 1 });
  const r = new Reader(frame, 12);
  readCallHead(r);
  assert.throws(() => readEventArray(r, { ...DEFAULT_DECODE_LIMITS, maxEvents: 2 }), /more than 2 events/);
  const many: Record<string, string> = {};
  for (let i = 0; i < 5; i++) many[`h${i}`] = 'v';
  const d = encodeEventDatum(makeEvent('b', many));
  assert.throws(() => decodeEventDatum(d, { ...DEFAULT_DECODE_LIMITS, maxHeaders: 4 }), /more than 4 headers/);
});

test('AvroFlumeEvent datum round trip keeps non-ASCII headers and binary bodies', () => {
  const body = Buffer.from([0, 255, 10, 13, 0xc3, 0xa9]);
  const e = makeEvent(body, { ключ: 'значение', emoji: '🚀', empty: '' });
  const back = decodeEventDatum(encodeEventDatum(e));
  assert.deepEqual({ ...back.headers }, { ключ: 'значение', emoji: '🚀', empty: '' });
  assert.deepEqual(back.body, body);
});

test('handshake request and response round trip, including the NONE shape', () => {
  const w = new Writer();
  writeHandshakeRequest(w, { clientHash: PROTOCOL_HASH, clientProtocol: null, serverHash: PROTOCOL_HASH, meta: null });
  const req = Buffer.from(w.finish());
  assert.equal(req.length, 16 + 1 + 16 + 1);
  const back = readHandshakeRequest(new Reader(req));
  assert.equal(back.clientProtocol, null);
  assert.deepEqual(back.clientHash, PROTOCOL_HASH);

  const w2 = new Writer();
  writeHandshakeResponse(w2, { match: 'NONE', serverProtocol: PROTOCOL_JSON, serverHash: PROTOCOL_HASH, meta: null });
  const resp = readHandshakeResponse(new Reader(Buffer.from(w2.finish())));
  assert.equal(resp.match, 'NONE');
  assert.equal(resp.serverProtocol, PROTOCOL_JSON);
  assert.deepEqual(resp.serverHash, PROTOCOL_HASH);

  const w3 = new Writer();
  writeHandshakeResponse(w3, { match: 'BOTH', serverProtocol: null, serverHash: null, meta: null });
  assert.deepEqual(Buffer.from(w3.finish()), hex('00 00 00 00'));
  // a ping: handshake + empty meta + empty name
  const ping = encodeCallFrame('', [], {
    serial: 1,
    handshake: { clientHash: PROTOCOL_HASH, clientProtocol: null, serverHash: PROTOCOL_HASH, meta: null },
  });
  assert.deepEqual(ping.subarray(12 + 34), hex('00 00'));
});

test('frames: several buffers (Java splits messages) and zero-length buffers concatenate', () => {
  const payload = Buffer.concat([GOLDEN_PAYLOAD]);
  const parts = [payload.subarray(0, 5), Buffer.alloc(0), payload.subarray(5, 6), payload.subarray(6)];
  const frame = encodeFrameBuffers(9, parts);
  const msgs = decodeAll([frame.subarray(0, 10), frame.subarray(10, 11), frame.subarray(11)]);
  assert.equal(msgs.length, 1);
  assert.equal(msgs[0]!.serial, 9);
  assert.deepEqual(msgs[0]!.msg, payload);
  // two frames in one chunk
  const two = decodeAll([Buffer.concat([frame, frame])]);
  assert.equal(two.length, 2);
});

test('frames: hostile numbers are refused on the header, before any allocation', () => {
  const head = (serial: number, count: number, ...lens: number[]) => {
    const b = Buffer.alloc(8 + lens.length * 4);
    b.writeInt32BE(serial, 0);
    b.writeInt32BE(count, 4);
    lens.forEach((l, i) => b.writeInt32BE(l, 8 + i * 4));
    return b;
  };
  assert.throws(
    () => decodeAll([head(1, 0x7fffffff)]),
    (e: unknown) => e instanceof FrameError && /count 2147483647 exceeds/.test(e.message),
  );
  assert.throws(() => decodeAll([head(1, -1)]), /negative buffer count/);
  assert.throws(() => decodeAll([head(1, 1, -5)]), /negative buffer length/);
  assert.throws(() => decodeAll([head(1, 1, 0x7fffffff)]), /exceeds the limit of 1024 bytes/);
  // the sum of buffers over maxMessageBytes: refused when the fifth length is read, not after reading the bodies
  const d = new FrameDecoder(LIMITS, () => assert.fail('no message'));
  d.push(head(1, 5, 1000));
  d.push(Buffer.alloc(1000));
  for (let i = 0; i < 3; i++) {
    const b = Buffer.alloc(4);
    b.writeInt32BE(1000);
    d.push(b);
    d.push(Buffer.alloc(1000));
  }
  assert.equal(d.bufferedBytes, 4000);
  const b = Buffer.alloc(4);
  b.writeInt32BE(1000);
  assert.throws(() => d.push(b), /message of more than 4096 bytes/);
});

test('frames: a partial message holds only the bytes that arrived', () => {
  const d = new FrameDecoder({ maxFramesPerMessage: 4, maxFrameBytes: 64 << 20, maxMessageBytes: 64 << 20 }, () => {});
  const b = Buffer.alloc(12);
  b.writeInt32BE(1, 0);
  b.writeInt32BE(1, 4);
  b.writeInt32BE(60 << 20, 8);
  d.push(b);
  d.push(Buffer.alloc(100));
  assert.equal(d.midMessage, true);
  // the declared 60 MiB passed the limits, but only the 100 bytes received are held (nothing of 60 MiB is allocated)
  assert.equal(d.bufferedBytes, 100);
  const held = (d as unknown as { pieces: Buffer[] }).pieces.reduce((n, p) => n + p.length, 0);
  assert.equal(held, 100);
});

test('wire errors carry stable codes: frame, decode, ip rule, call', async () => {
  const { AgentError } = await import('../../src/core/errors.js');
  const { parseIpFilterRules } = await import('../../src/net/ip-filter.js');
  const { AvroRpcClient } = await import('../../src/rpc/avro/client.js');
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof AgentError ? e.code : `not an AgentError: ${String(e)}`;
    }
    return 'no error';
  };
  const limits = { maxFramesPerMessage: 1, maxFrameBytes: 8, maxMessageBytes: 8 };
  assert.equal(
    code(() => new FrameDecoder(limits, () => {}).push(hex('00000001 00000002'))),
    'FLUME_ERR_RPC_FRAME',
  );
  assert.equal(
    code(() => new Reader(hex('80')).long()),
    'FLUME_ERR_RPC_DECODE',
  );
  assert.equal(
    code(() => parseIpFilterRules('permit:ip:*')),
    'FLUME_ERR_NET_IP_RULE',
  );
  // nothing listens on port 1 of the loopback address: the connect fails with a call error
  const nowhere = { host: '127.0.0.1', port: 1, connectTimeoutMs: 2000, requestTimeoutMs: 2000 };
  await assert.rejects(
    AvroRpcClient.connect(nowhere),
    (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_RPC_CALL' && /cannot connect/.test(e.message),
  );
});
