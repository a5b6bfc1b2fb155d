/**
 * Parses date strings with a Joda-Time pattern (as Flume's RegexExtractorInterceptorMillisSerializer does) into
 * epoch milliseconds. Supported letters: y Y (year), M (month: 1-2 letters numeric, 3 short name, 4+ full name,
 * English), d, H, k, K, h, a, m, s, S (fraction of second), E (day name, checked for form only), Z (offset: Z =
 * +0100, ZZ = +01:00); 'quoted text' and other punctuation are literals. Fields left out default like Joda
 * (year 2000, January, day 1, midnight). Without an offset the local time zone is used (Flume: the JVM zone).
 * Other letters are rejected when the config is validated.
 */
import { OptionError } from '../../contract/index.js';

type Field =
  | 'year'
  | 'month'
  | 'day'
  | 'hour'
  | 'hour12'
  | 'hour24'
  | 'hour0_11'
  | 'ampm'
  | 'minute'
  | 'second'
  | 'fraction'
  | 'dayname'
  | 'offset';
type Token = { lit: string } | { field: Field; count: number };

const MONTHS = [
  'january',
  'february',
  'march',
  'april',
  'may',
  'june',
  'july',
  'august',
  'september',
  'october',
  'november',
  'december',
];
const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const LETTER: Record<string, Field> = {
  y: 'year',
  Y: 'year',
  M: 'month',
  d: 'day',
  H: 'hour',
  k: 'hour24',
  K: 'hour0_11',
  h: 'hour12',
  a: 'ampm',
  m: 'minute',
  s: 'second',
  S: 'fraction',
  E: 'dayname',
  Z: 'offset',
};
const NUMERIC = new Set<Field>(['year', 'day', 'hour', 'hour12', 'hour24', 'hour0_11', 'minute', 'second', 'fraction']);

function isNumeric(t: Token | undefined): boolean {
  return t !== undefined && 'field' in t && (NUMERIC.has(t.field) || (t.field === 'month' && t.count <= 2));
}

export class JodaPattern {
  private readonly tokens: Token[];

  constructor(readonly pattern: string) {
    this.tokens = [];
    let i = 0;
    while (i < pattern.length) {
      const c = pattern[i]!;
      if (c === "'") {
        const end = pattern.indexOf("'", i + 1);
        if (end === i + 1) {
          this.tokens.push({ lit: "'" });
          i += 2;
          continue;
        }
        if (end < 0) throw new OptionError(`date pattern '${pattern}' has an unclosed quote`);
        this.tokens.push({ lit: pattern.slice(i + 1, end) });
        i = end + 1;
        continue;
      }
      if (/[a-zA-Z]/.test(c)) {
        let n = 1;
        while (pattern[i + n] === c) n++;
        const f = LETTER[c];
        if (!f)
          throw new OptionError(
            `date pattern '${pattern}': letter '${c}' is not supported`,
            'supported: y M d H k K h a m s S E Z and quoted text',
          );
        if (f === 'offset' && n > 2)
          throw new OptionError(
            `date pattern '${pattern}': zone ids (ZZZ) are not supported`,
            'use Z (+0100) or ZZ (+01:00)',
          );
        this.tokens.push({ field: f, count: n });
        i += n;
        continue;
      }
      this.tokens.push({ lit: c });
      i++;
    }
  }

  /** Epoch milliseconds, or undefined when `text` does not fit the pattern. */
  parse(text: string): number | undefined {
    let pos = 0;
    let year = 2000,
      month = 1,
      day = 1,
      hour = 0,
      minute = 0,
      second = 0,
      ms = 0;
    let pm: boolean | undefined;
    let h12: number | undefined;
    let offsetMin: number | undefined;
    for (let t = 0; t < this.tokens.length; t++) {
      const tok = this.tokens[t]!;
      if ('lit' in tok) {
        if (!text.startsWith(tok.lit, pos)) return undefined;
        pos += tok.lit.length;
        continue;
      }
      const { field, count } = tok;
      if (field === 'month' && count >= 3) {
        const rest = text.slice(pos).toLowerCase();
        const idx = MONTHS.findIndex((m) => (count === 3 ? rest.startsWith(m.slice(0, 3)) : rest.startsWith(m)));
        if (idx < 0) return undefined;
        month = idx + 1;
        pos += count === 3 ? 3 : MONTHS[idx]!.length;
        continue;
      }
      if (field === 'dayname') {
        const rest = text.slice(pos).toLowerCase();
        const d = DAYS.find((x) => (count >= 4 ? rest.startsWith(x) : rest.startsWith(x.slice(0, 3))));
        if (!d) return undefined;
        pos += count >= 4 ? d.length : 3;
        continue;
      }
      if (field === 'ampm') {
        const two = text.slice(pos, pos + 2).toUpperCase();
        if (two !== 'AM' && two !== 'PM') return undefined;
        pm = two === 'PM';
        pos += 2;
        continue;
      }
      if (field === 'offset') {
        const m = (count === 1 ? /^([+-])(\d\d)(\d\d)/ : /^([+-])(\d\d):(\d\d)/).exec(text.slice(pos));
        if (m) {
          offsetMin = (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
          pos += m[0].length;
        } else if (text[pos] === 'Z') {
          offsetMin = 0;
          pos++;
        } else return undefined;
        continue;
      }
      // numeric
      const adjacent = isNumeric(this.tokens[t + 1]);
      const max = adjacent ? count : field === 'year' || field === 'fraction' ? 9 : Math.max(count, 2);
      let sign = 1;
      if (field === 'year' && (text[pos] === '-' || text[pos] === '+') && !adjacent) {
        if (text[pos] === '-') sign = -1;
        pos++;
      }
      let j = pos;
      while (j < text.length && j - pos < max && text.charCodeAt(j) >= 48 && text.charCodeAt(j) <= 57) j++;
      if (j === pos || (adjacent && j - pos !== count)) return undefined;
      const digits = text.slice(pos, j);
      pos = j;
      const v = Number(digits);
      switch (field) {
        case 'year':
          if (count === 2 && digits.length === 2) {
            // Joda: two-digit years pivot around the current year (-50 .. +49)
            const pivot = new Date().getFullYear();
            const base = pivot - 50;
            year = base + ((v - (base % 100) + 100) % 100);
          } else year = sign * v;
          break;
        case 'month':
          month = v;
          break;
        case 'day':
          day = v;
          break;
        case 'hour':
          hour = v;
          break;
        case 'hour24':
          hour = v === 24 ? 0 : v;
          if (v < 1 || v > 24) return undefined;
          break;
        case 'hour12':
          h12 = v;
          if (v < 1 || v > 12) return undefined;
          break;
        case 'hour0_11':
          h12 = v;
          if (v > 11) return undefined;
          break;
        case 'minute':
          minute = v;
          break;
        case 'second':
          second = v;
          break;
        case 'fraction':
          ms = Math.floor(Number(`0.${digits}`) * 1000 + 1e-9);
          break;
        default:
          break;
      }
    }
    if (pos !== text.length) return undefined;
    if (h12 !== undefined) hour = (h12 % 12) + (pm ? 12 : 0);
    else if (pm !== undefined && hour < 12 && pm) hour += 12;
    if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
    let t: number;
    if (offsetMin !== undefined) {
      const d = new Date(Date.UTC(2000, 0, 1));
      d.setUTCFullYear(year, month - 1, day);
      d.setUTCHours(hour, minute, second, ms);
      if (d.getUTCDate() !== day) return undefined;
      t = d.getTime() - offsetMin * 60_000;
    } else {
      const d = new Date(2000, 0, 1);
      d.setFullYear(year, month - 1, day);
      d.setHours(hour, minute, second, ms);
      if (d.getDate() !== day) return undefined;
      t = d.getTime();
    }
    return Number.isFinite(t) ? t : undefined;
  }
}
