import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import timestamp from '../../src/interceptors/timestamp.js';
import host, { localAddress } from '../../src/interceptors/host.js';
import staticIc from '../../src/interceptors/static.js';
import removeHeader from '../../src/interceptors/remove-header.js';
import uuid from '../../src/interceptors/uuid.js';
import searchReplace from '../../src/interceptors/search-replace.js';
import regexFilter, { RegexFilterInterceptor } from '../../src/interceptors/regex-filter.js';
import regexExtractor, { RegexExtractorInterceptor } from '../../src/interceptors/regex-extractor.js';
import { JodaPattern } from '../../src/compat/java/joda-time.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { componentOptions } from '../../src/config/validate/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { optionsFor } from '../helpers/agent.js';
import type { InterceptorDef, Interceptor } from '../../src/contract/index.js';
import { findDef } from '../../src/registry/lookup.js';

function ic(def: InterceptorDef<any>, props: Record<string, string> = {}): Interceptor {
  return def.create(optionsFor(def, props), { name: 'i1', logger: silentLogger() });
}
const ev = (body: string, h?: Record<string, string>) => makeEvent(body, h);
const hdr = (e: FlumeEvent) => ({ ...e.headers });
/** Runs an interceptor and checks it did not touch its input. */
function run(i: Interceptor, events: FlumeEvent[]): FlumeEvent[] {
  const before = events.map((e) => JSON.stringify({ h: { ...e.headers }, b: e.body.toString('base64') }));
  const out = i.intercept(events);
  assert.deepEqual(
    events.map((e) => JSON.stringify({ h: { ...e.headers }, b: e.body.toString('base64') })),
    before,
    'input events were mutated',
  );
  return out;
}
function issuesOf(def: InterceptorDef<any>, props: Record<string, string>): string[] {
  return componentOptions(def, props)
    .issues.filter((i) => i.severity === 'error')
    .map((i) => `${i.message}${i.hint ? ` (${i.hint})` : ''}`);
}

test('Flume Builder class names resolve to our interceptors', () => {
  for (const [cls, type] of [
    ['org.apache.flume.interceptor.TimestampInterceptor$Builder', 'timestamp'],
    ['org.apache.flume.interceptor.HostInterceptor$Builder', 'host'],
    ['org.apache.flume.interceptor.StaticInterceptor$Builder', 'static'],
    ['org.apache.flume.interceptor.RemoveHeaderInterceptor$Builder', 'remove_header'],
    ['org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder', 'uuid'],
    ['org.apache.flume.interceptor.SearchAndReplaceInterceptor$Builder', 'search_replace'],
    ['org.apache.flume.interceptor.RegexFilteringInterceptor$Builder', 'regex_filter'],
    ['org.apache.flume.interceptor.RegexExtractorInterceptor$Builder', 'regex_extractor'],
  ])
    assert.equal(findDef('interceptor', cls!)?.type, type);
  assert.equal(findDef('interceptor', 'REGEX_FILTER')?.type, 'regex_filter');
});

// --- timestamp (TestTimestampInterceptor)

test('timestamp: sets epoch ms, overwrites unless preserveExisting, custom header name', () => {
  const t0 = Date.now();
  const [e] = run(ic(timestamp), [ev('a', { timestamp: '1' })]);
  const ts = Number(e!.headers.timestamp);
  assert.ok(ts >= t0 && ts <= Date.now(), `timestamp ${ts}`);
  const [p] = run(ic(timestamp, { preserveExisting: 'true' }), [ev('a', { timestamp: '1' })]);
  assert.equal(p!.headers.timestamp, '1');
  const [c] = run(ic(timestamp, { headerName: 'ts' }), [ev('a')]);
  assert.ok(Number(c!.headers.ts) >= t0);
  assert.equal(c!.headers.timestamp, undefined);
  assert.match(issuesOf(timestamp, { header: 'x' })[0]!, /unknown property 'header'/);
});

// --- host (TestHostInterceptor)

test('host: IP by default, host name with useIP=false, preserveExisting, custom header', () => {
  const [e] = run(ic(host), [ev('a')]);
  assert.equal(e!.headers.host, localAddress());
  assert.match(e!.headers.host!, /^[\d.]+$|:/);
  const [n] = run(ic(host, { useIP: 'false', hostHeader: 'hostname' }), [ev('a')]);
  assert.equal(n!.headers.hostname, os.hostname());
  const [p] = run(ic(host, { preserveExisting: 'true' }), [ev('a', { host: 'keep' })]);
  assert.equal(p!.headers.host, 'keep');
  const [o] = run(ic(host), [ev('a', { host: 'old' })]);
  assert.notEqual(o!.headers.host, 'old');
});

// --- static (TestStaticInterceptor)

test('static: default key/value, preserveExisting defaults to true, can overwrite', () => {
  assert.deepEqual(hdr(run(ic(staticIc), [ev('a')])[0]!), { key: 'value' });
  assert.deepEqual(hdr(run(ic(staticIc, { key: 'env', value: 'prod' }), [ev('a', { env: 'dev' })])[0]!), {
    env: 'dev',
  });
  assert.deepEqual(
    hdr(run(ic(staticIc, { key: 'env', value: 'prod', preserveExisting: 'false' }), [ev('a', { env: 'dev' })])[0]!),
    { env: 'prod' },
  );
  assert.deepEqual(hdr(run(ic(staticIc, { key: 'e', value: '' }), [ev('a')])[0]!), { e: '' });
});

// --- remove_header (RemoveHeaderInterceptorTest)

const H = {
  Subject: 'x',
  'my-connection-id': '1',
  'my-connection-type': 't',
  from: 'a',
  to: 'b',
  cc: 'c',
  DATE: 'd',
  xyz: 'z',
};

test('remove_header: by name, from a list (default and custom separator), by full-match regex', () => {
  assert.deepEqual(
    Object.keys(run(ic(removeHeader, { withName: 'Subject' }), [ev('a', H)])[0]!.headers).sort(),
    Object.keys(H)
      .filter((k) => k !== 'Subject')
      .sort(),
  );
  assert.deepEqual(Object.keys(run(ic(removeHeader, { fromList: 'from , to,cc' }), [ev('a', H)])[0]!.headers).sort(), [
    'DATE',
    'Subject',
    'my-connection-id',
    'my-connection-type',
    'xyz',
  ]);
  assert.deepEqual(
    Object.keys(
      run(ic(removeHeader, { fromList: 'from:to|cc', fromListSeparator: '[:|]' }), [ev('a', H)])[0]!.headers,
    ).sort(),
    ['DATE', 'Subject', 'my-connection-id', 'my-connection-type', 'xyz'],
  );
  assert.deepEqual(
    Object.keys(run(ic(removeHeader, { matching: 'my-connection.*' }), [ev('a', H)])[0]!.headers).sort(),
    ['DATE', 'Subject', 'cc', 'from', 'to', 'xyz'],
  );
  assert.deepEqual(
    Object.keys(run(ic(removeHeader, { matching: 'connection' }), [ev('a', H)])[0]!.headers).length,
    8,
    'matching must match the whole name',
  );
  assert.deepEqual(
    Object.keys(
      run(ic(removeHeader, { withName: 'Subject', fromList: 'from', matching: '(?i)date' }), [ev('a', H)])[0]!.headers,
    ).sort(),
    ['cc', 'my-connection-id', 'my-connection-type', 'to', 'xyz'],
  );
  const same = ev('a', H);
  assert.equal(run(ic(removeHeader), [same])[0], same, 'nothing configured: no-op');
  assert.match(issuesOf(removeHeader, { matching: 'a\\G' })[0]!, /\\G .* no JavaScript equivalent/);
});

// --- uuid

test('uuid: random v4 id, preserveExisting (default true), prefix', () => {
  const out = run(ic(uuid), [ev('a'), ev('b')]);
  assert.match(out[0]!.headers.id!, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.notEqual(out[0]!.headers.id, out[1]!.headers.id);
  assert.equal(run(ic(uuid), [ev('a', { id: 'mine' })])[0]!.headers.id, 'mine');
  assert.notEqual(run(ic(uuid, { preserveExisting: 'false' }), [ev('a', { id: 'mine' })])[0]!.headers.id, 'mine');
  assert.match(
    run(ic(uuid, { headerName: 'eventId', prefix: 'host1-' }), [ev('a')])[0]!.headers.eventId!,
    /^host1-[0-9a-f-]{36}$/,
  );
});

// --- search_replace (TestSearchAndReplaceInterceptor)

const sr = (props: Record<string, string>, body: string | Buffer) =>
  run(ic(searchReplace, props), [makeEvent(body)])[0]!.body;

test('search_replace: removes, replaces with groups, empty replacement, charsets', () => {
  assert.equal(sr({ searchPattern: '^[A-Za-z0-9_]+', replaceString: '' }, 'flume is great').toString(), ' is great');
  assert.equal(sr({ searchPattern: '\\s+', replaceString: '_' }, 'a  b\t\tc').toString(), 'a_b_c');
  assert.equal(
    sr({ searchPattern: '(\\w+)@(\\w+)', replaceString: '$2 at $1' }, 'user@host, x@y').toString(),
    'host at user, y at x',
  );
  assert.equal(sr({ searchPattern: '(?<n>\\d+)', replaceString: '#${n}\\$' }, 'a1b22').toString(), 'a#1$b#22$');
  assert.equal(
    sr({ searchPattern: 'ü', replaceString: 'ue', charset: 'ISO-8859-1' }, Buffer.from('Müller', 'latin1')).toString(
      'latin1',
    ),
    'Mueller',
  );
  assert.deepEqual(
    sr({ searchPattern: 'b', replaceString: 'c', charset: 'UTF-16BE' }, Buffer.from([0, 0x61, 0, 0x62])),
    Buffer.from([0, 0x61, 0, 0x63]),
  );
  const untouched = makeEvent('nothing here');
  assert.equal(run(ic(searchReplace, { searchPattern: 'zzz' }), [untouched])[0], untouched);
  assert.match(
    issuesOf(searchReplace, { searchPattern: '(a)', replaceString: '$2' })[0]!,
    /refers to group 2, but the regex has 1/,
  );
  assert.match(issuesOf(searchReplace, { searchPattern: 'a', charset: 'EBCDIC' })[0]!, /not a supported charset/);
  // every charset name the other components accept, where flume-ts can encode it (Java's getBytes semantics)
  const euro = sr({ searchPattern: 'x', replaceString: '\u20ac', charset: 'Cp1252' }, Buffer.from('ax'));
  assert.deepEqual(euro, Buffer.from([0x61, 0x80]));
  const u32 = sr({ searchPattern: 'b', replaceString: 'c', charset: 'UTF-32' }, Buffer.from([0, 0, 0, 0x62]));
  assert.deepEqual(u32, Buffer.from([0, 0, 0, 0x63]));
  assert.deepEqual(
    sr({ searchPattern: 'a', charset: 'UTF-16' }, Buffer.from([0xfe, 0xff, 0, 0x61])),
    Buffer.alloc(0),
    'an empty UTF-16 body is empty, as Java writes it (no lone BOM)',
  );
  assert.match(
    issuesOf(searchReplace, { searchPattern: 'a', charset: 'Shift_JIS' })[0]!,
    /not supported by search_replace/,
  );
  assert.match(issuesOf(searchReplace, {})[0]!, /required property 'searchPattern'/);
});

// --- regex_filter (TestRegexFilteringInterceptor)

test('regex_filter: default keeps everything; include and exclude by find()', () => {
  const events = ['INFO start', 'ERROR disk', 'debug x', ''].map((b) => ev(b));
  assert.equal(run(ic(regexFilter), events).length, 4);
  const inc = ic(regexFilter, { regex: 'ERROR|INFO' }) as RegexFilterInterceptor;
  assert.deepEqual(
    run(inc, events).map((e) => e.body.toString()),
    ['INFO start', 'ERROR disk'],
  );
  assert.equal(inc.filtered, 2);
  assert.deepEqual(
    run(ic(regexFilter, { regex: 'ERROR|INFO', excludeEvents: 'true' }), events).map((e) => e.body.toString()),
    ['debug x', ''],
  );
  assert.deepEqual(
    run(ic(regexFilter, { regex: '^\\p{Upper}+ ' }), events).map((e) => e.body.toString()),
    ['INFO start', 'ERROR disk'],
  );
  assert.match(issuesOf(regexFilter, { regex: '(?<=a)\\X' })[0]!, /grapheme/);
});

// --- regex_extractor (TestRegexExtractorInterceptor)

test('regex_extractor: groups to headers in order; first match only; no match leaves the event', () => {
  const i = ic(regexExtractor, {
    regex: '(\\d):(\\d):(\\d)',
    serializers: 's1 s2 s3',
    'serializers.s1.name': 'Num1',
    'serializers.s2.name': 'Num2',
    'serializers.s3.name': 'Num3',
  });
  const [e, f] = run(i, [ev('1:2:3.4:5:6', { Num1: 'old', other: 'x' }), ev('no digits')]);
  assert.deepEqual(hdr(e!), { Num1: '1', Num2: '2', Num3: '3', other: 'x' });
  assert.deepEqual(hdr(f!), {});
  const fewer = ic(regexExtractor, {
    regex: '(\\d):(\\d):(\\d)',
    serializers: 's1 s2',
    'serializers.s1.name': 'A',
    'serializers.s2.name': 'B',
  });
  assert.deepEqual(hdr(run(fewer, [ev('1:2:3')])[0]!), { A: '1', B: '2' }, 'extra groups are ignored');
  const opt = ic(regexExtractor, {
    regex: '(a)?(b)',
    serializers: 's1 s2',
    'serializers.s1.name': 'A',
    'serializers.s2.name': 'B',
  });
  assert.deepEqual(hdr(run(opt, [ev('b')])[0]!), { B: 'b' }, 'a group that did not participate sets nothing');
});

test('regex_extractor: millis serializer (Flume UG example) and bad values', () => {
  const props = {
    regex: '^(?:\\n)?(\\d\\d\\d\\d-\\d\\d-\\d\\d\\s\\d\\d:\\d\\d)',
    serializers: 's1',
    'serializers.s1.type': 'org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer',
    'serializers.s1.name': 'timestamp',
    'serializers.s1.pattern': 'yyyy-MM-dd HH:mm',
  };
  const i = ic(regexExtractor, props) as RegexExtractorInterceptor;
  const [e] = run(i, [ev('2012-10-18 18:47:57,614 some log line')]);
  assert.equal(e!.headers.timestamp, String(new Date(2012, 9, 18, 18, 47).getTime()));
  const [bad] = run(i, [ev('2012-13-45 18:47 nope')]);
  assert.equal(bad!.headers.timestamp, undefined);
  assert.equal(i.failures, 1);
  const dflt = ic(regexExtractor, {
    regex: '(\\w+)',
    serializers: 's',
    'serializers.s.name': 'w',
    'serializers.s.type': 'default',
  });
  assert.equal(run(dflt, [ev('hello world')])[0]!.headers.w, 'hello');
});

test('regex_extractor: serializer configuration errors', () => {
  const base = { regex: '(\\d+)', serializers: 's1' };
  assert.match(issuesOf(regexExtractor, base)[0]!, /serializer 's1' has no name/);
  assert.match(
    issuesOf(regexExtractor, { ...base, 'serializers.s1.name': 'n', 'serializers.s1.type': 'com.acme.Mine' })[0]!,
    /unknown serializer type 'com\.acme\.Mine'/,
  );
  assert.match(
    issuesOf(regexExtractor, { ...base, 'serializers.s1.name': 'n', 'serializers.s1.nmae': 'x' })[0]!,
    /unknown serializer property 'nmae'.*did you mean 'name'/,
  );
  assert.match(
    issuesOf(regexExtractor, { ...base, 'serializers.s1.name': 'n', 'serializers.s2.name': 'x' })[0]!,
    /serializer 's2' has properties but is not listed/,
  );
  assert.match(
    issuesOf(regexExtractor, { ...base, 'serializers.s1.name': 'n', 'serializers.s1.type': 'millis' })[0]!,
    /needs a pattern/,
  );
  assert.match(
    issuesOf(regexExtractor, {
      ...base,
      'serializers.s1.name': 'n',
      'serializers.s1.type': 'millis',
      'serializers.s1.pattern': 'yyyy QQ',
    })[0]!,
    /letter 'Q' is not supported/,
  );
  assert.match(
    issuesOf(regexExtractor, {
      regex: '(\\d+)',
      serializers: 's1 s2',
      'serializers.s1.name': 'a',
      'serializers.s2.name': 'b',
    })[0]!,
    /2 serializers but the regex has 1 group/,
  );
});

test('joda patterns: fields, text months, 12-hour clock, fractions, offsets, strictness', () => {
  const local = (...a: [number, number, number, number?, number?, number?, number?]) =>
    new Date(a[0], a[1] - 1, a[2], a[3] ?? 0, a[4] ?? 0, a[5] ?? 0, a[6] ?? 0).getTime();
  assert.equal(
    new JodaPattern('yyyy-MM-dd HH:mm:ss.SSS').parse('2024-02-29 23:59:58.123'),
    local(2024, 2, 29, 23, 59, 58, 123),
  );
  assert.equal(
    new JodaPattern('dd/MMM/yyyy:HH:mm:ss Z').parse('10/Oct/2000:13:55:36 -0700'),
    Date.UTC(2000, 9, 10, 20, 55, 36),
  );
  assert.equal(
    new JodaPattern("yyyy-MM-dd'T'HH:mm:ssZZ").parse('2020-01-01T00:00:00+01:00'),
    Date.UTC(2019, 11, 31, 23),
  );
  assert.equal(new JodaPattern('MMMM d, yyyy h:mm a').parse('March 5, 2021 1:07 PM'), local(2021, 3, 5, 13, 7));
  assert.equal(new JodaPattern('yyyyMMddHHmm').parse('202403051207'), local(2024, 3, 5, 12, 7));
  assert.equal(new JodaPattern('HH:mm').parse('08:30'), local(2000, 1, 1, 8, 30), 'Joda defaults the year to 2000');
  assert.equal(new JodaPattern('EEE MMM dd HH:mm:ss yyyy').parse('Tue Mar 05 12:07:00 2024'), local(2024, 3, 5, 12, 7));
  assert.equal(new JodaPattern('yyyy-MM-dd').parse('2023-02-29'), undefined, 'no such day');
  assert.equal(new JodaPattern('yyyy-MM-dd').parse('2023-02-01 trailing'), undefined, 'must consume the whole value');
  assert.equal(new JodaPattern('HH:mm').parse('8:3x'), undefined);
});
