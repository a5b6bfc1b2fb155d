import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SyslogFramer, type Frame } from '../../src/sources/syslog/framing.js';

function frames(
  input: (string | Buffer)[],
  max = 100,
  maxDeclared = 1000,
): { out: { s: string; inc: boolean }[]; ok: boolean; framer: SyslogFramer } {
  const f = new SyslogFramer(max, maxDeclared);
  const out: Frame[] = [];
  let ok = true;
  for (const c of input) {
    ok = f.push(Buffer.isBuffer(c) ? c : Buffer.from(c, 'latin1'), out);
    if (!ok) break;
  }
  if (ok) f.end(out);
  return { out: out.map((x) => ({ s: x.data.toString('latin1'), inc: x.incomplete })), ok, framer: f };
}

const s = (...xs: string[]) => xs.map((x) => ({ s: x, inc: false }));

test('LF framing: lines split across chunks, empty lines skipped, CR before LF dropped', () => {
  assert.deepEqual(frames(['<13>a\n<13', '>b\r\n\n\n<13>c\n']).out, s('<13>a', '<13>b', '<13>c'));
});

test('LF framing: a final line without LF is delivered at end of stream', () => {
  assert.deepEqual(frames(['<13>a\n<13>tail']).out, s('<13>a', '<13>tail'));
});

test('octet counting (RFC 6587), also split anywhere, mixed with LF frames on one connection', () => {
  const m1 = '<13>1 - h app - - - hello';
  const m2 = '<13>with\nnewline inside';
  const wire = `${m1.length} ${m1}${m2.length} ${m2}<13>lf framed\n`;
  const want = s(m1, m2, '<13>lf framed');
  assert.deepEqual(frames([wire]).out, want);
  for (let cut = 1; cut < wire.length; cut++) {
    assert.deepEqual(frames([wire.slice(0, cut), wire.slice(cut)]).out, want, `cut at ${cut}`);
  }
  // byte by byte
  assert.deepEqual(frames([...wire]).out, want);
});

test('digits not followed by a space are an ordinary line', () => {
  assert.deepEqual(frames(['123abc\n', '42\n']).out, s('123abc', '42'));
});

test('LF frame longer than maxSize: cut, flagged incomplete, the rest skipped, next message intact', () => {
  const long = `<13>${'x'.repeat(50)}`;
  const r = frames([`${long}\n<13>next\n`], 20);
  assert.deepEqual(r.out, [
    { s: long.slice(0, 20), inc: true },
    { s: '<13>next', inc: false },
  ]);
  assert.equal(r.framer.skippedBytes, long.length - 20);
  // exactly maxSize is complete (Flume flags it), split across chunks too
  const exact = `<13>${'y'.repeat(16)}`;
  assert.deepEqual(frames([exact.slice(0, 7), `${exact.slice(7)}\n`], 20).out, s(exact));
  // a stream without any LF stays bounded: cut once, then skipped
  const big = frames([`<13>${'z'.repeat(40)}`, 'z'.repeat(1000), 'z'.repeat(1000), '\n<13>after\n'], 20);
  assert.deepEqual(
    big.out.map((x) => x.inc),
    [true, false],
  );
  assert.equal(big.out[1]!.s, '<13>after');
});

test('octet frame longer than maxSize is cut and flagged; the following frame is intact', () => {
  const m = `<13>${'q'.repeat(60)}`;
  const r = frames([`${m.length} ${m}5 <13>k`], 20);
  assert.deepEqual(r.out, [
    { s: m.slice(0, 20), inc: true },
    { s: '<13>k', inc: false },
  ]);
});

test('a declared octet count above the cap makes push() fail (the caller closes the connection)', () => {
  const r = frames(['999999999 <13>x'], 100, 1000);
  assert.equal(r.ok, false);
  assert.equal(r.framer.badLength, 999999999);
  assert.equal(frames(['1001 <13>x'], 100, 1000).ok, false);
  assert.equal(frames(['1000 <13>x'], 100, 1000).ok, true);
});

test('memory stays bounded by maxSize while a long line streams in', () => {
  const f = new SyslogFramer(64, 1000);
  const out: Frame[] = [];
  f.push(Buffer.from('<13>'), out);
  for (let i = 0; i < 100; i++) f.push(Buffer.alloc(4096, 0x61), out);
  assert.ok(f.pendingBytes <= 65, `pending ${f.pendingBytes}`);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.incomplete, true);
});

test('binary garbage never throws and every byte is accounted for as frames or skipped', () => {
  let seed = 42;
  const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  for (let round = 0; round < 200; round++) {
    const buf = Buffer.alloc(Math.floor(rnd() * 500));
    for (let i = 0; i < buf.length; i++) buf[i] = Math.floor(rnd() * 256);
    const f = new SyslogFramer(50, 10_000);
    const out: Frame[] = [];
    let pos = 0;
    while (pos < buf.length) {
      const n = 1 + Math.floor(rnd() * 40);
      if (!f.push(buf.subarray(pos, pos + n), out)) break;
      pos += n;
    }
    f.end(out);
    for (const fr of out) assert.ok(fr.data.length <= 50);
  }
});
