/**
 * Free-space floor for the file channel (Flume's minimumRequiredSpace), counting what LevelDB writes next.
 *
 * LevelDB writes more than the records it is given, later and by itself: when the memtable fills, its write-ahead
 * log becomes a table (both exist until the table is written), and tables are merged into the next level (the
 * inputs stay until the merged output is written). Every table holds the state records, so the merges of this
 * store take a whole level: all of level 0 into level 1, or (once level 1 passes 10 MiB) most of level 1 into
 * level 2. A put is admitted only if the volume keeps the floor free after that work too:
 *
 *     free - bytes - reserve >= minimumRequiredSpace
 *     reserve = log + bytes + max(level0, level1) + SLACK
 *
 * with `log` the size of LevelDB's write-ahead logs (the next memtable flush, which may run during a merge) and
 * SLACK the tables of the next level a merge overlaps and the manifest. Free space and the store's files are
 * looked at at most every `refreshMs`; in between, bytes the channel wrote are subtracted from the free space and
 * added to the log, so a burst of puts cannot run past the floor between two looks.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';

export type StatFs = (dir: string) => Promise<{ free: number }>;

export const realStatFs: StatFs = async (dir) => {
  const s = await fsp.statfs(dir);
  return { free: Number(s.bavail) * Number(s.bsize) };
};

/** What LevelDB will rewrite by itself: its write-ahead logs and its level-0 and level-1 tables (bytes). */
export interface StoreFootprint {
  log: number;
  level0: number;
  level1: number;
}

/** Tables of the next level a merge overlaps (2 MiB files), the manifest, a new log. */
export const SLACK = 4 * 1048576;

export class DiskSpaceGuard {
  private free = Number.POSITIVE_INFINITY;
  private pending: StoreFootprint = { log: 0, level0: 0, level1: 0 };
  private checkedAt = Number.NEGATIVE_INFINITY;
  private writtenSince = 0;
  private inflight?: Promise<void>;

  constructor(
    readonly dir: string,
    readonly floor: number,
    private readonly statfs: StatFs = realStatFs,
    private readonly footprint: () => Promise<StoreFootprint> = () => Promise.resolve({ log: 0, level0: 0, level1: 0 }),
    private readonly refreshMs = 250,
  ) {}

  /** Free bytes as last measured, minus what was written since. */
  get estimatedFree(): number {
    return this.free - this.writtenSince;
  }

  /** Bytes LevelDB may write by itself on top of `bytes` more records (see the file comment). */
  reserve(bytes = 0): number {
    const p = this.pending;
    return p.log + this.writtenSince + bytes + Math.max(p.level0, p.level1) + SLACK;
  }

  /** Free bytes left above the floor once `bytes` more are written and LevelDB did its own work (negative: short). */
  headroom(bytes = 0): number {
    return this.estimatedFree - bytes - this.reserve(bytes) - this.floor;
  }

  /** Measures now (single flight). */
  refresh(): Promise<void> {
    if (this.inflight) return this.inflight;
    const run = this.measure().finally(() => {
      this.inflight = undefined;
    });
    this.inflight = run;
    return run;
  }

  private async measure(): Promise<void> {
    const [s, p] = await Promise.all([this.statfs(this.dir), this.footprint().catch(() => this.pending)]);
    this.free = s.free;
    this.pending = p;
    this.writtenSince = 0;
    this.checkedAt = performance.now();
  }

  /** Records bytes handed to the store. */
  wrote(bytes: number): void {
    this.writtenSince += bytes;
  }

  /** True when the last measure is fresh and `bytes` more stay above the floor (no I/O; false means "ask allows()"). */
  allowsNow(bytes: number): boolean {
    return performance.now() - this.checkedAt <= this.refreshMs && this.headroom(bytes) >= 0;
  }

  /**
   * True when `bytes` more can be written without going below the floor. Re-measures when the last measure is
   * stale or when the estimate says no (the disk may have been freed meanwhile).
   */
  async allows(bytes: number): Promise<boolean> {
    const stale = performance.now() - this.checkedAt > this.refreshMs;
    if (stale || this.headroom(bytes) < 0) {
      if (stale || performance.now() - this.checkedAt > 20) await this.refresh();
    }
    return this.headroom(bytes) >= 0;
  }
}

/**
 * LevelDB memtable size for a store on the volume of `dir`: 1/32 of the volume, between 1 and 16 MiB, so that what
 * LevelDB rewrites by itself (the reserve above) stays a small part of a small volume.
 */
export function memtableSize(dir: string): number {
  const max = 16 * 1048576;
  try {
    const s = fs.statfsSync(dir);
    const volume = Number(s.blocks) * Number(s.bsize);
    return Math.max(1048576, Math.min(max, Math.floor(volume / 32 / 1048576) * 1048576));
  } catch {
    return max;
  }
}

export function mib(n: number): string {
  return `${(n / 1048576).toFixed(n < 10 * 1048576 ? 1 : 0)} MiB`;
}
