/**
 * The BucketPath escape engine (src/format/bucket-path): Flume's TestBucketPath / TestTimestampRoundDownUtil cases,
 * every time letter in UTC and in IANA zones (including a DST day and a half-hour zone), header and host escapes,
 * the refusals that replace Flume's silent ones, and the local-clock fallback for a missing timestamp.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BucketTemplate,
  EventTime,
  LETTERS,
  ZonedTime,
  parseTimeZone,
  type HostNames,
} from '../../src/format/bucket-path/index.js';
import { OptionError } from '../../src/contract/index.js';

const HOSTS: HostNames = { localhost: 'box', ip: '10.1.2.3', fqdn: 'box.example.com' };

function render(
  text: string,
  headers: Record<string, string>,
  o: { zone?: string; round?: { unit: 'second' | 'minute' | 'hour'; value: number }; local?: number } = {},
) {
  const t = BucketTemplate.compile(text);
  const time = new EventTime({
    zone: new ZonedTime(o.zone === undefined ? 'UTC' : parseTimeZone(o.zone)),
    round: o.round,
    useLocalTimeStamp: o.local !== undefined,
    now: () => o.local ?? 1_000_000,
  }).of(headers);
  return { out: t.render(headers, time.time, HOSTS), fallback: time.fallback };
}

// 2012-06-12 11:54:34.567 UTC (Tuesday)
const TS = Date.UTC(2012, 5, 12, 11, 54, 34, 567);

test("Flume's rounding example: roundUnit minute, roundValue 10", () => {
  const { out } = render(
    '/flume/events/%Y-%m-%d/%H%M/%S',
    { timestamp: String(TS) },
    { round: { unit: 'minute', value: 10 } },
  );
  assert.equal(out, '/flume/events/2012-06-12/1150/00');
});

test('every time letter in UTC', () => {
  const expected: Record<string, string> = {
    a: 'Tue',
    A: 'Tuesday',
    b: 'Jun',
    B: 'June',
    c: 'Tue Jun 12 11:54:34 2012',
    d: '12',
    D: '06/12/12',
    e: '12',
    H: '11',
    I: '11',
    j: '164',
    k: '11',
    l: '11',
    m: '06',
    M: '54',
    n: '6',
    p: 'AM',
    s: String(Math.floor(TS / 1000)),
    S: '34',
    t: String(TS),
    y: '12',
    Y: '2012',
    z: '+0000',
  };
  assert.deepEqual(Object.keys(expected).sort(), Object.keys(LETTERS).sort(), 'every letter is covered');
  for (const [letter, want] of Object.entries(expected)) {
    assert.equal(render(`%${letter}`, { timestamp: String(TS) }).out, want, `%${letter}`);
  }
});

test('unpadded and 12-hour forms in the afternoon and early in the month', () => {
  const ts = Date.UTC(2021, 0, 3, 15, 4, 5);
  const { out } = render('%e|%k|%l|%I|%n|%p|%j|%D', { timestamp: String(ts) });
  assert.equal(out, '3|15|3|03|1|PM|003|01/03/21');
  assert.equal(render('%l %I %p', { timestamp: String(Date.UTC(2021, 0, 3, 0, 30)) }).out, '12 12 AM');
});

test('IANA zones: names, offsets, a DST day and a half-hour zone', () => {
  const ts = String(TS);
  assert.equal(
    render('%Y-%m-%d %H:%M %z', { timestamp: ts }, { zone: 'America/New_York' }).out,
    '2012-06-12 07:54 -0400',
  );
  assert.equal(render('%H:%M %z', { timestamp: ts }, { zone: 'Asia/Kolkata' }).out, '17:24 +0530');
  assert.equal(render('%Y%m%d %H', { timestamp: ts }, { zone: 'Asia/Tokyo' }).out, '20120612 20');
  assert.equal(render('%H %z', { timestamp: ts }, { zone: 'GMT+8' }).out, '19 +0800');
  // New York springs forward at 2012-03-11 07:00 UTC: 01:59 EST -> 03:00 EDT
  const before = String(Date.UTC(2012, 2, 11, 6, 59));
  const after = String(Date.UTC(2012, 2, 11, 7, 0));
  assert.equal(render('%H:%M %z', { timestamp: before }, { zone: 'America/New_York' }).out, '01:59 -0500');
  assert.equal(render('%H:%M %z', { timestamp: after }, { zone: 'America/New_York' }).out, '03:00 -0400');
  // the day boundary is the zone's: 23:30 UTC is already tomorrow in Tokyo
  const late = String(Date.UTC(2012, 11, 31, 23, 30));
  assert.equal(render('%Y-%m-%d', { timestamp: late }, { zone: 'Asia/Tokyo' }).out, '2013-01-01');
  assert.equal(render('%Y-%m-%d', { timestamp: late }, { zone: 'UTC' }).out, '2012-12-31');
});

test('rounding is by calendar field in the zone; %t is never rounded, %s is', () => {
  const ts = String(Date.UTC(2012, 5, 12, 11, 13, 34, 567));
  assert.equal(render('%H:%M:%S', { timestamp: ts }, { round: { unit: 'minute', value: 7 } }).out, '11:07:00');
  assert.equal(render('%H:%M:%S', { timestamp: ts }, { round: { unit: 'second', value: 10 } }).out, '11:13:30');
  assert.equal(render('%H:%M:%S', { timestamp: ts }, { round: { unit: 'hour', value: 12 } }).out, '00:00:00');
  assert.equal(render('%t', { timestamp: ts }, { round: { unit: 'hour', value: 1 } }).out, ts);
  assert.equal(
    render('%s', { timestamp: ts }, { round: { unit: 'hour', value: 1 } }).out,
    String(Date.UTC(2012, 5, 12, 11) / 1000),
  );
  // hour rounding in a +05:30 zone keeps the zone's half hour: 16:43 local -> 16:00 local = 10:30 UTC
  const r = render('%H:%M %s', { timestamp: ts }, { zone: 'Asia/Kolkata', round: { unit: 'hour', value: 1 } }).out;
  assert.equal(r, `16:00 ${Date.UTC(2012, 5, 12, 10, 30) / 1000}`);
});

test('header, host and literal escapes', () => {
  const h = { timestamp: String(TS), app: 'web', 'x.y-z': 'dots' };
  assert.equal(render('/logs/%{app}/%{missing}/%{x.y-z}', h).out, '/logs/web//dots');
  assert.equal(render('%[localhost]-%[IP]-%[FQDN]-%[ip]', h).out, 'box-10.1.2.3-box.example.com-10.1.2.3');
  assert.equal(render('100%% %{app} %-x %{unclosed', h).out, '100% web %-x %{unclosed');
  const t = BucketTemplate.compile('/a/%{app}/%[FQDN]/%Y');
  assert.deepEqual(t.headerNames, ['app']);
  assert.equal(t.needsTime, true);
  assert.equal(t.constant, false);
  assert.equal(t.fixedPrefix, '/a/');
  const c = BucketTemplate.compile('/plain/100%%');
  assert.equal(c.constant, true);
  assert.equal(c.needsTime, false);
  assert.equal(c.render({}, undefined, HOSTS), '/plain/100%');
});

test('unknown escapes and host words are refused, all named at once (Flume drops or fails them)', () => {
  assert.throws(
    () => BucketTemplate.compile('/x/%Q/%[nowhere]/%1'),
    (err: unknown) =>
      err instanceof OptionError && /%Q, %\[nowhere\], %1/.test(err.message) && /%\{header\}/.test(err.hint ?? ''),
  );
});

test('time zones: Java offset ids, IANA ids, unknown ids refused', () => {
  assert.equal(parseTimeZone('UTC'), 'UTC');
  assert.equal(parseTimeZone('GMT+8'), '+08:00');
  assert.equal(parseTimeZone('UTC-05:30'), '-05:30');
  assert.equal(parseTimeZone('Europe/Paris'), 'Europe/Paris');
  assert.throws(() => parseTimeZone('Mars/Olympus'), /unknown time zone 'Mars\/Olympus'.*silently use GMT/);
});

test('a missing or bad timestamp renders with the local clock and is reported, never thrown', () => {
  const now = Date.UTC(2020, 1, 29, 23, 59, 59);
  const miss = render('%Y-%m-%d', {}, { zone: 'UTC', local: undefined });
  assert.equal(miss.fallback, 'missing');
  assert.equal(miss.out, '1970-01-01'); // now() of the helper without `local` is 1,000,000 ms
  const bad = render('%Y', { timestamp: '12:00' });
  assert.equal(bad.fallback, 'invalid');
  const local = render('%Y-%m-%d %t', { timestamp: '5' }, { local: now });
  assert.equal(local.fallback, undefined);
  assert.equal(local.out, `2020-02-29 ${now}`);
  // %% and headers need no timestamp at all
  assert.equal(BucketTemplate.compile('%%%{a}').needsTime, false);
});

test('a template reuses its rendering within one second, never across seconds or for header escapes', () => {
  const zone = new ZonedTime('UTC');
  const et = new EventTime({ zone, useLocalTimeStamp: false, now: () => 0 });
  const t = BucketTemplate.compile('%H:%M:%S');
  const at = (ms: number) => t.render({}, et.of({ timestamp: String(ms) }).time, HOSTS);
  const base = Date.UTC(2024, 0, 1, 10, 0, 0);
  assert.equal(at(base + 1), '10:00:00');
  assert.equal(at(base + 999), '10:00:00');
  assert.equal(at(base + 1000), '10:00:01');
  assert.equal(at(base - 1), '09:59:59');
  const h = BucketTemplate.compile('%S-%{k}');
  const time = et.of({ timestamp: String(base) }).time;
  assert.equal(h.render({ k: 'a' }, time, HOSTS), '00-a');
  assert.equal(h.render({ k: 'b' }, time, HOSTS), '00-b');
  const raw = BucketTemplate.compile('%S.%t');
  assert.equal(raw.render({}, et.of({ timestamp: String(base + 5) }).time, HOSTS), `00.${base + 5}`);
  assert.equal(raw.render({}, et.of({ timestamp: String(base + 6) }).time, HOSTS), `00.${base + 6}`);
});
