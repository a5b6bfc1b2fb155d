/**
 * Free-space floor for the file channel (Flume's minimumRequiredSpace). `fs.statfs` is asked at most every
 * `refreshMs`; in between, bytes the channel wrote are subtracted from the last answer, so a burst of puts cannot
 * run past the floor between two checks.
 */
import fsp from 'node:fs/promises';

export type StatFs = (dir: string) => Promise<{ free: number }>;

export const realStatFs: StatFs = async (dir) => {
  const s = await fsp.statfs(dir);
  return { free: Number(s.bavail) * Number(s.bsize) };
};

export class DiskSpaceGuard {
  private free = Number.POSITIVE_INFINITY;
  private checkedAt = Number.NEGATIVE_INFINITY;
  private writtenSince = 0;
  private inflight?: Promise<void>;

  constructor(
    readonly dir: string,
    readonly floor: number,
    private readonly statfs: StatFs = realStatFs,
    private readonly refreshMs = 250,
  ) {}

  /** Free bytes as last measured, minus what was written since. */
  get estimatedFree(): number {
    return this.free - this.writtenSince;
  }

  async refresh(): Promise<void> {
    this.inflight ??= (async () => {
      try {
        const s = await this.statfs(this.dir);
        this.free = s.free;
        this.writtenSince = 0;
        this.checkedAt = performance.now();
      } finally {
        this.inflight = undefined;
      }
    })();
    return this.inflight;
  }

  /** Records bytes handed to the store. */
  wrote(bytes: number): void {
    this.writtenSince += bytes;
  }

  /** True when the last measure is fresh and `bytes` more stay above the floor (no I/O; false means "ask allows()"). */
  allowsNow(bytes: number): boolean {
    return performance.now() - this.checkedAt <= this.refreshMs && this.estimatedFree - bytes >= this.floor;
  }

  /**
   * True when `bytes` more can be written without going below the floor. Re-measures when the last measure is
   * stale or when the estimate says no (the disk may have been freed meanwhile).
   */
  async allows(bytes: number): Promise<boolean> {
    const stale = performance.now() - this.checkedAt > this.refreshMs;
    if (stale || this.estimatedFree - bytes < this.floor) {
      if (stale || performance.now() - this.checkedAt > 20) await this.refresh();
    }
    return this.estimatedFree - bytes >= this.floor;
  }
}

export function mib(n: number): string {
  return `${(n / 1048576).toFixed(n < 10 * 1048576 ? 1 : 0)} MiB`;
}
