/**
 * Per-batch DEBUG lines without flooding the log: counts add up, and one line with the sums since the previous one
 * is written at most once per interval (the first at once; what is left is written when the interval ends). When
 * DEBUG is off (decided once, when the digest is made) `add` returns at once: nothing is counted or scheduled.
 */
import type { Logger } from './logger.js';

export class DebugDigest {
  readonly enabled: boolean;
  private pending: Record<string, number> = {};
  private has = false;
  private lastAt = Number.NEGATIVE_INFINITY;
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly log: Logger,
    private readonly message: string,
    private readonly intervalMs = 1000,
  ) {
    this.enabled = log.isLevelEnabled('debug');
  }

  add(counts: Readonly<Record<string, number>>): void {
    if (!this.enabled) return;
    for (const k of Object.keys(counts)) {
      const v = counts[k]!;
      if (v !== 0) this.pending[k] = (this.pending[k] ?? 0) + v;
    }
    this.has = true;
    const now = performance.now();
    if (now - this.lastAt >= this.intervalMs) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), Math.max(1, this.intervalMs - (now - this.lastAt))).unref();
  }

  /** Writes what is pending now (a stop writes the last sums). */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.has) return;
    const now = performance.now();
    const since = Number.isFinite(this.lastAt) ? { overMs: Math.round(now - this.lastAt) } : {};
    this.log.debug(this.message, { ...this.pending, ...since });
    this.pending = {};
    this.has = false;
    this.lastAt = now;
  }
}
