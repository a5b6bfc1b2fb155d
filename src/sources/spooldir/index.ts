/**
 * spooldir (Flume's SpoolDirectorySource): ingests complete files dropped into a directory, one file at a time,
 * then renames them (`<name>.COMPLETED`), deletes them, or records them in a tracker directory.
 *
 * Delivery: at-least-once. The byte offset after the last committed batch is stored in
 * `<trackerDir>/.flume-ts-spool.json` (atomic rename) after every commit; after a crash the current file resumes
 * there (the last batch may be sent again). A file is completed only after all its events were committed.
 *
 * Differences from Flume (on purpose): a file that cannot be consumed cleanly - changed after pickup, its
 * completed name already taken (name reused), undecodable with decodeErrorPolicy = FAIL, unreadable - is handled
 * by badFilePolicy (moved to `<trackerDir>/quarantine/` by default) and the other files keep flowing; Flume stops
 * the source for good ("Restart or reconfigure Flume to continue processing"). Symbolic links are skipped (never
 * renamed or deleted). A name already completed is detected when the file is picked up, not after reading it.
 */
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { defineSource, type Source, type SourceContext } from '../../registry/define.js';
import { opt, OptionError, type OptionSpec, type Resolved } from '../../config/options.js';
import { AgentError, ChannelFullError, errorMessage } from '../../core/errors.js';
import { ExponentialBackoff } from '../../core/backoff.js';
import { sleep } from '../../core/clock.js';
import { retrying } from '../../core/retry.js';
import type { FlumeEvent } from '../../core/event.js';
import { compileJavaRegex, javaRegexOption, type JavaRegex } from '../../compat/java/java-regex/index.js';
import { BlobDeserializer, DecodeError, inputCharset, LineDeserializer, outputCharset, type DecodeErrorPolicy, type Deserializer } from './deserializers.js';

// ----------------------------------------------------------------------------------------------- options

const DESERIALIZERS: Record<string, 'LINE' | 'AVRO' | 'BLOB'> = {
  line: 'LINE',
  'org.apache.flume.serialization.linedeserializer$builder': 'LINE',
  avro: 'AVRO',
  'org.apache.flume.serialization.avroeventdeserializer$builder': 'AVRO',
  blob: 'BLOB',
  'org.apache.flume.sink.solr.morphline.blobdeserializer$builder': 'BLOB',
};

const deserializerOption: OptionSpec<'LINE' | 'BLOB'> = {
  ...(opt.string({ default: 'LINE', doc: 'How files become events: `LINE` (one event per line; Flume class org.apache.flume.serialization.LineDeserializer$Builder) or `BLOB` (the whole file as one event, org.apache.flume.sink.solr.morphline.BlobDeserializer$Builder). `AVRO` is not implemented (a config error).' }) as OptionSpec<any>),
  typeText: 'LINE, BLOB (org.apache.flume.sink.solr.morphline.BlobDeserializer$Builder)',
  parse: (raw: string) => {
    const d = DESERIALIZERS[raw.trim().toLowerCase()];
    if (d === 'AVRO') throw new OptionError('the AVRO deserializer is not implemented in flume-ts', 'use LINE or BLOB, or convert the Avro container files before spooling them');
    if (!d) throw new OptionError(`'${raw}' is not a known deserializer`, 'use LINE or BLOB (org.apache.flume.sink.solr.morphline.BlobDeserializer$Builder); custom deserializer classes cannot be loaded');
    return d;
  },
};

const charsetOption = (doc: string, def: string, check: (raw: string) => unknown): OptionSpec<string> => ({
  ...opt.string({ default: def, doc }),
  typeText: 'charset',
  parse: (raw: string) => {
    check(raw);
    return raw;
  },
});

const options = {
  spoolDir: opt.string({ required: true, nonEmpty: true, doc: 'Directory to read files from. It must exist and be writable (a hidden canary file is created and removed at start).' }),
  fileSuffix: opt.string({ default: '.COMPLETED', nonEmpty: true, doc: 'Appended to the name of a file once it is completely ingested (trackingPolicy rename). Files ending with it are never picked up.' }),
  deletePolicy: opt.enum({ values: ['never', 'immediate'] as const, default: 'never', doc: '`immediate` deletes a file once it is completely ingested; `never` keeps it (see trackingPolicy).' }),
  trackingPolicy: opt.enum({ values: ['rename', 'tracker_dir'] as const, default: 'rename', doc: 'With deletePolicy = never: `rename` appends fileSuffix to a completed file; `tracker_dir` leaves it untouched and creates an empty marker `<trackerDir>/<relative path><fileSuffix>`.' }),
  trackerDir: opt.string({ default: '.flumespool', nonEmpty: true, doc: 'Metadata directory, relative to spoolDir unless absolute: the position of the current file (`.flume-ts-spool.json`), the tracker_dir markers, and `quarantine/`.' }),
  fileHeader: opt.bool({ default: false, doc: 'Add the absolute path of the file as a header.' }),
  fileHeaderKey: opt.string({ default: 'file', nonEmpty: true, doc: 'Name of the fileHeader header.' }),
  basenameHeader: opt.bool({ default: false, doc: 'Add the file name as a header.' }),
  basenameHeaderKey: opt.string({ default: 'basename', nonEmpty: true, doc: 'Name of the basenameHeader header.' }),
  includePattern: javaRegexOption({ default: '^.*$', doc: 'Java regex a file name must match (whole name) to be picked up.' }),
  ignorePattern: javaRegexOption({ default: '^$', doc: 'Java regex of file names to ignore (whole name); wins over includePattern. With recursiveDirectorySearch it also skips directories.' }),
  consumeOrder: opt.enum({ values: ['oldest', 'youngest', 'random'] as const, default: 'oldest', doc: 'Which file next: `oldest` / `youngest` by modification time (ties: the lexicographically smaller path first), or `random`.' }),
  recursiveDirectorySearch: opt.bool({ default: false, doc: 'Also pick up files in sub-directories (directories whose name starts with `.` are skipped).' }),
  pollDelay: opt.duration({ default: 500, unit: 'ms', min: 1, doc: 'Pause between directory scans when there is nothing to read.' }),
  maxBackoff: opt.duration({ default: 4000, unit: 'ms', min: 1, doc: 'Longest wait between retries of a batch the channel refused (starts at 250 ms, doubling).' }),
  batchSize: opt.int({ default: 100, min: 1, doc: 'Most events per channel transaction (also capped by the smallest transactionCapacity of the channels).' }),
  inputCharset: charsetOption('Charset of the files for the LINE deserializer: UTF-8, US-ASCII, ISO-8859-1 or a single-byte charset such as windows-1252.', 'UTF-8', inputCharset),
  decodeErrorPolicy: opt.enum({ values: ['FAIL', 'REPLACE', 'IGNORE'] as const, default: 'FAIL', doc: 'Undecodable input: `FAIL` handles the file by badFilePolicy (Flume stops the source), `REPLACE` puts U+FFFD in place of the bad bytes, `IGNORE` drops them.' }),
  deserializer: deserializerOption,
  'deserializer.': opt.map({
    keyText: '<option>',
    doc: 'Deserializer options. LINE: `maxLineLength` (2048 characters; a longer line is cut into several events), `outputCharset` (UTF-8; the charset of the bodies). BLOB: `maxBlobLength` (100000000 bytes per event; a longer file becomes several events).',
  }),
  badFilePolicy: opt.enum({
    values: ['quarantine', 'skip', 'fail'] as const,
    default: 'quarantine',
    doc: 'New key. A file that cannot be consumed cleanly - modified after it was picked up, its completed name already taken (name reused), undecodable with decodeErrorPolicy = FAIL, unreadable: `quarantine` moves it to `<trackerDir>/quarantine/` and goes on with the other files; `skip` leaves it in place and ignores it until it changes (for this run); `fail` stops the source as Flume does. Events already committed from the file stay committed.',
  }),
  bufferMaxLines: opt.ignored({ doc: 'Obsolete in Flume.' }),
  bufferMaxLineLength: opt.int({ min: 1, doc: 'Deprecated Flume key: maxLineLength of the LINE deserializer when deserializer.maxLineLength is not set.' }),
};

export type SpoolDirOptions = Resolved<typeof options>;

interface DeserializerConfig {
  kind: 'LINE' | 'BLOB';
  maxLineLength: number;
  outputCharset: string;
  maxBlobLength: number;
}

function deserializerConfig(o: SpoolDirOptions): DeserializerConfig {
  const d = o['deserializer.'];
  const kind = o.deserializer as 'LINE' | 'BLOB';
  const allowed = kind === 'LINE' ? ['maxLineLength', 'outputCharset'] : ['maxBlobLength'];
  for (const k of Object.keys(d)) {
    if (!allowed.includes(k)) throw new OptionError(`deserializer.${k} is not an option of the ${kind} deserializer`, `${kind} takes: ${allowed.map((a) => `deserializer.${a}`).join(', ')}`);
  }
  const int = (k: string, def: number): number => {
    const raw = d[k];
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1) throw new OptionError(`deserializer.${k} = '${raw}' is not a whole number >= 1`);
    return n;
  };
  const out = d.outputCharset ?? 'UTF-8';
  outputCharset(out);
  return { kind, maxLineLength: int('maxLineLength', o.bufferMaxLineLength ?? 2048), outputCharset: out, maxBlobLength: int('maxBlobLength', 100000000) };
}

function check(o: SpoolDirOptions) {
  try {
    deserializerConfig(o);
  } catch (err) {
    if (err instanceof OptionError) return { key: 'deserializer', message: err.message, hint: err.hint };
    throw err;
  }
  if (!path.isAbsolute(o.spoolDir)) return { key: 'spoolDir', message: `spoolDir '${o.spoolDir}' is not an absolute path`, hint: 'write the full path of the directory' };
  return undefined;
}

// ----------------------------------------------------------------------------------------------- source

interface Candidate {
  path: string;
  rel: string;
  name: string;
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
}

interface Current extends Candidate {
  fh: FileHandle;
  reader: Deserializer;
  /** Committed offset. */
  pos: number;
  /** Offset after the in-flight batch. */
  pendingEnd: number;
  inflight: FlumeEvent[] | undefined;
  headers: Record<string, string>;
  /** Nothing read from the file yet (a 0-byte file still gives one empty event, as in Flume). */
  firstRead: boolean;
}

interface Meta {
  file: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  pos: number;
}

const META_NAME = '.flume-ts-spool.json';

export class SpoolDirectorySource implements Source {
  readonly spoolDir: string;
  readonly trackerDir: string;
  private readonly include: JavaRegex;
  private readonly ignore: JavaRegex;
  private readonly des: DeserializerConfig;
  private current: Current | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  /** Retries of a refused batch: 250 ms doubling to maxBackoff (Flume's timing). */
  private readonly backoff: ExponentialBackoff;
  private stopping = false;
  private halted = false;
  private closing: Promise<void> | undefined;
  /** Files skipped by badFilePolicy = skip: path -> identity at the time. */
  private readonly skipped = new Map<string, string>();
  private readonly warned = new Set<string>();
  /** Files completed, quarantined and skipped (for tests and status). */
  readonly stats = { completed: 0, quarantined: 0, skipped: 0 };

  constructor(readonly o: SpoolDirOptions, readonly ctx: SourceContext) {
    this.spoolDir = path.resolve(o.spoolDir);
    this.trackerDir = path.resolve(this.spoolDir, o.trackerDir);
    this.include = compileJavaRegex(o.includePattern);
    this.ignore = compileJavaRegex(o.ignorePattern);
    this.des = deserializerConfig(o);
    this.backoff = new ExponentialBackoff(250, o.maxBackoff);
  }

  private get metaFile(): string {
    return path.join(this.trackerDir, META_NAME);
  }

  async start(): Promise<void> {
    if (this.running) return;
    const fail = (msg: string, cause?: unknown) => new AgentError('FLUME_ERR_SOURCE_START', `spooldir source ${this.ctx.name}: ${msg}`, { cause });
    const st = await fsp.stat(this.spoolDir).catch((err) => {
      throw fail(`spoolDir ${this.spoolDir} cannot be read: ${errorMessage(err)}`, err);
    });
    if (!st.isDirectory()) throw fail(`spoolDir ${this.spoolDir} is not a directory`);
    const canary = path.join(this.spoolDir, `.flume-spooldir-perm-check-${randomBytes(6).toString('hex')}.canary`);
    try {
      await fsp.writeFile(canary, 'testing flume file permissions\n');
      await fsp.rm(canary);
    } catch (err) {
      throw fail(`spoolDir ${this.spoolDir} is not writable: ${errorMessage(err)}`, err);
    }
    try {
      await fsp.mkdir(this.trackerDir, { recursive: true, mode: 0o700 });
    } catch (err) {
      throw fail(`trackerDir ${this.trackerDir} cannot be created: ${errorMessage(err)}`, err);
    }
    await this.resume();
    this.ctx.logger.info('Spooling directory source started', { spoolDir: this.spoolDir, deserializer: this.des.kind, trackingPolicy: this.o.trackingPolicy, deletePolicy: this.o.deletePolicy });
    this.running = this.loop();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.stopping = true;
      this.abort.abort();
      await this.running;
      this.running = undefined;
      await this.current?.fh.close().catch(() => undefined);
      this.current = undefined;
      this.ctx.logger.info('Spooling directory source stopped', { spoolDir: this.spoolDir });
    })();
    return this.closing;
  }

  destroy(): void {
    this.stopping = true;
    this.abort.abort();
  }

  /** True when badFilePolicy = fail stopped the source. */
  get isHalted(): boolean {
    return this.halted;
  }

  // --------------------------------------------------------------------------------------------- loop

  private async loop(): Promise<void> {
    while (!this.stopping && !this.halted) {
      try {
        if (!this.current) {
          const next = await this.pick();
          if (!next) {
            await sleep(this.o.pollDelay, this.abort.signal);
            continue;
          }
          await this.openCurrent(next, 0);
          if (!this.current) continue;
        }
        await this.step();
      } catch (err) {
        if (this.stopping) break;
        const cur = this.current;
        if (cur) {
          await this.badFile(cur, err instanceof DecodeError ? `${err.message} (decodeErrorPolicy = FAIL)` : `read failed: ${errorMessage(err)}`);
        } else {
          this.ctx.logger.error('Spooling directory scan failed; retrying', { spoolDir: this.spoolDir, error: errorMessage(err) });
          await sleep(this.o.pollDelay, this.abort.signal);
        }
      }
    }
  }

  /** One batch of the current file: read, emit (retrying while the channel refuses it), commit. */
  private async step(): Promise<'ok' | 'done' | 'stopped'> {
    const cur = this.current!;
    if (!cur.inflight) {
      const limit = Math.max(1, Math.min(this.o.batchSize, this.ctx.maxBatchSize));
      const { bodies, ends } = await cur.reader.read(limit);
      if (bodies.length === 0) {
        if (cur.firstRead) {
          // Flume: a 0-byte file gives one event with an empty body
          bodies.push(Buffer.alloc(0));
          ends.push(0);
        } else {
          await this.finish(cur);
          return 'done';
        }
      }
      cur.firstRead = false;
      const headers = cur.headers;
      cur.inflight = bodies.map((body) => ({ headers, body }));
      cur.pendingEnd = ends[ends.length - 1]!;
      this.ctx.counters.add('AppendBatchReceivedCount');
    }
    const batch = cur.inflight;
    const committed = await retrying(() => this.ctx.emit(batch), {
      backoff: this.backoff,
      signal: this.abort.signal,
      retriable: () => true,
      onRetry: (err) => {
        const { logger } = this.ctx;
        const fields = { file: cur.path, events: batch.length, error: errorMessage(err) };
        if (err instanceof ChannelFullError) {
          logger.warn('Channel full; will retry the same batch after a backoff', fields);
        } else {
          logger.error('Channel error; the same batch is retried after a backoff', fields);
        }
      },
    });
    if (!committed) return 'stopped';
    cur.inflight = undefined;
    cur.pos = cur.pendingEnd;
    this.ctx.counters.add('AppendBatchAcceptedCount');
    await this.saveMeta(cur);
    return 'ok';
  }

  // --------------------------------------------------------------------------------------------- files

  private identity(c: { dev: number; ino: number; size: number; mtimeMs: number }): string {
    return `${c.dev}:${c.ino}:${c.size}:${c.mtimeMs}`;
  }

  private warnOnce(key: string, msg: string, fields: Record<string, unknown>): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.ctx.logger.warn(msg, fields);
  }

  /** Candidate files, in no particular order. */
  private async list(): Promise<Candidate[]> {
    const out: Candidate[] = [];
    const suffix = this.o.fileSuffix;
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const name = e.name;
        if (name.startsWith('.')) continue;
        const p = path.join(dir, name);
        const r = rel ? `${rel}/${name}` : name;
        if (e.isDirectory()) {
          if (this.o.recursiveDirectorySearch && !this.ignore.matches(name) && p !== this.trackerDir) await walk(p, r);
          continue;
        }
        if (name.endsWith(suffix)) continue;
        if (e.isSymbolicLink()) {
          this.warnOnce(p, 'Symbolic link in the spooling directory is skipped (never read, renamed or deleted)', { file: p });
          continue;
        }
        if (!e.isFile()) continue;
        if (!this.include.matches(name) || this.ignore.matches(name)) continue;
        const st = await fsp.lstat(p).catch(() => undefined);
        if (!st || !st.isFile()) continue;
        const c: Candidate = { path: p, rel: r, name, size: st.size, mtimeMs: st.mtimeMs, dev: st.dev, ino: st.ino };
        const sk = this.skipped.get(p);
        if (sk !== undefined) {
          if (sk === this.identity(c)) continue;
          this.skipped.delete(p);
        }
        out.push(c);
      }
    };
    await walk(this.spoolDir, '');
    return out;
  }

  private async pick(): Promise<Candidate | undefined> {
    for (;;) {
      const files = await this.list();
      if (files.length === 0) return undefined;
      let c: Candidate;
      if (this.o.consumeOrder === 'random') c = files[Math.floor(Math.random() * files.length)]!;
      else {
        const young = this.o.consumeOrder === 'youngest';
        c = files.reduce((best, f) => {
          if (f.mtimeMs !== best.mtimeMs) return (young ? f.mtimeMs > best.mtimeMs : f.mtimeMs < best.mtimeMs) ? f : best;
          return f.path < best.path ? f : best;
        });
      }
      // a name already completed: the name is reused by another file
      const reused = await this.completedExists(c);
      if (reused) {
        await this.badFile({ ...c, fh: undefined }, reused);
        if (this.halted || this.stopping) return undefined;
        continue;
      }
      return c;
    }
  }

  /** Why `c` cannot be completed under its name (rename target or tracker marker exists), or undefined. */
  private async completedExists(c: Candidate): Promise<string | undefined> {
    if (this.o.deletePolicy === 'immediate') return undefined;
    if (this.o.trackingPolicy === 'rename') {
      const target = `${c.path}${this.o.fileSuffix}`;
      if (fs.existsSync(target)) return `its completed name ${target} is already taken (the name was re-used for another file)`;
      return undefined;
    }
    const marker = path.join(this.trackerDir, `${c.rel}${this.o.fileSuffix}`);
    const m = await fsp.stat(marker).catch(() => undefined);
    if (!m) return undefined;
    if (m.mtimeMs >= c.mtimeMs) {
      // already completed (tracker_dir leaves the file in place): not a candidate
      this.skipped.set(c.path, this.identity(c));
      return 'already-completed';
    }
    return `it was completed before (marker ${marker}) but has changed since (the name was re-used)`;
  }

  private async openCurrent(c: Candidate, pos: number): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(c.path, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
    } catch (err) {
      await this.badFile({ ...c, fh: undefined }, `it cannot be opened: ${errorMessage(err)}`);
      return;
    }
    const st = await fh.stat();
    if (st.ino !== c.ino || st.dev !== c.dev) {
      await fh.close();
      return; // replaced between listing and opening: the next scan sees the new file
    }
    const headers = Object.create(null) as Record<string, string>;
    if (this.o.fileHeader) headers[this.o.fileHeaderKey] = c.path;
    if (this.o.basenameHeader) headers[this.o.basenameHeaderKey] = c.name;
    Object.freeze(headers);
    const d = this.des;
    const reader: Deserializer = d.kind === 'LINE'
      ? new LineDeserializer(fh, pos, { maxLineLength: d.maxLineLength, input: inputCharset(this.o.inputCharset), output: outputCharset(d.outputCharset), policy: this.o.decodeErrorPolicy as DecodeErrorPolicy })
      : new BlobDeserializer(fh, pos, d.maxBlobLength);
    this.current = { ...c, size: st.size, mtimeMs: st.mtimeMs, fh, reader, pos, pendingEnd: pos, inflight: undefined, headers, firstRead: pos === 0 };
    await this.saveMeta(this.current);
    this.ctx.logger.info('Spooling directory: reading file', { file: c.path, pos });
  }

  /** After a restart: the file named by the meta file continues at its committed offset. */
  private async resume(): Promise<void> {
    let meta: Meta | undefined;
    try {
      const text = await fsp.readFile(this.metaFile, 'utf8');
      meta = JSON.parse(text) as Meta;
      if (typeof meta.file !== 'string' || !Number.isSafeInteger(meta.pos) || meta.pos < 0) throw new Error('missing fields');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.ctx.logger.warn('Spooling directory position file is unreadable; the file it named (if any) is read again from the start', { file: this.metaFile, error: errorMessage(err) });
      }
      return;
    }
    const st = await fsp.lstat(meta.file).catch(() => undefined);
    if (!st || !st.isFile() || st.ino !== meta.ino || st.dev !== meta.dev) return;
    if (st.size < meta.pos) {
      this.ctx.logger.warn('File being read before the restart is now shorter than its committed offset; reading it from the start', { file: meta.file });
      meta.pos = 0;
    }
    const rel = path.relative(this.spoolDir, meta.file);
    await this.openCurrent({ path: meta.file, rel, name: path.basename(meta.file), size: meta.size, mtimeMs: meta.mtimeMs, dev: st.dev, ino: st.ino }, meta.pos);
    if (this.current) {
      // the size and mtime seen at pickup, for the changed-file check
      this.current.size = meta.size;
      this.current.mtimeMs = meta.mtimeMs;
      this.current.firstRead = meta.pos === 0 && meta.size === 0;
      this.ctx.logger.info('Spooling directory: resuming the file being read before the restart', { file: meta.file, pos: meta.pos });
    }
  }

  private async saveMeta(cur: Current): Promise<void> {
    const m: Meta = { file: cur.path, dev: cur.dev, ino: cur.ino, size: cur.size, mtimeMs: cur.mtimeMs, pos: cur.pos };
    const tmp = `${this.metaFile}.tmp`;
    await fsp.writeFile(tmp, JSON.stringify(m), { mode: 0o600 });
    await fsp.rename(tmp, this.metaFile);
  }

  private async clearMeta(): Promise<void> {
    await fsp.rm(this.metaFile, { force: true });
  }

  /** All events of the file are committed: check it did not change, then rename / delete / mark it. */
  private async finish(cur: Current): Promise<void> {
    const st = await cur.fh.stat();
    const now = await fsp.lstat(cur.path).catch(() => undefined);
    await cur.fh.close().catch(() => undefined);
    this.current = undefined;
    if (st.size !== cur.size || st.mtimeMs !== cur.mtimeMs) {
      await this.badFile({ ...cur, fh: undefined }, `it changed after it was picked up (size ${cur.size} -> ${st.size}); files must be complete and unchanged once in the spooling directory`, true);
      return;
    }
    if (!now || now.ino !== cur.ino || now.dev !== cur.dev) {
      this.ctx.logger.warn('File was moved or replaced while being read; its events were delivered, nothing to complete', { file: cur.path });
      await this.clearMeta();
      return;
    }
    try {
      if (this.o.deletePolicy === 'immediate') {
        await fsp.rm(cur.path);
      } else if (this.o.trackingPolicy === 'rename') {
        const target = `${cur.path}${this.o.fileSuffix}`;
        if (fs.existsSync(target)) {
          await this.badFile({ ...cur, fh: undefined }, `its completed name ${target} was taken while it was read`, true);
          return;
        }
        await fsp.rename(cur.path, target);
      } else {
        const marker = path.join(this.trackerDir, `${cur.rel}${this.o.fileSuffix}`);
        await fsp.mkdir(path.dirname(marker), { recursive: true });
        await fsp.writeFile(marker, '');
        this.skipped.set(cur.path, this.identity(cur));
      }
    } catch (err) {
      await this.badFile({ ...cur, fh: undefined }, `it cannot be completed: ${errorMessage(err)}`, true);
      return;
    }
    await this.clearMeta();
    this.stats.completed++;
    this.ctx.logger.info('Spooling directory: file completed', { file: cur.path, policy: this.o.deletePolicy === 'immediate' ? 'deleted' : this.o.trackingPolicy });
  }

  /** A file that cannot be consumed cleanly, by badFilePolicy. `delivered`: its events were committed. */
  private async badFile(c: Candidate & { fh?: FileHandle }, why: string, delivered = false): Promise<void> {
    if (why === 'already-completed') return;
    if (c.fh) await c.fh.close().catch(() => undefined);
    if (this.current?.path === c.path) this.current = undefined;
    await this.clearMeta().catch(() => undefined);
    this.ctx.counters.add('GenericProcessingFail');
    const policy = this.o.badFilePolicy;
    const fields = { file: c.path, problem: why, policy, eventsDelivered: delivered };
    if (policy === 'fail') {
      this.halted = true;
      this.ctx.logger.error('Spooling directory source stopped: a file cannot be consumed (badFilePolicy = fail). Fix the file, then restart or reconfigure the agent', fields);
      return;
    }
    if (policy === 'quarantine') {
      const qdir = path.join(this.trackerDir, 'quarantine', path.dirname(c.rel));
      let target = path.join(qdir, c.name);
      try {
        await fsp.mkdir(qdir, { recursive: true });
        for (let i = 1; fs.existsSync(target); i++) target = path.join(qdir, `${c.name}.${i}`);
        await fsp.rename(c.path, target);
        this.stats.quarantined++;
        this.ctx.logger.error('Spooling directory: file moved to quarantine; the other files keep flowing', { ...fields, movedTo: target });
        return;
      } catch (err) {
        this.ctx.logger.error('Spooling directory: file cannot be moved to quarantine; skipping it instead', { ...fields, error: errorMessage(err) });
      }
    }
    const st = await fsp.lstat(c.path).catch(() => undefined);
    this.skipped.set(c.path, st ? this.identity({ dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs }) : '');
    this.stats.skipped++;
    this.ctx.logger.error('Spooling directory: file skipped until it changes; the other files keep flowing', fields);
  }
}

export default defineSource({
  type: 'spooldir',
  classNames: ['org.apache.flume.source.SpoolDirectorySource'],
  summary: 'Ingests complete files dropped into a directory, then renames, deletes or records them; at-least-once with a durable channel.',
  options,
  check,
  batchSize: (o) => o.batchSize,
  batchSizeKey: 'batchSize',
  claims: (o) => [{ resource: 'dir', id: path.resolve(o.spoolDir), key: 'spoolDir' }],
  create: (o, ctx) => new SpoolDirectorySource(o, ctx),
});
