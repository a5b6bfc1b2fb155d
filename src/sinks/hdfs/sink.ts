/**
 * The hdfs sink (Flume's HDFSEventSink) on local disk or WebHDFS.
 *
 * Per batch: every event's hdfs.path and hdfs.filePrefix are escaped (one time per event for both; Flume reads the
 * clock twice), consecutive events of the same bucket are handed to its BucketWriter in one slice, then every file
 * the batch touched is written (in parallel across buckets) and only then does deliver() resolve and the runner
 * commit the take. A failed write cuts the touched files back (local disk) and rolls the batch back.
 *
 * Deliveries, timer closes (rollInterval, idleTimeout), evictions (maxOpenFiles) and syncs run one after another on
 * one queue, so a timer never closes a file under a batch.
 */
import os from 'node:os';
import type { Sink, SinkContext } from '../../contract/index.js';
import { AgentError, errorMessage } from '../../core/errors.js';
import type { FlumeEvent } from '../../core/event.js';
import {
  EventTime,
  ZonedTime,
  hostNames,
  type BucketTemplate,
  type HostNames,
  type RenderTime,
  type RoundUnit,
} from '../../format/bucket-path/index.js';
import { loadClientTls, resolveTls } from '../../net/tls/index.js';
import { WarnLimiter } from '../../net/warn-limiter.js';
import { BucketWriter, type WriterSettings } from './bucket-writer.js';
import { codecByName } from './codecs.js';
import { LocalFileSystem } from './fs/local.js';
import type { HdfsFileSystem } from './fs/port.js';
import { WebHdfsFileSystem } from './fs/webhdfs/index.js';
import { OpenFilesJournal } from './journal.js';
import { journalPath, SERIALIZER_OPTIONS_KEY, type HdfsOptions } from './options.js';

const NO_HOSTS: HostNames = { localhost: '', ip: '', fqdn: '' };

/** Keeps a header value from climbing out of the directory it is put in (`..` and `.` segments, NUL). */
function safeHeaderValue(v: string): string {
  if (!v.includes('.') && !v.includes('\0')) return v;
  return v
    .replace(/\0/g, '')
    .split('/')
    .map((seg) => (seg === '..' || seg === '.' ? '_' : seg))
    .join('/');
}

function safePath(p: string): string {
  return p.includes('/..') || p.includes('/./')
    ? p
        .split('/')
        .map((s) => (s === '..' ? '_' : s))
        .join('/')
    : p;
}

export class HdfsSink implements Sink {
  readonly batchSize: number;
  private readonly dirT: BucketTemplate;
  private readonly prefixT: BucketTemplate;
  private readonly needsTime: boolean;
  private readonly time: EventTime;
  private readonly log;
  private readonly warn = new WarnLimiter(30_000);
  private hosts: HostNames = NO_HOSTS;
  private fs: HdfsFileSystem | undefined;
  private journal: OpenFilesJournal | undefined;
  private settings: WriterSettings | undefined;
  private readonly writers = new Map<string, BucketWriter>();
  private readonly renames = new Map<string, { final: string; tries: number; timer?: NodeJS.Timeout }>();
  private syncTimer: NodeJS.Timeout | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  private state: 'new' | 'started' | 'closing' | 'closed' = 'new';
  private closing: Promise<void> | undefined;

  constructor(
    private readonly o: HdfsOptions,
    private readonly ctx: SinkContext,
    /** Tests: the file system to write through instead of the one hdfs.path names. */
    private readonly fsOverride?: HdfsFileSystem,
  ) {
    this.batchSize = o['hdfs.batchSize'];
    this.dirT = o['hdfs.path'].dir;
    this.prefixT = o['hdfs.filePrefix'];
    this.needsTime = this.dirT.needsTime || this.prefixT.needsTime;
    this.log = ctx.logger;
    this.time = new EventTime({
      zone: new ZonedTime(o['hdfs.timeZone']),
      round: o['hdfs.round'] ? { unit: o['hdfs.roundUnit'] as RoundUnit, value: o['hdfs.roundValue'] } : undefined,
      useLocalTimeStamp: o['hdfs.useLocalTimeStamp'],
      now: () => ctx.clock.nowMs(),
    });
  }

  /** Open buckets (for tests). */
  get openWriters(): ReadonlyMap<string, BucketWriter> {
    return this.writers;
  }

  async start(): Promise<void> {
    const o = this.o;
    const target = o['hdfs.path'];
    const usesHosts = /%\[/i.test(this.dirT.source) || /%\[/i.test(this.prefixT.source);
    this.hosts = usesHosts ? await hostNames() : NO_HOSTS;
    const mode = parseInt(o['hdfs.fileMode'], 8);
    if (this.fsOverride) this.fs = this.fsOverride;
    else if (target.kind === 'local') this.fs = new LocalFileSystem(mode);
    else {
      const warn = (msg: string) => this.log.warn(msg);
      const tls = target.secure
        ? loadClientTls(resolveTls({ ...o, ssl: true }, 'client'), {
            label: `hdfs sink ${this.ctx.name}`,
            host: target.namenode.host,
            warn,
          })
        : undefined;
      const proxy = o['hdfs.proxyUser'];
      const user = o['hdfs.userName'] ?? (proxy === undefined ? os.userInfo().username : undefined);
      this.fs = new WebHdfsFileSystem({
        secure: target.secure,
        namenodes: o['hdfs.namenodes'] ?? [target.namenode],
        user: user ?? proxy,
        doas: user !== undefined ? proxy : undefined,
        permission: (mode & 0o777).toString(8),
        timeoutMs: o['hdfs.callTimeout'],
        tls,
        onFailover: (from, to, reason) =>
          this.log.warn('WebHDFS NameNode failover', {
            from: `${from.host}:${from.port}`,
            to: `${to.host}:${to.port}`,
            reason,
          }),
      });
    }
    const codec = o['hdfs.codeC'] === undefined ? undefined : codecByName(o['hdfs.codeC']);
    const exact = o['hdfs.fileNaming'] === 'exact';
    if (!exact) this.journal = new OpenFilesJournal(journalPath(o, this.ctx.agentDir, this.ctx.name));
    this.settings = {
      fs: this.fs,
      naming: o['hdfs.fileNaming'] as 'flume' | 'exact',
      inUsePrefix: o['hdfs.inUsePrefix'],
      inUseSuffix: o['hdfs.emptyInUseSuffix'] ? '' : o['hdfs.inUseSuffix'],
      suffix: o['hdfs.fileSuffix'] !== '' || exact ? o['hdfs.fileSuffix'] : (codec?.extension ?? ''),
      rollCount: o['hdfs.rollCount'],
      rollSize: o['hdfs.rollSize'],
      codec,
      serializer: o.serializer,
      serializerOptions: o[SERIALIZER_OPTIONS_KEY],
      journal: this.journal,
      counters: this.ctx.counters,
      logger: this.log,
      monotonic: () => this.ctx.clock.monotonicMs(),
      renameLater: (inUse, final, err) => this.renameLater(inUse, final, err),
    };
    if (this.journal) await this.recover(this.journal);
    this.state = 'started';
    this.closing = undefined;
    const syncMs = o['hdfs.syncInterval'];
    if (syncMs > 0 && target.kind === 'local') {
      this.syncTimer = setInterval(() => void this.enqueue(() => this.syncAll()).catch(() => undefined), syncMs);
      this.syncTimer.unref();
    }
    this.ctx.counters.started(this.ctx.clock.nowMs());
    this.log.info('HDFS sink started', {
      target: this.fs.description,
      path: this.dirT.source,
      naming: o['hdfs.fileNaming'] as 'flume' | 'exact',
      fileType: o['hdfs.fileType'],
      codec: o['hdfs.codeC'],
    });
  }

  /** Renames the in-use files a previous run left open (crash, kill, failed renames) to their final names. */
  private async recover(journal: OpenFilesJournal): Promise<void> {
    const fs = this.fs!;
    const left = [];
    for (const e of await journal.pending()) {
      try {
        if (!(await fs.exists(e.inUse))) continue;
        if (await fs.rename(e.inUse, e.final)) {
          this.log.info('Finished an in-use file left by the previous run', { file: e.final });
          continue;
        }
        this.log.warn('An in-use file left by the previous run cannot take its final name (it exists); left as is', e);
      } catch (err) {
        this.log.warn('Cannot finish an in-use file left by the previous run yet; retrying at the next start', {
          ...e,
          error: errorMessage(err),
        });
        left.push(e);
      }
    }
    await journal.reset(left);
  }

  private enqueue<T>(task: () => Promise<T>): Promise<T> {
    const p = this.queue.then(task);
    this.queue = p.catch(() => undefined);
    return p;
  }

  deliver(batch: FlumeEvent[], signal?: AbortSignal): Promise<void> {
    return this.enqueue(() => this.writeBatch(batch, signal));
  }

  private bucketOf(e: FlumeEvent): { key: string; dir: string; prefix: string } {
    let time: RenderTime | undefined;
    if (this.needsTime) {
      const r = this.time.of(e.headers);
      time = r.time;
      if (r.fallback) this.timestampFallback(r.fallback, e.headers.timestamp);
    }
    const opts = { headerValue: safeHeaderValue };
    let dir = this.dirT.render(e.headers, time, this.hosts, opts);
    let prefix = this.prefixT.render(e.headers, time, this.hosts, opts);
    if (this.dirT.headerNames.length > 0) dir = safePath(dir);
    if (this.prefixT.headerNames.length > 0) prefix = safePath(`/${prefix}`).slice(1);
    dir = dir.length > 1 && dir.endsWith('/') ? dir.slice(0, -1) : dir;
    // consecutive events of one bucket share one object (and its key string): grouping compares references
    const last = this.lastBucket;
    if (last !== undefined && last.dir === dir && last.prefix === prefix) return last;
    return (this.lastBucket = { key: `${dir}/${prefix}`, dir, prefix });
  }
  private lastBucket: { key: string; dir: string; prefix: string } | undefined;

  private timestampFallback(why: 'missing' | 'invalid', value: string | undefined): void {
    this.ctx.counters.add('TimestampFallbackCount');
    const n = this.warn.hit(why);
    if (n < 0) return;
    this.log.warn(
      why === 'missing'
        ? 'Event without a timestamp header: its time escapes use the time it is written (Flume would block on it)'
        : 'Event whose timestamp header is not a number: its time escapes use the time it is written',
      {
        value,
        suppressedSinceLastWarning: n,
        hint: 'add a timestamp interceptor, or set hdfs.useLocalTimeStamp = true',
      },
    );
  }

  private writer(key: string, dir: string, prefix: string): BucketWriter {
    let w = this.writers.get(key);
    if (w) {
      // most recently used last (Map keeps insertion order)
      this.writers.delete(key);
    } else {
      w = new BucketWriter(key, dir, prefix, this.settings!, this.ctx.clock.nowMs());
    }
    this.writers.set(key, w);
    return w;
  }

  private async writeBatch(batch: FlumeEvent[], signal: AbortSignal | undefined): Promise<void> {
    if (this.state !== 'started')
      throw new AgentError('FLUME_ERR_SINK_DELIVERY', `Sink ${this.ctx.name} is not running`);
    if (signal?.aborted) throw new AgentError('FLUME_ERR_SINK_DELIVERY', `Sink ${this.ctx.name}: delivery aborted`);
    if (batch.length === 0) return;
    const touched = new Set<BucketWriter>();
    try {
      if (!this.needsTime && this.dirT.constant && this.prefixT.constant) {
        const b = this.bucketOf(batch[0]!);
        const w = this.writer(b.key, b.dir, b.prefix);
        touched.add(w);
        await w.append(batch, 0, batch.length);
      } else {
        const buckets = batch.map((e) => this.bucketOf(e));
        let i = 0;
        while (i < batch.length) {
          const b = buckets[i]!;
          let j = i + 1;
          while (j < batch.length && buckets[j]!.key === b.key) j++;
          const w = this.writer(b.key, b.dir, b.prefix);
          touched.add(w);
          await w.append(batch, i, j);
          i = j;
        }
      }
      await this.withTimeout(Promise.all([...touched].map((w) => w.flush())));
    } catch (err) {
      this.ctx.counters.add('ConnectionFailedCount');
      for (const w of touched) {
        await w.abortBatch();
        this.dropWriter(w);
      }
      throw err instanceof AgentError
        ? err
        : new AgentError('FLUME_ERR_HDFS_IO', `Sink ${this.ctx.name}: ${errorMessage(err)}`, { cause: err });
    }
    for (const w of touched) {
      await w.commitBatch();
      // a full file is closed now rather than at the next event (Flume leaves it open, in use, until then)
      if (w.rollDue) await w.close();
      this.armTimers(w);
    }
    await this.evict();
  }

  private withTimeout<T>(p: Promise<T>): Promise<T> {
    const ms = this.o['hdfs.callTimeout'];
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      t = setTimeout(
        () =>
          reject(new AgentError('FLUME_ERR_HDFS_IO', `writing the batch took longer than ${ms} ms (hdfs.callTimeout)`)),
        ms,
      );
    });
    return Promise.race([p, timeout]).finally(() => clearTimeout(t));
  }

  private armTimers(w: BucketWriter): void {
    const idle = this.o['hdfs.idleTimeout'];
    if (idle > 0) {
      if (w.idleTimer) clearTimeout(w.idleTimer);
      w.idleTimer = setTimeout(() => void this.enqueue(() => this.closeWriter(w, 'idle')).catch(() => undefined), idle);
      w.idleTimer.unref();
    }
    const interval = this.o['hdfs.rollInterval'];
    if (interval > 0 && w.isOpen && w.rollTimerSerial !== w.openSerial) {
      if (w.rollTimer) clearTimeout(w.rollTimer);
      w.rollTimerSerial = w.openSerial;
      const left = Math.max(0, w.openedAt + interval - this.ctx.clock.monotonicMs());
      w.rollTimer = setTimeout(
        () => void this.enqueue(() => this.closeWriter(w, 'interval')).catch(() => undefined),
        left,
      );
      w.rollTimer.unref();
    }
  }

  private dropWriter(w: BucketWriter): void {
    if (w.rollTimer) clearTimeout(w.rollTimer);
    if (w.idleTimer) clearTimeout(w.idleTimer);
    w.rollTimer = w.idleTimer = undefined;
    if (this.writers.get(w.key) === w) this.writers.delete(w.key);
  }

  /** Closes a bucket's file and forgets the bucket (timer close, eviction, stop). */
  private async closeWriter(w: BucketWriter, why: string): Promise<void> {
    this.dropWriter(w);
    if (!w.isOpen) return;
    this.log.debug('Closing file', { bucket: w.key, reason: why });
    await w.close();
  }

  private async evict(): Promise<void> {
    const max = this.o['hdfs.maxOpenFiles'];
    while (this.writers.size > max) {
      const eldest = this.writers.values().next().value!;
      await this.closeWriter(eldest, 'maxOpenFiles');
    }
  }

  private async syncAll(): Promise<void> {
    for (const w of this.writers.values()) {
      try {
        await w.sync();
      } catch (err) {
        this.log.warn('fsync failed', { bucket: w.key, error: errorMessage(err) });
      }
    }
  }

  private renameLater(inUse: string, final: string, err: unknown): void {
    const tries = (this.renames.get(inUse)?.tries ?? 0) + 1;
    const max = this.o['hdfs.closeTries'];
    const interval = this.o['hdfs.retryInterval'];
    const giveUp = interval <= 0 || (max > 0 && tries >= max) || this.state !== 'started';
    this.log.warn(
      giveUp
        ? 'Could not rename a closed file; it is renamed at the next start'
        : 'Could not rename a closed file; retrying',
      { inUse, final, attempt: tries, error: errorMessage(err) },
    );
    if (giveUp) {
      this.renames.delete(inUse);
      return;
    }
    const timer = setTimeout(() => void this.enqueue(() => this.retryRename(inUse)).catch(() => undefined), interval);
    timer.unref();
    this.renames.set(inUse, { final, tries, timer });
  }

  private async retryRename(inUse: string): Promise<void> {
    const r = this.renames.get(inUse);
    if (!r) return;
    try {
      if (!(await this.fs!.rename(inUse, r.final)))
        this.log.error('Could not rename a closed file: it is missing, or the final name exists', {
          inUse,
          final: r.final,
        });
      this.renames.delete(inUse);
      await this.journal?.done(inUse);
    } catch (err) {
      this.renameLater(inUse, r.final, err);
    }
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    const wasStarted = this.state === 'started';
    this.state = 'closing';
    if (this.syncTimer) clearInterval(this.syncTimer);
    this.syncTimer = undefined;
    await this.queue;
    for (const w of [...this.writers.values()]) {
      await this.closeWriter(w, 'stop').catch((err: unknown) =>
        this.log.error('Could not close a file at stop', { bucket: w.key, error: errorMessage(err) }),
      );
    }
    for (const [inUse, r] of [...this.renames]) {
      if (r.timer) clearTimeout(r.timer);
      await this.retryRename(inUse);
    }
    await this.journal?.close();
    await this.fs?.close();
    this.state = 'closed';
    if (wasStarted) {
      this.ctx.counters.stopped(this.ctx.clock.nowMs());
      this.log.info('HDFS sink stopped', { path: this.dirT.source });
    }
  }

  destroy(): void {
    this.state = 'closed';
    if (this.syncTimer) clearInterval(this.syncTimer);
    for (const w of [...this.writers.values()]) {
      this.dropWriter(w);
      w.abandon();
    }
    for (const r of this.renames.values()) if (r.timer) clearTimeout(r.timer);
    this.renames.clear();
    void this.journal?.close();
    void this.fs?.close();
  }
}
