/** A small record body must not keep the whole fetch response it was decoded from alive (bounded memory). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ownBytes } from '../../src/kafka/kafkajs/consumer.js';

test('a small view of a large fetch buffer is copied and no longer pins that buffer', () => {
  const response = Buffer.alloc(1024 * 1024, 7);
  response.write('hello', 1000);
  const value = response.subarray(1000, 1200);
  const own = ownBytes(value);
  assert.notEqual(own.buffer, response.buffer);
  assert.ok(own.buffer.byteLength <= Buffer.poolSize, `backing of ${own.buffer.byteLength} B`);
  assert.deepEqual(own, value);
  assert.equal(own.subarray(0, 5).toString(), 'hello');
});

test('a buffer that owns most of its memory, or sits in a pool slab, is kept as it is (no copy)', () => {
  const whole = Buffer.alloc(64 * 1024);
  assert.equal(ownBytes(whole), whole);
  const most = whole.subarray(0, 40 * 1024);
  assert.equal(ownBytes(most), most);
  const pooled = Buffer.from('a small pooled value');
  assert.equal(ownBytes(pooled), pooled);
});
