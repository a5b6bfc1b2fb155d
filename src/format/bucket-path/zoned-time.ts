/**
 * Calendar fields of an epoch-millisecond timestamp in an IANA time zone (or a fixed Java-style offset such as
 * `GMT+8`), and Flume's round-down (TimestampRoundDownUtil). The `strftime` packages ignore IANA zones
 * (dependencies.md), so this is our own: the zone's offset comes from Intl.DateTimeFormat and is cached per minute
 * (zone transitions fall on whole minutes), the fields are then plain arithmetic on a UTC Date.
 */
import { OptionError } from '../../contract/index.js';

export interface ZonedFields {
  year: number;
  /** 1..12 */
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  /** 0 = Sunday */
  weekday: number;
  /** 1..366 */
  dayOfYear: number;
  /** Offset from UTC in minutes (east positive). */
  offsetMinutes: number;
}

export type RoundUnit = 'second' | 'minute' | 'hour';

const JAVA_OFFSET_ID = /^(?:GMT|UTC|UT)([+-])(\d{1,2})(?::?(\d{2}))?$/i;
const MINUTE = 60_000;
const OFFSET_CACHE_MAX = 4096;

/**
 * A zone name as Java accepts it -> what this module uses: an IANA id (validated with Intl), `UTC`, or a fixed
 * offset (`GMT+8`, `UTC-05:30`). Throws OptionError for a zone neither knows (Java silently uses GMT).
 */
export function parseTimeZone(raw: string): string {
  const name = raw.trim();
  const m = JAVA_OFFSET_ID.exec(name);
  if (m) {
    const h = Number(m[2]);
    const min = Number(m[3] ?? 0);
    if (h > 18 || min > 59) throw new OptionError(`'${raw}' is not a valid offset time zone`);
    return `${m[1]}${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}`;
  }
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    throw new OptionError(
      `unknown time zone '${raw}' (Flume would silently use GMT)`,
      'use an IANA zone id such as UTC, Europe/Paris or America/New_York, or an offset such as GMT+8',
    );
  }
}

/** The process's own zone (TZ environment variable, else the system's), as Intl resolves it. */
export function localTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone;
}

function fixedOffsetMinutes(zone: string): number | undefined {
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(zone);
  if (!m) return zone === 'UTC' || zone === 'Etc/UTC' || zone === 'GMT' ? 0 : undefined;
  const v = Number(m[2]) * 60 + Number(m[3]);
  return m[1] === '-' ? -v : v;
}

const DAYS_BEFORE_MONTH = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];

export class ZonedTime {
  readonly zone: string;
  private readonly fixed: number | undefined;
  private readonly fmt: Intl.DateTimeFormat | undefined;
  private readonly offsets = new Map<number, number>();

  /** `zone` as returned by parseTimeZone; undefined = the process's zone. */
  constructor(zone?: string) {
    this.zone = zone ?? localTimeZone();
    this.fixed = fixedOffsetMinutes(this.zone);
    this.fmt =
      this.fixed === undefined
        ? new Intl.DateTimeFormat('en-US', {
            timeZone: this.zone,
            hourCycle: 'h23',
            year: 'numeric',
            month: 'numeric',
            day: 'numeric',
            hour: 'numeric',
            minute: 'numeric',
            second: 'numeric',
            era: 'short',
          })
        : undefined;
  }

  /** Offset from UTC in minutes at instant `ts`. */
  offsetMinutes(ts: number): number {
    if (this.fixed !== undefined) return this.fixed;
    const key = Math.floor(ts / MINUTE);
    const hit = this.offsets.get(key);
    if (hit !== undefined) return hit;
    const at = key * MINUTE;
    const p: Record<string, string> = {};
    for (const part of this.fmt!.formatToParts(at)) p[part.type] = part.value;
    let year = Number(p.year);
    if (p.era === 'BC' || p.era === 'B') year = 1 - year;
    const local = Date.UTC(
      year,
      Number(p.month) - 1,
      Number(p.day),
      Number(p.hour),
      Number(p.minute),
      Number(p.second),
    );
    const off = Math.round((local - at) / MINUTE);
    if (this.offsets.size >= OFFSET_CACHE_MAX) this.offsets.clear();
    this.offsets.set(key, off);
    return off;
  }

  fields(ts: number): ZonedFields {
    const offsetMinutes = this.offsetMinutes(ts);
    const d = new Date(ts + offsetMinutes * MINUTE);
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth() + 1;
    const day = d.getUTCDate();
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return {
      year,
      month,
      day,
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      weekday: d.getUTCDay(),
      dayOfYear: DAYS_BEFORE_MONTH[month - 1]! + day + (leap && month > 2 ? 1 : 0),
      offsetMinutes,
    };
  }

  /**
   * Rounds `ts` down to a multiple of `value` of `unit` by calendar field in this zone, lower fields zeroed
   * (Flume's TimestampRoundDownUtil): minute 13 with value 7 -> :07, hour 17 with value 12 -> 12:00:00.000.
   */
  roundDown(ts: number, unit: RoundUnit, value: number): number {
    const local = ts + this.offsetMinutes(ts) * MINUTE;
    const d = new Date(local);
    const ms = d.getUTCMilliseconds();
    const s = d.getUTCSeconds();
    const m = d.getUTCMinutes();
    const h = d.getUTCHours();
    let delta: number;
    if (unit === 'second') delta = (s % value) * 1000 + ms;
    else if (unit === 'minute') delta = ((m % value) * 60 + s) * 1000 + ms;
    else delta = (((h % value) * 60 + m) * 60 + s) * 1000 + ms;
    return ts - delta;
  }
}
