/** File channel: record and state encodings, consumed-range arithmetic. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CodecError,
  decodeEvents,
  decodePutState,
  decodeTakeState,
  encodeEvents,
  encodePutState,
  encodeTakeState,
  parseRecordKey,
  recordKey,
} from '../../src/channels/file/codec.js';
import { addConsumed, liveParts, rangesLength } from '../../src/channels/file/ranges.js';
import { makeEvent } from '../../src/core/event.js';

test('records round-trip headers (UTF-8, empty values) and binary bodies', () => {
  const events = [
    makeEvent(Buffer.from([0, 255, 10, 13, 0])),
    makeEvent('', { a: '', ключ: 'значение 🙂', timestamp: '1700000000000' }),
    makeEvent('x'.repeat(70_000), { h: 'v' }),
  ];
  const buf = encodeEvents(events);
  const back = decodeEvents(buf, 3);
  assert.equal(back.length, 3);
  for (let i = 0; i < 3; i++) {
    assert.deepEqual(back[i]!.body, events[i]!.body);
    assert.deepEqual({ ...back[i]!.headers }, { ...events[i]!.headers });
  }
  assert.equal(Object.getPrototypeOf(back[1]!.headers), null);
});

test('a damaged record is detected, never decoded into wrong events', () => {
  const buf = encodeEvents([makeEvent('hello', { k: 'v' }), makeEvent('world')]);
  for (const pos of [9, 12, buf.length - 1]) {
    const bad = Buffer.from(buf);
    bad[pos]! ^= 0x40;
    assert.throws(() => decodeEvents(bad), CodecError, `flip at ${pos}`);
  }
  assert.throws(() => decodeEvents(buf.subarray(0, buf.length - 2)), CodecError);
  assert.throws(() => decodeEvents(buf, 3), /key says 3/);
  assert.throws(() => decodeEvents(Buffer.from([1, 0])), CodecError);
});

test('record keys sort by first index and carry the event count', () => {
  const a = recordKey(5, 1000);
  const b = recordKey(1005, 1);
  const c = recordKey(2 ** 40 + 7, 3);
  assert.ok(Buffer.compare(a, b) < 0 && Buffer.compare(b, c) < 0);
  assert.deepEqual(parseRecordKey(c), { base: 2 ** 40 + 7, count: 3 });
  assert.throws(() => parseRecordKey(Buffer.from('dxx')), CodecError);
  assert.throws(() => parseRecordKey(recordKey(1, 0)), CodecError);
});

test('state records round-trip and a flipped bit is refused', () => {
  const t = {
    head: 123456789012,
    done: [123456789100, 123456789200, 2 ** 50, 2 ** 50 + 1],
    headBase: 123456789000,
    taken: 77,
  };
  assert.deepEqual(decodeTakeState(encodeTakeState(t)), t);
  const p = { nextIndex: 2 ** 51, puts: 2 ** 40 };
  assert.deepEqual(decodePutState(encodePutState(p)), p);
  for (const buf of [encodeTakeState(t), encodePutState(p)]) {
    buf[3]! ^= 1;
    assert.throws(() => (buf.length === 21 ? decodePutState(buf) : decodeTakeState(buf)), CodecError);
  }
});

test('consumed ranges: out-of-order commits merge and advance the head', () => {
  let c = { head: 0, done: [] as number[] };
  c = addConsumed(c, [10, 20]);
  assert.deepEqual(c, { head: 0, done: [10, 20] });
  c = addConsumed(c, [30, 40, 20, 25]);
  assert.deepEqual(c, { head: 0, done: [10, 25, 30, 40] });
  c = addConsumed(c, [0, 10]);
  assert.deepEqual(c, { head: 25, done: [30, 40] });
  c = addConsumed(c, [25, 30]);
  assert.deepEqual(c, { head: 40, done: [] });
  c = addConsumed(c, [5, 15]);
  assert.deepEqual(c, { head: 40, done: [] }, 'ranges below head change nothing');
});

test('live parts skip consumed and in-flight indices', () => {
  const c = { head: 5, done: [8, 10] };
  assert.deepEqual(liveParts(0, 20, c, [12, 14]), [5, 8, 10, 12, 14, 20]);
  assert.deepEqual(liveParts(0, 5, c, []), []);
  assert.deepEqual(liveParts(8, 10, c, []), []);
  assert.equal(rangesLength([5, 8, 10, 12, 14, 20]), 11);
});
