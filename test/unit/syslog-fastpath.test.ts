/**
 * The byte-scanning fast path of the classic parser (fast-classic.ts) against the reference regular expressions
 * (parseClassicReference): on generated well-formed messages and on thousands of mutations of them, both must
 * give the same headers and body, whether the fast path takes the message or declines it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClassicParser } from '../../src/sources/syslog/fast-classic.js';
import { parseClassic, parseClassicReference, parseKeepFields, KEEP_NONE } from '../../src/sources/syslog/parser.js';

const NOW = Date.UTC(2024, 5, 15, 12, 0, 0);

let seed = 977;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `clean`: only shapes the fast path takes; else odd variants mixed in (most of which it declines). */
function rfc5424(clean: boolean): string {
  const v = <T>(good: readonly T[], odd: readonly T[]): T => pick(clean || rnd() < 0.5 ? good : odd);
  const pri = v([String(int(0, 191)), String(int(0, 999)), '0'], ['013', '1234', '', '00']);
  const version = v(['1', '1', '0', '9'], ['', '12']);
  const frac = v(
    ['', `.${pad(int(0, 999), 3)}`, `.${int(0, 9)}`, `.${pad(int(0, 99), 2)}`, `.${pad(int(0, 999999), 6)}`],
    ['.1234567', '.'],
  );
  const tz = v(['Z', '', '+02:00', '-07:30', '+00:00'], ['+0200', '+02', 'z', '+2:00']);
  const ts = v(
    [
      `${int(1990, 2035)}-${pad(int(1, 12))}-${pad(int(1, 28))}T${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}${frac}${tz}`,
      `2024-06-15T12:00:00${frac}${tz}`,
      `2023-13-45T25:61:61${frac}${tz}`,
      '-',
    ],
    ['--', '2024-06-15 12:00:00', 'Jun 15 12:00:00', `2024-6-15T12:00:00${tz}`],
  );
  const host = v(
    ['host', 'mymachine.example.com', 'a@b-c.d_e', '-', '_h', '10.0.0.9', 'H0'],
    ['-x', '::1', 'ho:st', '.h', 'h\u00e9', '@h'],
  );
  const msg = pick([
    'app 42 ID47 - hello',
    'su - ID47 [ex@1 a="b"] \u00efmsg',
    '',
    ' leading space',
    'x',
    'tab\there',
    'nul\u0000byte',
    '\u00ef\u00bb\u00bfBOM',
  ]);
  const sep = () => v([' '], ['\t', '  ', '', '\r']);
  return `<${pri}>${version}${sep()}${ts}${sep()}${host}${sep()}${msg}`;
}

function rfc3164(clean: boolean): string {
  const v = <T>(good: readonly T[], odd: readonly T[]): T => pick(clean || rnd() < 0.5 ? good : odd);
  const pri = v([String(int(0, 191)), '0'], ['007', '']);
  const mon = v(['Jan', 'Feb', 'Jun', 'Dec', 'Foo'], ['JAN', 'jun', 'Ju']);
  const day = v(
    [` ${int(1, 9)}`, String(int(10, 31)), String(int(1, 9)), ` ${int(10, 31)}`],
    ['123', `   ${int(1, 9)}`],
  );
  const time = v([`${pad(int(0, 23))}:${pad(int(0, 59))}:${pad(int(0, 59))}`, '99:99:99'], ['1:02:03', '12:00']);
  const lead = v([''], ['1 ', '1', ' ']);
  const host = v(['host', 'vm', '10.0.0.99', 'a.b-c@d'], ['-', '::1', 'h\u00e9']);
  const msg = pick(['mytag: hello', 'Use the BFG!', '', 'x y z']);
  const sep = () => v([' '], ['\t', '  ']);
  return `<${pri}>${lead}${mon} ${day}${sep()}${time}${sep()}${host}${sep()}${msg}`;
}

const INTERESTING = [
  0x20, 0x09, 0x2d, 0x2e, 0x3a, 0x5a, 0x2b, 0x30, 0x31, 0x39, 0x41, 0x61, 0x00, 0xff, 0x3c, 0x3e, 0x54, 0x40, 0x5f,
];

function mutate(b: Buffer): Buffer {
  const out = Buffer.from(b);
  const n = int(1, 3);
  for (let k = 0; k < n && out.length > 0; k++) out[int(0, out.length - 1)] = pick(INTERESTING);
  return pick([out, out.subarray(0, int(0, out.length))]);
}

interface Result {
  headers: Record<string, string>;
  body: string;
}
const view = (r: { headers: Record<string, string>; body: Buffer }): Result => ({
  headers: { ...r.headers },
  body: r.body.toString('latin1'),
});

test('fast path and reference agree on 20,000 generated and mutated messages (keepFields none/all, incomplete, extra headers)', () => {
  let declined = 0;
  const parser = new ClassicParser((line, incomplete, keep, nowMs, extra) => {
    declined++;
    return parseClassicReference(line, incomplete, keep, nowMs, extra);
  });
  const keeps = [KEEP_NONE, parseKeepFields('all')];
  const extra = { client: '127.0.0.1' };
  let total = 0;
  for (let n = 0; n < 10_000; n++) {
    const clean = n % 4 < 2;
    const base = Buffer.from(n % 2 ? rfc5424(clean) : rfc3164(clean), 'latin1');
    for (const line of [base, mutate(base)]) {
      const keep = pick(keeps);
      const incomplete = rnd() < 0.1;
      const ex = rnd() < 0.3 ? extra : undefined;
      // parse a slice of a larger buffer, as the TCP source does
      const wire = Buffer.concat([Buffer.from('junk\n'), line, Buffer.from('\n<13>1 - next')]);
      const copy = rnd() < 0.5;
      const got = parser.parse(wire, 5, 5 + line.length, incomplete, keep, NOW, ex, copy);
      const want = parseClassicReference(line, incomplete, keep, NOW, ex);
      assert.deepEqual(
        view(got),
        view(want),
        `${JSON.stringify(line.toString('latin1'))} keep=${keep.all ? 'all' : 'none'} incomplete=${incomplete}`,
      );
      total++;
    }
  }
  // the fast path must really be taken for most well-formed input (half the messages are mutated)
  assert.ok(total - declined > total * 0.25, `fast path took ${total - declined} of ${total}`);
  assert.ok(declined > total * 0.25, `fallback used ${declined} of ${total}`);
});

test('fast path: bodies are views unless copy is asked for; timestamps from the date-time cache stay right', () => {
  const parser = new ClassicParser(parseClassicReference);
  const text =
    '<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 - msg one\n<34>1 2003-10-11T22:14:15.250+01:00 mymachine su - - - two';
  const wire = Buffer.allocUnsafeSlow(text.length); // its own ArrayBuffer (not the shared pool)
  wire.write(text, 'latin1');
  const nl = wire.indexOf(0x0a);
  const a = parser.parse(wire, 0, nl, false, KEEP_NONE, NOW, undefined, false);
  const b = parser.parse(wire, nl + 1, wire.length, false, KEEP_NONE, NOW, undefined, true);
  assert.ok(a.body.buffer === wire.buffer, 'a view into the input');
  assert.ok(b.body.buffer !== wire.buffer, 'a copy');
  assert.equal(a.body.toString(), 'su - ID47 - msg one');
  assert.equal(b.body.toString(), 'su - - - two');
  assert.equal(a.headers.timestamp, String(Date.UTC(2003, 9, 11, 22, 14, 15, 3)));
  assert.equal(b.headers.timestamp, String(Date.UTC(2003, 9, 11, 21, 14, 15, 250)));
  wire.fill(0x41, 0, nl); // the caller owns the bytes of a view; a copy is independent
  assert.equal(b.body.toString(), 'su - - - two');
});

test('fast path header objects have no inherited keys; a __proto__ header is an ordinary property', () => {
  const extra = JSON.parse('{"__proto__":"x","constructor":"c"}') as Record<string, string>;
  const r = parseClassic(Buffer.from('<13>1 2024-01-01T00:00:00Z host app - - - m'), false, KEEP_NONE, NOW, extra);
  assert.equal(Object.getOwnPropertyDescriptor(r.headers, '__proto__')?.value, 'x');
  assert.equal(r.headers.constructor, 'c');
  const plain = parseClassic(Buffer.from('<13>1 2024-01-01T00:00:00Z host app - - - m'), false, KEEP_NONE, NOW);
  for (const k of ['constructor', 'toString', 'hasOwnProperty', '__proto__', 'valueOf']) {
    assert.equal(k in plain.headers, false, k);
    assert.equal((plain.headers as Record<string, unknown>)[k], undefined, k);
  }
  assert.deepEqual(Object.keys(plain.headers), ['Facility', 'Severity', 'priority', 'version', 'timestamp', 'host']);
  assert.equal(JSON.stringify(plain.headers), JSON.stringify({ ...plain.headers }));
});
