/**
 * `file_roll` sink (Flume's RollingFileSink): writes events to files in one local directory, starting a new
 * file every `sink.rollInterval`.
 *
 * Per batch: one serializer call and one positional write (looping only on short writes); no fsync per batch
 * (Flume flushes, it does not sync). A file is fsynced when it is rotated out and on close().
 *
 * Differences from Flume (for the migration guide):
 *  - No empty files: Flume opens a file on every process() call, so an idle agent creates an empty file every
 *    rollInterval. Here a file is created only when a batch with events arrives; the roll timer only marks the
 *    current file for rotation, which happens before the next write.
 *  - Existing files are never overwritten: Flume truncates a file that already has the chosen name; this sink
 *    skips to the next `-<n>`.
 *  - A write that fails half-way is cut back (ftruncate) to the end of the previous batch before the batch is
 *    rolled back and retried, so retries never leave a torn batch (or a torn Avro block) in the file.
 *  - start() checks that sink.directory exists and is writable (Flume fails on the first write).
 *  - sink.rollInterval accepts fractions and units (`0.5`, `500ms`, `5m`); Flume takes whole seconds.
 *  - New key sink.fileMode (default 0640, applied exactly, regardless of the umask); Flume files get 0666 & ~umask.
 *  - sink.serializer.* keys are checked: unknown keys and bad values are config errors (Flume ignores them).
 */
import fsp, { type FileHandle } from 'node:fs/promises';
import { constants as fsc } from 'node:fs';
import path from 'node:path';
import { defineSink, type Sink, type SinkContext, opt, type Resolved } from '../../contract/index.js';
import { AgentError, errorMessage } from '../../core/errors.js';
import type { FlumeEvent } from '../../core/event.js';
import type { Clock } from '../../core/clock.js';
import type { Logger } from '../../telemetry/logger.js';
import type { SinkCounters } from '../../telemetry/counters.js';
import {
  checkSerializerOptions,
  createSerializer,
  serializerTypeOption,
  type EventSerializer,
} from '../../serializers/index.js';
import { createPathManager, type PathManager, type PathManagerType } from './path-manager.js';

/** Map-option key (trailing dot = prefix) for the serializer's own options: `sink.serializer.<option>` entries. */
export const SERIALIZER_OPTIONS_KEY = 'sink.serializer.';

const options = {
  'sink.directory': opt.string({
    required: true,
    nonEmpty: true,
    doc: 'Directory the files are written to. It must exist and be writable when the sink starts.',
  }),
  'sink.rollInterval': opt.duration({
    default: 30,
    unit: 's',
    min: 0,
    doc: 'Start a new file this often (the switch happens before the next write). 0 writes a single file, never rolled.',
  }),
  'sink.pathManager': opt.enum({
    values: ['DEFAULT', 'ROLLTIME'] as const,
    default: 'DEFAULT',
    doc: 'File naming: `DEFAULT` names files `<prefix><epoch millis at start>-<n>`, `ROLLTIME` names them `<prefix><yyyyMMddHHmmss>-<n>` (local time, n restarts for each new timestamp).',
  }),
  'sink.pathManager.prefix': opt.string({ default: '', doc: 'Text put before each file name.' }),
  'sink.pathManager.extension': opt.string({
    default: '',
    doc: 'File name extension, without the dot (the dot is added).',
  }),
  'sink.serializer': serializerTypeOption(
    'How events are written: `text` (body per line), `header_and_text` (headers then body per line) or `avro_event` (Avro container file).',
  ),
  [SERIALIZER_OPTIONS_KEY]: opt.map({
    doc: 'Options of the serializer, e.g. `sink.serializer.appendNewline = false` (text, header_and_text), `sink.serializer.compressionCodec = deflate` or `sink.serializer.syncIntervalBytes` (avro_event).',
    keyText: '<option>',
  }),
  'sink.batchSize': opt.int({
    default: 100,
    min: 1,
    doc: 'Most events per transaction (one write per batch). Note the `sink.` prefix: a plain `batchSize` is not this key.',
  }),
  'sink.fileMode': opt.string({
    default: '0640',
    pattern: /^0?[0-7]{3}$/,
    patternText: 'an octal file mode such as 0640',
    doc: 'Permissions of the files created (octal). New key; applied exactly, whatever the umask.',
  }),
};

export type FileRollOptions = Resolved<typeof options>;

/** Writes all of `buf` at `position`, looping on short writes. */
async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let off = 0;
  while (off < buf.length) {
    const { bytesWritten } = await fh.write(buf, off, buf.length - off, position + off);
    if (bytesWritten <= 0) throw new AgentError('FLUME_ERR_SINK_DELIVERY', `write returned ${bytesWritten}`);
    off += bytesWritten;
  }
}

export class RollingFileSink implements Sink {
  readonly batchSize: number;
  readonly directory: string;
  private readonly rollMs: number;
  private readonly paths: PathManager;
  private readonly serializerType: string;
  private readonly serializerOptions: Record<string, string>;
  private readonly fileMode: number;
  private readonly name: string;
  private readonly log: Logger;
  private readonly counters: SinkCounters;
  private readonly clock: Clock;

  private fh: FileHandle | undefined;
  private serializer: EventSerializer | undefined;
  /** File header not yet written (prepended to the first batch of a file). */
  private pendingHeader: Buffer | undefined;
  /** Bytes of the current file that hold whole batches. */
  private offset = 0;
  private rotatePending = false;
  private timer: NodeJS.Timeout | undefined;
  /** Deliveries run one after another. */
  private queue: Promise<unknown> = Promise.resolve();
  private state: 'new' | 'started' | 'closing' | 'closed' = 'new';
  private closing: Promise<void> | undefined;

  constructor(o: FileRollOptions, ctx: SinkContext) {
    this.batchSize = o['sink.batchSize'];
    this.directory = path.resolve(o['sink.directory']);
    this.rollMs = o['sink.rollInterval'];
    this.serializerType = o['sink.serializer'];
    this.serializerOptions = o[SERIALIZER_OPTIONS_KEY];
    this.fileMode = parseInt(o['sink.fileMode'], 8);
    this.name = ctx.name;
    this.log = ctx.logger;
    this.counters = ctx.counters;
    this.clock = ctx.clock;
    this.paths = createPathManager(
      o['sink.pathManager'] as PathManagerType,
      this.directory,
      o['sink.pathManager.prefix'],
      o['sink.pathManager.extension'],
      ctx.clock,
    );
  }

  /** The file being written, if one is open. */
  get currentFile(): string | undefined {
    return this.fh ? this.paths.current : undefined;
  }

  /** True once the roll timer fired and the current file will be closed before the next write. */
  get rotationPending(): boolean {
    return this.rotatePending;
  }

  get rollTimerActive(): boolean {
    return this.timer !== undefined;
  }

  /** Marks the current file for rotation before the next write (what the roll timer does). */
  requestRoll(): void {
    this.rotatePending = true;
  }

  async start(): Promise<void> {
    const dir = this.directory;
    let isDir: boolean;
    try {
      isDir = (await fsp.stat(dir)).isDirectory();
    } catch (err) {
      throw new AgentError(
        'FLUME_ERR_SINK_START',
        `Sink ${this.name}: sink.directory ${dir} does not exist or cannot be read (${errorMessage(err)}); create it before starting`,
        { cause: err },
      );
    }
    if (!isDir)
      throw new AgentError('FLUME_ERR_SINK_START', `Sink ${this.name}: sink.directory ${dir} is not a directory`);
    try {
      await fsp.access(dir, fsc.W_OK | fsc.X_OK);
    } catch (err) {
      throw new AgentError(
        'FLUME_ERR_SINK_START',
        `Sink ${this.name}: sink.directory ${dir} is not writable by this process`,
        { cause: err },
      );
    }
    this.state = 'started';
    this.closing = undefined;
    if (this.rollMs > 0 && this.timer === undefined) {
      this.timer = setInterval(() => {
        this.rotatePending = true;
      }, this.rollMs);
      this.timer.unref();
    }
    this.counters.started(this.clock.nowMs());
    this.log.info('Rolling file sink started', {
      directory: dir,
      rollIntervalMs: this.rollMs,
      serializer: this.serializerType,
    });
  }

  deliver(batch: FlumeEvent[], signal?: AbortSignal): Promise<void> {
    const p = this.queue.then(() => this.writeBatch(batch, signal));
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async writeBatch(batch: FlumeEvent[], signal: AbortSignal | undefined): Promise<void> {
    if (this.state !== 'started') throw new AgentError('FLUME_ERR_SINK_DELIVERY', `Sink ${this.name} is not running`);
    if (signal?.aborted)
      throw new AgentError('FLUME_ERR_SINK_DELIVERY', `Sink ${this.name}: delivery aborted`, { cause: signal.reason });
    // An empty batch creates nothing (Flume would open a file anyway).
    if (batch.length === 0) return;
    if (this.rotatePending) {
      if (this.fh) await this.closeFile();
      this.rotatePending = false;
    }
    if (!this.fh) await this.openFile();
    const body = this.serializer!.serialize(batch);
    const buf = this.pendingHeader ? Buffer.concat([this.pendingHeader, body]) : body;
    await this.writeAt(buf, batch.length);
    this.pendingHeader = undefined;
  }

  private async openFile(): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      // retries after a failure reuse the same name, as Flume's getCurrentFile() does
      const file = this.paths.current ?? this.paths.next();
      let fh: FileHandle | undefined;
      try {
        fh = await fsp.open(file, 'wx', this.fileMode);
        await fh.chmod(this.fileMode);
      } catch (err) {
        await fh?.close().catch(() => undefined);
        if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 1000) {
          this.log.warn('File exists; not overwriting it, trying the next name', { file });
          this.paths.next();
          continue;
        }
        this.counters.add('ConnectionFailedCount');
        throw new AgentError(
          'FLUME_ERR_SINK_DELIVERY',
          `Sink ${this.name}: cannot create ${file}: ${errorMessage(err)}`,
          { cause: err },
        );
      }
      this.fh = fh;
      this.offset = 0;
      this.serializer = createSerializer(this.serializerType, this.serializerOptions);
      const header = this.serializer.header();
      this.pendingHeader = header.length > 0 ? header : undefined;
      this.counters.add('ConnectionCreatedCount');
      this.log.debug('Opened file', { file });
      return;
    }
  }

  private async writeAt(buf: Buffer, events: number): Promise<void> {
    const fh = this.fh!;
    const start = this.offset;
    try {
      await writeAll(fh, buf, start);
      this.offset = start + buf.length;
    } catch (err) {
      const file = this.paths.current;
      this.counters.add('EventWriteFail');
      // cut a partial write back so the retried batch starts on a clean boundary
      try {
        await fh.truncate(start);
      } catch {
        await this.abandonFile();
      }
      throw new AgentError(
        'FLUME_ERR_SINK_DELIVERY',
        `Sink ${this.name}: cannot write ${events} events to ${file}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  /** Drops a file that can no longer be written; the next batch goes to a new file. */
  private async abandonFile(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    this.serializer = undefined;
    this.pendingHeader = undefined;
    this.paths.rotate();
    this.counters.add('ConnectionFailedCount');
    await fh?.close().catch(() => undefined);
  }

  /** fsyncs and closes the current file; a file that never got a whole batch is removed. */
  private async closeFile(): Promise<void> {
    const fh = this.fh!;
    const file = this.paths.current;
    const empty = this.offset === 0;
    this.fh = undefined;
    this.serializer = undefined;
    this.pendingHeader = undefined;
    this.paths.rotate();
    try {
      await fh.sync();
      await fh.close();
      this.counters.add('ConnectionClosedCount');
      this.log.debug('Closed file', { file });
    } catch (err) {
      this.counters.add('ConnectionFailedCount');
      this.log.error('Could not sync and close file', { file, error: errorMessage(err) });
      await fh.close().catch(() => undefined);
    }
    if (empty && file !== undefined) await fsp.unlink(file).catch(() => undefined);
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const wasStarted = this.state === 'started';
    this.state = 'closing';
    await this.queue;
    if (this.fh) await this.closeFile();
    this.state = 'closed';
    if (wasStarted) {
      this.counters.stopped(this.clock.nowMs());
      this.log.info('Rolling file sink stopped', { directory: this.directory });
    }
  }

  destroy(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.state = 'closed';
    const fh = this.fh;
    this.fh = undefined;
    this.paths.rotate();
    void fh?.close().catch(() => undefined);
  }
}

export default defineSink({
  type: 'file_roll',
  classNames: ['org.apache.flume.sink.RollingFileSink'],
  summary: 'Writes events to files in a local directory, starting a new file every rollInterval.',
  options,
  batchSize: (o) => o['sink.batchSize'],
  batchSizeKey: 'sink.batchSize',
  check: (o) => {
    const problems = checkSerializerOptions(o['sink.serializer'], o[SERIALIZER_OPTIONS_KEY] ?? {}, 'sink.serializer.');
    return problems.length > 0 ? problems : true;
  },
  claims: (o) => [{ resource: 'dir', id: path.resolve(o['sink.directory']), key: 'sink.directory' }],
  create: (o, ctx) => new RollingFileSink(o, ctx),
});
