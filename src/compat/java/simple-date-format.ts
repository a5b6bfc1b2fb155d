/**
 * Formats epoch milliseconds with a java.text.SimpleDateFormat / commons-lang FastDateFormat pattern in an IANA time
 * zone (as Flume's TimeBasedIndexNameBuilder does with `indexNameBuilder.dateFormat` and `.timeZone`). Letters: y
 * (yy = two digits), M (1-2 numeric, 3 short name, 4+ full name, English), d, D (day of year), E (1-3 short, 4+
 * full day name), a (AM/PM), H, k, K, h, m, s, S (milliseconds), Z (+hhmm), X (Z or +hh, +hhmm, +hh:mm);
 * 'quoted text' ('' is a quote) and other characters are literals. Other letters are refused when the pattern is
 * compiled (a config error), and so is an unknown zone (Java silently falls back to GMT).
 */
import { OptionError } from '../../contract/index.js';

type Token = string | { letter: string; count: number };

const LETTERS = new Set(['y', 'M', 'd', 'D', 'E', 'a', 'H', 'k', 'K', 'h', 'm', 's', 'S', 'Z', 'X']);
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

function tokenize(pattern: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i]!;
    if (c === "'") {
      const end = pattern.indexOf("'", i + 1);
      if (end === i + 1) {
        out.push("'");
        i += 2;
        continue;
      }
      if (end < 0) throw new OptionError(`unterminated quote in date pattern '${pattern}'`);
      let lit = pattern.slice(i + 1, end);
      i = end + 1;
      // '' inside quoted text is a quote
      while (pattern[i] === "'") {
        const next = pattern.indexOf("'", i + 1);
        if (next < 0) throw new OptionError(`unterminated quote in date pattern '${pattern}'`);
        lit += "'" + pattern.slice(i + 1, next);
        i = next + 1;
      }
      out.push(lit);
      continue;
    }
    if (/[A-Za-z]/.test(c)) {
      if (!LETTERS.has(c))
        throw new OptionError(
          `date pattern '${pattern}': the letter '${c}' is not supported`,
          'use y M d D E a H k K h m s S Z X, and quote literal text with single quotes',
        );
      let n = 1;
      while (pattern[i + n] === c) n++;
      out.push({ letter: c, count: n });
      i += n;
      continue;
    }
    out.push(c);
    i++;
  }
  return out;
}

interface Fields {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
  weekday: number;
  dayOfYear: number;
  offsetMin: number;
}

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

function offsetText(min: number, colon: boolean, hoursOnly = false): string {
  const sign = min < 0 ? '-' : '+';
  const a = Math.abs(min);
  const h = pad(Math.floor(a / 60), 2);
  if (hoursOnly) return sign + h;
  return sign + h + (colon ? ':' : '') + pad(a % 60, 2);
}

function render(t: { letter: string; count: number }, f: Fields): string {
  const n = t.count;
  switch (t.letter) {
    case 'y':
      return n === 2 ? pad(f.year % 100, 2) : pad(f.year, n);
    case 'M':
      return n >= 4 ? MONTHS[f.month - 1]! : n === 3 ? MONTHS[f.month - 1]!.slice(0, 3) : pad(f.month, n);
    case 'd':
      return pad(f.day, n);
    case 'D':
      return pad(f.dayOfYear, n);
    case 'E':
      return n >= 4 ? DAYS[f.weekday]! : DAYS[f.weekday]!.slice(0, 3);
    case 'a':
      return f.hour < 12 ? 'AM' : 'PM';
    case 'H':
      return pad(f.hour, n);
    case 'k':
      return pad(f.hour === 0 ? 24 : f.hour, n);
    case 'K':
      return pad(f.hour % 12, n);
    case 'h':
      return pad(f.hour % 12 === 0 ? 12 : f.hour % 12, n);
    case 'm':
      return pad(f.minute, n);
    case 's':
      return pad(f.second, n);
    case 'S':
      return pad(f.ms, n);
    case 'Z':
      return offsetText(f.offsetMin, false);
    default: // X
      if (f.offsetMin === 0) return 'Z';
      return n === 1 ? offsetText(f.offsetMin, false, true) : offsetText(f.offsetMin, n >= 3);
  }
}

/** Throws OptionError for a zone this Node.js does not know. */
export function checkTimeZone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new OptionError(
      `'${zone}' is not a time zone`,
      'use an IANA zone name such as Etc/UTC, UTC or Europe/Paris (Java would silently use GMT)',
    );
  }
}

/** A compiled pattern and zone; format() caches the last second it rendered (index names change once a day). */
export class SimpleDateFormat {
  private readonly tokens: Token[];
  private readonly parts: Intl.DateTimeFormat;
  private readonly usesMs: boolean;
  private lastKey = NaN;
  private lastText = '';

  constructor(
    readonly pattern: string,
    readonly timeZone: string,
  ) {
    this.tokens = tokenize(pattern);
    checkTimeZone(timeZone);
    this.usesMs = this.tokens.some((t) => typeof t !== 'string' && t.letter === 'S');
    this.parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
      era: 'short',
    });
  }

  format(ms: number): string {
    const key = this.usesMs ? ms : Math.floor(ms / 1000);
    if (key === this.lastKey) return this.lastText;
    const f = this.fields(ms);
    let out = '';
    for (const t of this.tokens) out += typeof t === 'string' ? t : render(t, f);
    this.lastKey = key;
    this.lastText = out;
    return out;
  }

  private fields(ms: number): Fields {
    const p: Record<string, string> = {};
    for (const part of this.parts.formatToParts(new Date(ms))) p[part.type] = part.value;
    let year = Number(p.year);
    if (p.era === 'BC') year = 1 - year;
    const month = Number(p.month);
    const day = Number(p.day);
    const hour = Number(p.hour) % 24;
    const minute = Number(p.minute);
    const second = Number(p.second);
    const milli = ((ms % 1000) + 1000) % 1000;
    const localAsUtc = Date.UTC(year, month - 1, day, hour, minute, second, milli);
    const offsetMin = Math.round((localAsUtc - ms) / 60000);
    const dayOfYear = Math.floor((Date.UTC(year, month - 1, day) - Date.UTC(year, 0, 1)) / 86_400_000) + 1;
    const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
    return { year, month, day, hour, minute, second, ms: milli, weekday, dayOfYear, offsetMin };
  }
}
