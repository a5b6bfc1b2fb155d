/**
 * Property test: random well-formed RFC 5424 and RFC 3164 messages parsed by our parsers and by an independent
 * one (nsyslog-parser, a dev dependency used only here) must agree on facility, severity, host and time.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { parseClassic, parseMultiport, multiportCharset, KEEP_NONE } from '../../src/sources/syslog/parser.js';

interface Oracle {
  prival: number;
  facilityval: number;
  levelval: number;
  host?: string;
  ts?: Date;
}
const nsyslog = createRequire(import.meta.url)('nsyslog-parser') as (line: string) => Oracle;

let seed = 20240615;
function rnd(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return seed / 0x7fffffff;
}
const int = (lo: number, hi: number) => lo + Math.floor(rnd() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]): T => xs[int(0, xs.length - 1)]!;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const word = (n: number, first = 'abcdefghijklmnopqrstuvwxyz') =>
  pick([...first]) + Array.from({ length: n - 1 }, () => pick([...`${ALNUM}.-`])).join('');
const text = (n: number) => Array.from({ length: n }, () => String.fromCharCode(int(0x20, 0x7e))).join('');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const utf8 = multiportCharset('utf-8');

test('RFC 5424: our classic and multiport parsers agree with nsyslog-parser on 2,000 random messages', () => {
  for (let n = 0; n < 2000; n++) {
    const pri = int(0, 191);
    const y = int(2000, 2035);
    const mo = int(1, 12);
    const d = int(1, 28);
    const [h, mi, s] = [int(0, 23), int(0, 59), int(0, 59)];
    const frac = pick(['', `.${pad(int(0, 999), 3)}`, `.${pad(int(0, 999999), 6)}`]);
    const offMin = pick([0, 60, -300, 330, 525, -720]);
    const tz =
      offMin === 0 && rnd() < 0.5
        ? 'Z'
        : `${offMin < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(offMin) / 60))}:${pad(Math.abs(offMin) % 60)}`;
    const ts = `${y}-${pad(mo)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${frac}${tz}`;
    const host = word(int(1, 20));
    const tail = `${word(int(1, 8))} ${pick(['-', String(int(1, 99999))])} ${pick(['-', 'ID47'])} ${pick(['-', '[ex@32473 iut="3"]'])} ${text(int(1, 60))}`;
    const line = `<${pri}>1 ${ts} ${host} ${tail}`;
    const o = nsyslog(line);
    const c = parseClassic(Buffer.from(line), false, KEEP_NONE, Date.now());
    const m = parseMultiport(Buffer.from(line), false, KEEP_NONE, Date.now(), utf8);
    for (const [who, f, sv, hst] of [
      ['classic', c.headers.Facility, c.headers.Severity, c.headers.host],
      ['multiport', m.headers.Facility, m.headers.Severity, m.headers.host],
    ] as const) {
      assert.equal(f, String(o.facilityval), `${who} facility: ${line}`);
      assert.equal(sv, String(o.levelval), `${who} severity: ${line}`);
      assert.equal(hst, o.host, `${who} host: ${line}`);
    }
    const want =
      Date.UTC(y, mo - 1, d, h, mi, s, frac ? Number(frac.slice(1, 4).padEnd(3, '0')) : 0) -
      (tz === 'Z' ? 0 : offMin * 60_000);
    assert.equal(c.headers.timestamp, String(want), `classic time: ${line}`);
    assert.equal(m.headers.timestamp, String(want), `multiport time: ${line}`);
    assert.equal(o.ts!.getTime(), want, `oracle time: ${line}`);
    assert.equal(c.body.toString(), tail);
    assert.equal(m.body.toString(), tail);
  }
});

test('RFC 3164: facility, severity, host and the date-time fields agree with nsyslog-parser on 2,000 random messages', () => {
  for (let n = 0; n < 2000; n++) {
    const pri = int(0, 191);
    const mo = int(0, 11);
    const d = int(1, 28);
    const [h, mi, s] = [int(0, 23), int(0, 59), int(0, 59)];
    const host = word(int(1, 20));
    const msg = `${word(int(1, 8))}[${int(1, 9999)}]: ${text(int(1, 60))}`;
    const line = `<${pri}>${MONTHS[mo]} ${d < 10 ? ` ${d}` : d} ${pad(h)}:${pad(mi)}:${pad(s)} ${host} ${msg}`;
    const o = nsyslog(line);
    const c = parseClassic(Buffer.from(line), false, KEEP_NONE, Date.now());
    assert.equal(c.headers.Facility, String(o.facilityval), line);
    assert.equal(c.headers.Severity, String(o.levelval), line);
    assert.equal(c.headers.host, o.host, line);
    assert.equal(c.body.toString(), msg);
    const ours = new Date(Number(c.headers.timestamp));
    const theirs = o.ts!;
    assert.deepEqual(
      [ours.getMonth(), ours.getDate(), ours.getHours(), ours.getMinutes(), ours.getSeconds()],
      [theirs.getMonth(), theirs.getDate(), theirs.getHours(), theirs.getMinutes(), theirs.getSeconds()],
      line,
    );
  }
});
