/**
 * The one limiter for repeated warnings (refused connections, hostile clients, full channels): at most one line
 * per key per interval; the next line that goes out carries `suppressed`, the number of lines left out since the
 * previous one. Every source and server that logs about its clients uses it, so one flood gives a few lines, not
 * thousands, and nothing is hidden without being counted.
 */
import type { Logger } from '../telemetry/logger.js';

/** How often one kind of warning is logged at most (per limiter). */
export const WARN_INTERVAL_MS = 10_000;

export class WarnLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly intervalMs = WARN_INTERVAL_MS) {}

  /** Returns the number of suppressed occurrences to report, or -1 when this one must be suppressed. */
  hit(key: string): number {
    const now = performance.now();
    const e = this.last.get(key);
    if (e && now - e.at < this.intervalMs) {
      e.suppressed++;
      return -1;
    }
    const suppressed = e?.suppressed ?? 0;
    if (e) {
      e.at = now;
      e.suppressed = 0;
    } else {
      if (this.last.size >= 1024) this.last.clear(); // keys are a few fixed words; never grows without bound
      this.last.set(key, { at: now, suppressed: 0 });
    }
    return suppressed;
  }

  /**
   * Logs `message` at `level` (default warn) unless one with the same key went out within the interval; a
   * suppressed one goes to debug instead. The line that goes out carries `suppressed: N` when N were left out.
   */
  log(
    logger: Logger,
    key: string,
    message: string,
    fields: Record<string, unknown> = {},
    level: 'warn' | 'error' | 'info' = 'warn',
  ): void {
    const n = this.hit(key);
    if (n < 0) {
      logger.debug(message, fields);
      return;
    }
    logger[level](message, n > 0 ? { ...fields, suppressed: n } : fields);
  }
}
