/**
 * One bucket of the hdfs sink (Flume's BucketWriter): the files of one resolved directory + file prefix.
 *
 * Naming (`hdfs.fileNaming = flume`): the writer takes the current time in ms as its counter when it is created and
 * increments it before every open, so files are `<prefix>.<counter><suffix>`, the first being creation-ms + 1.
 * While open a file is `<inUsePrefix><prefix>.<counter><suffix><inUseSuffix>`; it is renamed when closed. A name
 * that exists already (another writer, an earlier run) is skipped: files are never overwritten.
 * Naming `exact`: the file is `<prefix><fileSuffix>`, opened for append (created when missing), never renamed.
 *
 * Rolls (before each event, as Flume): a file holding rollCount events or rollSize body bytes is retired and the next
 * one opened. Within a batch nothing is written until flush(): a retired file keeps its share of the batch and is
 * closed only by commitBatch(), after every file touched by the batch was written. When any write of the batch fails,
 * abortBatch() cuts each file back to where the batch started (local disk), so the retried batch adds no duplicates.
 */
import type { FlumeEvent } from '../../core/event.js';
import { AgentError, errorMessage } from '../../core/errors.js';
import { createSerializer, type EventSerializer } from '../../serializers/index.js';
import type { Logger } from '../../telemetry/logger.js';
import type { SinkCounters } from '../../telemetry/counters.js';
import type { Codec } from './codecs.js';
import type { HdfsFile, HdfsFileSystem } from './fs/port.js';
import type { OpenFilesJournal } from './journal.js';

export interface WriterSettings {
  fs: HdfsFileSystem;
  naming: 'flume' | 'exact';
  inUsePrefix: string;
  inUseSuffix: string;
  /** hdfs.fileSuffix, or the codec's extension when that is empty (flume naming). */
  suffix: string;
  rollCount: number;
  rollSize: number;
  codec: Codec | undefined;
  serializer: string;
  serializerOptions: Record<string, string>;
  journal: OpenFilesJournal | undefined;
  counters: SinkCounters;
  logger: Logger;
  /** Monotonic milliseconds. */
  monotonic: () => number;
  /** A closed file that could not be renamed: the sink retries it (closeTries / retryInterval). */
  renameLater(inUse: string, final: string, err: unknown): void;
}

/** One open file and what the current batch put into it. */
interface OpenFile {
  file: HdfsFile;
  inUse: string;
  final: string;
  serializer: EventSerializer;
  /** The serializer's file header, not yet written. */
  header: Buffer | undefined;
  events: number;
  bodyBytes: number;
  /** Serialized, not yet written (this batch). */
  pending: Buffer[];
  /** File size when the batch began (0 for a file opened by this batch). */
  batchStart: number;
  /** Events in the file that are committed (a file with none is removed instead of renamed). */
  committedEvents: number;
}

export class BucketWriter {
  private counter: number;
  private current: OpenFile | undefined;
  /** Files rolled during the current batch: written by flush(), closed by commitBatch(). */
  private retired: OpenFile[] = [];
  /** Monotonic ms of the latest open, for the roll interval. */
  openedAt = 0;
  /** Bumped at every open: the roll-interval timer belongs to one file. */
  openSerial = 0;
  /** The openSerial the roll timer was armed for. */
  rollTimerSerial = -1;
  rollTimer: NodeJS.Timeout | undefined;
  idleTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly key: string,
    /** Directory (resolved hdfs.path). */
    readonly dir: string,
    /** Resolved file prefix. */
    readonly prefix: string,
    private readonly s: WriterSettings,
    createdAtMs: number,
  ) {
    this.counter = createdAtMs;
  }

  get isOpen(): boolean {
    return this.current !== undefined;
  }

  /** The path of the open file (in-use name), for tests and logs. */
  get openPath(): string | undefined {
    return this.current?.inUse;
  }

  private full(f: OpenFile): boolean {
    const s = this.s;
    return (s.rollCount > 0 && f.events >= s.rollCount) || (s.rollSize > 0 && f.bodyBytes >= s.rollSize);
  }

  /** Queues events[start, end) for this bucket, opening and rolling files as needed (rolls are resolved in flush). */
  async append(events: readonly FlumeEvent[], start: number, end: number): Promise<void> {
    // exact names: one file per bucket, never two handles on it; a full file is closed after the batch
    const exact = this.s.naming === 'exact';
    let i = start;
    while (i < end) {
      if (!exact && this.current && this.full(this.current)) {
        this.retired.push(this.current);
        this.current = undefined;
      }
      this.current ??= await this.open();
      const f = this.current;
      const from = i;
      do {
        f.events++;
        f.bodyBytes += events[i]!.body.length;
        i++;
      } while (i < end && (exact || !this.full(f)));
      f.pending.push(f.serializer.serialize(from === 0 && i === events.length ? events : events.slice(from, i)));
    }
  }

  /** True when a roll is due before the next event (so a file that filled up is closed, not left open). */
  get rollDue(): boolean {
    return this.current !== undefined && this.full(this.current);
  }

  private async open(): Promise<OpenFile> {
    const s = this.s;
    let file: HdfsFile | undefined;
    let inUse: string;
    let final: string;
    if (s.naming === 'exact') {
      final = inUse = `${this.dir}/${this.prefix}${s.suffix}`;
      file = await s.fs.openAppend(final);
    } else {
      for (let attempt = 0; ; attempt++) {
        this.counter++;
        const name = `${this.prefix}.${this.counter}${s.suffix}`;
        final = `${this.dir}/${name}`;
        inUse = `${this.dir}/${s.inUsePrefix}${name}${s.inUseSuffix}`;
        if (attempt < 1000 && (await s.fs.exists(final))) continue;
        file = await s.fs.create(inUse);
        if (file) break;
        if (attempt >= 1000) break;
      }
      if (!file) throw new AgentError('FLUME_ERR_HDFS_IO', `no free file name for ${this.dir}/${this.prefix}`);
      await s.journal?.opened({ inUse, final });
    }
    const serializer = createSerializer(s.serializer, s.serializerOptions);
    const header = file.size === 0 ? serializer.header() : undefined;
    s.counters.add('ConnectionCreatedCount');
    s.logger.debug('Opened file', { file: inUse });
    this.openSerial++;
    this.openedAt = s.monotonic();
    return {
      file,
      inUse,
      final,
      serializer,
      header: header && header.length > 0 ? header : undefined,
      events: 0,
      bodyBytes: 0,
      pending: [],
      batchStart: file.size,
      committedEvents: 0,
    };
  }

  /** Writes what the batch queued, to every file it touched. Throws when a write fails (then call abortBatch). */
  async flush(): Promise<void> {
    for (const f of this.retired) await this.write(f);
    if (this.current) await this.write(this.current);
  }

  private async write(f: OpenFile): Promise<void> {
    if (f.pending.length === 0 && f.header === undefined) return;
    let data = f.pending.length === 1 ? f.pending[0]! : Buffer.concat(f.pending);
    if (this.s.codec) data = this.s.codec.compress(data);
    if (f.header) data = Buffer.concat([f.header, data]);
    await f.file.write(data);
    f.header = undefined;
    f.pending = [];
  }

  /** The batch is written everywhere: close the files it rolled, remember where the next batch starts. */
  async commitBatch(): Promise<void> {
    const retired = this.retired;
    this.retired = [];
    for (const f of retired) {
      f.committedEvents = f.events;
      await this.closeFile(f);
    }
    if (this.current) {
      this.current.committedEvents = this.current.events;
      this.current.batchStart = this.current.file.size;
    }
  }

  /**
   * A write of the batch failed: cut every file the batch touched back to where the batch started (when the file
   * system can), then close them all. The sink drops this writer; the retried batch starts a new one.
   */
  async abortBatch(): Promise<void> {
    const files = [...this.retired, ...(this.current ? [this.current] : [])];
    this.retired = [];
    this.current = undefined;
    for (const f of files) {
      f.pending = [];
      f.header = undefined;
      f.events = f.committedEvents;
      if (f.file.size !== f.batchStart && !(await f.file.truncate(f.batchStart)))
        this.s.logger.warn('Could not cut the file back after a failed write; the retried batch may repeat events', {
          file: f.inUse,
        });
      await this.closeFile(f).catch((err: unknown) =>
        this.s.logger.warn('Could not close a file after a failed write', { file: f.inUse, error: errorMessage(err) }),
      );
    }
  }

  /** fsyncs the open file (local disk). */
  async sync(): Promise<void> {
    if (this.current) await this.current.file.sync();
  }

  /** Closes the open file (roll by timer, idle, eviction, stop). Nothing may be pending. */
  async close(): Promise<void> {
    const f = this.current;
    this.current = undefined;
    if (f) await this.closeFile(f);
  }

  /** Releases the open files without finishing them (destroy: the in-use names stay for the next start). */
  abandon(): void {
    for (const f of [...this.retired, ...(this.current ? [this.current] : [])])
      void f.file.close().catch(() => undefined);
    this.retired = [];
    this.current = undefined;
  }

  private async closeFile(f: OpenFile): Promise<void> {
    const s = this.s;
    try {
      await f.file.sync();
      await f.file.close();
    } catch (err) {
      s.counters.add('ConnectionFailedCount');
      s.logger.error('Could not sync and close a file', { file: f.inUse, error: errorMessage(err) });
      await f.file.close().catch(() => undefined);
    }
    s.counters.add('ConnectionClosedCount');
    if (s.naming === 'exact' || f.inUse === f.final) return;
    if (f.committedEvents === 0 && f.file.size === 0) {
      // opened by a batch that failed: nothing of it is committed
      await s.fs.remove(f.inUse).catch(() => false);
      await s.journal?.done(f.inUse).catch(() => undefined);
      return;
    }
    try {
      const ok = await s.fs.rename(f.inUse, f.final);
      if (!ok)
        s.logger.error('Could not rename a closed file: it is missing, or the final name exists', {
          inUse: f.inUse,
          final: f.final,
        });
      else s.logger.debug('Closed file', { file: f.final });
      await s.journal?.done(f.inUse);
    } catch (err) {
      s.renameLater(f.inUse, f.final, err);
    }
  }
}
