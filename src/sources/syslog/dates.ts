/** Syslog date parsing shared by the classic and multiport parsers (RFC 3164 with a guessed year, RFC 5424). */

const MONTHS: Record<string, number> = {
  Jan: 0,
  Feb: 1,
  Mar: 2,
  Apr: 3,
  May: 4,
  Jun: 5,
  Jul: 6,
  Aug: 7,
  Sep: 8,
  Oct: 9,
  Nov: 10,
  Dec: 11,
};

/** Java Calendar.add(MONTH, n): the day is clamped to the target month's length. */
function addMonths(d: Date, n: number, utc: boolean): number {
  const x = new Date(d.getTime());
  const day = utc ? x.getUTCDate() : x.getDate();
  if (utc) {
    x.setUTCDate(1);
    x.setUTCMonth(x.getUTCMonth() + n);
    const last = new Date(Date.UTC(x.getUTCFullYear(), x.getUTCMonth() + 1, 0)).getUTCDate();
    x.setUTCDate(Math.min(day, last));
  } else {
    x.setDate(1);
    x.setMonth(x.getMonth() + n);
    const last = new Date(x.getFullYear(), x.getMonth() + 1, 0).getDate();
    x.setDate(Math.min(day, last));
  }
  return x.getTime();
}

/**
 * RFC 3164 `Mmm d HH:mm:ss` (one or two spaces before the day) with the year guessed: the current year, moved
 * back one year when the result is more than a month ahead, forward when more than eleven months behind.
 */
export function parseRfc3164Date(ts: string, nowMs: number, utc: boolean): number | undefined {
  const m = /^([A-Z][a-z][a-z]) {1,2}(\d{1,2}) (\d{2}):(\d{2}):(\d{2})$/.exec(ts);
  if (!m) return undefined;
  const mon = MONTHS[m[1]!];
  if (mon === undefined) return undefined;
  const now = new Date(nowMs);
  const year = now.getUTCFullYear();
  const mk = (y: number) =>
    utc ? new Date(Date.UTC(y, mon, +m[2]!, +m[3]!, +m[4]!, +m[5]!)) : new Date(y, mon, +m[2]!, +m[3]!, +m[4]!, +m[5]!);
  let d = mk(year);
  if (d.getTime() > nowMs && addMonths(d, -1, utc) > nowMs) d = mk(year - 1);
  else if (d.getTime() < nowMs && addMonths(d, 11, utc) < nowMs) d = mk(year + 1);
  return d.getTime();
}

const RFC5424_TS = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * RFC 5424 timestamp to epoch ms. Fractions are truncated to milliseconds; without an offset the time is local
 * (`localDefault`) or UTC. `strict` checks field ranges (multiport, java.time); classic is lenient like
 * SimpleDateFormat (month 13 rolls over).
 */
export function parseRfc5424Date(ts: string, localDefault: boolean, strict: boolean): number | undefined {
  // senders repeat the same second many times: the date-time part is cached, fraction and offset added
  const prefix = ts.length >= 19 ? ts.slice(0, 19) : ts;
  const rest = ts.slice(prefix.length);
  const cache = localDefault ? (strict ? cacheLS : cacheL) : strict ? cacheUS : cacheU;
  if (cache.prefix === prefix && (rest === '' || /^(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$/.test(rest))) {
    return withRest(cache, rest);
  }
  const v = parseFull(ts, localDefault, strict);
  if (v !== undefined) {
    const base = parseFull(prefix, localDefault, strict);
    if (base !== undefined) {
      cache.prefix = prefix;
      cache.local = base;
      cache.utc = Date.UTC(
        +prefix.slice(0, 4),
        +prefix.slice(5, 7) - 1,
        +prefix.slice(8, 10),
        +prefix.slice(11, 13),
        +prefix.slice(14, 16),
        +prefix.slice(17, 19),
      );
    }
  }
  return v;
}

interface DateCache {
  prefix: string;
  local: number;
  utc: number;
}
const cacheL: DateCache = { prefix: '', local: 0, utc: 0 };
const cacheLS: DateCache = { prefix: '', local: 0, utc: 0 };
const cacheU: DateCache = { prefix: '', local: 0, utc: 0 };
const cacheUS: DateCache = { prefix: '', local: 0, utc: 0 };

function withRest(c: DateCache, rest: string): number {
  let i = 0;
  let ms = 0;
  if (rest.charCodeAt(0) === 0x2e) {
    i = 1;
    let scale = 100;
    while (i < rest.length) {
      const d = rest.charCodeAt(i) - 0x30;
      if (d < 0 || d > 9) break;
      ms += d * scale;
      scale /= 10;
      i++;
    }
    ms = Math.floor(ms + 1e-7);
  }
  if (i === rest.length) return c.local + ms;
  const tz = rest.slice(i);
  if (tz === 'Z') return c.utc + ms;
  const sign = tz.charCodeAt(0) === 0x2b ? 1 : -1;
  return c.utc + ms - sign * (+tz.slice(1, 3) * 60 + +tz.slice(4, 6)) * 60_000;
}

function parseFull(ts: string, localDefault: boolean, strict: boolean): number | undefined {
  const m = RFC5424_TS.exec(ts);
  if (!m) return undefined;
  const y = +m[1]!;
  const mo = +m[2]! - 1;
  const d = +m[3]!;
  const h = +m[4]!;
  const mi = +m[5]!;
  const s = +m[6]!;
  if (strict) {
    const last = new Date(Date.UTC(y, mo + 1, 0)).getUTCDate();
    if (mo < 0 || mo > 11 || d < 1 || d > last || h > 23 || mi > 59 || s > 59) return undefined;
  }
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000 + 1e-7) : 0;
  const tz = m[8];
  if (!tz) return localDefault ? new Date(y, mo, d, h, mi, s, ms).getTime() : Date.UTC(y, mo, d, h, mi, s, ms);
  const base = Date.UTC(y, mo, d, h, mi, s, ms);
  if (tz === 'Z') return base;
  const sign = tz[0] === '+' ? 1 : -1;
  return base - sign * (+tz.slice(1, 3) * 60 + +tz.slice(4, 6)) * 60_000;
}
