/** msgpack str -> JSON string: the same text as JSON.stringify of the decoded string, for any bytes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ByteSink, writeJsonString } from '../../src/text/json-bytes.js';

function viaSink(b: Buffer): string {
  const out = new ByteSink(4);
  writeJsonString(out, Buffer.concat([Buffer.from('xx'), b, Buffer.from('yy')]), 2, 2 + b.length);
  return out.buf.toString('utf8', 0, out.len);
}

test('writeJsonString matches JSON.stringify: escapes, control bytes, UTF-8, invalid UTF-8', () => {
  const samples = [
    '',
    'plain text',
    'quote " and backslash \\ and / slash',
    '\b\f\n\r\t\u0000\u0001\u001f\u007f',
    'café ☃ 𝄞 \u2028\u2029',
    'tail escape at the end\n',
  ];
  for (const s of samples) assert.equal(viaSink(Buffer.from(s, 'utf8')), JSON.stringify(s), JSON.stringify(s));
  // random bytes: mostly printable, some control, some high bytes (often invalid UTF-8)
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
  for (let k = 0; k < 2000; k++) {
    const b = Buffer.alloc(rnd() % 40);
    for (let i = 0; i < b.length; i++) {
      const r = rnd() % 10;
      b[i] = r < 6 ? 0x20 + (rnd() % 95) : r < 8 ? rnd() % 0x20 : 0x80 + (rnd() % 0x80);
    }
    assert.equal(viaSink(b), JSON.stringify(b.toString('utf8')), b.toString('hex'));
  }
});
