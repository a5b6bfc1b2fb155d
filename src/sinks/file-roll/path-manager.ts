/**
 * File naming for file_roll, as Flume's PathManagers:
 *   DEFAULT   `<prefix><epochMillis>-<n>[.<extension>]`; epochMillis is fixed when the sink is created, n = 1, 2, ...
 *   ROLLTIME  `<prefix><yyyyMMddHHmmss>-<n>[.<extension>]` in local time at file creation; n restarts at 1
 *             whenever the timestamp differs from the previous file's.
 */
import path from 'node:path';
import type { Clock } from '../../core/clock.js';

export type PathManagerType = 'DEFAULT' | 'ROLLTIME';

export interface PathManager {
  /** Path of the file being written, or undefined before the first file / after rotate(). */
  readonly current: string | undefined;
  /** Picks the next file name and makes it current. */
  next(): string;
  /** Forgets the current file; the next write asks for a new one. */
  rotate(): void;
}

function fileName(prefix: string, stamp: string, n: number, extension: string): string {
  return `${prefix}${stamp}-${n}${extension.length > 0 ? `.${extension}` : ''}`;
}

export class DefaultPathManager implements PathManager {
  current: string | undefined;
  protected index = 0;
  constructor(
    protected readonly dir: string,
    protected readonly prefix: string,
    protected readonly extension: string,
    readonly seriesTimestamp: number,
  ) {}

  next(): string {
    this.index++;
    this.current = path.join(this.dir, fileName(this.prefix, String(this.seriesTimestamp), this.index, this.extension));
    return this.current;
  }

  rotate(): void {
    this.current = undefined;
  }
}

/** `yyyyMMddHHmmss` of `ms` in the process's local time zone (Flume: the JVM default zone). */
export function formatRollTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getFullYear(), 4)}${p(d.getMonth() + 1)}${p(d.getDate())}${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export class RollTimePathManager implements PathManager {
  current: string | undefined;
  private index = 0;
  private lastRoll: string | undefined;
  constructor(
    private readonly dir: string,
    private readonly prefix: string,
    private readonly extension: string,
    private readonly clock: Clock,
  ) {}

  next(): string {
    const stamp = formatRollTime(this.clock.nowMs());
    if (stamp !== this.lastRoll) {
      this.index = 0;
      this.lastRoll = stamp;
    }
    this.index++;
    this.current = path.join(this.dir, fileName(this.prefix, stamp, this.index, this.extension));
    return this.current;
  }

  rotate(): void {
    this.current = undefined;
  }
}

export function createPathManager(
  type: PathManagerType,
  dir: string,
  prefix: string,
  extension: string,
  clock: Clock,
): PathManager {
  return type === 'ROLLTIME'
    ? new RollTimePathManager(dir, prefix, extension, clock)
    : new DefaultPathManager(dir, prefix, extension, clock.nowMs());
}
