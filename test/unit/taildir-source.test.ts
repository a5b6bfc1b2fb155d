/**
 * taildir with real files: reading, headers, partial lines, new files, the position file (Flume format, atomic,
 * committed offsets only, corrupt-file handling), a full channel, symlinks, options.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import taildir, { TaildirSource } from '../../src/sources/taildir/index.js';
import { componentOptions } from '../../src/config/validate/index.js';
import { optionsFor } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import { sourceCounters, type SourceCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { AgentError, ChannelFullError } from '../../src/core/errors.js';
import type { FlumeEvent } from '../../src/core/event.js';
import type { SourceContext } from '../../src/contract/index.js';
import { countEmits } from '../../src/runtime/channel-processor.js';
import { fingerprintOf } from '../../src/sources/taildir/identity.js';

const dirs: string[] = [];
const sources: TaildirSource[] = [];
after(async () => {
  for (const s of sources) await s.close().catch(() => undefined);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'taildir-'));
  dirs.push(d);
  return d;
}

interface Harness {
  ctx: SourceContext;
  events: FlumeEvent[];
  batches: FlumeEvent[][];
  counters: SourceCounters;
  /** Reject the next n emits with ChannelFullError. */
  full: number;
  bodies(): string[];
}
function harness(maxBatchSize = 1000): Harness {
  const h: Harness = {
    events: [],
    batches: [],
    full: 0,
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
      if (h.full > 0) {
        h.full--;
        throw new ChannelFullError('test: full');
      }
      h.events.push(...b);
    }, h.counters),
  };
  return h;
}
const FAST = { backoffSleepIncrement: '10', maxBackoffSleep: '50', writePosInterval: '50', idleTimeout: '300' };
function source(h: Harness, props: Record<string, string>): TaildirSource {
  const s = taildir.create(optionsFor(taildir, { ...FAST, ...props }), h.ctx) as TaildirSource;
  sources.push(s);
  return s;
}
const readPositions = (f: string) =>
  JSON.parse(fs.readFileSync(f, 'utf8')) as { inode: number; pos: number; file: string; fp?: string; dev?: number }[];

test('options: Flume keys and defaults; groups and headers are checked; TAILDIR and the class name resolve', () => {
  const o = optionsFor(taildir, { filegroups: 'f1', 'filegroups.f1': '/var/log/app\\.log' });
  assert.equal(o.batchSize, 100);
  assert.equal(o.idleTimeout, 120000);
  assert.equal(o.writePosInterval, 3000);
  assert.equal(o.positionFile, '~/.flume/taildir_position.json');
  assert.equal(o.maxLineBytes, 1048576);
  assert.equal(o.cachePatternMatching, true);
  assert.deepEqual(taildir.claims!(o), [
    { resource: 'dir', id: path.join(os.homedir(), '.flume/taildir_position.json'), key: 'positionFile' },
  ]);
  const bad = (props: Record<string, string>) =>
    componentOptions(taildir, props)
      .issues.filter((i) => i.severity === 'error')
      .map((i) => i.message)
      .join('\n');
  assert.match(bad({ filegroups: 'f1 f2', 'filegroups.f1': '/var/log/a' }), /file group 'f2' has no path/);
  assert.match(
    bad({ filegroups: 'f1', 'filegroups.f1': '/var/log/a', 'filegroups.f3': '/x/y' }),
    /'f3' is defined but not listed/,
  );
  assert.match(bad({ filegroups: 'f1', 'filegroups.f1': 'relative/a.log' }), /not an absolute path/);
  assert.match(bad({ filegroups: 'f1', 'filegroups.f1': '/var/log/(?i)x\\Gy' }), /\\G/);
  assert.match(bad({ filegroups: 'f1', 'filegroups.f1': '/var/log/a', 'headers.f9.k': 'v' }), /file group 'f9'/);
  assert.equal(
    bad({
      filegroups: 'f1',
      'filegroups.f1': '/var/log/a',
      'headers.f1.topic': 'x',
      maxLineBytes: '64k',
      oversizeLinePolicy: 'skip',
    }),
    '',
  );
  assert.ok(taildir.aliases!.includes('TAILDIR'));
  assert.ok(taildir.classNames!.includes('org.apache.flume.source.taildir.TaildirSource'));
});

test('reads lines, holds an unterminated line until its newline, finds new files, adds headers', async () => {
  const d = tmp();
  const logs = path.join(d, 'logs');
  fs.mkdirSync(logs);
  const app = path.join(logs, 'app.log');
  fs.writeFileSync(app, 'one\r\ntwo\nabc');
  fs.writeFileSync(path.join(logs, 'other.txt'), 'not me\n');
  const h = harness();
  const s = source(h, {
    filegroups: 'g1',
    'filegroups.g1': `${logs}/.*\\.log`,
    positionFile: path.join(d, 'pos', 'p.json'),
    'headers.g1.topic': 'app',
    'headers.g1.env': 'test',
    fileHeader: 'true',
    fileHeaderKey: 'path',
    byteOffsetHeader: 'true',
  });
  await s.start();
  await waitFor(() => h.events.length >= 2, 5000, 'two lines');
  assert.deepEqual(h.bodies(), ['one', 'two']);
  assert.deepEqual({ ...h.events[0]!.headers }, { topic: 'app', env: 'test', path: app, byteoffset: '0' });
  assert.equal(h.events[1]!.headers.byteoffset, '5');
  fs.appendFileSync(app, 'def\nghi\n');
  await waitFor(() => h.events.length >= 4, 5000, 'completed line');
  assert.deepEqual(h.bodies(), ['one', 'two', 'abcdef', 'ghi']);
  fs.writeFileSync(path.join(logs, 'new.log'), 'fresh\n');
  await waitFor(() => h.events.length >= 5, 5000, 'new file');
  assert.equal(h.bodies()[4], 'fresh');
  assert.equal(h.events[4]!.headers.path, path.join(logs, 'new.log'));
  const posFile = path.join(d, 'pos', 'p.json');
  await waitFor(
    () => readPositions(posFile).find((e) => e.file === app)?.pos === fs.statSync(app).size,
    5000,
    'position written',
  );
  assert.equal((fs.statSync(posFile).mode & 0o777).toString(8), '600');
  await s.close();
  await s.close();
  const entries = readPositions(posFile);
  assert.equal(entries.length, 2);
  const e = entries.find((x) => x.file === app)!;
  assert.equal(e.inode, fs.statSync(app).ino);
  assert.equal(e.pos, 20);
  assert.equal(e.fp, fingerprintOf(fs.readFileSync(app)));
  assert.equal(h.counters.get('EventAcceptedCount'), 5);
});

test('basenameHeader adds the file name (key basename, or basenameHeaderKey); a renamed file carries its new name', async () => {
  const d = tmp();
  const logs = path.join(d, 'logs');
  fs.mkdirSync(logs);
  fs.writeFileSync(path.join(logs, 'app.log'), 'a1\n');
  fs.writeFileSync(path.join(logs, 'db.log'), 'd1\n');
  const h = harness();
  const s = source(h, {
    filegroups: 'g1',
    'filegroups.g1': `${logs}/.*\\.log.*`,
    positionFile: path.join(d, 'p.json'),
    writePosInterval: '50',
    basenameHeader: 'true',
  });
  await s.start();
  await waitFor(() => h.events.length >= 2, 5000, 'two lines');
  const byBody = (b: string) => h.events.find((e) => e.body.toString() === b)!.headers;
  assert.deepEqual({ ...byBody('a1') }, { basename: 'app.log' });
  assert.deepEqual({ ...byBody('d1') }, { basename: 'db.log' });
  fs.renameSync(path.join(logs, 'app.log'), path.join(logs, 'app.log.1'));
  // a line appended before the source noticed the rename is read under the old name (as in Flume): wait until the
  // position file names the file by its new name
  const posNames = () => fs.readFileSync(path.join(d, 'p.json'), 'utf8');
  await waitFor(() => fs.existsSync(path.join(d, 'p.json')) && posNames().includes('app.log.1'), 10_000, 'rename seen');
  fs.appendFileSync(path.join(logs, 'app.log.1'), 'a2\n');
  await waitFor(() => h.events.length >= 3, 5000, 'the line after the rename');
  assert.equal(byBody('a2').basename, 'app.log.1');
  await s.close();
  const h2 = harness();
  const s2 = source(h2, {
    filegroups: 'g1',
    'filegroups.g1': `${logs}/db\\.log`,
    positionFile: path.join(d, 'p2.json'),
    basenameHeader: 'true',
    basenameHeaderKey: 'file_name',
  });
  await s2.start();
  await waitFor(() => h2.events.length >= 1, 5000, 'one line');
  assert.deepEqual({ ...h2.events[0]!.headers }, { file_name: 'db.log' });
  await s2.close();
});

test('positions advance only after the channel committed; a full channel retries the very same batch', async () => {
  const d = tmp();
  const f = path.join(d, 'a.log');
  fs.writeFileSync(f, Array.from({ length: 30 }, (_, i) => `l${i}\n`).join(''));
  const h = harness(10);
  h.full = 3;
  const posFile = path.join(d, 'p.json');
  const s = source(h, { filegroups: 'g', 'filegroups.g': `${d}/a\\.log`, positionFile: posFile, batchSize: '100' });
  await s.start();
  await waitFor(() => h.counters.get('ChannelWriteFail') >= 1, 5000, 'first failure');
  assert.equal(s.files()[0]!.pos, 0);
  assert.equal(readPositions(posFile)[0]!.pos, 0, 'nothing committed, nothing written');
  await waitFor(() => h.events.length === 30, 5000, 'all lines');
  assert.deepEqual(
    h.bodies(),
    Array.from({ length: 30 }, (_, i) => `l${i}`),
  );
  assert.ok(
    h.batches.every((b) => b.length <= 10),
    'batches capped by maxBatchSize',
  );
  assert.equal(
    h.batches[0],
    h.batches[1],
    'the refused batch is retried as the same array (no duplicates in other channels)',
  );
  assert.equal(h.counters.get('ChannelWriteFail'), 3);
  await waitFor(() => readPositions(posFile)[0]!.pos === fs.statSync(f).size, 5000, 'final position');
  await s.close();
});

test('restart from a Flume-format position file: only the lines after pos are read; our fields are added', async () => {
  const d = tmp();
  const f = path.join(d, 'app.log');
  fs.writeFileSync(f, 'old1\nold2\nnew1\n');
  const posFile = path.join(d, 'taildir_position.json');
  fs.writeFileSync(posFile, `[{"inode":${fs.statSync(f).ino},"pos":10,"file":"${f}"}]`);
  const h = harness();
  const s = source(h, { filegroups: 'g', 'filegroups.g': `${d}/app\\.log`, positionFile: posFile });
  await s.start();
  await waitFor(() => h.events.length >= 1, 5000, 'new line');
  fs.appendFileSync(f, 'new2\n');
  await waitFor(() => h.events.length >= 2, 5000, 'appended line');
  await s.close();
  assert.deepEqual(h.bodies(), ['new1', 'new2']);
  const [e] = readPositions(posFile);
  assert.equal(e!.pos, 20);
  assert.ok(e!.fp && e!.dev !== undefined);
  // a second start from our own file: nothing again
  const h2 = harness();
  const s2 = source(h2, { filegroups: 'g', 'filegroups.g': `${d}/app\\.log`, positionFile: posFile });
  await s2.start();
  fs.appendFileSync(f, 'new3\n');
  await waitFor(() => h2.events.length >= 1, 5000, 'line after restart');
  await s2.close();
  assert.deepEqual(h2.bodies(), ['new3']);
  assert.ok(fs.existsSync(`${posFile}.bak`), 'previous version kept');
});

test('a corrupt position file is never silently reset: refuse, restore the backup, or reset only when configured', async () => {
  const d = tmp();
  const f = path.join(d, 'app.log');
  fs.writeFileSync(f, 'a\nb\nc\n');
  const posFile = path.join(d, 'p.json');
  const props = { filegroups: 'g', 'filegroups.g': `${d}/app\\.log`, positionFile: posFile };
  // 1. garbage, no backup: start is refused, the file is left as it was
  fs.writeFileSync(posFile, '[{"inode":12,"pos');
  const h = harness();
  const s = source(h, props);
  await assert.rejects(
    s.start(),
    (err: unknown) =>
      err instanceof AgentError &&
      err.code === 'FLUME_ERR_SOURCE_START' &&
      err.message.includes(posFile) &&
      /not valid JSON/.test(err.message) &&
      /positionFileRecovery/.test(err.message),
  );
  assert.equal(fs.readFileSync(posFile, 'utf8'), '[{"inode":12,"pos');
  assert.equal(h.events.length, 0);
  // an empty file too (what Flume leaves after a crash while writing)
  fs.writeFileSync(posFile, '');
  await assert.rejects(source(harness(), props).start(), /empty/);
  // 2. a valid backup is restored; the bad file is moved aside
  fs.writeFileSync(`${posFile}.bak`, `[{"inode":${fs.statSync(f).ino},"pos":4,"file":"${f}"}]`);
  fs.writeFileSync(posFile, 'garbage');
  const h2 = harness();
  const s2 = source(h2, props);
  await s2.start();
  await waitFor(() => h2.events.length >= 1, 5000, 'line after the backup offset');
  await s2.close();
  assert.deepEqual(h2.bodies(), ['c']);
  const aside = fs.readdirSync(d).filter((n) => n.startsWith('p.json.corrupt-'));
  assert.equal(aside.length, 1);
  assert.equal(fs.readFileSync(path.join(d, aside[0]!), 'utf8'), 'garbage');
  // 3. fail policy refuses even with a backup
  fs.writeFileSync(posFile, '{}');
  await assert.rejects(source(harness(), { ...props, positionFileRecovery: 'fail' }).start(), /not a JSON array/);
  // 4. reset: moved aside, starts afresh (skipToEnd honoured)
  const h4 = harness();
  const s4 = source(h4, { ...props, positionFileRecovery: 'reset', skipToEnd: 'true' });
  await s4.start();
  fs.appendFileSync(f, 'd\n');
  await waitFor(() => h4.events.length >= 1, 5000, 'line after reset');
  await s4.close();
  assert.deepEqual(h4.bodies(), ['d']);
  assert.equal(fs.readdirSync(d).filter((n) => n.startsWith('p.json.corrupt-')).length, 2);
});

test('skipToEnd starts known-nothing files at the start of their last unterminated line', async () => {
  const d = tmp();
  const f = path.join(d, 'app.log');
  fs.writeFileSync(f, 'old\nold2\npart');
  const h = harness();
  const s = source(h, {
    filegroups: 'g',
    'filegroups.g': `${d}/app\\.log`,
    positionFile: path.join(d, 'p.json'),
    skipToEnd: 'true',
  });
  await s.start();
  fs.appendFileSync(f, 'ial\nnext\n');
  await waitFor(() => h.events.length >= 2, 5000, 'lines');
  await s.close();
  assert.deepEqual(h.bodies(), ['partial', 'next']);
});

test('symlinks: followed inside the group directory, not to outside targets (unless followSymlinks = always)', async () => {
  const d = tmp();
  const logs = path.join(d, 'logs');
  fs.mkdirSync(logs);
  const secret = path.join(d, 'secret.txt');
  fs.writeFileSync(secret, 'SECRET\n');
  fs.writeFileSync(path.join(logs, 'real.data'), 'inside\n');
  fs.symlinkSync(secret, path.join(logs, 'evil.log'));
  fs.symlinkSync(path.join(logs, 'real.data'), path.join(logs, 'good.log'));
  const h = harness();
  const s = source(h, { filegroups: 'g', 'filegroups.g': `${logs}/.*\\.log`, positionFile: path.join(d, 'p.json') });
  await s.start();
  await waitFor(() => h.events.length >= 1, 5000, 'inside link');
  await new Promise((r) => setTimeout(r, 200));
  await s.close();
  assert.deepEqual(h.bodies(), ['inside']);
  const h2 = harness();
  const s2 = source(h2, {
    filegroups: 'g',
    'filegroups.g': `${logs}/evil\\.log`,
    positionFile: path.join(d, 'p2.json'),
    followSymlinks: 'always',
  });
  await s2.start();
  await waitFor(() => h2.events.length >= 1, 5000, 'outside link when allowed');
  await s2.close();
  assert.deepEqual(h2.bodies(), ['SECRET']);
});

test('maxBatchCount moves on to the next file; a missing directory refuses to start', async () => {
  const d = tmp();
  fs.writeFileSync(path.join(d, 'a.log'), Array.from({ length: 40 }, (_, i) => `a${i}\n`).join(''));
  fs.writeFileSync(path.join(d, 'b.log'), Array.from({ length: 40 }, (_, i) => `b${i}\n`).join(''));
  const h = harness();
  const s = source(h, {
    filegroups: 'g',
    'filegroups.g': `${d}/.*\\.log`,
    positionFile: path.join(d, 'p.json'),
    batchSize: '10',
    maxBatchCount: '1',
  });
  await s.start();
  await waitFor(() => h.events.length === 80, 5000, 'all lines');
  await s.close();
  const firstFour = h.batches
    .slice(0, 4)
    .map((b) => b[0]!.body.toString()[0])
    .join('');
  assert.ok(firstFour === 'abab' || firstFour === 'baba', `alternating files, got ${firstFour}`);
  const s2 = source(harness(), {
    filegroups: 'g',
    'filegroups.g': `${d}/nope/.*`,
    positionFile: path.join(d, 'p3.json'),
  });
  await assert.rejects(s2.start(), /nope/);
});

test('an idle live file is closed after idleTimeout (its partial line dropped from memory) and reopened when it grows', async () => {
  const d = tmp();
  const f = path.join(d, 'app.log');
  fs.writeFileSync(f, 'first\nabc');
  const h = harness();
  const s = source(h, {
    filegroups: 'g',
    'filegroups.g': `${d}/app\\.log`,
    positionFile: path.join(d, 'p.json'),
    idleTimeout: '200',
  });
  await s.start();
  await waitFor(() => h.events.length === 1, 5000, 'first line');
  await waitFor(() => s.files()[0]!.open === false, 5000, 'closed when idle');
  assert.equal(s.files()[0]!.heldBytes, 0);
  assert.equal(s.files()[0]!.pos, 6, 'the unterminated line is not committed');
  fs.appendFileSync(f, 'def\nnext\n');
  await waitFor(() => h.events.length === 3, 5000, 'reopened');
  assert.deepEqual(h.bodies(), ['first', 'abcdef', 'next']);
  assert.equal(h.counters.get('PartialLineCount'), 0, 'a live file never has its partial line sent on its own');
  await s.close();
});

test('more matched files than maxOpenFiles: never more open at once, every line of every file delivered', async () => {
  // before: every matched file was held open; past `ulimit -n` nothing was read (EMFILE) and the source restarted
  const d = tmp();
  const files = 24;
  const lines = 200;
  for (let i = 0; i < files; i++)
    fs.writeFileSync(
      path.join(d, `f${String(i).padStart(2, '0')}.log`),
      Array.from({ length: lines }, (_, j) => `f${i}-${j}\n`).join(''),
    );
  const h = harness(50);
  const s = source(h, {
    filegroups: 'g',
    'filegroups.g': `${d}/.*\\.log`,
    positionFile: path.join(d, 'p.json'),
    maxOpenFiles: '4',
    idleTimeout: '60000',
  });
  let peak = 0;
  const sample = setInterval(() => (peak = Math.max(peak, s.files().filter((f) => f.open).length)), 1);
  try {
    await s.start();
    peak = Math.max(peak, s.files().filter((f) => f.open).length);
    await waitFor(() => h.events.length >= files * lines, 20_000, `all lines (${h.events.length})`);
    // a closed file that grows is reopened (inode + fingerprint) and read from where it stopped
    fs.appendFileSync(path.join(d, 'f00.log'), 'late\n');
    await waitFor(() => h.bodies().includes('late'), 10_000, 'appended line');
  } finally {
    clearInterval(sample);
  }
  await s.close();
  assert.ok(peak <= 4, `at most maxOpenFiles open (${peak})`);
  const got = h.bodies();
  assert.equal(new Set(got).size, files * lines + 1, 'nothing twice, nothing lost');
  const pos = readPositions(path.join(d, 'p.json'));
  assert.equal(pos.length, files, 'every file is in the position file');
});
