/**
 * Flume's BucketPath escapes, compiled once per configured string and rendered per event. Syntax (Flume's pattern
 * `%(\w|%)|%\{([\w.-]+)\}|%\[(\w+)\]`):
 *
 *   %{name}        header `name`; a missing header renders as ''
 *   %[localhost]   this host's name; %[IP] its address; %[FQDN] its canonical name (any case)
 *   %t             the timestamp as given (the `timestamp` header string, or the local clock), never rounded
 *   %s             epoch seconds of the (rounded) timestamp
 *   %a %A %b %B %c %d %D %e %H %I %j %k %l %m %M %n %p %S %y %Y %z   date and time fields (see LETTERS)
 *   %%             a literal '%'
 *
 * Anything else after '%' that is not a word character (`%-`, an unclosed `%{`) is copied as is, as Flume does.
 * Differences from Flume: an unknown letter (`%Q`) or host word (`%[name]`) is a configuration error here (Flume
 * renders the letter as '' and fails every event on the host word); `%%` and unknown letters never need a
 * timestamp; names of days and months are English (Flume: the JVM locale).
 */
import { OptionError } from '../../contract/index.js';
import type { ZonedFields } from './zoned-time.js';

export interface HostNames {
  localhost: string;
  ip: string;
  fqdn: string;
}

/** The time an event renders with: `ts` after rounding, `raw` for %t, and its calendar fields (computed lazily). */
export interface RenderTime {
  readonly ts: number;
  readonly raw: string;
  readonly fields: ZonedFields;
}

const SHORT_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const LONG_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const SHORT_MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const LONG_MONTHS = [
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

const p2 = (n: number): string => (n < 10 ? `0${n}` : String(n));
const p3 = (n: number): string => String(n).padStart(3, '0');
const hour12 = (h: number): number => (h % 12 === 0 ? 12 : h % 12);
const year4 = (y: number): string => (y < 0 ? `-${String(-y).padStart(4, '0')}` : String(y).padStart(4, '0'));
function zoneText(minutes: number): string {
  const a = Math.abs(minutes);
  return `${minutes < 0 ? '-' : '+'}${p2(Math.floor(a / 60))}${p2(a % 60)}`;
}

/** The time letters and what each renders (Java SimpleDateFormat pattern in the doc). */
export const LETTERS: Record<string, { doc: string; render: (t: RenderTime) => string }> = {
  a: { doc: 'weekday, short (EEE: Mon)', render: (t) => SHORT_DAYS[t.fields.weekday]! },
  A: { doc: 'weekday, full (EEEE: Monday)', render: (t) => LONG_DAYS[t.fields.weekday]! },
  b: { doc: 'month, short (MMM: Jan)', render: (t) => SHORT_MONTHS[t.fields.month - 1]! },
  B: { doc: 'month, full (MMMM: January)', render: (t) => LONG_MONTHS[t.fields.month - 1]! },
  c: {
    doc: 'date and time (EEE MMM d HH:mm:ss yyyy)',
    render: ({ fields: f }) =>
      `${SHORT_DAYS[f.weekday]} ${SHORT_MONTHS[f.month - 1]} ${f.day} ${p2(f.hour)}:${p2(f.minute)}:${p2(f.second)} ${year4(f.year)}`,
  },
  d: { doc: 'day of month, 2 digits (dd)', render: (t) => p2(t.fields.day) },
  e: { doc: 'day of month (d)', render: (t) => String(t.fields.day) },
  D: {
    doc: 'date (MM/dd/yy)',
    render: ({ fields: f }) => `${p2(f.month)}/${p2(f.day)}/${p2(((f.year % 100) + 100) % 100)}`,
  },
  H: { doc: 'hour 00-23 (HH)', render: (t) => p2(t.fields.hour) },
  I: { doc: 'hour 01-12 (hh)', render: (t) => p2(hour12(t.fields.hour)) },
  j: { doc: 'day of year 001-366 (DDD)', render: (t) => p3(t.fields.dayOfYear) },
  k: { doc: 'hour 0-23 (H)', render: (t) => String(t.fields.hour) },
  l: { doc: 'hour 1-12 (h)', render: (t) => String(hour12(t.fields.hour)) },
  m: { doc: 'month 01-12 (MM)', render: (t) => p2(t.fields.month) },
  M: { doc: 'minute 00-59 (mm)', render: (t) => p2(t.fields.minute) },
  n: { doc: 'month 1-12 (M)', render: (t) => String(t.fields.month) },
  p: { doc: 'AM or PM (a)', render: (t) => (t.fields.hour < 12 ? 'AM' : 'PM') },
  s: { doc: 'seconds since the epoch', render: (t) => String(Math.floor(t.ts / 1000)) },
  S: { doc: 'second 00-59 (ss)', render: (t) => p2(t.fields.second) },
  t: { doc: 'the timestamp as given, in milliseconds (not rounded)', render: (t) => t.raw },
  y: { doc: 'year, 2 digits (yy)', render: (t) => p2(((t.fields.year % 100) + 100) % 100) },
  Y: { doc: 'year, 4 digits (yyyy)', render: (t) => year4(t.fields.year) },
  z: { doc: 'zone offset (+hhmm)', render: (t) => zoneText(t.fields.offsetMinutes) },
};

const HOST_WORDS: Record<string, keyof HostNames> = { localhost: 'localhost', ip: 'ip', fqdn: 'fqdn' };

type Part =
  | { kind: 'text'; text: string }
  | { kind: 'header'; name: string }
  | { kind: 'host'; which: keyof HostNames }
  | { kind: 'time'; render: (t: RenderTime) => string };

const TOKEN = /%(\w|%)|%\{([\w.-]+)\}|%\[(\w+)\]/g;

export interface RenderOptions {
  /** Applied to every header value substituted (e.g. to keep a value from climbing out of a directory). */
  headerValue?: (value: string) => string;
}

/** A compiled escape string. */
export class BucketTemplate {
  /** No escapes: render() returns the text as written (with %% unescaped). */
  readonly constant: boolean;
  /** Has a time escape (%t, %s or a letter): render() needs a RenderTime. */
  readonly needsTime: boolean;
  readonly headerNames: readonly string[];
  private readonly parts: readonly Part[];
  /** Output depends on the time only, to the second: the last rendering is reused within the same second. */
  private readonly perSecond: boolean;
  private memoSecond = NaN;
  private memoOut = '';

  private constructor(
    readonly source: string,
    parts: Part[],
  ) {
    this.parts = parts;
    this.constant = parts.every((p) => p.kind === 'text');
    this.needsTime = parts.some((p) => p.kind === 'time');
    this.headerNames = parts.flatMap((p) => (p.kind === 'header' ? [p.name] : []));
    this.perSecond = this.needsTime && this.headerNames.length === 0 && !/%t/.test(source.replace(/%%/g, ''));
  }

  /** Compiles `text`; throws OptionError naming every unknown escape. */
  static compile(text: string): BucketTemplate {
    const parts: Part[] = [];
    const bad: string[] = [];
    let last = 0;
    let literal = '';
    for (const m of text.matchAll(TOKEN)) {
      literal += text.slice(last, m.index);
      last = m.index + m[0].length;
      const [, letter, header, word] = m;
      if (letter === '%') {
        literal += '%';
        continue;
      }
      if (letter !== undefined && LETTERS[letter] === undefined) {
        bad.push(m[0]);
        continue;
      }
      if (word !== undefined && HOST_WORDS[word.toLowerCase()] === undefined) {
        bad.push(m[0]);
        continue;
      }
      if (literal !== '') parts.push({ kind: 'text', text: literal });
      literal = '';
      if (letter !== undefined) parts.push({ kind: 'time', render: LETTERS[letter]!.render });
      else if (header !== undefined) parts.push({ kind: 'header', name: header });
      else parts.push({ kind: 'host', which: HOST_WORDS[word!.toLowerCase()]! });
    }
    literal += text.slice(last);
    if (literal !== '') parts.push({ kind: 'text', text: literal });
    if (bad.length > 0) {
      throw new OptionError(
        `unknown escape${bad.length > 1 ? 's' : ''} ${bad.join(', ')} in '${text}' (Flume would drop ${bad.length > 1 ? 'them' : 'it'} silently)`,
        `escapes are %{header}, %[localhost], %[IP], %[FQDN], %% and %${Object.keys(LETTERS).join(' %')}; ` +
          'see docs/escapes.md',
      );
    }
    return new BucketTemplate(text, parts);
  }

  /** The text of the template up to its first escape (the fixed directory a path template starts with). */
  get fixedPrefix(): string {
    const first = this.parts[0];
    return first?.kind === 'text' ? first.text : '';
  }

  render(
    headers: Readonly<Record<string, string>>,
    time: RenderTime | undefined,
    hosts: HostNames,
    o: RenderOptions = {},
  ): string {
    const parts = this.parts;
    if (parts.length === 1 && parts[0]!.kind === 'text') return parts[0].text;
    if (this.perSecond && time !== undefined) {
      const second = Math.floor(time.ts / 1000);
      if (second === this.memoSecond) return this.memoOut;
      this.memoOut = this.renderParts(headers, time, hosts, o);
      this.memoSecond = second;
      return this.memoOut;
    }
    return this.renderParts(headers, time, hosts, o);
  }

  private renderParts(
    headers: Readonly<Record<string, string>>,
    time: RenderTime | undefined,
    hosts: HostNames,
    o: RenderOptions,
  ): string {
    const parts = this.parts;
    let out = '';
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      switch (p.kind) {
        case 'text':
          out += p.text;
          break;
        case 'header': {
          const v = headers[p.name] ?? '';
          out += o.headerValue ? o.headerValue(v) : v;
          break;
        }
        case 'host':
          out += hosts[p.which];
          break;
        case 'time':
          if (time === undefined) throw new OptionError(`'${this.source}' needs a timestamp to render`);
          out += p.render(time);
          break;
      }
    }
    return out;
  }
}
