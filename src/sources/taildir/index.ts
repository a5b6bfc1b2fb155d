/**
 * taildir (Flume's TaildirSource): tails the files of one or more file groups, line by line, and survives
 * rotation. See docs/sources.md for the rotation rules; the short version:
 *
 *  - a file is identified by (device, inode) plus a fingerprint of its first bytes (identity.ts);
 *  - a file renamed under another matching name keeps its offset (Flume re-reads it from 0: duplicates);
 *  - a file renamed away or deleted is drained from its open descriptor, then closed after idleTimeout;
 *  - a file that shrank below what was read (copytruncate, truncate) or whose first bytes changed is read again
 *    from 0, and the reset offset is written to the position file at once;
 *  - the position file (Flume's JSON, plus dev and fp) is written atomically and only holds committed offsets;
 *  - lines are split on `\n` bytes (a `\r` before it is stripped); an unterminated line is held until its
 *    newline; lines longer than maxLineBytes are truncated or skipped while streaming, never buffered.
 *
 * Hot path: 256 KiB reads, indexOf(0x0a) splitting into zero-copy slices, one shared frozen header object per
 * file, batches of min(batchSize, channel transactionCapacity); no per-line promise.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defineSource, type Source, type SourceContext } from '../../registry/define.js';
import { opt, type OptionSpec, type Resolved } from '../../config/options.js';
import { AgentError, errorMessage } from '../../core/errors.js';
import { LinearBackoff } from '../../core/backoff.js';
import { retrying } from '../../core/retry.js';
import { PollableLoop, type PollResult } from '../support/pollable.js';
import { Matcher, parseGroupPath, type Candidate, type GroupSpec, type SymlinkPolicy } from './matcher.js';
import type { OversizePolicy } from '../../text/index.js';
import { TailFile, type TailSettings } from './reader.js';
import { fileKey, fingerprintFile, sameFingerprint } from './identity.js';
import { ensureParent, formatPositions, loadPositions, PositionFileError, writePositions, type PositionEntry, type RecoveryPolicy } from './position-file.js';

// ----------------------------------------------------------------------------------------------- options

const groupPath: OptionSpec<string> = {
  ...opt.string({ doc: 'group path' }),
  typeText: 'absolute path: a literal directory, then a Java regex on the file name',
  parse: (raw: string) => {
    parseGroupPath(raw);
    return raw;
  },
};

const options = {
  filegroups: opt.list({ required: true, doc: 'Space-separated names of the file groups.' }),
  'filegroups.': opt.map({
    of: groupPath,
    keyText: '<group>',
    doc: 'Files of one group: an absolute path whose directory part is literal and whose last component is a Java regex matched against whole file names in that directory (no recursion; directories are skipped). Example: `filegroups.f1 = /var/log/app/app\\.log.*`. The directory must exist when the source starts.',
  }),
  positionFile: opt.string({
    default: '~/.flume/taildir_position.json',
    nonEmpty: true,
    doc: 'JSON file holding the committed offset of every tailed file, in Flume\'s format (an existing Flume position file is picked up). Written atomically (temp file, fsync, rename) with the previous version kept as `<positionFile>.bak`; mode 0600, parent directories created (0700).',
  }),
  'headers.': opt.map({ keyText: '<group>.<header>', doc: 'Static header added to every event of a group: `headers.<group>.<header> = <value>`.' }),
  byteOffsetHeader: opt.bool({ default: false, doc: 'Add the header `byteoffset`: the byte offset of the line start in its file.' }),
  skipToEnd: opt.bool({ default: false, doc: 'Files not known from the position file at start-up are read from their end (from the start of their last, unterminated line) instead of from byte 0. Files that appear later are always read from 0.' }),
  idleTimeout: opt.duration({ default: 120000, unit: 'ms', min: 0, doc: 'A file with no new data for this long is closed (reopened when it changes). A file renamed away or deleted is closed this long after its last data; its unterminated last line, if any, is then emitted.' }),
  writePosInterval: opt.duration({ default: 3000, unit: 'ms', min: 1, doc: 'How often the position file is written (only when an offset changed). It is also written at start, right after a truncation is detected, on stop, and while catching up after every 10,000 committed lines (at most every 200 ms), so a crash repeats few lines.' }),
  batchSize: opt.int({ default: 100, min: 1, doc: 'Most lines per channel transaction (also capped by the smallest transactionCapacity of the channels).' }),
  maxBatchCount: opt.int({ min: 1, defaultText: 'unlimited', doc: 'Most consecutive batches read from one file before moving to the next file (fairness between busy files).' }),
  backoffSleepIncrement: opt.duration({ default: 1000, unit: 'ms', min: 1, doc: 'Poll backoff step when no file had new data or the channel was full: min(n x this, maxBackoffSleep). A change in a group directory (inotify) ends the wait early.' }),
  maxBackoffSleep: opt.duration({ default: 5000, unit: 'ms', min: 1, doc: 'Longest poll backoff; also the pause after an unexpected error.' }),
  cachePatternMatching: opt.bool({ default: true, doc: 'List a group directory again only when its mtime changed (or changed in the last 2 seconds).' }),
  fileHeader: opt.bool({ default: false, doc: 'Add the path of the file as a header.' }),
  fileHeaderKey: opt.string({ default: 'file', nonEmpty: true, doc: 'Name of the fileHeader header.' }),
  maxLineBytes: opt.size({ default: 1048576, min: 1, doc: 'New key. Longest line kept, in bytes (without the line terminator). A longer line is handled by oversizeLinePolicy while streaming, so memory stays bounded; it is counted in OversizeLineCount and the following lines flow. Flume has no limit.' }),
  oversizeLinePolicy: opt.enum({ values: ['truncate', 'skip'] as const, default: 'truncate', doc: 'New key. `truncate`: an oversize line becomes one event holding its first maxLineBytes bytes; `skip`: it is dropped. Either way the rest of the line is discarded up to its newline.' }),
  followSymlinks: opt.enum({ values: ['never', 'withinDirectory', 'always'] as const, default: 'withinDirectory', doc: 'New key. Matching names that are symbolic links: `withinDirectory` follows a link only when its target is inside the group directory (a link pointing elsewhere is skipped with a warning naming it); `never` skips every link; `always` follows any link.' }),
  positionFileRecovery: opt.enum({
    values: ['backup', 'fail', 'reset'] as const,
    default: 'backup',
    doc: 'New key. What to do when the position file cannot be used (empty, not JSON, bad entries, or missing while its backup exists): `backup` restores `<positionFile>.bak` (lines committed since that backup was written may be sent again) and refuses to start if there is none; `fail` refuses to start; `reset` moves the bad file aside (`.corrupt-<time>`) and starts as if there were no position file. The bad file is never overwritten.',
  }),
};

export type TaildirOptions = Resolved<typeof options>;

/** `~` and relative paths -> absolute. */
export function resolvePositionFile(p: string): string {
  if (p === '~' || p.startsWith('~/')) p = path.join(os.homedir(), p.slice(1));
  return path.resolve(p);
}

function check(o: TaildirOptions) {
  const problems: { key?: string; message: string; hint?: string }[] = [];
  const defined = o['filegroups.'];
  for (const g of o.filegroups) {
    if (defined[g] === undefined) problems.push({ key: 'filegroups', message: `file group '${g}' has no path (Flume ignores it silently)`, hint: `add filegroups.${g} = /directory/<regex on the file name>` });
  }
  for (const g of Object.keys(defined)) {
    if (!o.filegroups.includes(g)) problems.push({ key: `filegroups.${g}`, message: `file group '${g}' is defined but not listed in filegroups (Flume ignores it silently)`, hint: `filegroups = ${[...o.filegroups, g].join(' ')}` });
  }
  for (const k of Object.keys(o['headers.'])) {
    const dot = k.indexOf('.');
    const g = dot > 0 ? k.slice(0, dot) : '';
    if (dot <= 0 || dot === k.length - 1) problems.push({ key: `headers.${k}`, message: `'headers.${k}' must be headers.<group>.<header>` });
    else if (!o.filegroups.includes(g)) problems.push({ key: `headers.${k}`, message: `headers for file group '${g}', which is not in filegroups` });
  }
  return problems;
}

// ----------------------------------------------------------------------------------------------- source

/** How often the first bytes of an open, growing file are compared with its fingerprint. */
const FP_CHECK_MS = 50;
/** How often a closed (idle) file is stat'ed for changes, unless inotify names it. */
const CLOSED_STAT_MS = 1000;
/** Besides writePosInterval, offsets are written after this many committed lines (at most every POS_MIN_GAP_MS). */
const POS_EVERY_EVENTS = 10_000;
const POS_MIN_GAP_MS = 200;
const NEVER = new AbortController().signal;

export class TaildirSource implements Source {
  readonly positionFile: string;
  private readonly groups: GroupSpec[];
  private readonly matcher: Matcher;
  private readonly settings: TailSettings;
  private readonly trackers = new Map<string, TailFile>();
  private loop: PollableLoop | undefined;
  private posTimer: NodeJS.Timeout | undefined;
  private watchers: fs.FSWatcher[] = [];
  private wakeFlag = false;
  private wakeResolve: (() => void) | undefined;
  /** Waits before a refused batch is emitted again: the poll backoff's timing. */
  private readonly backoff: LinearBackoff;
  private dirtyNames = new Set<string>();
  private writing: Promise<void> | undefined;
  private lastWritten = '';
  private stopping = false;
  private closing: Promise<void> | undefined;
  private started = false;
  private readonly maxBatchCount: number;
  private committedSinceWrite = 0;
  private lastWriteAt = 0;

  constructor(readonly o: TaildirOptions, readonly ctx: SourceContext) {
    this.positionFile = resolvePositionFile(o.positionFile);
    const headers = o['headers.'];
    this.groups = o.filegroups.map((name) => {
      const { dir, regex } = parseGroupPath(o['filegroups.'][name]!);
      const h = Object.create(null) as Record<string, string>;
      for (const k of Object.keys(headers)) if (k.startsWith(`${name}.`)) h[k.slice(name.length + 1)] = headers[k]!;
      return { name, dir, regex, headers: h };
    });
    this.matcher = new Matcher(this.groups, o.followSymlinks as SymlinkPolicy, o.cachePatternMatching, ctx.logger);
    this.settings = {
      maxLineBytes: o.maxLineBytes,
      oversize: o.oversizeLinePolicy as OversizePolicy,
      byteOffsetHeader: o.byteOffsetHeader,
      fileHeader: o.fileHeader,
      fileHeaderKey: o.fileHeaderKey,
    };
    this.maxBatchCount = o.maxBatchCount ?? Number.MAX_SAFE_INTEGER;
    this.backoff = new LinearBackoff(o.backoffSleepIncrement, o.maxBackoffSleep);
  }

  private now(): number {
    return this.ctx.clock.monotonicMs();
  }

  /** Files currently tracked (for tests and status). */
  files(): { path: string; pos: number; readPos: number; open: boolean; orphan: boolean; inode: number; heldBytes: number }[] {
    return [...this.trackers.values()].map((t) => ({ path: t.path, pos: t.pos, readPos: t.readPos, open: t.isOpen, orphan: t.orphan, inode: t.ino, heldBytes: t.splitter.pendingBytes }));
  }

  private batchLimit(): number {
    return Math.max(1, Math.min(this.o.batchSize, this.ctx.maxBatchSize));
  }

  // --------------------------------------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    if (this.started) return;
    const fail = (msg: string, cause?: unknown) => new AgentError('FLUME_ERR_SOURCE_START', `taildir source ${this.ctx.name}: ${msg}`, { cause });
    let loaded;
    try {
      loaded = await loadPositions(this.positionFile, this.o.positionFileRecovery as RecoveryPolicy);
    } catch (err) {
      const hint = this.o.positionFileRecovery === 'fail'
        ? 'fix or remove the file (remove its .bak too to start over), or set positionFileRecovery = backup or reset'
        : 'fix or remove the file (remove its .bak too to start over), or set positionFileRecovery = reset to move it aside and start afresh';
      throw fail(`${err instanceof PositionFileError ? err.message : errorMessage(err)}. Not starting: reading every file from the start would send it all again. To continue: ${hint}`, err);
    }
    if (loaded.from === 'backup') {
      this.ctx.logger.warn('Position file could not be used; restored its backup (lines committed after the backup was written may be sent again)', { positionFile: this.positionFile, problem: loaded.problem, movedTo: loaded.movedTo });
    } else if (loaded.from === 'reset') {
      this.ctx.logger.warn('Position file could not be used; positionFileRecovery = reset: starting without positions', { positionFile: this.positionFile, problem: loaded.problem, movedTo: loaded.movedTo });
    }
    try {
      await this.matcher.init();
    } catch (err) {
      throw fail(errorMessage(err), err);
    }
    try {
      await ensureParent(this.positionFile);
    } catch (err) {
      throw fail(`cannot create the directory of the position file ${this.positionFile}: ${errorMessage(err)}`, err);
    }
    this.stopping = false;
    await this.initialScan(loaded.entries);
    try {
      await writePositions(this.positionFile, this.snapshot());
      this.lastWritten = formatPositions(this.snapshot());
    } catch (err) {
      await this.closeAll();
      throw fail(`cannot write the position file ${this.positionFile}: ${errorMessage(err)}`, err);
    }
    this.started = true;
    this.closing = undefined;
    this.watch();
    this.posTimer = setInterval(() => void this.writePositionsNow(), this.o.writePosInterval);
    this.posTimer.unref?.();
    this.ctx.logger.info('Taildir source started', {
      groups: this.groups.map((g) => `${g.name}=${g.dir}/${g.regex.javaSource}`).join(' '),
      files: this.trackers.size,
      positionFile: this.positionFile,
      positionsFrom: loaded.from,
    });
    this.loop = new PollableLoop(() => this.poll(), {
      incrementMs: this.o.backoffSleepIncrement,
      maxMs: this.o.maxBackoffSleep,
      logger: this.ctx.logger,
      sleep: (ms, signal) => this.sleep(ms, signal),
    });
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (!this.started) return;
    this.stopping = true;
    this.wake();
    await this.loop?.stop();
    this.loop = undefined;
    if (this.posTimer) clearInterval(this.posTimer);
    this.posTimer = undefined;
    for (const w of this.watchers) w.close();
    this.watchers = [];
    await this.writing;
    await this.writePositionsNow(true);
    await this.closeAll();
    this.started = false;
    this.ctx.logger.info('Taildir source stopped', { positionFile: this.positionFile });
  }

  destroy(): void {
    this.stopping = true;
    this.wake();
    void this.loop?.stop();
    if (this.posTimer) clearInterval(this.posTimer);
    for (const w of this.watchers) w.close();
    this.watchers = [];
    void this.closeAll();
  }

  private async closeAll(): Promise<void> {
    await Promise.all([...this.trackers.values()].map((t) => t.close()));
    this.trackers.clear();
  }

  // --------------------------------------------------------------------------------------------- wake-ups

  private watch(): void {
    for (const dir of this.matcher.directories) {
      try {
        const w = fs.watch(dir, { persistent: false }, (_evt, name) => {
          const n = name == null ? undefined : String(name);
          if (n === undefined || this.matcher.matches(dir, n)) {
            if (n !== undefined) this.dirtyNames.add(path.join(dir, n));
            this.wake();
          }
        });
        w.on('error', (err) => {
          this.ctx.logger.warn('Directory watch failed; falling back to polling', { directory: dir, error: errorMessage(err) });
          w.close();
        });
        this.watchers.push(w);
      } catch (err) {
        this.ctx.logger.warn('Cannot watch the directory; polling only', { directory: dir, error: errorMessage(err) });
      }
    }
  }

  private wake(): void {
    if (this.wakeResolve) this.wakeResolve();
    else this.wakeFlag = true;
  }

  /** The poll loop's sleep: ends early on a change in a group directory (a full channel is retried in drain()). */
  private sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.wakeFlag) {
      this.wakeFlag = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      if (signal?.aborted || this.stopping) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        if (this.wakeResolve === done) this.wakeResolve = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.wakeResolve = done;
    });
  }

  // --------------------------------------------------------------------------------------------- discovery

  private async openFile(c: Candidate): Promise<{ fh: fsp.FileHandle; size: number; mtimeMs: number } | undefined> {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(c.openPath, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
    } catch (err) {
      this.ctx.logger.warn('Cannot open a matching file; it is retried when the directory changes', { file: c.path, error: errorMessage(err) });
      return undefined;
    }
    const st = await fh.stat();
    if (st.dev !== c.dev || st.ino !== c.ino) {
      await fh.close();
      return undefined;
    }
    return { fh, size: st.size, mtimeMs: st.mtimeMs };
  }

  private track(c: Candidate, pos: number, fp: string, opened: { fh: fsp.FileHandle; size: number; mtimeMs: number }): TailFile {
    const t = new TailFile(c.key, c.dev, c.ino, c.path, c.openPath, c.group, pos, fp, this.settings, this.now());
    t.adopt(opened.fh, opened.size, opened.mtimeMs);
    this.trackers.set(c.key, t);
    return t;
  }

  /** Offset to start a file at with skipToEnd: the start of its last, unterminated line (or the end). */
  private async endBoundary(fh: fsp.FileHandle, size: number): Promise<number> {
    if (size === 0) return 0;
    const n = Math.min(size, 64 * 1024);
    const buf = Buffer.allocUnsafe(n);
    const { bytesRead } = await fh.read(buf, 0, n, size - n);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(10);
    if (nl >= 0) return size - n + nl + 1;
    return size <= n ? 0 : size;
  }

  /** Start-up: matches the position entries to the files found (identity rules in identity.ts). */
  private async initialScan(entries: PositionEntry[]): Promise<void> {
    const { files } = await this.matcher.scan(this.now(), true);
    const used = new Set<PositionEntry>();
    for (const c of files.values()) {
      const opened = await this.openFile(c);
      if (!opened) continue;
      const entry = entries.find((e) => !used.has(e) && e.inode === c.ino && (e.dev === undefined || e.dev === c.dev));
      let pos: number | undefined;
      if (entry) {
        used.add(entry);
        if (entry.fp !== undefined) {
          if (await sameFingerprint(opened.fh, entry.fp, opened.size)) {
            if (opened.size >= entry.pos) pos = entry.pos;
            else {
              pos = 0;
              this.ctx.logger.warn('File is shorter than its saved offset (truncated while stopped); reading it from the start', { file: c.path, size: opened.size, savedPos: entry.pos });
            }
            if (entry.file !== c.path) this.ctx.logger.info('File was renamed while stopped; keeping its offset', { from: entry.file, to: c.path, pos });
          } else {
            this.ctx.logger.info('File has a saved inode but different content (inode reused); treated as a new file', { file: c.path, inode: c.ino, savedFile: entry.file });
          }
        } else if (entry.file === c.path) {
          // a Flume entry: applied with Flume's rule (same inode and same path)
          if (opened.size >= entry.pos) pos = entry.pos;
          else {
            pos = 0;
            this.ctx.logger.warn('File is shorter than its saved offset (truncated while stopped); reading it from the start', { file: c.path, size: opened.size, savedPos: entry.pos });
          }
        }
      }
      if (pos === undefined) pos = this.o.skipToEnd ? await this.endBoundary(opened.fh, opened.size) : 0;
      const fp = await fingerprintFile(opened.fh, opened.size);
      this.track(c, pos, fp, opened);
    }
    // the reset offsets (truncated while stopped) are persisted by the write that follows in start()
    await this.resumeRotated(entries.filter((e) => !used.has(e) && e.fp !== undefined));
  }

  /**
   * Entries whose file is no longer under a matching name: if the same file (inode + fingerprint) is still in the
   * group directory under another name (rotated while the agent was down) and has unread data, drain it.
   */
  private async resumeRotated(entries: PositionEntry[]): Promise<void> {
    const dirs = new Set(this.matcher.directories);
    const listed = new Map<string, string[]>();
    for (const e of entries) {
      const dir = path.dirname(e.file);
      if (!dirs.has(dir)) continue;
      let names = listed.get(dir);
      if (!names) {
        names = await fsp.readdir(dir).catch(() => [] as string[]);
        listed.set(dir, names);
      }
      for (const name of names) {
        const p = path.join(dir, name);
        const st = await fsp.lstat(p).catch(() => undefined);
        if (!st || !st.isFile() || st.ino !== e.inode || (e.dev !== undefined && st.dev !== e.dev)) continue;
        const key = fileKey(st.dev, st.ino);
        if (this.trackers.has(key)) break;
        const c: Candidate = { key, path: p, openPath: p, group: this.groups.find((g) => g.dir === dir)!, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs };
        const opened = await this.openFile(c);
        if (!opened) break;
        if (opened.size > e.pos && (await sameFingerprint(opened.fh, e.fp, opened.size))) {
          const t = this.track(c, e.pos, await fingerprintFile(opened.fh, opened.size), opened);
          t.orphan = true;
          t.rotated = true;
          this.ctx.logger.info('Draining a file rotated while the agent was stopped', { file: p, was: e.file, pos: e.pos, size: opened.size });
        } else {
          await opened.fh.close();
        }
        break;
      }
    }
  }

  /** Reconciles the trackers with the directories, and re-reads sizes on the open descriptors. */
  private async update(now: number): Promise<void> {
    const { files, changed } = await this.matcher.scan(now);
    if (changed) {
      for (const [key, c] of files) {
        const t = this.trackers.get(key);
        if (t) {
          if (t.path !== c.path) {
            this.ctx.logger.info('File renamed; continuing at its offset', { from: t.path, to: c.path, pos: t.pos });
            t.renamed(c.path, c.openPath);
            t.rotated = true;
          }
          if (t.orphan) t.orphan = false;
        } else if (!this.stopping) {
          const opened = await this.openFile(c);
          if (opened) {
            this.track(c, 0, '', opened);
            this.ctx.logger.info('New file', { file: c.path });
          }
        }
      }
      for (const t of [...this.trackers.values()]) {
        if (files.has(t.key)) continue;
        if (t.isOpen) {
          if (!t.orphan) {
            t.orphan = true;
            t.rotated = true;
            this.ctx.logger.info('File renamed away or deleted; draining it from its open descriptor', { file: t.path, pos: t.pos });
          }
        } else {
          this.trackers.delete(t.key);
        }
      }
    }
    for (const t of this.trackers.values()) {
      if (t.isOpen) {
        let r;
        try {
          r = await t.refresh(now, FP_CHECK_MS);
        } catch (err) {
          this.ctx.logger.warn('Cannot stat an open file; closing it', { file: t.path, error: errorMessage(err) });
          await t.closeIdle();
          continue;
        }
        if (r === 'truncated') {
          this.ctx.logger.warn('File was truncated or rewritten (copytruncate?); reading it again from the start', { file: t.path, size: t.size, readPos: t.readPos, pos: t.pos });
          this.ctx.counters.add('TruncationCount');
          t.truncated();
          // persist the reset offset now (F5): a restart must not skip the new content
          this.lastWritten = '';
          if (!t.busy) await this.writePositionsNow();
        }
      } else if (!this.stopping && (now - t.lastStat >= CLOSED_STAT_MS || this.dirtyNames.has(t.path))) {
        t.lastStat = now;
        await this.maybeReopen(t);
      }
    }
    this.dirtyNames.clear();
  }

  /** A closed file changed: reopen it, checking it is still the same content (fingerprint). */
  private async maybeReopen(t: TailFile): Promise<void> {
    const st = await fsp.stat(t.openPath).catch(() => undefined);
    if (!st || st.dev !== t.dev || st.ino !== t.ino) return; // gone or replaced: the directory scan handles it
    if (st.size === t.size && st.mtimeMs === t.mtimeMs) return; // unchanged since it was closed
    if (!(await t.open())) return;
    if (!(await sameFingerprint(t.fh!, t.fp, t.size)) || t.size < t.pos) {
      this.ctx.logger.info('Reopened file has different content (inode reused or truncated); reading it from the start', { file: t.path, size: t.size, savedPos: t.pos });
      t.pos = 0;
      t.readPos = 0;
      t.fp = '';
      t.splitter.reset(0);
      this.lastWritten = '';
    }
    t.lastActivity = this.now();
  }

  // --------------------------------------------------------------------------------------------- reading

  /** One pass of the pollable runner. */
  async poll(): Promise<PollResult> {
    if (this.stopping) return 'backoff';
    const now = this.now();
    await this.update(now);
    const order = [...this.trackers.values()].filter((t) => t.isOpen || t.busy).sort((a, b) => a.mtimeMs - b.mtimeMs);
    let progressed = false;
    for (const t of order) {
      if (this.stopping) break;
      const r = await this.drain(t, now);
      if (r === 'stopped') return 'backoff';
      if (r > 0) progressed = true;
    }
    await this.closeIdle(this.now());
    return progressed ? 'ready' : 'backoff';
  }

  /**
   * Emits up to maxBatchCount batches from one file, retrying a refused batch until the channel takes it. Returns
   * the events committed, or 'stopped' when the source stopped while a batch was refused.
   */
  private async drain(t: TailFile, now: number): Promise<number | 'stopped'> {
    const limit = this.batchLimit();
    const ctx = this.ctx;
    let batches = 0;
    let events = 0;
    const oversize0 = t.splitter.oversize;
    try {
      while (batches < this.maxBatchCount && !this.stopping) {
        let batch = t.inflight;
        if (!batch) {
          try {
            while (t.queued < limit && t.isOpen && t.readPos < t.size) {
              if ((await t.readChunk(now)) === 0) break;
            }
          } catch (err) {
            ctx.counters.add('EventReadFail');
            ctx.logger.warn('Read failed; closing the file (it is reopened when it changes)', { file: t.path, error: errorMessage(err) });
            await t.closeIdle();
          }
          batch = t.takeBatch(limit);
          if (!batch) break;
          ctx.counters.add('AppendBatchReceivedCount');
        }
        const refused = batch;
        let retried = false;
        // other refusals go to the runner (logged, maxBackoffSleep); the next poll retries the same batch
        const committed = await retrying(() => ctx.emit(refused), {
          backoff: this.backoff,
          signal: this.loop?.signal ?? NEVER,
          onRetry: (err) => {
            if (retried) return;
            retried = true;
            ctx.logger.warn('Channel full; will retry the same batch after a backoff', {
              file: t.path, events: refused.length, error: errorMessage(err),
            });
          },
        });
        if (!committed) return 'stopped';
        if (retried) ctx.logger.info('Channel accepted the batch; reading resumes');
        t.committed();
        this.committedSinceWrite += batch.length;
        // while catching up, offsets are persisted by volume too: a crash then repeats few lines
        if (this.committedSinceWrite >= POS_EVERY_EVENTS && !this.writing && this.now() - this.lastWriteAt >= POS_MIN_GAP_MS) void this.writePositionsNow();
        ctx.counters.add('AppendBatchAcceptedCount');
        batches++;
        events += batch.length;
      }
      t.syncIdle();
    } finally {
      const cut = t.splitter.oversize - oversize0;
      if (cut > 0) {
        ctx.counters.add('OversizeLineCount', cut);
        ctx.logger.warn(`Line(s) longer than maxLineBytes were ${this.o.oversizeLinePolicy === 'truncate' ? 'truncated' : 'skipped'}`, { file: t.path, lines: cut, maxLineBytes: this.o.maxLineBytes });
      }
    }
    return events;
  }

  /** Closes files idle for idleTimeout; a rotated file first hands out its unterminated tail. */
  private async closeIdle(now: number): Promise<void> {
    for (const t of [...this.trackers.values()]) {
      if (!t.isOpen || t.busy || now - t.lastActivity < this.o.idleTimeout || t.readPos < t.size) continue;
      if (t.rotated && !t.finalFlushed) {
        t.finalFlushed = true;
        if (t.flushPartial()) {
          this.ctx.counters.add('PartialLineCount');
          this.ctx.logger.info('Rotated file idle: its unterminated last line is sent as an event', { file: t.path });
          continue; // drained by the next poll, then closed
        }
      }
      if (t.orphan) {
        await t.close();
        this.trackers.delete(t.key);
        this.ctx.logger.info('Closed a file renamed away or deleted, after idleTimeout without new data', { file: t.path, pos: t.pos });
      } else {
        await t.closeIdle();
        this.ctx.logger.debug('Closed an idle file', { file: t.path, pos: t.pos });
      }
    }
  }

  // --------------------------------------------------------------------------------------------- positions

  private snapshot(): PositionEntry[] {
    const out: PositionEntry[] = [];
    for (const t of this.trackers.values()) {
      const e: PositionEntry = { inode: t.ino, pos: t.pos, file: t.path, dev: t.dev };
      if (t.fp) e.fp = t.fp;
      out.push(e);
    }
    return out;
  }

  /** Writes the committed offsets if they changed (one write at a time). */
  writePositionsNow(force = false): Promise<void> {
    if (this.writing) return this.writing.then(() => this.writePositionsNow(force));
    const entries = this.snapshot();
    const text = formatPositions(entries);
    if (!force && text === this.lastWritten) return Promise.resolve();
    this.committedSinceWrite = 0;
    this.lastWriteAt = this.now();
    const w: Promise<void> = writePositions(this.positionFile, entries)
      .then(() => {
        this.lastWritten = text;
      })
      .catch((err) => {
        this.ctx.logger.error('Cannot write the position file; offsets are kept in memory and written again later', { positionFile: this.positionFile, error: errorMessage(err) });
      })
      .finally(() => {
        this.writing = undefined;
      });
    this.writing = w;
    return w;
  }
}

export default defineSource({
  type: 'taildir',
  aliases: ['TAILDIR'],
  classNames: ['org.apache.flume.source.taildir.TaildirSource'],
  summary: 'Tails the files of one or more file groups line by line; survives rename, copytruncate and truncation; at-least-once with a durable channel.',
  options,
  check,
  batchSize: (o) => o.batchSize,
  batchSizeKey: 'batchSize',
  claims: (o) => [{ resource: 'dir', id: resolvePositionFile(o.positionFile), key: 'positionFile' }],
  create: (o, ctx) => new TaildirSource(o, ctx),
});
