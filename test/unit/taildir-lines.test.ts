import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LineSplitter, type LineSink } from '../../src/sources/taildir/lines.js';
import { fingerprintOf, fingerprintLength } from '../../src/sources/taildir/identity.js';
import { formatPositions, parsePositions, PositionFileError } from '../../src/sources/taildir/position-file.js';

function sink(withStarts = false): LineSink & { starts?: number[] } {
  return { bodies: [], ends: [], starts: withStarts ? [] : undefined };
}

/** Feeds `input` to a splitter in chunks of the given sizes (cycled). */
function split(input: Buffer | string, sizes: number[], s: LineSplitter, out = sink(true)): LineSink & { starts?: number[] } {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  let off = 0;
  let i = 0;
  while (off < buf.length) {
    const n = Math.min(sizes[i++ % sizes.length]!, buf.length - off);
    s.push(buf.subarray(off, off + n), off, out);
    off += n;
  }
  return out;
}
const texts = (o: LineSink) => o.bodies.map((b) => b.toString('utf8'));

test('crlf mode: lines end at \\n, one \\r before it is stripped, offsets are absolute and on line boundaries', () => {
  for (const sizes of [[1000], [1], [2, 3], [5, 1, 7]]) {
    const s = new LineSplitter(100, 'truncate', 'crlf');
    const o = split('a\r\nbc\n\r\nd\r\r\nlast', sizes, s);
    assert.deepEqual(texts(o), ['a', 'bc', '', 'd\r'], `sizes ${sizes}`);
    assert.deepEqual(o.ends, [3, 6, 8, 12]);
    assert.deepEqual(o.starts, [0, 3, 6, 8]);
    assert.equal(s.boundary(), 12, 'the unterminated "last" is held');
    assert.equal(s.pendingBytes, 4);
  }
});

test('lf mode keeps \\r; any mode splits on \\n, \\r and \\r\\n even across chunks', () => {
  const lf = split('a\r\nb\n', [1], new LineSplitter(100, 'truncate', 'lf'));
  assert.deepEqual(texts(lf), ['a\r', 'b']);
  for (const sizes of [[100], [1], [2], [3]]) {
    const o = split('a\r\nb\rc\nd\r\re', sizes, new LineSplitter(100, 'truncate', 'any'));
    assert.deepEqual(texts(o), ['a', 'b', 'c', 'd', ''], `sizes ${sizes}`);
  }
});

test('multi-byte UTF-8 split across reads comes out byte-exact', () => {
  const lines = ['é中😀', 'x😀y', '中'.repeat(50), ''];
  const input = Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');
  for (const sizes of [[1], [2], [3], [5, 7], [64]]) {
    const o = split(input, sizes, new LineSplitter(1000, 'truncate', 'crlf'));
    assert.deepEqual(texts(o), lines);
    assert.equal(Buffer.concat(o.bodies.map((b, i) => Buffer.concat([b, Buffer.from(i < lines.length ? '\n' : '')]))).compare(input), 0);
  }
});

test('oversize lines: truncate keeps the head, skip drops it; memory stays bounded; the next lines flow', () => {
  const big = 'x'.repeat(50);
  for (const sizes of [[1000], [7], [1]]) {
    const t = new LineSplitter(10, 'truncate', 'crlf');
    const o = split(`ok\n${big}\nnext\n${big}`, sizes, t);
    assert.deepEqual(texts(o), ['ok', 'x'.repeat(10), 'next', 'x'.repeat(10)], `truncate ${sizes}`);
    assert.equal(t.oversize, 2);
    assert.ok(t.pendingBytes <= 11);
    assert.equal(t.boundary(), 3 + 51 + 5 + 50, 'discarded bytes are consumed: the offset moves past them');
    const k = new LineSplitter(10, 'skip', 'crlf');
    const o2 = split(`ok\n${big}\nnext\n`, sizes, k);
    assert.deepEqual(texts(o2), ['ok', 'next'], `skip ${sizes}`);
    assert.equal(k.oversize, 1);
    assert.deepEqual(o2.ends, [3, 3 + 51 + 5]);
  }
  // exactly maxLineBytes is fine, with or without \r
  const e = split('0123456789\n0123456789\r\n', [3], new LineSplitter(10, 'skip', 'crlf'));
  assert.deepEqual(texts(e), ['0123456789', '0123456789']);
});

test('a 10 MiB line without newline never holds more than maxLineBytes', () => {
  const s = new LineSplitter(64 * 1024, 'truncate', 'crlf');
  const out = sink();
  const chunk = Buffer.alloc(256 * 1024, 0x41);
  let peak = 0;
  for (let off = 0; off < 10 * 1024 * 1024; off += chunk.length) {
    s.push(chunk, off, out);
    peak = Math.max(peak, s.pendingBytes);
  }
  assert.ok(peak <= 64 * 1024 + 1, `held ${peak} bytes`);
  assert.equal(out.bodies.length, 1);
  assert.equal(out.bodies[0]!.length, 64 * 1024);
  assert.equal(s.boundary(), 10 * 1024 * 1024);
  s.push(Buffer.from('\nnext\n'), 10 * 1024 * 1024, out);
  assert.deepEqual(out.bodies.slice(1).map(String), ['next']);
});

test('flushPartial hands out the unterminated tail once', () => {
  const s = new LineSplitter(100, 'truncate', 'crlf');
  const o = split('a\npart', [2], s);
  assert.equal(s.flushPartial(o), true);
  assert.deepEqual(texts(o), ['a', 'part']);
  assert.deepEqual(o.ends, [2, 6]);
  assert.equal(s.flushPartial(o), false);
});

test('fingerprints and the position file format (Flume fields first; ours optional)', () => {
  const fp = fingerprintOf(Buffer.from('hello'));
  assert.match(fp, /^5:[0-9a-f]{24}$/);
  assert.equal(fingerprintLength(fp), 5);
  assert.equal(fingerprintOf(Buffer.alloc(0)), '0:');
  const flume = '[{"inode":2752544,"pos":10,"file":"/var/log/app.log"},{"inode":7,"pos":0,"file":"/x/y"}]';
  assert.deepEqual(parsePositions(flume, 'p'), [{ inode: 2752544, pos: 10, file: '/var/log/app.log' }, { inode: 7, pos: 0, file: '/x/y' }]);
  const ours = [{ inode: 1, pos: 2, file: '/a "q"', dev: 3, fp }];
  assert.equal(formatPositions(ours), `[{"inode":1,"pos":2,"file":"/a \\"q\\"","dev":3,"fp":"${fp}"}]`);
  assert.deepEqual(parsePositions(formatPositions(ours), 'p'), ours);
  for (const bad of ['', '   ', '[{"inode":1,"pos":2', '{}', '[{"inode":-1,"pos":0,"file":"/a"}]', '[{"pos":0,"file":"/a"}]', '[{"inode":1,"pos":"3","file":"/a"}]', '[{"inode":1,"pos":3}]', '[1]']) {
    assert.throws(() => parsePositions(bad, 'p'), PositionFileError, bad);
  }
});
