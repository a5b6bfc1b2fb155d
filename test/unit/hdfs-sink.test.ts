/**
 * The hdfs sink on local disk: Flume's BucketWriter naming and rolls (TestBucketWriter / TestHDFSEventSink cases),
 * escapes per event, in-use names, codecs read back by `gzip -d`, serializers, maxOpenFiles, timers, exact naming,
 * crash recovery from the open-files journal, a failed write cut back, the missing-timestamp fallback, and header
 * values that try to climb out of hdfs.path.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import hdfs, { HdfsSink } from '../../src/sinks/hdfs/index.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { sinkCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import type { Clock } from '../../src/core/clock.js';
import { AgentError } from '../../src/core/errors.js';
import { LocalFileSystem } from '../../src/sinks/hdfs/fs/local.js';
import type { HdfsFile, HdfsFileSystem } from '../../src/sinks/hdfs/fs/port.js';
import { optionsFor } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'hdfs-sink-'));
  dirs.push(d);
  return d;
}

const BASE_MS = Date.UTC(2024, 4, 1, 10, 0, 0);
const fixedClock = (ms = BASE_MS): Clock => ({ nowMs: () => ms, monotonicMs: () => performance.now() });
const signal = new AbortController().signal;

function sink(props: Record<string, string>, o: { clock?: Clock; dir?: string; fs?: HdfsFileSystem } = {}) {
  const counters = sinkCounters('k1');
  const s = new HdfsSink(
    optionsFor(hdfs, { 'hdfs.fileType': 'DataStream', ...props }),
    { name: 'k1', logger: silentLogger(), clock: o.clock ?? fixedClock(), counters, agentDir: o.dir ?? tmp() },
    o.fs,
  );
  return { s, counters };
}

const ev = (body: string, headers: Record<string, string> = {}): FlumeEvent => makeEvent(body, headers);
const lines = (n: number, from = 0) => Array.from({ length: n }, (_, i) => ev(`line ${from + i}`));

/** Every file under `dir`, relative, sorted, with its content. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p, 'latin1');
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

test("Flume's names: prefix.<creation ms + n>, in-use .tmp until rolled by count, then renamed", async () => {
  const out = tmp();
  const { s, counters } = sink({ 'hdfs.path': out, 'hdfs.filePrefix': 'events', 'hdfs.rollCount': '3' });
  await s.start();
  await s.deliver(lines(7), signal);
  assert.deepEqual(tree(out), {
    [`events.${BASE_MS + 1}`]: 'line 0\nline 1\nline 2\n',
    [`events.${BASE_MS + 2}`]: 'line 3\nline 4\nline 5\n',
    [`events.${BASE_MS + 3}.tmp`]: 'line 6\n',
  });
  await s.deliver(lines(2, 7), signal);
  assert.deepEqual(Object.keys(tree(out)), [`events.${BASE_MS + 1}`, `events.${BASE_MS + 2}`, `events.${BASE_MS + 3}`]);
  await s.close();
  assert.equal(counters.get('ConnectionCreatedCount'), 3);
  assert.equal(counters.get('ConnectionClosedCount'), 3);
});

test('escapes per event: time buckets from the timestamp header, a header directory, rounding and a zone', async () => {
  const out = tmp();
  const { s } = sink({
    'hdfs.path': `file://${out}/%{app}/%Y-%m-%d/%H`,
    'hdfs.filePrefix': 'ev-%M',
    'hdfs.round': 'true',
    'hdfs.roundUnit': 'minute',
    'hdfs.roundValue': '15',
    'hdfs.timeZone': 'Asia/Tokyo',
    'hdfs.rollCount': '0',
    'hdfs.rollSize': '0',
  });
  await s.start();
  const t1 = String(Date.UTC(2024, 4, 1, 14, 20)); // 23:20 Tokyo -> 23:15
  const t2 = String(Date.UTC(2024, 4, 1, 15, 5)); // 00:05 next day -> 00:00
  await s.deliver(
    [
      ev('a', { timestamp: t1, app: 'web' }),
      ev('b', { timestamp: t1, app: 'web' }),
      ev('c', { timestamp: t2, app: 'web' }),
      ev('d', { timestamp: t1, app: 'db' }),
    ],
    signal,
  );
  await s.close();
  assert.deepEqual(tree(out), {
    [`db/2024-05-01/23/ev-15.${BASE_MS + 1}`]: 'd\n',
    [`web/2024-05-01/23/ev-15.${BASE_MS + 1}`]: 'a\nb\n',
    [`web/2024-05-02/00/ev-00.${BASE_MS + 1}`]: 'c\n',
  });
});

test('rollSize counts body bytes only (no newline), and a full file is closed right after its batch', async () => {
  const out = tmp();
  const { s } = sink({ 'hdfs.path': out, 'hdfs.rollSize': '10', 'hdfs.rollCount': '0' });
  await s.start();
  await s.deliver([ev('12345'), ev('1234'), ev('1'), ev('abc')], signal);
  // 5 + 4 = 9 < 10, + 1 = 10 -> full: 'abc' opens the next file; the full file is renamed at once
  assert.deepEqual(tree(out), {
    [`FlumeData.${BASE_MS + 1}`]: '12345\n1234\n1\n',
    [`FlumeData.${BASE_MS + 2}.tmp`]: 'abc\n',
  });
  await s.close();
});

test('in-use prefix and suffix, emptyInUseSuffix, and a fileSuffix with no dot added', async () => {
  const out = tmp();
  const a = sink({
    'hdfs.path': out,
    'hdfs.inUsePrefix': '.',
    'hdfs.inUseSuffix': '.writing',
    'hdfs.fileSuffix': '.log',
  });
  await a.s.start();
  await a.s.deliver([ev('x')], signal);
  assert.deepEqual(Object.keys(tree(out)), [`.FlumeData.${BASE_MS + 1}.log.writing`]);
  await a.s.close();
  assert.deepEqual(Object.keys(tree(out)), [`FlumeData.${BASE_MS + 1}.log`]);
  const out2 = tmp();
  const b = sink({ 'hdfs.path': out2, 'hdfs.emptyInUseSuffix': 'true', 'hdfs.filePrefix': 'p' });
  await b.s.start();
  await b.s.deliver([ev('y')], signal);
  assert.deepEqual(Object.keys(tree(out2)), [`p.${BASE_MS + 1}`]);
  await b.s.close();
  assert.deepEqual(tree(out2), { [`p.${BASE_MS + 1}`]: 'y\n' });
});

test('CompressedStream gzip: .gz names, one member per batch, `gzip -d` reads every file', async () => {
  const out = tmp();
  const { s } = sink({
    'hdfs.path': out,
    'hdfs.fileType': 'CompressedStream',
    'hdfs.codeC': 'GzipCodec',
    'hdfs.rollCount': '5',
  });
  await s.start();
  for (let b = 0; b < 4; b++) await s.deliver(lines(3, b * 3), signal);
  await s.close();
  const files = Object.keys(tree(out));
  assert.deepEqual(
    files,
    [1, 2, 3].map((n) => `FlumeData.${BASE_MS + n}.gz`),
  );
  let all = '';
  for (const f of files) all += execFileSync('gzip', ['-dc', path.join(out, f)], { encoding: 'utf8' });
  assert.equal(
    all,
    lines(12)
      .map((e) => `${e.body.toString()}\n`)
      .join(''),
  );
  // the first file holds two gzip members (a batch of 3, then 2 of the next batch)
  assert.equal(
    zlib.gunzipSync(fs.readFileSync(path.join(out, files[0]!))).toString(),
    'line 0\nline 1\nline 2\nline 3\nline 4\n',
  );
});

test('CompressedStream deflate (DefaultCodec) writes .deflate zlib streams', async () => {
  const out = tmp();
  const { s } = sink({ 'hdfs.path': out, 'hdfs.fileType': 'CompressedStream', 'hdfs.codeC': 'default' });
  await s.start();
  await s.deliver(lines(2), signal);
  await s.close();
  const [f] = Object.keys(tree(out));
  assert.equal(f, `FlumeData.${BASE_MS + 1}.deflate`);
  assert.equal(zlib.inflateSync(fs.readFileSync(path.join(out, f!))).toString(), 'line 0\nline 1\n');
});

test('serializers: header_and_text with appendNewline = false; avro_event writes a container file', async () => {
  const out = tmp();
  const a = sink({
    'hdfs.path': out,
    serializer: 'header_and_text',
    'serializer.appendNewline': 'false',
    'hdfs.filePrefix': 'h',
  });
  await a.s.start();
  await a.s.deliver([ev('body', { k: 'v' })], signal);
  await a.s.close();
  assert.deepEqual(tree(out), { [`h.${BASE_MS + 1}`]: '{k=v} body' });
  const out2 = tmp();
  const b = sink({ 'hdfs.path': out2, serializer: 'avro_event', 'hdfs.rollCount': '0' });
  await b.s.start();
  await b.s.deliver(lines(2), signal);
  await b.s.deliver(lines(2), signal);
  await b.s.close();
  const data = fs.readFileSync(path.join(out2, `FlumeData.${BASE_MS + 1}`));
  assert.equal(data.subarray(0, 4).toString('latin1'), 'Obj\u0001');
  assert.equal(data.indexOf('Obj\u0001', 1), -1, 'one container header per file');
});

test('maxOpenFiles closes the least recently written bucket', async () => {
  const out = tmp();
  const { s } = sink({ 'hdfs.path': `${out}/%{b}`, 'hdfs.maxOpenFiles': '2', 'hdfs.rollCount': '0' });
  await s.start();
  await s.deliver([ev('1', { b: 'a' }), ev('2', { b: 'b' })], signal);
  await s.deliver([ev('3', { b: 'a' })], signal);
  await s.deliver([ev('4', { b: 'c' })], signal); // b is the eldest now
  assert.deepEqual(Object.keys(tree(out)), [
    `a/FlumeData.${BASE_MS + 1}.tmp`,
    `b/FlumeData.${BASE_MS + 1}`,
    `c/FlumeData.${BASE_MS + 1}.tmp`,
  ]);
  assert.deepEqual([...s.openWriters.keys()], [`${out}/a/FlumeData`, `${out}/c/FlumeData`]);
  await s.close();
});

test('rollInterval and idleTimeout close files on their own; the next event starts a new writer', async () => {
  const out = tmp();
  let now = BASE_MS;
  const clock: Clock = { nowMs: () => now, monotonicMs: () => performance.now() };
  const a = sink({ 'hdfs.path': `${out}/i`, 'hdfs.rollInterval': '150ms', 'hdfs.rollCount': '0' }, { clock });
  const b = sink(
    { 'hdfs.path': `${out}/d`, 'hdfs.idleTimeout': '150ms', 'hdfs.rollCount': '0', 'hdfs.rollInterval': '0' },
    { clock },
  );
  await a.s.start();
  await b.s.start();
  await a.s.deliver([ev('x')], signal);
  await b.s.deliver([ev('y')], signal);
  await waitFor(
    () => Object.keys(tree(out)).every((f) => !f.endsWith('.tmp')),
    5000,
    'both files closed by their timers',
  );
  assert.equal(a.s.openWriters.size, 0);
  now += 5000;
  await a.s.deliver([ev('z')], signal);
  assert.deepEqual(Object.keys(tree(`${out}/i`)), [`FlumeData.${BASE_MS + 1}`, `FlumeData.${BASE_MS + 5001}.tmp`]);
  await a.s.close();
  await b.s.close();
});

test('fileNaming = exact: <prefix><suffix> written in place and appended to across restarts', async () => {
  const out = tmp();
  fs.mkdirSync(path.join(out, 'web1'));
  fs.writeFileSync(path.join(out, 'web1', 'app.log'), 'old\n');
  const props = {
    'hdfs.path': `${out}/%{host}`,
    'hdfs.filePrefix': '%{basename}',
    'hdfs.fileNaming': 'exact',
    'hdfs.rollCount': '2',
  };
  const a = sink(props);
  await a.s.start();
  await a.s.deliver(
    [
      ev('1', { host: 'web1', basename: 'app.log' }),
      ev('2', { host: 'web1', basename: 'app.log' }),
      ev('3', { host: 'web1', basename: 'app.log' }),
      ev('e', { host: 'web1', basename: 'err.log' }),
    ],
    signal,
  );
  await a.s.close();
  const b = sink(props);
  await b.s.start();
  await b.s.deliver([ev('4', { host: 'web1', basename: 'app.log' })], signal);
  await b.s.close();
  assert.deepEqual(tree(out), { 'web1/app.log': 'old\n1\n2\n3\n4\n', 'web1/err.log': 'e\n' });
});

test('in-use files left by a crash are renamed at the next start (only those this sink opened)', async () => {
  const out = tmp();
  const agentDir = tmp();
  fs.writeFileSync(path.join(out, 'other.123.tmp'), 'not ours\n');
  const a = sink({ 'hdfs.path': out, 'hdfs.rollCount': '0' }, { dir: agentDir });
  await a.s.start();
  await a.s.deliver(lines(3), signal);
  a.s.destroy(); // no rename: as if the process died
  assert.deepEqual(Object.keys(tree(out)), [`FlumeData.${BASE_MS + 1}.tmp`, 'other.123.tmp']);
  const b = sink({ 'hdfs.path': out, 'hdfs.rollCount': '0' }, { dir: agentDir, clock: fixedClock(BASE_MS + 10) });
  await b.s.start();
  assert.deepEqual(tree(out), {
    [`FlumeData.${BASE_MS + 1}`]: 'line 0\nline 1\nline 2\n',
    'other.123.tmp': 'not ours\n',
  });
  await b.s.close();
  assert.equal(fs.readFileSync(path.join(agentDir, '.flume-ts', 'hdfs', 'k1.open-files'), 'utf8'), '');
});

/** Local disk whose writes fail while `failing` is set and the path contains `match`. */
class FlakyFs extends LocalFileSystem {
  failing = false;
  constructor(private readonly match: string) {
    super(0o640);
  }
  override async create(p: string): Promise<HdfsFile | undefined> {
    const f = await super.create(p);
    if (!f) return f;
    const write = f.write.bind(f);
    f.write = async (data: Buffer) => {
      if (this.failing && p.includes(this.match)) {
        await write(data.subarray(0, 3)); // a torn write
        throw new AgentError('FLUME_ERR_HDFS_IO', 'disk full (test)');
      }
      return write(data);
    };
    return f;
  }
}

test('a failed write cuts every file of the batch back, so the retried batch adds no duplicates', async () => {
  const out = tmp();
  const flaky = new FlakyFs('/b/');
  const { s, counters } = sink({ 'hdfs.path': `${out}/%{d}`, 'hdfs.rollCount': '0' }, { fs: flaky });
  await s.start();
  await s.deliver([ev('a1', { d: 'a' }), ev('b1', { d: 'b' })], signal);
  flaky.failing = true;
  const batch = [ev('a2', { d: 'a' }), ev('b2', { d: 'b' })];
  await assert.rejects(s.deliver(batch, signal), (e: unknown) => e instanceof AgentError && e.retriable);
  flaky.failing = false;
  await s.deliver(batch, signal);
  await s.close();
  const t = tree(out);
  assert.deepEqual(Object.values(t).sort(), ['a1\n', 'a2\n', 'b1\n', 'b2\n']);
  assert.equal(counters.get('ConnectionFailedCount'), 1);
});

test('a missing or non-numeric timestamp uses the write time and is counted (Flume blocks forever)', async () => {
  const out = tmp();
  const { s, counters } = sink({ 'hdfs.path': `${out}/%Y%m%d`, 'hdfs.timeZone': 'UTC' });
  await s.start();
  await s.deliver([ev('no ts'), ev('bad ts', { timestamp: 'yesterday' }), ev('ok', { timestamp: '0' })], signal);
  await s.close();
  assert.equal(counters.get('TimestampFallbackCount'), 2);
  assert.deepEqual(
    Object.keys(tree(out)).map((f) => f.split('/')[0]),
    ['19700101', '20240501'],
  );
});

test('header values cannot climb out of hdfs.path', async () => {
  const out = tmp();
  const { s } = sink({ 'hdfs.path': `${out}/data/%{x}`, 'hdfs.filePrefix': '%{y}', 'hdfs.fileNaming': 'exact' });
  await s.start();
  await s.deliver([ev('evil', { x: '../../etc', y: '../passwd' })], signal);
  await s.close();
  assert.deepEqual(Object.keys(tree(out)), ['data/_/_/etc/_/passwd']);
});

test('validation: every mistake at once, with the fix in the hint', async () => {
  const { configFromText } = await import('../../src/config/load.js');
  const { formatIssues } = await import('../../src/config/issues.js');
  const conf = (sinkLines: string[]) =>
    [
      'a1.sources = r1',
      'a1.channels = c1',
      'a1.sinks = k1',
      'a1.sources.r1.type = seq',
      'a1.sources.r1.channels = c1',
      'a1.channels.c1.type = memory',
      'a1.sinks.k1.type = hdfs',
      'a1.sinks.k1.channel = c1',
      ...sinkLines.map((l) => `a1.sinks.k1.${l}`),
    ].join('\n');
  const issues = (lines: string[]) => {
    const r = configFromText(conf(lines), { agent: 'a1', sys: {}, env: {} });
    return { ok: r.plan !== undefined, text: formatIssues(r.issues) };
  };
  // the published Flume example without hdfs.fileType: SequenceFile is the default there
  const noType = issues(['hdfs.path = /flume/events/%y-%m-%d/%H%M/%S', 'hdfs.filePrefix = events-']);
  assert.equal(noType.ok, false);
  assert.match(noType.text, /hdfs\.fileType is not set.*SequenceFile.*\n.*hdfs\.fileType = DataStream/);
  const r = issues([
    'hdfs.path = hdfs://namenode:8020/flume/%Q',
    'hdfs.fileType = SequenceFile',
    'hdfs.codeC = bzip2',
    'hdfs.kerberosPrincipal = flume/_HOST@EXAMPLE.COM',
    'hdfs.timeZone = Nowhere/Land',
    'hdfs.rollIntervall = 30',
  ]);
  assert.equal(r.ok, false);
  for (const want of [
    /hdfs\.path.*hdfs:\/\/ needs Java's Hadoop client.*\n.*webhdfs:\/\/namenode:9870\/flume\/%Q/,
    /hdfs\.fileType.*SequenceFile is not supported/,
    /hdfs\.codeC.*'bzip2' is not supported.*\n.*gzip, deflate/,
    /hdfs\.kerberosPrincipal.*Kerberos is not supported/,
    /hdfs\.timeZone.*unknown time zone/,
    /hdfs\.rollIntervall.*\n.*did you mean 'hdfs\.rollInterval'/,
  ])
    assert.match(r.text, want);
  const combos = issues([
    'hdfs.path = /data/%{host}',
    'hdfs.fileType = DataStream',
    'hdfs.codeC = gzip',
    'serializer = avro_event',
    'hdfs.fileNaming = exact',
    'hdfs.proxyUser = etl',
  ]);
  assert.match(combos.text, /hdfs\.codeC has no effect with hdfs\.fileType = DataStream/);
  assert.match(combos.text, /avro_event container file cannot be appended/);
  assert.match(combos.text, /hdfs\.proxyUser applies to webhdfs/);
  const cs = issues(['hdfs.path = webhdfs://nn:9870/x', 'hdfs.fileType = CompressedStream', 'hdfs.path2 = x']);
  assert.match(cs.text, /CompressedStream needs hdfs\.codeC/);
  assert.equal(
    issues(['hdfs.path = relative/dir', 'hdfs.fileType = DataStream']).text.includes('not an absolute path'),
    true,
  );
  const good = issues([
    'hdfs.path = swebhdfs://nn1:9871/logs/%Y/%m/%d',
    'hdfs.namenodes = nn1:9871 nn2:9871',
    'hdfs.fileType = CompressedStream',
    'hdfs.codeC = org.apache.hadoop.io.compress.GzipCodec',
    'hdfs.writeFormat = Text',
  ]);
  assert.equal(good.ok, true, good.text);
  assert.match(good.text, /hdfs\.writeFormat/, 'an ignored key is a warning naming it');
});
