/**
 * The time an event's escapes render with: the `timestamp` header (epoch milliseconds, as Java's Long.valueOf
 * reads it) or the local clock (`useLocalTimeStamp`), rounded down when `round` is set.
 *
 * Flume fails every escape of an event without a numeric `timestamp` header (even `%%`), and since that error is
 * not an IOException the same event is retried forever and blocks its channel. Here such an event renders with
 * the local clock instead and the caller is told (`fallback`), so it can count and log it.
 */
import type { RenderTime } from './template.js';
import type { RoundUnit, ZonedFields, ZonedTime } from './zoned-time.js';

export interface TimeRounding {
  unit: RoundUnit;
  value: number;
}

export interface EventTimeOptions {
  zone: ZonedTime;
  round?: TimeRounding;
  useLocalTimeStamp: boolean;
  /** Epoch milliseconds now. */
  now: () => number;
  /** The header holding the timestamp; default `timestamp`. */
  header?: string;
}

/** Why an event rendered with the local clock although useLocalTimeStamp is off. */
export type TimeFallback = 'missing' | 'invalid';

class LazyTime implements RenderTime {
  private f: ZonedFields | undefined;
  constructor(
    private readonly zone: ZonedTime,
    readonly ts: number,
    readonly raw: string,
  ) {}
  get fields(): ZonedFields {
    return (this.f ??= this.zone.fields(this.ts));
  }
}

const LONG = /^[+-]?\d{1,19}$/;

export class EventTime {
  private readonly header: string;
  private last: LazyTime | undefined;
  private lastRaw: string | undefined;

  constructor(private readonly o: EventTimeOptions) {
    this.header = o.header ?? 'timestamp';
  }

  /** The time of an event with these headers, and whether the local clock stood in for a bad header. */
  of(headers: Readonly<Record<string, string>>): { time: RenderTime; fallback?: TimeFallback } {
    if (this.o.useLocalTimeStamp) return { time: this.make(this.o.now(), undefined) };
    const raw = headers[this.header];
    if (raw === undefined) return { time: this.make(this.o.now(), undefined), fallback: 'missing' };
    if (raw === this.lastRaw && this.last) return { time: this.last };
    const n = LONG.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(n)) return { time: this.make(this.o.now(), undefined), fallback: 'invalid' };
    const t = this.make(n, raw);
    this.last = t;
    this.lastRaw = raw;
    return { time: t };
  }

  private make(ts: number, raw: string | undefined): LazyTime {
    const r = this.o.round;
    const rounded = r ? this.o.zone.roundDown(ts, r.unit, r.value) : ts;
    return new LazyTime(this.o.zone, rounded, raw ?? String(ts));
  }
}
