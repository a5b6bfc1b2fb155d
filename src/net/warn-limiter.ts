/** Rate-limited warnings: at most one line per key per interval, with the count of suppressed ones. */
export class WarnLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly intervalMs = 10_000) {}
  /** Returns the number of suppressed occurrences to report, or -1 when this one must be suppressed. */
  hit(key: string): number {
    const now = performance.now();
    const e = this.last.get(key);
    if (e && now - e.at < this.intervalMs) {
      e.suppressed++;
      return -1;
    }
    const suppressed = e?.suppressed ?? 0;
    this.last.set(key, { at: now, suppressed: 0 });
    return suppressed;
  }
}
