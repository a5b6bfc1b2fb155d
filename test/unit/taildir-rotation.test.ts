/**
 * taildir rotation with real files and a writer that keeps appending (reliability.md F1-F9, R4-R11):
 * rename rotation (rotated names matching the group or not), copytruncate, truncation, delete while open,
 * inode reuse, rotation while stopped, a 10 MiB line without newline.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import taildir, { TaildirSource } from '../../src/sources/taildir/index.js';
import { optionsFor } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import { sourceCounters, type SourceCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import type { FlumeEvent } from '../../src/core/event.js';
import type { SourceContext } from '../../src/contract/index.js';
import { countEmits } from '../../src/runtime/channel-processor.js';
import { fingerprintOf } from '../../src/sources/taildir/identity.js';

const dirs: string[] = [];
const sources: TaildirSource[] = [];
const writers: Writer[] = [];
after(async () => {
  for (const w of writers) w.stop();
  for (const s of sources) await s.close().catch(() => undefined);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'taildir-rot-'));
  dirs.push(d);
  return d;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Harness {
  ctx: SourceContext;
  events: FlumeEvent[];
  counters: SourceCounters;
  /** Delay per emit (a slow channel). */
  delayMs: number;
  bodies(): string[];
}
function harness(maxBatchSize = 1000): Harness {
  const h: Harness = {
    events: [],
    counters: sourceCounters('r1'),
    delayMs: 0,
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
      if (h.delayMs > 0) await sleep(h.delayMs);
      h.events.push(...b);
    }, h.counters),
  };
  return h;
}
function source(h: Harness, props: Record<string, string>): TaildirSource {
  const s = taildir.create(
    optionsFor(taildir, {
      backoffSleepIncrement: '10',
      maxBackoffSleep: '50',
      writePosInterval: '50',
      idleTimeout: '300',
      ...props,
    }),
    h.ctx,
  ) as TaildirSource;
  sources.push(s);
  return s;
}

/** Appends numbered lines through an fd it reopens by path (like an application reopening on SIGHUP). */
class Writer {
  seq = 0;
  fd: number;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    readonly file: string,
    readonly perTick = 10,
    readonly pad = 'payload-é中😀',
  ) {
    this.fd = fs.openSync(file, 'a');
    writers.push(this);
  }
  write(n: number): void {
    let s = '';
    for (let i = 0; i < n; i++) s += `L${String(this.seq++).padStart(7, '0')} ${this.pad}\n`;
    fs.writeSync(this.fd, s);
  }
  start(everyMs = 5): void {
    this.timer = setInterval(() => this.write(this.perTick), everyMs);
  }
  reopen(): void {
    fs.closeSync(this.fd);
    this.fd = fs.openSync(this.file, 'a');
  }
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
  close(): void {
    this.stop();
    try {
      fs.closeSync(this.fd);
    } catch {
      // closed already
    }
  }
}

const seqOf = (b: string) => Number(b.slice(1, 8));
/** Lost and duplicated sequence numbers among 0..n-1. */
function tally(bodies: string[], n: number, pad = 'payload-é中😀'): { lost: number[]; dup: number; bad: number } {
  const seen = new Map<number, number>();
  let bad = 0;
  for (const b of bodies) {
    if (!/^L\d{7} /.test(b) || b.slice(9) !== pad) bad++;
    const s = seqOf(b);
    seen.set(s, (seen.get(s) ?? 0) + 1);
  }
  const lost: number[] = [];
  for (let i = 0; i < n; i++) if (!seen.has(i)) lost.push(i);
  let dup = 0;
  for (const c of seen.values()) dup += c - 1;
  return { lost, dup, bad };
}

/** Open descriptors of this process pointing at a deleted file under `dir`. */
function deletedFds(dir: string): number {
  let n = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      const t = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (t.startsWith(dir) && t.endsWith('(deleted)')) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

for (const variant of [
  { name: 'rotated names do not match', pattern: 'app\\.log' },
  { name: 'rotated names match the group', pattern: 'app\\.log.*' },
]) {
  test(`rename rotation while a writer appends (${variant.name}): lost 0, duplicated 0`, async () => {
    const d = tmp();
    const app = path.join(d, 'app.log');
    const w = new Writer(app);
    const h = harness();
    const s = source(h, {
      filegroups: 'g',
      'filegroups.g': `${d}/${variant.pattern}`,
      positionFile: path.join(d, 'pos.json'),
      batchSize: '200',
    });
    await s.start();
    w.start();
    for (let r = 1; r <= 6; r++) {
      await sleep(250);
      fs.renameSync(app, `${app}.${r}`);
      w.write(7); // the application writes on to the renamed file until it reopens
      w.reopen();
    }
    await sleep(100);
    w.close();
    await waitFor(() => h.events.length >= w.seq, 15_000, `${w.seq} lines delivered (have ${h.events.length})`);
    await sleep(100);
    const t = tally(h.bodies(), w.seq);
    assert.deepEqual({ lost: t.lost.length, dup: t.dup, bad: t.bad }, { lost: 0, dup: 0, bad: 0 });
    if (variant.pattern === 'app\\.log') {
      await waitFor(() => s.files().every((f) => !f.orphan), 5000, 'rotated files closed after idleTimeout');
      assert.equal(s.files().length, 1);
    } else {
      assert.equal(s.files().length, 7, 'every rotated file kept its identity');
    }
    await s.close();
  });
}

test('copytruncate: duplicated 0, lost only lines not yet read when the file was truncated (the copy window)', async () => {
  const d = tmp();
  const app = path.join(d, 'app.log');
  const w = new Writer(app, 20);
  const h = harness();
  const s = source(h, {
    filegroups: 'g',
    'filegroups.g': `${d}/app\\.log`,
    positionFile: path.join(d, 'pos.json'),
    batchSize: '100',
  });
  await s.start();
  w.start();
  const window = new Set<number>();
  for (let r = 1; r <= 5; r++) {
    await sleep(250);
    // one truncation at a time: two between the reader's checks would be noticed (and counted) as one
    await waitFor(() => h.counters.get('TruncationCount') >= r - 1, 10_000, `truncation ${r - 1} noticed`);
    const readPos = s.files().find((f) => f.path === app)!.readPos;
    const content = fs.readFileSync(app);
    fs.copyFileSync(app, `${app}.${r}`);
    fs.truncateSync(app, 0);
    // lines at or after the reader's position were only in the copy: that is the window
    let off = 0;
    for (const line of content.toString('utf8').split('\n')) {
      if (line !== '' && off + Buffer.byteLength(line) >= readPos) window.add(seqOf(line));
      off += Buffer.byteLength(line) + 1;
    }
  }
  await waitFor(() => h.counters.get('TruncationCount') >= 5, 10_000, 'the last truncation noticed');
  await sleep(100);
  const lastTruncateSeq = w.seq;
  w.close();
  await waitFor(
    () => h.events.some((e) => seqOf(e.body.toString()) === lastTruncateSeq - 1),
    10_000,
    'the lines after the last truncation',
  );
  await sleep(200);
  const t = tally(h.bodies(), w.seq);
  assert.equal(t.dup, 0, 'duplicated');
  assert.equal(t.bad, 0, 'garbled lines');
  const outside = t.lost.filter((x) => !window.has(x));
  assert.deepEqual(outside, [], `lost ${t.lost.length} lines, window ${window.size}`);
  assert.ok(h.counters.get('TruncationCount') >= 5);
  await s.close();
});

test('truncation: every line written after the truncate is delivered, none twice, and the reset offset is persisted', async () => {
  const d = tmp();
  const app = path.join(d, 'app.log');
  const posFile = path.join(d, 'pos.json');
  const w = new Writer(app);
  w.write(500);
  const h = harness();
  const s = source(h, {
    filegroups: 'g',
    'filegroups.g': `${d}/app\\.log`,
    positionFile: posFile,
    writePosInterval: '100000',
  });
  await s.start();
  await waitFor(() => h.events.length === 500, 5000, 'first lines');
  const before = JSON.parse(fs.readFileSync(posFile, 'utf8') || '[]');
  fs.truncateSync(app, 0);
  await waitFor(() => s.files()[0]!.pos === 0, 5000, 'reset detected');
  await waitFor(
    () => JSON.parse(fs.readFileSync(posFile, 'utf8'))[0].pos === 0,
    5000,
    'reset offset written at once (writePosInterval is huge)',
  );
  assert.ok(before.length === 0 || before[0].pos >= 0);
  w.write(300);
  await waitFor(() => h.events.length === 800, 5000, 'lines after the truncate');
  const t = tally(h.bodies(), 800);
  assert.deepEqual({ lost: t.lost.length, dup: t.dup, bad: t.bad }, { lost: 0, dup: 0, bad: 0 });
  w.close();
  await s.close();
});

test('delete while open: the file is drained from its descriptor, then closed within idleTimeout', async () => {
  const d = tmp();
  const app = path.join(d, 'app.log');
  const w = new Writer(app);
  w.write(5000);
  w.close();
  const h = harness(100);
  h.delayMs = 3; // a slow channel: the source is behind when the file goes
  const s = source(h, {
    filegroups: 'g',
    'filegroups.g': `${d}/app\\.log`,
    positionFile: path.join(d, 'pos.json'),
    idleTimeout: '400',
  });
  await s.start();
  await waitFor(() => h.events.length >= 200, 5000, 'reading started');
  fs.unlinkSync(app);
  assert.ok(h.events.length < 5000, 'still behind when deleted');
  await waitFor(() => h.events.length === 5000, 15_000, 'drained');
  const drainedAt = performance.now();
  await waitFor(() => deletedFds(d) === 0 && s.files().length === 0, 5000, 'deleted file closed');
  assert.ok(performance.now() - drainedAt < 400 + 1500, 'closed within idleTimeout (+ slack)');
  const t = tally(h.bodies(), 5000);
  assert.deepEqual({ lost: t.lost.length, dup: t.dup }, { lost: 0, dup: 0 });
  await s.close();
});

test('inode reuse: a saved offset applies only when the fingerprint matches', async () => {
  const d = tmp();
  const app = path.join(d, 'app.log');
  const posFile = path.join(d, 'pos.json');
  fs.writeFileSync(app, 'first file line 1\nfirst file line 2\n');
  const h = harness();
  const s = source(h, { filegroups: 'g', 'filegroups.g': `${d}/app\\.log`, positionFile: posFile });
  await s.start();
  await waitFor(() => h.events.length === 2, 5000, 'first file');
  await s.close();
  const oldIno = fs.statSync(app).ino;
  fs.unlinkSync(app);
  fs.writeFileSync(app, 'new\nfile\nmore lines here, longer than the old file\n'); // ext4 usually hands out the same inode again
  if (fs.statSync(app).ino !== oldIno) {
    // make it deterministic: an entry claiming this inode with the old file's fingerprint and offset
    fs.writeFileSync(
      posFile,
      JSON.stringify([
        {
          inode: fs.statSync(app).ino,
          pos: 36,
          file: app,
          dev: fs.statSync(app).dev,
          fp: fingerprintOf(Buffer.from('first file line 1\nfirst file line 2\n')),
        },
      ]),
    );
  }
  const h2 = harness();
  const s2 = source(h2, { filegroups: 'g', 'filegroups.g': `${d}/app\\.log`, positionFile: posFile });
  await s2.start();
  await waitFor(() => h2.events.length === 3, 5000, 'new file from byte 0');
  await s2.close();
  assert.deepEqual(h2.bodies(), ['new', 'file', 'more lines here, longer than the old file']);
});

test('rotation while stopped: a renamed file keeps its offset; a file rotated out of the group is drained', async () => {
  const d = tmp();
  const app = path.join(d, 'app.log');
  const posFile = path.join(d, 'pos.json');
  fs.writeFileSync(app, 'a1\na2\n');
  // group 1 matches rotated names, group 2 (another dir) does not
  const d2 = path.join(d, 'other');
  fs.mkdirSync(d2);
  const svc = path.join(d2, 'svc.log');
  fs.writeFileSync(svc, 's1\n');
  const props = {
    filegroups: 'g1 g2',
    'filegroups.g1': `${d}/app\\.log.*`,
    'filegroups.g2': `${d2}/svc\\.log`,
    positionFile: posFile,
  };
  const h = harness();
  const s = source(h, props);
  await s.start();
  await waitFor(() => h.events.length === 3, 5000, 'first lines');
  await s.close();
  fs.appendFileSync(app, 'a3\n');
  fs.renameSync(app, `${app}.1`);
  fs.writeFileSync(app, 'b1\n');
  fs.appendFileSync(svc, 's2\n');
  fs.renameSync(svc, `${svc}.1`);
  fs.writeFileSync(svc, 't1\n');
  const h2 = harness();
  const s2 = source(h2, props);
  await s2.start();
  await waitFor(() => h2.events.length >= 4, 5000, 'lines after restart');
  await sleep(200);
  await s2.close();
  assert.deepEqual(h2.bodies().sort(), ['a3', 'b1', 's2', 't1']);
});

test('a 10 MiB line without newline: memory stays bounded, the offset moves past it, the next line flows', async () => {
  const d = tmp();
  const app = path.join(d, 'app.log');
  fs.writeFileSync(app, 'before\n');
  const h = harness();
  const s = source(h, {
    filegroups: 'g',
    'filegroups.g': `${d}/app\\.log`,
    positionFile: path.join(d, 'pos.json'),
    maxLineBytes: '64k',
  });
  await s.start();
  await waitFor(() => h.events.length === 1, 5000, 'first line');
  const mib = Buffer.alloc(1024 * 1024, 0x78);
  let peak = 0;
  for (let i = 1; i <= 10; i++) {
    fs.appendFileSync(app, mib);
    await waitFor(() => s.files()[0]!.readPos === 7 + i * mib.length, 5000, `MiB ${i} read`);
    peak = Math.max(peak, s.files()[0]!.heldBytes);
  }
  assert.ok(peak <= 64 * 1024 + 1, `held at most maxLineBytes (held ${peak})`);
  await waitFor(() => s.files()[0]!.pos === 7 + 10 * mib.length, 5000, 'offset moved past the discarded bytes');
  fs.appendFileSync(app, '\nafter\n');
  await waitFor(() => h.events.length === 3, 5000, 'next line');
  assert.equal(h.events[1]!.body.length, 64 * 1024);
  assert.equal(h.bodies()[2], 'after');
  assert.equal(h.counters.get('OversizeLineCount'), 1);
  await s.close();
});

test('a file rotated away with an unterminated last line: the tail is sent once the file has been idle for idleTimeout', async () => {
  const d = tmp();
  const app = path.join(d, 'app.log');
  fs.writeFileSync(app, 'a\npart');
  const h = harness();
  const s = source(h, {
    filegroups: 'g',
    'filegroups.g': `${d}/app\\.log`,
    positionFile: path.join(d, 'pos.json'),
    idleTimeout: '300',
  });
  await s.start();
  await waitFor(() => h.events.length === 1, 5000, 'first line');
  fs.renameSync(app, `${app}.1`);
  fs.appendFileSync(`${app}.1`, 'ial'); // the application still writes before it reopens
  await waitFor(() => h.events.length === 2, 5000, 'the tail');
  assert.deepEqual(h.bodies(), ['a', 'partial']);
  assert.equal(h.counters.get('PartialLineCount'), 1);
  await waitFor(() => s.files().length === 0, 5000, 'closed and forgotten');
  await s.close();
});
