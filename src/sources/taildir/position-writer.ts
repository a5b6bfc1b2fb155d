/**
 * Writing the position file while taildir runs: every writePosInterval when an offset changed, by volume while
 * catching up, at once after a truncation (a restart must not skip the new content), and on stop. One write at a
 * time; a failed write is logged and the offsets are written again with the next one.
 */
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../telemetry/logger.js';
import { formatPositions, writePositions, type PositionEntry } from './position-file.js';

/** Besides writePosInterval, offsets are written after this many committed lines (at most every POS_MIN_GAP_MS). */
const POS_EVERY_EVENTS = 10_000;
const POS_MIN_GAP_MS = 200;

export class PositionWriter {
  private writing: Promise<void> | undefined;
  private lastWritten = '';
  private committedSinceWrite = 0;
  private lastWriteAt = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly file: string,
    private readonly snapshot: () => PositionEntry[],
    private readonly now: () => number,
    private readonly logger: Logger,
  ) {}

  /** The write at start: rejects when the file cannot be written. */
  async first(): Promise<void> {
    const entries = this.snapshot();
    await writePositions(this.file, entries);
    this.lastWritten = formatPositions(entries);
  }

  /** Writes every `ms` (when an offset changed) until stopTimer(). */
  every(ms: number): void {
    this.timer = setInterval(() => void this.write(), ms);
    this.timer.unref?.();
  }

  stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** `n` lines were committed: while catching up, offsets are persisted by volume too (a crash repeats few lines). */
  committed(n: number): void {
    this.committedSinceWrite += n;
    if (this.committedSinceWrite < POS_EVERY_EVENTS || this.writing) return;
    if (this.now() - this.lastWriteAt >= POS_MIN_GAP_MS) void this.write();
  }

  /** An offset was reset: the next write goes out even if the offsets read the same as the last written ones. */
  invalidate(): void {
    this.lastWritten = '';
  }

  /** The write in progress, if any. */
  get pending(): Promise<void> | undefined {
    return this.writing;
  }

  /** Writes the committed offsets if they changed (one write at a time). */
  write(force = false): Promise<void> {
    if (this.writing) return this.writing.then(() => this.write(force));
    const entries = this.snapshot();
    const text = formatPositions(entries);
    if (!force && text === this.lastWritten) return Promise.resolve();
    this.committedSinceWrite = 0;
    this.lastWriteAt = this.now();
    const w: Promise<void> = writePositions(this.file, entries)
      .then(() => {
        this.lastWritten = text;
      })
      .catch((err) => {
        const fields = { positionFile: this.file, error: errorMessage(err) };
        this.logger.error('Cannot write the position file; offsets are kept in memory and written again later', fields);
      })
      .finally(() => {
        this.writing = undefined;
      });
    this.writing = w;
    return w;
  }
}
