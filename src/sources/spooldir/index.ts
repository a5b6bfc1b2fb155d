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
import { defineSource, type Source, type SourceContext } from '../../contract/index.js';
import { AgentError, ChannelFullError, errorMessage } from '../../core/errors.js';
import { ExponentialBackoff } from '../../core/backoff.js';
import { sleep } from '../../core/clock.js';
import { retrying } from '../../core/retry.js';
import { compileJavaRegex, type JavaRegex } from '../../compat/java/java-regex/index.js';
import {
  BlobDeserializer,
  DecodeError,
  inputCharset,
  LineDeserializer,
  outputCharset,
  type DecodeErrorPolicy,
  type Deserializer,
} from './deserializers.js';
import { check, deserializerConfig, options, type DeserializerConfig, type SpoolDirOptions } from './options.js';
import { SpoolFiles, type Candidate, type Current, type Meta } from './files.js';

export type { SpoolDirOptions } from './options.js';

export class SpoolDirectorySource implements Source {
  readonly spoolDir: string;
  readonly trackerDir: string;
  private readonly include: JavaRegex;
  private readonly ignore: JavaRegex;
  private readonly des: DeserializerConfig;
  private readonly files: SpoolFiles;
  private current: Current | undefined;
  private running: Promise<void> | undefined;
  private readonly abort = new AbortController();
  /** Retries of a refused batch: 250 ms doubling to maxBackoff (Flume's timing). */
  private readonly backoff: ExponentialBackoff;
  private stopping = false;
  private closing: Promise<void> | undefined;

  constructor(
    readonly o: SpoolDirOptions,
    readonly ctx: SourceContext,
  ) {
    this.spoolDir = path.resolve(o.spoolDir);
    this.trackerDir = path.resolve(this.spoolDir, o.trackerDir);
    this.include = compileJavaRegex(o.includePattern);
    this.ignore = compileJavaRegex(o.ignorePattern);
    this.des = deserializerConfig(o);
    this.backoff = new ExponentialBackoff(250, o.maxBackoff);
    this.files = new SpoolFiles(o, ctx, this.spoolDir, this.trackerDir, this.include, this.ignore, () => this.stopping);
  }

  async start(): Promise<void> {
    if (this.running) return;
    const fail = (msg: string, cause?: unknown) =>
      new AgentError('FLUME_ERR_SOURCE_START', `spooldir source ${this.ctx.name}: ${msg}`, { cause });
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
    this.ctx.logger.info('Spooling directory source started', {
      spoolDir: this.spoolDir,
      deserializer: this.des.kind,
      trackingPolicy: this.o.trackingPolicy,
      deletePolicy: this.o.deletePolicy,
    });
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
    return this.files.halted;
  }

  /** Files completed, quarantined and skipped (for tests and status). */
  get stats(): SpoolFiles['stats'] {
    return this.files.stats;
  }

  // --------------------------------------------------------------------------------------------- loop

  private async loop(): Promise<void> {
    while (!this.stopping && !this.files.halted) {
      try {
        if (!this.current) {
          const next = await this.files.pick();
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
          this.current = undefined;
          const why =
            err instanceof DecodeError
              ? `${err.message} (decodeErrorPolicy = FAIL)`
              : `read failed: ${errorMessage(err)}`;
          await this.files.badFile(cur, why);
        } else {
          this.ctx.logger.error('Spooling directory scan failed; retrying', {
            spoolDir: this.spoolDir,
            error: errorMessage(err),
          });
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
          this.current = undefined;
          await this.files.finish(cur);
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
    await this.files.saveMeta(cur);
    return 'ok';
  }

  // --------------------------------------------------------------------------------------------- the current file

  private async openCurrent(c: Candidate, pos: number): Promise<void> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(c.path, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
    } catch (err) {
      await this.files.badFile({ ...c, fh: undefined }, `it cannot be opened: ${errorMessage(err)}`);
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
    const reader: Deserializer =
      d.kind === 'LINE'
        ? new LineDeserializer(fh, pos, {
            maxLineLength: d.maxLineLength,
            input: inputCharset(this.o.inputCharset),
            output: outputCharset(d.outputCharset),
            policy: this.o.decodeErrorPolicy as DecodeErrorPolicy,
          })
        : new BlobDeserializer(fh, pos, d.maxBlobLength);
    this.current = {
      ...c,
      size: st.size,
      mtimeMs: st.mtimeMs,
      fh,
      reader,
      pos,
      pendingEnd: pos,
      inflight: undefined,
      headers,
      firstRead: pos === 0,
    };
    await this.files.saveMeta(this.current);
    this.ctx.logger.info('Spooling directory: reading file', { file: c.path, pos });
  }

  /** After a restart: the file named by the meta file continues at its committed offset. */
  private async resume(): Promise<void> {
    let meta: Meta | undefined;
    try {
      const text = await fsp.readFile(this.files.metaFile, 'utf8');
      meta = JSON.parse(text) as Meta;
      if (typeof meta.file !== 'string' || !Number.isSafeInteger(meta.pos) || meta.pos < 0)
        throw new AgentError('FLUME_ERR_SOURCE_POSITION_FILE', 'missing fields');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        const fields = { file: this.files.metaFile, error: errorMessage(err) };
        this.ctx.logger.warn(
          'Spooling directory position file is unreadable; the file it named (if any) is read again ' +
            'from the start',
          fields,
        );
      }
      return;
    }
    const st = await fsp.lstat(meta.file).catch(() => undefined);
    if (!st || !st.isFile() || st.ino !== meta.ino || st.dev !== meta.dev) return;
    if (st.size < meta.pos) {
      this.ctx.logger.warn(
        'File being read before the restart is now shorter than its committed offset; reading it from the start',
        { file: meta.file },
      );
      meta.pos = 0;
    }
    const rel = path.relative(this.spoolDir, meta.file);
    await this.openCurrent(
      {
        path: meta.file,
        rel,
        name: path.basename(meta.file),
        size: meta.size,
        mtimeMs: meta.mtimeMs,
        dev: st.dev,
        ino: st.ino,
      },
      meta.pos,
    );
    if (this.current) {
      // the size and mtime seen at pickup, for the changed-file check
      this.current.size = meta.size;
      this.current.mtimeMs = meta.mtimeMs;
      this.current.firstRead = meta.pos === 0 && meta.size === 0;
      this.ctx.logger.info('Spooling directory: resuming the file being read before the restart', {
        file: meta.file,
        pos: meta.pos,
      });
    }
  }
}

export default defineSource({
  type: 'spooldir',
  classNames: ['org.apache.flume.source.SpoolDirectorySource'],
  summary:
    'Ingests complete files dropped into a directory, then renames, deletes or records them; at-least-once with a durable channel.',
  options,
  check,
  batchSize: (o) => o.batchSize,
  batchSizeKey: 'batchSize',
  claims: (o) => [{ resource: 'dir', id: path.resolve(o.spoolDir), key: 'spoolDir' }],
  create: (o, ctx) => new SpoolDirectorySource(o, ctx),
});
