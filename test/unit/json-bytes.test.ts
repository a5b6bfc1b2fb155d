import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteSink, writeJsonString } from '../../src/text/json-bytes.js';

const jsonOf = (b: Buffer): string => {
  const w = new ByteSink(4);
  writeJsonString(w, b);
  return w.view().toString('utf8');
};

test('writeJsonString writes what JSON.stringify gives for the UTF-8 text, byte for byte', () => {
  const cases: Buffer[] = [Buffer.alloc(0), Buffer.from('plain'), Buffer.from('a"b\\c\nd\te\u0001\u001f\u007f')];
  for (let c = 0; c < 0x80; c++) cases.push(Buffer.from([0x41, c, 0x42]));
  cases.push(
    Buffer.from('héllo "wörld" \u{1f600}'),
    Buffer.from([0x41, 0xff, 0x22, 0xc3]),
    Buffer.from([0xed, 0xa0, 0x80]),
  );
  let seed = 7;
  for (let k = 0; k < 200; k++) {
    const b = Buffer.alloc(k);
    for (let i = 0; i < k; i++) b[i] = (seed = (seed * 1103515245 + 12345) >>> 0) % (k % 3 === 0 ? 256 : 128);
    cases.push(b);
  }
  for (const b of cases) assert.equal(jsonOf(b), JSON.stringify(b.toString('utf8')), b.toString('hex'));
});

test('the writer grows and keeps what was written; views of slices of other buffers are read at their offset', () => {
  const w = new ByteSink(2);
  const big = Buffer.alloc(300, 0x61);
  w.bytes(Buffer.from('{'));
  w.bytes(big);
  w.utf8('é');
  writeJsonString(w, Buffer.from('xx"yy').subarray(1, 4));
  assert.equal(w.view().toString('utf8'), `{${'a'.repeat(300)}é"x\\"y"`);
  assert.equal(w.view(1, 3).toString(), 'aa');
});
