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
import { defineSource, type Source, type SourceContext } from '../../contract/index.js';
import { AgentError, errorMessage } from '../../core/errors.js';
import { LinearBackoff } from '../../core/backoff.js';
import { retrying } from '../../core/retry.js';
import { PollableLoop, type PollResult } from '../support/pollable.js';
import { Matcher, parseGroupPath, type GroupSpec, type SymlinkPolicy } from './matcher.js';
import type { OversizePolicy } from '../../text/index.js';
import type { TailFile, TailSettings } from './reader.js';
import { ensureParent, loadPositions, PositionFileError, type RecoveryPolicy } from './position-file.js';
import { check, options, resolvePositionFile, type TaildirOptions } from './options.js';
import { PositionWriter } from './position-writer.js';
import { DirectoryWatch } from './wakeup.js';
import { defaultMaxOpenFiles, TailedFiles } from './tracking.js';

export { resolvePositionFile, type TaildirOptions } from './options.js';

const NEVER = new AbortController().signal;

export class TaildirSource implements Source {
  readonly positionFile: string;
  private readonly groups: GroupSpec[];
  private readonly matcher: Matcher;
  private readonly settings: TailSettings;
  private readonly tailed: TailedFiles;
  private readonly positions: PositionWriter;
  private readonly watch: DirectoryWatch;
  private loop: PollableLoop | undefined;
  /** Waits before a refused batch is emitted again: the poll backoff's timing. */
  private readonly backoff: LinearBackoff;
  private stopping = false;
  private closing: Promise<void> | undefined;
  private started = false;
  private readonly maxBatchCount: number;

  constructor(
    readonly o: TaildirOptions,
    readonly ctx: SourceContext,
  ) {
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
      basenameHeader: o.basenameHeader,
      basenameHeaderKey: o.basenameHeaderKey,
    };
    this.maxBatchCount = o.maxBatchCount ?? Number.MAX_SAFE_INTEGER;
    this.backoff = new LinearBackoff(o.backoffSleepIncrement, o.maxBackoffSleep);
    const now = () => this.now();
    this.positions = new PositionWriter(this.positionFile, () => this.tailed.snapshot(), now, ctx.logger);
    this.watch = new DirectoryWatch(this.matcher, ctx.logger, () => this.stopping);
    this.tailed = new TailedFiles({
      ctx,
      o,
      groups: this.groups,
      matcher: this.matcher,
      settings: this.settings,
      positions: this.positions,
      dirtyNames: this.watch.dirtyNames,
      maxOpenFiles: o.maxOpenFiles > 0 ? o.maxOpenFiles : defaultMaxOpenFiles(),
      now,
      stopping: () => this.stopping,
    });
  }

  private now(): number {
    return this.ctx.clock.monotonicMs();
  }

  private get trackers(): Map<string, TailFile> {
    return this.tailed.trackers;
  }

  /** Files currently tracked (for tests and status). */
  files(): {
    path: string;
    pos: number;
    readPos: number;
    open: boolean;
    orphan: boolean;
    inode: number;
    heldBytes: number;
  }[] {
    return [...this.trackers.values()].map((t) => ({
      path: t.path,
      pos: t.pos,
      readPos: t.readPos,
      open: t.isOpen,
      orphan: t.orphan,
      inode: t.ino,
      heldBytes: t.splitter.pendingBytes,
    }));
  }

  private batchLimit(): number {
    return Math.max(1, Math.min(this.o.batchSize, this.ctx.maxBatchSize));
  }

  // --------------------------------------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    if (this.started) return;
    const fail = (msg: string, cause?: unknown) =>
      new AgentError('FLUME_ERR_SOURCE_START', `taildir source ${this.ctx.name}: ${msg}`, { cause });
    let loaded;
    try {
      loaded = await loadPositions(this.positionFile, this.o.positionFileRecovery as RecoveryPolicy);
    } catch (err) {
      const hint =
        this.o.positionFileRecovery === 'fail'
          ? 'fix or remove the file (remove its .bak too to start over), or set positionFileRecovery = backup or reset'
          : 'fix or remove the file (remove its .bak too to start over), or set positionFileRecovery = reset to move it aside and start afresh';
      throw fail(
        `${err instanceof PositionFileError ? err.message : errorMessage(err)}. Not starting: reading every file from the start would send it all again. To continue: ${hint}`,
        err,
      );
    }
    if (loaded.from === 'backup') {
      this.ctx.logger.warn(
        'Position file could not be used; restored its backup (lines committed after the backup was written may be sent again)',
        { positionFile: this.positionFile, problem: loaded.problem, movedTo: loaded.movedTo },
      );
    } else if (loaded.from === 'reset') {
      this.ctx.logger.warn(
        'Position file could not be used; positionFileRecovery = reset: starting without positions',
        { positionFile: this.positionFile, problem: loaded.problem, movedTo: loaded.movedTo },
      );
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
    await this.tailed.initialScan(loaded.entries);
    try {
      await this.positions.first();
    } catch (err) {
      await this.tailed.closeAll();
      throw fail(`cannot write the position file ${this.positionFile}: ${errorMessage(err)}`, err);
    }
    this.started = true;
    this.closing = undefined;
    this.watch.start();
    this.positions.every(this.o.writePosInterval);
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
      sleep: (ms, signal) => this.watch.sleep(ms, signal),
    });
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (!this.started) return;
    this.stopping = true;
    this.watch.wake();
    await this.loop?.stop();
    this.loop = undefined;
    this.positions.stopTimer();
    this.watch.close();
    await this.positions.pending;
    await this.positions.write(true);
    await this.tailed.closeAll();
    this.started = false;
    this.ctx.logger.info('Taildir source stopped', { positionFile: this.positionFile });
  }

  destroy(): void {
    this.stopping = true;
    this.watch.wake();
    void this.loop?.stop();
    this.positions.stopTimer();
    this.watch.close();
    void this.tailed.closeAll();
  }

  // --------------------------------------------------------------------------------------------- reading

  /** One pass of the pollable runner. */
  async poll(): Promise<PollResult> {
    if (this.stopping) return 'backoff';
    const now = this.now();
    await this.tailed.update(now);
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
            ctx.logger.warn('Read failed; closing the file (it is reopened when it changes)', {
              file: t.path,
              error: errorMessage(err),
            });
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
              file: t.path,
              events: refused.length,
              error: errorMessage(err),
            });
          },
        });
        if (!committed) return 'stopped';
        if (retried) ctx.logger.info('Channel accepted the batch; reading resumes');
        t.committed();
        this.positions.committed(batch.length);
        ctx.counters.add('AppendBatchAcceptedCount');
        batches++;
        events += batch.length;
      }
      t.syncIdle();
    } finally {
      const cut = t.splitter.oversize - oversize0;
      if (cut > 0) {
        ctx.counters.add('OversizeLineCount', cut);
        ctx.logger.warn(
          `Line(s) longer than maxLineBytes were ${this.o.oversizeLinePolicy === 'truncate' ? 'truncated' : 'skipped'}`,
          { file: t.path, lines: cut, maxLineBytes: this.o.maxLineBytes },
        );
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
        this.ctx.logger.info('Closed a file renamed away or deleted, after idleTimeout without new data', {
          file: t.path,
          pos: t.pos,
        });
      } else {
        await t.closeIdle();
        this.ctx.logger.debug('Closed an idle file', { file: t.path, pos: t.pos });
      }
    }
  }
}

export default defineSource({
  type: 'taildir',
  aliases: ['TAILDIR'],
  classNames: ['org.apache.flume.source.taildir.TaildirSource'],
  summary:
    'Tails the files of one or more file groups line by line; survives rename, copytruncate and truncation; at-least-once with a durable channel.',
  options,
  check,
  batchSize: (o) => o.batchSize,
  batchSizeKey: 'batchSize',
  claims: (o) => [{ resource: 'dir', id: resolvePositionFile(o.positionFile), key: 'positionFile' }],
  create: (o, ctx) => new TaildirSource(o, ctx),
});
