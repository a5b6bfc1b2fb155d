/**
 * spooldir with real directories: consume order, completion (rename, delete, tracker_dir), headers, LINE and BLOB
 * deserializers, zero-byte files, decode error policies, a full channel, restart from the committed offset, and
 * files that cannot be consumed cleanly (changed after pickup, reused names) handled without halting.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import spooldir, { SpoolDirectorySource } from '../../src/sources/spooldir/index.js';
import { componentOptions } from '../../src/config/validate/index.js';
import { optionsFor } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import { sourceCounters, type SourceCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { AgentError, ChannelFullError } from '../../src/core/errors.js';
import { DecodeError } from '../../src/sources/spooldir/deserializers.js';
import type { FlumeEvent } from '../../src/core/event.js';
import type { SourceContext } from '../../src/contract/index.js';
import { countEmits } from '../../src/runtime/channel-processor.js';

const dirs: string[] = [];
const sources: SpoolDirectorySource[] = [];
after(async () => {
  for (const s of sources) await s.close().catch(() => undefined);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-'));
  dirs.push(d);
  return d;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Harness {
  ctx: SourceContext;
  events: FlumeEvent[];
  batches: FlumeEvent[][];
  counters: SourceCounters;
  full: number;
  delayMs: number;
  bodies(): string[];
}
function harness(maxBatchSize = 1000): Harness {
  const h: Harness = {
    events: [],
    batches: [],
    full: 0,
    delayMs: 0,
    counters: sourceCounters('r1'),
    bodies: () => h.events.map((e) => e.body.toString('utf8')),
    ctx: undefined as unknown as SourceContext,
  };
  h.ctx = {
    name: 'r1',
    logger: silentLogger(),
    clock: systemClock,
    counters: h.counters,
    maxBatchSize,
    emit: countEmits(async (b) => {
      h.batches.push(b);
      if (h.delayMs) await sleep(h.delayMs);
      if (h.full > 0) {
        h.full--;
        throw new ChannelFullError('test: full');
      }
      h.events.push(...b);
    }, h.counters),
  };
  return h;
}
function source(h: Harness, props: Record<string, string>): SpoolDirectorySource {
  const s = spooldir.create(
    // files written by the tests are complete at once (fileStableTime has its own test)
    optionsFor(spooldir, { pollDelay: '20', maxBackoff: '50', fileStableTime: '0', ...props }),
    h.ctx,
  ) as SpoolDirectorySource;
  sources.push(s);
  return s;
}
/** Writes a file and sets its mtime (seconds ago). */
function put(dir: string, name: string, content: string | Buffer, ageS = 0): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  const t = Date.now() / 1000 - ageS;
  fs.utimesSync(p, t, t);
  return p;
}
const names = (d: string) =>
  fs
    .readdirSync(d)
    .filter((n) => !n.startsWith('.'))
    .sort();

test('options: Flume keys and defaults; AVRO and unknown deserializers are config errors', () => {
  const o = optionsFor(spooldir, { spoolDir: '/var/spool/in' });
  assert.equal(o.fileSuffix, '.COMPLETED');
  assert.equal(o.batchSize, 100);
  assert.equal(o.pollDelay, 500);
  assert.equal(o.maxBackoff, 4000);
  assert.equal(o.deserializer, 'LINE');
  assert.equal(o.badFilePolicy, 'quarantine');
  assert.equal(
    optionsFor(spooldir, {
      spoolDir: '/x',
      deserializer: 'org.apache.flume.sink.solr.morphline.BlobDeserializer$Builder',
    }).deserializer,
    'BLOB',
  );
  const errors = (props: Record<string, string>) =>
    componentOptions(spooldir, { spoolDir: '/x', ...props })
      .issues.filter((i) => i.severity === 'error')
      .map((i) => `${i.message} ${i.hint ?? ''}`)
      .join('\n');
  assert.match(errors({ deserializer: 'AVRO' }), /AVRO deserializer is not implemented/);
  assert.match(errors({ deserializer: 'com.example.MyDeserializer$Builder' }), /not a known deserializer/);
  assert.match(errors({ 'deserializer.maxBlobLength': '10' }), /not an option of the LINE deserializer/);
  assert.match(errors({ 'deserializer.maxLineLength': 'x' }), /whole number/);
  assert.match(errors({ 'deserializer.outputCharset': 'klingon' }), /not a supported charset/);
  assert.match(errors({ 'deserializer.outputCharset': 'GBK' }), /not supported by spooldir: flume-ts can encode only/);
  assert.equal(errors({ 'deserializer.outputCharset': 'windows-1252' }), '');
  assert.match(errors({ inputCharset: 'Shift_JIS' }), /not supported by spooldir/);
  assert.match(errors({ deletePolicy: 'sometimes' }), /not one of never, immediate/);
  assert.match(errors({ includePattern: '\\Gx' }), /\\G/);
  assert.equal(errors({ decodeErrorPolicy: 'replace', inputCharset: 'windows-1252', consumeOrder: 'youngest' }), '');
  assert.deepEqual(spooldir.claims!(o), [{ resource: 'dir', id: '/var/spool/in', key: 'spoolDir' }]);
  assert.ok(spooldir.classNames!.includes('org.apache.flume.source.SpoolDirectorySource'));
});

test('LINE: oldest file first, \\r kept, last line without newline emitted, headers, files renamed .COMPLETED', async () => {
  const d = tmp();
  put(d, 'b.log', 'b1\r\nb2', 10);
  put(d, 'a.log', 'a1\na2\n', 20);
  put(d, 'skip.tmp', 'ignored\n', 30);
  put(d, '.hidden', 'hidden\n', 30);
  const h = harness();
  const s = source(h, {
    spoolDir: d,
    fileHeader: 'true',
    basenameHeader: 'true',
    basenameHeaderKey: 'bn',
    ignorePattern: '.*\\.tmp',
  });
  await s.start();
  await waitFor(() => s.stats.completed === 2, 5000, 'two files completed');
  await s.close();
  assert.deepEqual(h.bodies(), ['a1', 'a2', 'b1\r', 'b2']);
  assert.deepEqual({ ...h.events[0]!.headers }, { file: path.join(d, 'a.log'), bn: 'a.log' });
  assert.deepEqual(names(d), ['a.log.COMPLETED', 'b.log.COMPLETED', 'skip.tmp']);
  assert.equal(h.counters.get('EventAcceptedCount'), 4);
});

test('zero-byte file gives one empty event (as Flume); youngest order; deletePolicy immediate', async () => {
  const d = tmp();
  put(d, 'old.log', 'old\n', 50);
  put(d, 'empty.log', '', 10);
  const h = harness();
  const s = source(h, { spoolDir: d, consumeOrder: 'youngest', deletePolicy: 'immediate' });
  await s.start();
  await waitFor(() => s.stats.completed === 2, 5000, 'completed');
  await s.close();
  assert.deepEqual(h.bodies(), ['', 'old']);
  assert.deepEqual(names(d), []);
});

test('tracker_dir leaves files in place and marks them; a re-used name is detected instead of silently skipped', async () => {
  const d = tmp();
  put(d, 'sub/x.log', 'x1\n', 20);
  put(d, 'y.log', 'y1\n', 10);
  const h = harness();
  const props = { spoolDir: d, trackingPolicy: 'tracker_dir', recursiveDirectorySearch: 'true' };
  const s = source(h, props);
  await s.start();
  await waitFor(() => s.stats.completed === 2, 5000, 'completed');
  await sleep(100);
  assert.deepEqual(h.bodies(), ['x1', 'y1'], 'each file once');
  assert.ok(fs.existsSync(path.join(d, '.flumespool', 'sub', 'x.log.COMPLETED')));
  assert.ok(fs.existsSync(path.join(d, 'sub', 'x.log')), 'left in place');
  // the name y.log is reused for new content
  await sleep(20);
  put(d, 'y.log', 'new content\n', -5);
  await waitFor(() => s.stats.quarantined === 1, 5000, 'reused name handled');
  await s.close();
  assert.ok(fs.existsSync(path.join(d, '.flumespool', 'quarantine', 'y.log')));
  assert.equal(h.counters.get('GenericProcessingFail'), 1);
});

test('a file modified after pickup is quarantined and the other files keep flowing (Flume halts)', async () => {
  const d = tmp();
  const big = put(d, 'a.log', Array.from({ length: 3000 }, (_, i) => `a${i}`).join('\n') + '\n', 20);
  put(d, 'b.log', 'b1\nb2\n', 10);
  const h = harness(100);
  h.delayMs = 5;
  const s = source(h, { spoolDir: d });
  await s.start();
  await waitFor(() => h.events.length >= 100, 5000, 'reading a.log');
  fs.appendFileSync(big, 'late line\n');
  await waitFor(() => s.stats.completed === 1 && s.stats.quarantined === 1, 10_000, 'a quarantined, b completed');
  await s.close();
  assert.ok(h.bodies().includes('b1') && h.bodies().includes('b2'));
  assert.equal(h.bodies().filter((b) => b.startsWith('a')).length >= 3000, true);
  assert.deepEqual(names(d), ['b.log.COMPLETED']);
  assert.ok(fs.existsSync(path.join(d, '.flumespool', 'quarantine', 'a.log')));
});

test('a completed name already taken: skip leaves the file alone; fail stops the source like Flume', async () => {
  const d = tmp();
  put(d, 'a.log', 'new a\n', 20);
  put(d, 'a.log.COMPLETED', 'old a\n', 30);
  put(d, 'b.log', 'b\n', 10);
  const h = harness();
  const s = source(h, { spoolDir: d, badFilePolicy: 'skip' });
  await s.start();
  await waitFor(() => s.stats.completed === 1 && s.stats.skipped === 1, 5000, 'b completed, a skipped');
  await sleep(100);
  await s.close();
  assert.deepEqual(h.bodies(), ['b']);
  assert.ok(fs.existsSync(path.join(d, 'a.log')));
  const d2 = tmp();
  put(d2, 'a.log', 'new a\n', 20);
  put(d2, 'a.log.COMPLETED', 'old a\n', 30);
  put(d2, 'b.log', 'b\n', 10);
  const h2 = harness();
  const s2 = source(h2, { spoolDir: d2, badFilePolicy: 'fail' });
  await s2.start();
  await waitFor(() => s2.isHalted, 5000, 'halted');
  await sleep(100);
  await s2.close();
  assert.deepEqual(h2.bodies(), []);
});

test('maxLineLength cuts long lines into pieces of that many characters (UTF-16 units); memory bounded without newline', async () => {
  const d = tmp();
  put(d, 'a.log', `${'é'.repeat(7)}\n😀😀😀\nshort\n${'x'.repeat(50)}`, 10);
  const h = harness();
  const s = source(h, { spoolDir: d, 'deserializer.maxLineLength': '3' });
  await s.start();
  await waitFor(() => s.stats.completed === 1, 5000, 'completed');
  await s.close();
  const b = h.bodies();
  assert.deepEqual(b.slice(0, 8), ['ééé', 'ééé', 'é', '😀', '😀', '😀', 'sho', 'rt']);
  assert.equal(b.slice(8).join(''), 'x'.repeat(50));
  assert.ok(b.slice(8).every((x) => x.length <= 3));
});

test('decodeErrorPolicy: FAIL quarantines the file, REPLACE substitutes U+FFFD, IGNORE drops the bad bytes; outputCharset re-encodes', async () => {
  const bad = Buffer.concat([Buffer.from('ok\nbad '), Buffer.from([0xff, 0xfe]), Buffer.from(' end\n')]);
  const run = async (props: Record<string, string>) => {
    const d = tmp();
    put(d, 'a.log', bad, 10);
    const h = harness();
    const s = source(h, { spoolDir: d, ...props });
    await s.start();
    await waitFor(() => s.stats.completed + s.stats.quarantined === 1, 5000, 'file handled');
    await s.close();
    return { h, s };
  };
  const fail = await run({});
  assert.equal(fail.s.stats.quarantined, 1);
  assert.deepEqual(fail.h.bodies(), ['ok'], 'lines before the bad one were delivered');
  assert.deepEqual((await run({ decodeErrorPolicy: 'REPLACE' })).h.bodies(), ['ok', 'bad \ufffd\ufffd end']);
  assert.deepEqual((await run({ decodeErrorPolicy: 'IGNORE' })).h.bodies(), ['ok', 'bad  end']);
  const latin = await run({ inputCharset: 'ISO-8859-1', 'deserializer.outputCharset': 'UTF-16BE' });
  assert.equal(latin.h.events[1]!.body.swap16().toString('utf16le'), 'bad ÿþ end');
  const cp1252 = await run({ inputCharset: 'windows-1252', 'deserializer.outputCharset': 'UTF-8' });
  assert.equal(cp1252.h.bodies()[1], 'bad \u00ff\u00fe end');
  const euro = Buffer.from([0x80, 0x93, 0x94, 0x0a]);
  const d = tmp();
  put(d, 'e.log', euro, 10);
  const h = harness();
  const s = source(h, { spoolDir: d, inputCharset: 'Cp1252', 'deserializer.outputCharset': 'ISO-8859-15' });
  await s.start();
  await waitFor(() => s.stats.completed === 1, 5000, 'completed');
  await s.close();
  assert.deepEqual(h.events[0]!.body, Buffer.from([0xa4, 0x3f, 0x3f]), 'windows-1252 0x80 is the euro sign');
});

test('DecodeError carries a catalogue code and the offset of the line', () => {
  const e = new DecodeError(42, 'utf-8');
  assert.ok(e instanceof AgentError);
  assert.equal(e.code, 'FLUME_ERR_TEXT_UNDECODABLE');
  assert.equal(e.offset, 42);
  assert.equal(e.message, 'undecodable utf-8 input in the line starting at byte 42');
});

test('BLOB: the whole file is one event; maxBlobLength splits a larger file', async () => {
  const d = tmp();
  const bin = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));
  put(d, 'a.bin', bin, 20);
  put(d, 'b.bin', bin.subarray(0, 10), 10);
  const h = harness();
  const s = source(h, { spoolDir: d, deserializer: 'BLOB', 'deserializer.maxBlobLength': '400' });
  await s.start();
  await waitFor(() => s.stats.completed === 2, 5000, 'completed');
  await s.close();
  assert.deepEqual(
    h.events.map((e) => e.body.length),
    [400, 400, 200, 10],
  );
  assert.equal(Buffer.concat(h.events.slice(0, 3).map((e) => e.body)).compare(bin), 0);
});

test('a full channel retries the same batch; a restart resumes at the committed offset (nothing twice, nothing lost)', async () => {
  const d = tmp();
  const n = 2000;
  put(d, 'a.log', Array.from({ length: n }, (_, i) => `l${i}`).join('\n') + '\n', 10);
  const h = harness(50);
  h.full = 2;
  h.delayMs = 2;
  const s = source(h, { spoolDir: d });
  await s.start();
  await waitFor(() => h.events.length >= 300, 5000, 'some lines');
  await s.close();
  assert.equal(h.batches[0], h.batches[1], 'the refused batch is retried as the same array');
  assert.ok(h.events.length < n, 'stopped part-way');
  assert.deepEqual(names(d), ['a.log']);
  const h2 = harness(50);
  const s2 = source(h2, { spoolDir: d });
  await s2.start();
  await waitFor(() => s2.stats.completed === 1, 5000, 'completed after restart');
  await s2.close();
  const all = [...h.bodies(), ...h2.bodies()];
  assert.deepEqual(
    all,
    Array.from({ length: n }, (_, i) => `l${i}`),
  );
});

test('symbolic links in the spool directory are skipped, never renamed or deleted', async () => {
  const d = tmp();
  const outside = tmp();
  const target = put(outside, 'secret.txt', 'SECRET\n');
  fs.symlinkSync(target, path.join(d, 'evil.log'));
  put(d, 'real.log', 'real\n');
  const h = harness();
  const s = source(h, { spoolDir: d, deletePolicy: 'immediate' });
  await s.start();
  await waitFor(() => s.stats.completed === 1, 5000, 'real file');
  await sleep(100);
  await s.close();
  assert.deepEqual(h.bodies(), ['real']);
  assert.equal(fs.readFileSync(target, 'utf8'), 'SECRET\n');
  assert.ok(fs.lstatSync(path.join(d, 'evil.log')).isSymbolicLink());
});

test('a file still being written is consumed only once its size and mtime are stable for fileStableTime', async () => {
  const d = tmp();
  const h = harness();
  const s = source(h, { spoolDir: d, fileStableTime: '400' });
  await s.start();
  // a writer appends a line every 50 ms (before: the file was completed after the first lines, the rest lost)
  const p = path.join(d, 'growing.log');
  const fd = fs.openSync(p, 'a');
  let n = 0;
  const timer = setInterval(() => fs.writeSync(fd, `line${n++}\n`), 50);
  try {
    await waitFor(() => n >= 20, 5000);
  } finally {
    clearInterval(timer);
    fs.closeSync(fd);
  }
  const written = n;
  assert.equal(h.events.length, 0, 'nothing read while the file keeps changing');
  await waitFor(() => fs.existsSync(`${p}.COMPLETED`), 5000, 'completed once stable');
  assert.deepEqual(
    h.bodies(),
    Array.from({ length: written }, (_, i) => `line${i}`),
  );
});

test('a completed file that changes afterwards (writer still appending) is quarantined with an error', async () => {
  const d = tmp();
  const h = harness();
  const errors: string[] = [];
  const logger = Object.assign(Object.create(silentLogger()) as object, {
    error: (m: string, f: unknown) => errors.push(`${m} ${JSON.stringify(f)}`),
  });
  h.ctx = { ...h.ctx, logger: logger as unknown as SourceContext['logger'] };
  const s = source(h, { spoolDir: d, fileStableTime: '100' });
  const p = put(d, 'paused.log', 'a1\na2\n', 1);
  const fd = fs.openSync(p, 'a'); // the writer keeps it open across the rename
  await s.start();
  await waitFor(() => fs.existsSync(`${p}.COMPLETED`), 5000);
  fs.writeSync(fd, 'a3 written after completion\n');
  fs.closeSync(fd);
  await waitFor(() => s.stats.changedAfterCompletion === 1, 5000, 'the change is detected');
  // the move to quarantine follows the detection (asynchronously): wait for it, then check
  const quarantined = path.join(d, '.flumespool', 'quarantine', 'paused.log.COMPLETED');
  await waitFor(() => fs.existsSync(quarantined), 5000, 'the file quarantined');
  assert.deepEqual(h.bodies(), ['a1', 'a2']);
  assert.ok(fs.existsSync(quarantined));
  assert.ok(!fs.existsSync(`${p}.COMPLETED`));
  assert.ok(
    errors.some((e) => /changed after it was completed/.test(e) && /NOT delivered/.test(e)),
    errors.join('\n'),
  );
});
