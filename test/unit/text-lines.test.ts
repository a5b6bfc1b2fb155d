/** src/text line splitting: LineSplitter (bytes: taildir, exec) and charLineSplitter (characters: netcat). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { charLineSplitter, charsetFor, LineSplitter, replyEncoder, type LineSink } from '../../src/text/index.js';
import type { FlumeEvent } from '../../src/core/event.js';

function sink(withStarts = false): LineSink & { starts?: number[] } {
  return { bodies: [], ends: [], starts: withStarts ? [] : undefined };
}

/** Feeds `input` to a splitter in chunks of the given sizes (cycled). */
function split(
  input: Buffer | string,
  sizes: number[],
  s: LineSplitter,
  out = sink(true),
): LineSink & { starts?: number[] } {
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
    assert.equal(
      Buffer.concat(o.bodies.map((b, i) => Buffer.concat([b, Buffer.from(i < lines.length ? '\n' : '')]))).compare(
        input,
      ),
      0,
    );
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

test('a missing last newline: held until flushPartial in every mode; a lone \\r ends a line only in any mode', () => {
  for (const mode of ['lf', 'crlf', 'any'] as const) {
    const s = new LineSplitter(100, 'truncate', mode);
    const o = split('one\r\ntwo', [1], s);
    assert.deepEqual(texts(o), [mode === 'lf' ? 'one\r' : 'one'], mode);
    assert.equal(s.hasPartial, true);
    assert.equal(s.flushPartial(o), true);
    assert.deepEqual(texts(o).at(-1), 'two');
    assert.deepEqual(o.ends.at(-1), 8);
  }
  const crlf = new LineSplitter(100, 'truncate', 'crlf');
  const o = split('x\r', [1], crlf);
  assert.deepEqual(texts(o), [], 'crlf: a \\r without \\n is content, held');
  crlf.flushPartial(o);
  assert.deepEqual(texts(o), ['x\r']);
  const any = split('x\r', [1], new LineSplitter(100, 'truncate', 'any'));
  assert.deepEqual(texts(any), ['x']);
});

// ------------------------------------------------------------------------------------------ charLineSplitter

/** Feeds `input` to a char-line splitter cut at `cuts`; returns the UTF-8 bodies and whether every push fit. */
function charLines(
  charset: string,
  input: Buffer,
  max: number,
  cuts: number[],
): { bodies: string[]; ok: boolean; rest: boolean } {
  const sp = charLineSplitter(charsetFor(charset), max);
  const out: FlumeEvent[] = [];
  let ok = true;
  let prev = 0;
  for (const c of [...cuts, input.length]) {
    ok &&= sp.push(input.subarray(prev, c), out);
    prev = c;
  }
  return { bodies: out.map((e) => e.body.toString('utf8')), ok, rest: sp.discard() };
}

/** Every way of cutting `input` in two. */
function everyCut(input: Buffer): number[][] {
  return Array.from({ length: input.length + 1 }, (_, i) => [i]);
}

test('charLineSplitter: a multi-byte character split across chunks, for every charset kind', () => {
  const lines = ['h\u00e9llo \u20ac', '\u65e5\u672c\u8a9e', 'x\r'];
  const text = lines.map((l) => `${l}\n`).join('');
  const cases: [string, Buffer, string[]][] = [
    ['UTF-8', Buffer.from(text, 'utf8'), lines],
    ['UTF-16LE', Buffer.from(text, 'utf16le'), lines],
    ['UTF-16BE', Buffer.from(text, 'utf16le').swap16(), lines],
    ['UTF-16', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]), lines],
    ['UTF-16', Buffer.from(text, 'utf16le').swap16(), lines],
    ['UTF-32', charsetFor('UTF-32').encode(text), lines],
    ['UTF-32LE', charsetFor('UTF-32LE').encode(text), lines],
    ['UTF-32', Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), charsetFor('UTF-32LE').encode(text)]), lines],
    ['Shift_JIS', Buffer.from('93fa967b8cea0a8365834c83580a', 'hex'), ['\u65e5\u672c\u8a9e', '\u30c6\u30ad\u30b9']],
    ['GB18030', Buffer.from('81308436813081300a', 'hex'), ['\u00a5\u0080']],
    [
      'ISO-2022-JP',
      Buffer.from('1b2442467c4b5c1b28420a1b24423840386c1b28420a', 'hex'),
      ['\u65e5\u672c', '\u8a00\u8a9e'],
    ],
  ];
  for (const [cs, bytes, expected] of cases) {
    for (const cuts of everyCut(bytes)) {
      const r = charLines(cs, bytes, 100, cuts);
      assert.deepEqual(r.bodies, expected, `${cs} cut at ${cuts}`);
      assert.equal(r.ok, true);
      assert.equal(r.rest, false);
    }
  }
});

test('charLineSplitter: bodies are UTF-8 (UTF-8 input as is), \\r is kept, the unterminated rest is dropped', () => {
  const utf8 = Buffer.from('caf\u00e9\r\nrest', 'utf8');
  const sp = charLineSplitter(charsetFor('utf-8'), 100);
  const out: FlumeEvent[] = [];
  assert.equal(sp.push(utf8, out), true);
  assert.equal(out[0]!.body.buffer, utf8.buffer, 'a UTF-8 line is a view of the chunk, never copied');
  assert.deepEqual(
    out.map((e) => e.body),
    [Buffer.from('caf\u00e9\r', 'utf8')],
  );
  assert.equal(sp.discard(), true, 'the unterminated "rest"');
  assert.equal(sp.discard(), false);
  assert.deepEqual(charLines('ISO-8859-1', Buffer.from('caf\u00e9\n', 'latin1'), 100, []).bodies, ['caf\u00e9']);
  assert.deepEqual(charLines('US-ASCII', Buffer.from([0x61, 0xe9, 0x0a]), 100, []).bodies, ['a\ufffd']);
  assert.deepEqual(charLines('windows-1252', Buffer.from([0x80, 0x93, 0x94, 0x0a]), 100, []).bodies, [
    '\u20ac\u201c\u201d',
  ]);
});

test('charLineSplitter: the limit counts characters (UTF-16 units) including the newline, in every charset', () => {
  for (const cs of ['UTF-8', 'UTF-16LE', 'UTF-32BE', 'ISO-8859-1', 'Shift_JIS']) {
    const enc = (s: string) => (cs === 'Shift_JIS' ? Buffer.from(s, 'latin1') : charsetFor(cs).encode(s));
    const uni = cs === 'ISO-8859-1' || cs === 'Shift_JIS' ? 'ab' : '\u00e9\u20ac';
    assert.deepEqual(charLines(cs, enc(`${uni}\n`), 3, []), { bodies: [uni], ok: true, rest: false }, `${cs} fits`);
    const r = charLines(cs, enc(`ok\n${uni}x\nnext\n`), 3, []);
    assert.deepEqual([r.bodies, r.ok], [['ok'], false], `${cs}: the long line stops the splitter`);
    assert.equal(charLines(cs, enc(`${uni}x`), 3, []).ok, false, `${cs}: so does a long unterminated rest`);
  }
  // a supplementary character is two units, as Java counts
  assert.equal(charLines('UTF-8', Buffer.from('\u{1F600}\n', 'utf8'), 3, []).ok, true);
  assert.equal(charLines('UTF-8', Buffer.from('\u{1F600}a\n', 'utf8'), 3, []).ok, false);
});

test('replyEncoder: replies in the charset after the stream BOM; charsets flume-ts cannot encode get ASCII', () => {
  const u16 = charsetFor('UTF-16');
  assert.deepEqual(u16.streamBom, Buffer.from([0xfe, 0xff]));
  assert.deepEqual(replyEncoder(u16)('OK\n'), Buffer.from([0, 0x4f, 0, 0x4b, 0, 0x0a]));
  assert.deepEqual(replyEncoder(charsetFor('UTF-32LE'))('K'), Buffer.from([0x4b, 0, 0, 0]));
  assert.equal(charsetFor('UTF-32').streamBom, undefined, 'Java writes no UTF-32 BOM');
  assert.deepEqual(replyEncoder(charsetFor('windows-1252'))('\u20ac\u00e9'), Buffer.from([0x80, 0xe9]));
  assert.deepEqual(replyEncoder(charsetFor('Shift_JIS'))('OK \u00e9'), Buffer.from('OK ?'));
  assert.deepEqual(replyEncoder(charsetFor('ISO-8859-1'))('\u{1F600}'), Buffer.from('?'), 'one ? per character');
});
