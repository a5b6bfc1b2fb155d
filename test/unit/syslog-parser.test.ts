import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  parseClassic,
  parseMultiport,
  parseKeepFields,
  parseRfc3164Date,
  parseRfc5424Date,
  multiportCharset,
  KEEP_NONE,
  STATUS_HEADER,
} from '../../src/sources/syslog/parser.js';
import { OptionError } from '../../src/contract/index.js';

const NOW = Date.UTC(2024, 5, 15, 12, 0, 0); // 2024-06-15T12:00:00Z
const utf8 = multiportCharset('utf-8');

function classic(line: string | Buffer, keep = 'none', incomplete = false, now = NOW) {
  const r = parseClassic(
    Buffer.isBuffer(line) ? line : Buffer.from(line, 'utf8'),
    incomplete,
    parseKeepFields(keep),
    now,
  );
  return { h: { ...r.headers }, body: r.body.toString('utf8'), raw: r.body };
}
function multi(line: string | Buffer, keep = 'none', incomplete = false, cs = utf8) {
  const r = parseMultiport(
    Buffer.isBuffer(line) ? line : Buffer.from(line, 'utf8'),
    incomplete,
    parseKeepFields(keep),
    NOW,
    cs,
  );
  return { h: { ...r.headers }, body: r.body.toString('utf8'), raw: r.body };
}

// ------------------------------------------------------------------------------------------- classic: RFC 5424

test('classic RFC 5424: headers as Flume SyslogUtils names them, body is the MSG part', () => {
  const r = classic('<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \u00efsu root failed');
  assert.deepEqual(r.h, {
    Facility: '4',
    Severity: '2',
    priority: '34',
    version: '1',
    timestamp: String(Date.UTC(2003, 9, 11, 22, 14, 15, 3)),
    host: 'mymachine.example.com',
  });
  assert.equal(r.body, 'su - ID47 - \u00efsu root failed');
});

test('classic RFC 5424 timestamps: offsets, Z, fractions (read as fractions), no offset = local time', () => {
  const ts = (line: string) => classic(line).h.timestamp;
  assert.equal(ts('<13>1 2003-08-24T05:14:15.000003-07:00 h m'), String(Date.UTC(2003, 7, 24, 12, 14, 15, 0)));
  assert.equal(ts('<13>1 2003-08-24T05:14:15+02:30 h m'), String(Date.UTC(2003, 7, 24, 2, 44, 15)));
  assert.equal(ts('<13>1 2012-04-13T11:11:11.5Z h m'), String(Date.UTC(2012, 3, 13, 11, 11, 11, 500)));
  assert.equal(ts('<13>1 2012-04-13T11:11:11.123456Z h m'), String(Date.UTC(2012, 3, 13, 11, 11, 11, 123)));
  assert.equal(ts('<13>1 2012-04-13T11:11:11 h m'), String(new Date(2012, 3, 13, 11, 11, 11).getTime()));
  // logger(1) sends microseconds with an offset
  assert.equal(
    ts('<13>1 2026-11-23T13:28:13.361245+00:00 vm mytag - - [timeQuality tzKnown="1"] hello'),
    String(Date.UTC(2026, 10, 23, 13, 28, 13, 361)),
  );
});

test('classic RFC 5424 nil fields: "-" timestamp and host leave the headers out; version is optional', () => {
  const r = classic('<13>1 - - app - - - hi');
  assert.deepEqual(r.h, { Facility: '1', Severity: '5', priority: '13', version: '1' });
  assert.equal(r.body, 'app - - - hi');
  const nov = classic('<13>2020-01-01T00:00:00Z host body');
  assert.equal(nov.h.version, undefined);
  assert.equal(nov.h.host, 'host');
  assert.equal(nov.body, 'body');
});

test('classic: structured data, UTF-8 BOM and NUL bytes stay in the body byte for byte', () => {
  const msg = Buffer.concat([
    Buffer.from(
      '<165>1 2003-10-11T22:14:15.003Z host evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="App"] ',
      'latin1',
    ),
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from('An app\u0000event \xff', 'latin1'),
  ]);
  const r = classic(msg);
  assert.equal(r.h.Facility, '20');
  assert.equal(r.h.Severity, '5');
  const expected = msg.subarray(msg.indexOf('evntslog'));
  assert.deepEqual(r.raw, expected);
});

// ------------------------------------------------------------------------------------------- classic: RFC 3164

test('classic RFC 3164: one- and two-digit days, year from the clock, host, MSG body', () => {
  const r = classic('<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!');
  assert.deepEqual(r.h, {
    Facility: '1',
    Severity: '5',
    priority: '13',
    timestamp: String(new Date(2024, 1, 5, 17, 32, 18).getTime()),
    host: '10.0.0.99',
  });
  assert.equal(r.body, 'Use the BFG!');
  const r2 = classic('<13>Nov 23 13:28:13 vm mytag: hello 3164');
  assert.equal(r2.h.host, 'vm');
  assert.equal(r2.body, 'mytag: hello 3164');
});

test('classic RFC 3164 year guess: more than a month ahead is last year, more than 11 months back is next year', () => {
  const jan1 = Date.UTC(2025, 0, 1, 0, 30);
  // Dec 31 seen on Jan 1: last year
  assert.equal(parseRfc3164Date('Dec 31 23:59:59', jan1, true), Date.UTC(2024, 11, 31, 23, 59, 59));
  // Jan 2 seen on Jan 1: this year (ahead by less than a month)
  assert.equal(parseRfc3164Date('Jan  2 00:00:00', jan1, true), Date.UTC(2025, 0, 2));
  const dec31 = Date.UTC(2024, 11, 31, 23, 0);
  // Jan 1 seen on Dec 31: clocks disagree, it is next year's
  assert.equal(parseRfc3164Date('Jan  1 00:10:00', dec31, true), Date.UTC(2025, 0, 1, 0, 10));
  assert.equal(parseRfc3164Date('Foo  1 00:10:00', dec31, true), undefined);
});

test('classic: bad PRI gives Facility/Severity 0, status Invalid and the raw line', () => {
  for (const line of ['hello world', '<>hi', '<1234>Feb  5 17:32:18 h m', '<1a>x', '<13']) {
    const r = classic(line);
    assert.deepEqual(r.h, { Facility: '0', Severity: '0', [STATUS_HEADER]: 'Invalid' }, line);
    assert.equal(r.body, line);
  }
});

test('classic: good PRI but neither format gives Facility/Severity and the raw line, no status (as Flume)', () => {
  const r = classic('<13>this is not a syslog header');
  assert.deepEqual(r.h, { Facility: '1', Severity: '5' });
  assert.equal(r.body, '<13>this is not a syslog header');
  // host with a colon (IPv6) does not match Flume's host pattern either
  assert.equal(classic('<13>Feb  5 17:32:18 ::1 m').body, '<13>Feb  5 17:32:18 ::1 m');
});

test('classic: incomplete messages are parsed as they are and flagged Incomplete', () => {
  const r = classic('<13>Feb  5 17:32:18 host trunc', 'none', true);
  assert.equal(r.h[STATUS_HEADER], 'Incomplete');
  assert.equal(r.body, 'trunc');
});

test('classic keepFields: all keeps the line; a list prepends <PRI>version timestamp hostname in that order', () => {
  const line = '<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 - msg';
  assert.equal(classic(line, 'all').body, line);
  assert.equal(classic(line, 'true').body, line);
  assert.equal(classic(line, 'hostname').body, 'mymachine su - ID47 - msg');
  assert.equal(
    classic(line, 'priority version timestamp hostname').body,
    `<34>1 2003-10-11T22:14:15.003Z mymachine su - ID47 - msg`,
  );
  assert.equal(classic(line, 'timestamp priority').body, '<34>2003-10-11T22:14:15.003Z su - ID47 - msg');
  // nil fields are written as "-" (Flume writes "null")
  assert.equal(classic('<13>1 - - m', 'timestamp hostname').body, '- - m');
  const r3164 = classic('<13>Feb  5 17:32:18 host msg', 'priority version timestamp hostname');
  assert.equal(r3164.body, '<13>Feb  5 17:32:18 host msg');
});

test('keepFields option: Flume spellings, unknown words are an error', () => {
  assert.equal(parseKeepFields('none').all, false);
  assert.equal(parseKeepFields('FALSE'), KEEP_NONE);
  assert.equal(parseKeepFields('All').all, true);
  assert.equal(parseKeepFields('priority,hostname').hostname, true);
  assert.throws(() => parseKeepFields('priority host'), OptionError);
});

// ------------------------------------------------------------------------------------------- multiport (SyslogParser)

test('multiport: capitalised Priority/Version, host up to the next space, RFC 5424 in UTC', () => {
  const r = multi('<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - msg');
  assert.deepEqual(r.h, {
    Priority: '34',
    Facility: '4',
    Severity: '2',
    Version: '1',
    timestamp: String(Date.UTC(2003, 9, 11, 22, 14, 15, 3)),
    host: 'mymachine.example.com',
  });
  assert.equal(r.body, 'su - ID47 - msg');
  assert.equal(multi('<13>1 2012-04-13T11:11:11 h m').h.timestamp, String(Date.UTC(2012, 3, 13, 11, 11, 11)));
});

test('multiport: "-" timestamp is now; RFC 3164 parsed as UTC; keepFields', () => {
  assert.equal(multi('<13>1 - host msg').h.timestamp, String(NOW));
  const r = multi('<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!');
  assert.equal(r.h.timestamp, String(Date.UTC(2024, 1, 5, 17, 32, 18)));
  assert.equal(r.h.host, '10.0.0.99');
  assert.equal(r.body, 'Use the BFG!');
  assert.equal(multi('<13>Feb  5 17:32:18 host msg', 'priority hostname').body, '<13>host msg');
  assert.equal(multi('<13>Feb  5 17:32:18 host msg', 'all').body, '<13>Feb  5 17:32:18 host msg');
  // no message part: the whole line is the body
  assert.equal(multi('<13>Feb  5 17:32:18 host ').body, '<13>Feb  5 17:32:18 host ');
});

test('multiport: anything unparseable is the raw line with status Invalid and no other header', () => {
  for (const line of [
    'garbage',
    '<13>',
    '<abc>1 - h m',
    '<13>1 2003-13-45T99:00:00Z h m',
    '<13>1 nodate',
    '<13>Feb  5 17:32',
  ]) {
    const r = multi(line);
    assert.deepEqual(r.h, { [STATUS_HEADER]: 'Invalid' }, line);
    assert.equal(r.body, line);
  }
});

test('multiport: bytes invalid in the port charset are Invalid (Java decoders report them); latin1 accepts any byte', () => {
  const bad = Buffer.concat([Buffer.from('<13>1 - host '), Buffer.from([0xc3, 0x28])]);
  assert.equal(multi(bad).h[STATUS_HEADER], 'Invalid');
  assert.deepEqual(multi(bad).raw, bad);
  const latin = multi(bad, 'none', false, multiportCharset('iso-8859-1'));
  assert.equal(latin.h[STATUS_HEADER], undefined);
  assert.deepEqual(latin.raw, Buffer.from([0xc3, 0x28]));
  assert.equal(
    multi(Buffer.from('<13>1 - h \u00e9', 'utf8'), 'none', false, multiportCharset('us-ascii')).h[STATUS_HEADER],
    'Invalid',
  );
});

test('multiport: incomplete flag and extra headers; header objects are null-prototype', () => {
  const extra = JSON.parse('{"port":"5140","__proto__":"x"}') as Record<string, string>;
  const r = parseMultiport(Buffer.from('<13>1 - host cut'), true, KEEP_NONE, NOW, utf8, extra);
  assert.equal(r.headers[STATUS_HEADER], 'Incomplete');
  assert.equal(r.headers.port, '5140');
  assert.equal(Object.getPrototypeOf(r.headers), null);
  assert.equal(Object.getOwnPropertyDescriptor(r.headers, '__proto__')?.value, 'x');
});

test('RFC 5424 date parsing: strict rejects impossible dates, lenient rolls them over like SimpleDateFormat', () => {
  assert.equal(parseRfc5424Date('2023-02-30T00:00:00Z', false, true), undefined);
  assert.equal(parseRfc5424Date('2023-02-30T00:00:00Z', false, false), Date.UTC(2023, 2, 2));
  assert.equal(parseRfc5424Date('not a date', false, false), undefined);
});
