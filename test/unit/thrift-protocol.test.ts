/**
 * Thrift compact and binary encodings of Flume's messages: the bytes protocols.md §8 gives, round trips through
 * both protocols, and refusals (counts over what the frame holds, over the limits; required fields missing).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeEvent } from '../../src/core/event.js';
import { decodeCall, decodeReply, encodeCall, encodeException, encodeReply } from '../../src/rpc/thrift/flume.js';
import { FrameAssembler, FrameError } from '../../src/rpc/thrift/framing.js';
import { readerFor, ThriftDecodeError } from '../../src/rpc/thrift/protocol.js';

const LIMITS = { maxEvents: 1000, maxHeaders: 100 };
const unframe = (b: Buffer) => {
  assert.equal(b.readUInt32BE(0), b.length - 4, 'the frame length is the message length');
  return b.subarray(4);
};

test('compact: an append of an event with no headers and body "hi" is the reference bytes', () => {
  const msg = unframe(encodeCall('compact', 'append', 1, [makeEvent('hi')]));
  // message head: 82 21 (CALL, v1), seqid 1, name "append"; field 1 struct; the event; STOP of the args
  assert.equal(msg.toString('hex'), '82210106617070656e64' + '1c' + '1b00180268690000');
});

test('compact: an OK reply is field 0 in long form, value 0, STOP', () => {
  const msg = unframe(encodeReply('compact', 'appendBatch', 5, 'OK'));
  assert.ok(msg.toString('hex').endsWith('05000000'));
  assert.deepEqual(decodeReply(readerFor('compact', msg)), {
    head: { name: 'appendBatch', type: 2, seqid: 5 },
    status: 'OK',
  });
});

test('binary: the strict message head (80 01 00 01, name, seqid)', () => {
  const msg = unframe(encodeCall('binary', 'appendBatch', 258, []));
  assert.equal(msg.subarray(0, 4).toString('hex'), '80010001');
  assert.equal(msg.readInt32BE(4), 11);
  assert.equal(msg.subarray(8, 19).toString(), 'appendBatch');
  assert.equal(msg.readInt32BE(19), 258);
});

for (const protocol of ['compact', 'binary'] as const) {
  test(`${protocol}: appendBatch round trip (headers with UTF-8, binary bodies, more than 15 events)`, () => {
    const events = Array.from({ length: 40 }, (_, i) =>
      makeEvent(Buffer.from([0, 255, i, 10]), { seq: String(i), clé: 'välue 漢', __proto__: 'inert' }),
    );
    const call = decodeCall(readerFor(protocol, unframe(encodeCall(protocol, 'appendBatch', -3, events))), LIMITS);
    assert.deepEqual(call.head, { name: 'appendBatch', type: 1, seqid: -3 });
    assert.equal(call.events!.length, 40);
    call.events!.forEach((e, i) => {
      assert.deepEqual(e.body, events[i]!.body);
      assert.deepEqual({ ...e.headers }, { ...events[i]!.headers });
    });
  });

  test(`${protocol}: statuses and exceptions decode`, () => {
    for (const s of ['OK', 'FAILED', 'ERROR', 'UNKNOWN'] as const)
      assert.equal(
        (decodeReply(readerFor(protocol, unframe(encodeReply(protocol, 'append', 1, s)))) as { status: string }).status,
        s,
      );
    const ex = decodeReply(
      readerFor(protocol, unframe(encodeException(protocol, 'append', 1, 6, 'Internal error processing append'))),
    );
    assert.deepEqual(ex, {
      head: { name: 'append', type: 3, seqid: 1 },
      error: 'Internal error processing append',
      errorType: 6,
    });
  });

  test(`${protocol}: limits and malformed input are refused before allocation`, () => {
    const many = encodeCall(
      protocol,
      'appendBatch',
      1,
      Array.from({ length: 20 }, () => makeEvent('x')),
    );
    assert.throws(
      () => decodeCall(readerFor(protocol, unframe(many)), { maxEvents: 10, maxHeaders: 10 }),
      (e: unknown) => e instanceof ThriftDecodeError && /20 events \(maxEventsPerRequest 10\)/.test(e.message),
    );
    const hdrs = encodeCall(protocol, 'append', 1, [makeEvent('x', { a: '1', b: '2', c: '3' })]);
    assert.throws(() => decodeCall(readerFor(protocol, unframe(hdrs)), { maxEvents: 10, maxHeaders: 2 }), /3 headers/);
    // every truncation of a valid call is refused with a decode error, never anything else
    const full = unframe(encodeCall(protocol, 'appendBatch', 1, [makeEvent('body', { k: 'v' })]));
    for (let n = 0; n < full.length; n++)
      assert.throws(
        () => decodeCall(readerFor(protocol, full.subarray(0, n)), LIMITS),
        ThriftDecodeError,
        `cut at ${n}`,
      );
  });
}

test('compact: an event without its required body is refused (Flume: TProtocolException)', () => {
  // append, field 1 struct { field 1 map (empty) } STOP STOP
  const msg = Buffer.from('82210106617070656e64' + '1c' + '1b00' + '00' + '00', 'hex');
  assert.throws(() => decodeCall(readerFor('compact', msg), LIMITS), /required field body/);
});

test('compact: unknown fields are skipped, nested containers included', () => {
  // append; field 5 (unknown): list<list<i32>> [[1]]; field 1 (long form, the id went down): the event; STOP
  const msg = Buffer.from('82210106617070656e64' + '59' + '19' + '15' + '02' + '0c02' + '1b00180268690000', 'hex');
  const call = decodeCall(readerFor('compact', msg), LIMITS);
  assert.equal(call.events![0]!.body.toString(), 'hi');
});

test('frames: assembled across chunks, length over the limit refused on the header, reservation honoured', () => {
  const a = new FrameAssembler(100);
  const f = encodeReply('compact', 'append', 1, 'OK');
  for (const b of f) a.push(Buffer.from([b]));
  assert.deepEqual(a.next(), f.subarray(4));
  assert.equal(a.partial, false);
  const big = Buffer.alloc(4);
  big.writeUInt32BE(101);
  a.push(big);
  assert.throws(() => a.next(), FrameError);
  const b = new FrameAssembler(100);
  b.push(f);
  let asked = 0;
  assert.equal(
    b.next((n) => ((asked = n), false)),
    undefined,
  );
  assert.equal(asked, f.length - 4);
  assert.deepEqual(
    b.next(() => true),
    f.subarray(4),
  );
});
