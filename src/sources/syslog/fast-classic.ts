/**
 * The hot path of the classic syslog parser (syslogtcp, syslogudp): one pass over the message bytes, no string
 * of the line, no regular expression. It accepts exactly the well-formed shapes
 *
 *   RFC 5424  `<PRI>V SP (TIMESTAMP|-) SP (HOST|-) SP MSG`           (V one digit)
 *   RFC 3164  `<PRI>Mmm SP{1,2} d{1,2} SP hh:mm:ss SP HOST SP MSG`
 *
 * with single spaces as separators, a PRI without leading zeros and keepFields none or all; for those it yields
 * what parseClassicReference (the regular expressions spelling out Flume's SyslogUtils) yields, and it declines
 * (the caller falls back to the reference) for anything else: other whitespace, no version digit, leading zeros,
 * bad PRI, odd timestamps or hosts, keepFields lists. test/unit/syslog-parser.test.ts compares the two on
 * generated and mutated messages.
 *
 * Per-parser caches (one parser per TCP connection): the date-time part of the last RFC 5424 timestamp (senders
 * repeat the same second for many messages), the last timestamp header text, the last RFC 3164 date (for the
 * same `now`), and a small table of host names, so a typical message allocates its header object, its body view
 * and the event only.
 *
 * Header objects are instances of a constructor whose prototype is an empty, frozen, null-prototype object: no
 * inherited keys (`constructor`, `__proto__`, `toString` are plain absent keys, a `__proto__` header is an
 * ordinary property) while V8 keeps them in fast mode (Object.create(null) objects are dictionaries: ~10x slower
 * to build and heavier to collect).
 */
import type { FlumeEvent } from '../../core/event.js';
import { parseRfc3164Date } from './dates.js';

/** The keepFields flags the parser reads (KeepFields in parser.ts). */
interface Keep {
  readonly all: boolean;
  readonly priority: boolean;
  readonly version: boolean;
  readonly timestamp: boolean;
  readonly hostname: boolean;
}

export type ClassicFallback = (
  line: Buffer,
  incomplete: boolean,
  keep: Keep,
  nowMs: number,
  extra?: Record<string, string>,
) => FlumeEvent;

const STATUS_HEADER = 'flume.syslog.status';
const NUM: string[] = Array.from({ length: 1000 }, (_, i) => String(i));

const SP = 0x20;
const LT = 0x3c;
const GT = 0x3e;
const DASH = 0x2d;
const DOT = 0x2e;
const COLON = 0x3a;

/**
 * 1: \w ([A-Za-z0-9_], what the reference's regexes mean by \w on latin1 text); 2: also allowed after the first host
 * byte (. @ -).
 */
const HOST_BYTE = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  const word = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x5f;
  HOST_BYTE[c] = word ? 1 : c === DOT || c === 0x40 || c === DASH ? 2 : 0;
}

const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;

/** a[0, n) equals b[from, from + n) (a JS loop: cheaper than Buffer.compare's native call for a few bytes). */
function same(a: Buffer, b: Buffer, from: number, n: number): boolean {
  for (let k = 0; k < n; k++) if (a[k] !== b[from + k]) return false;
  return true;
}

const HEADER_PROTO: object = Object.freeze(Object.create(null));
/** Constructor of syslog header objects (see the file comment). */
const SyslogHeaders = function SyslogHeaders() {} as unknown as new () => Record<string, string>;
(SyslogHeaders as unknown as { prototype: object }).prototype = HEADER_PROTO;

const HOST_SLOTS = 256;

export class ClassicParser {
  // RFC 5424 date-time cache: the 19 bytes YYYY-MM-DDTHH:mm:ss and their local / UTC epoch ms
  private readonly tsKey = Buffer.alloc(19);
  private tsKeyValid = false;
  private tsLocal = 0;
  private tsUtc = 0;
  /** The value computed by the last ts5424() call (NaN when not finite). */
  private tsValue = 0;
  // last timestamp header
  private lastMs = NaN;
  private lastMsText = '';
  // RFC 3164 date cache: the date bytes and `now` they were read with
  private readonly d3164Key = Buffer.alloc(16);
  private d3164Len = -1;
  private d3164Now = NaN;
  private d3164Ms: number | undefined;
  // host names
  private hostHash = 0;
  private hostTurn = 0;
  private readonly hostBytes: (Buffer | undefined)[] = new Array(HOST_SLOTS).fill(undefined);
  private readonly hostText: string[] = new Array(HOST_SLOTS).fill('');
  // extra headers: the keys of the last object seen
  private extraObj: Record<string, string> | undefined;
  private extraKeys: string[] = [];

  constructor(private readonly fallback: ClassicFallback) {}

  /**
   * One message `buf[start, end)` (without its delimiter) to an event. `copy`: the body is copied out of `buf`
   * (else it may be a view into it).
   */
  parse(
    buf: Buffer,
    start: number,
    end: number,
    incomplete: boolean,
    keep: Keep,
    nowMs: number,
    extra: Record<string, string> | undefined,
    copy: boolean,
  ): FlumeEvent {
    if (!(keep.priority || keep.version || keep.timestamp || keep.hostname)) {
      const ev = this.fast(buf, start, end, incomplete, keep.all, nowMs, extra, copy);
      if (ev !== undefined) return ev;
    }
    return this.fallback(
      start === 0 && end === buf.length ? buf : buf.subarray(start, end),
      incomplete,
      keep,
      nowMs,
      extra,
    );
  }

  private fast(
    b: Buffer,
    s: number,
    e: number,
    incomplete: boolean,
    keepAll: boolean,
    nowMs: number,
    extra: Record<string, string> | undefined,
    copy: boolean,
  ): FlumeEvent | undefined {
    // <PRI>: 1-3 digits, no leading zero (the reference keeps the PRI text as it was written)
    if (e - s < 4 || b[s] !== LT) return undefined;
    let i = s + 1;
    let c = b[i]!;
    if (!isDigit(c) || (c === 0x30 && b[i + 1] !== GT)) return undefined;
    let pri = c - 0x30;
    i++;
    for (let n = 1; ; n++, i++) {
      if (i >= e) return undefined;
      c = b[i]!;
      if (c === GT) break;
      if (n === 3 || !isDigit(c)) return undefined;
      pri = pri * 10 + (c - 0x30);
    }
    i++;
    if (i >= e) return undefined;
    c = b[i]!;
    let version: string | undefined;
    let ms = NaN;
    let host: string | undefined;
    if (isDigit(c)) {
      // RFC 5424: VERSION SP (TIMESTAMP | -) SP (HOST | -) SP MSG
      if (i + 1 >= e || b[i + 1] !== SP) return undefined;
      version = NUM[c - 0x30];
      i += 2;
      if (i >= e) return undefined;
      if (b[i] === DASH) {
        if (i + 1 >= e || b[i + 1] !== SP) return undefined;
        i += 2;
      } else {
        const j = this.ts5424(b, i, e);
        if (j < 0) return undefined;
        ms = this.tsValue;
        i = j + 1;
      }
      if (i >= e) return undefined;
      if (b[i] === DASH) {
        if (i + 1 >= e || b[i + 1] !== SP) return undefined;
        i += 2;
      } else {
        const j = this.hostEnd(b, i, e);
        if (j < 0) return undefined;
        host = this.hostString(b, i, j);
        i = j + 1;
      }
    } else if (c >= 0x41 && c <= 0x5a) {
      // RFC 3164: Mmm SP{1,2} d{1,2} SP hh:mm:ss SP HOST SP MSG
      const t0 = i;
      if (e - i < 17) return undefined;
      for (let k = 1; k <= 2; k++) {
        const l = b[i + k]!;
        if (l < 0x61 || l > 0x7a) return undefined;
      }
      i += 3;
      if (b[i] !== SP) return undefined;
      i++;
      if (b[i] === SP) i++;
      if (!isDigit(b[i])) return undefined;
      i++;
      if (isDigit(b[i])) i++;
      if (b[i] !== SP) return undefined;
      i++;
      if (e - i < 10) return undefined;
      if (
        !isDigit(b[i]) ||
        !isDigit(b[i + 1]) ||
        b[i + 2] !== COLON ||
        !isDigit(b[i + 3]) ||
        !isDigit(b[i + 4]) ||
        b[i + 5] !== COLON ||
        !isDigit(b[i + 6]) ||
        !isDigit(b[i + 7])
      )
        return undefined;
      i += 8;
      if (b[i] !== SP) return undefined;
      const d = this.date3164(b, t0, i, nowMs);
      if (d !== undefined) ms = d;
      i++;
      const j = this.hostEnd(b, i, e);
      if (j < 0) return undefined;
      host = this.hostString(b, i, j);
      i = j + 1;
    } else {
      return undefined;
    }

    const h = new SyslogHeaders();
    h.Facility = NUM[pri >> 3]!;
    h.Severity = NUM[pri & 7]!;
    h.priority = NUM[pri]!;
    if (version !== undefined) h.version = version;
    if (ms === ms) {
      if (ms !== this.lastMs) {
        this.lastMs = ms;
        this.lastMsText = String(ms);
      }
      h.timestamp = this.lastMsText;
    }
    if (host !== undefined) h.host = host;
    if (incomplete) h[STATUS_HEADER] = 'Incomplete';
    if (extra !== undefined) {
      if (extra !== this.extraObj) {
        this.extraObj = extra;
        this.extraKeys = Object.keys(extra);
      }
      const keys = this.extraKeys;
      for (let k = 0; k < keys.length; k++) h[keys[k]!] = extra[keys[k]!]!;
    }
    // the body is the MSG part; the whole line with keepFields all or when MSG is empty (as the reference)
    const from = keepAll || i >= e ? s : i;
    let body: Buffer;
    if (copy) {
      body = Buffer.allocUnsafe(e - from);
      b.copy(body, 0, from, e);
    } else {
      body = b.subarray(from, e);
    }
    return { headers: h, body };
  }

  /**
   * `YYYY-MM-DDTHH:mm:ss[.f{1,6}][Z|+hh:mm|-hh:mm]` at `i`, followed by a space: the index of that space (and
   * the epoch ms in tsValue), or -1. Without an offset the time is local; fractions are truncated to ms; the
   * date-time is read leniently (month 13 rolls over), all as the reference.
   */
  private ts5424(b: Buffer, i: number, e: number): number {
    if (e - i < 20) return -1;
    // the same date-time as the last message (the usual case) was validated then
    const cached = this.tsKeyValid && same(this.tsKey, b, i, 19);
    if (!cached) {
      for (let k = 0; k < 19; k++) {
        const c = b[i + k]!;
        const ok =
          k === 4 || k === 7
            ? c === DASH
            : k === 10
              ? c === 0x54
              : k === 13 || k === 16
                ? c === COLON
                : c >= 0x30 && c <= 0x39;
        if (!ok) return -1;
      }
    }
    let p = i + 19;
    let frac = 0;
    if (b[p] === DOT) {
      p++;
      let n = 0;
      let scale = 100;
      while (p < e && n < 6 && isDigit(b[p])) {
        frac += (b[p]! - 0x30) * scale;
        scale = scale === 1 ? 0 : scale / 10;
        n++;
        p++;
      }
      if (n === 0) return -1;
    }
    let tz = 0; // 0 none, 1 Z, 2 offset
    let offMin = 0;
    if (p < e && b[p] === 0x5a) {
      tz = 1;
      p++;
    } else if (p < e && (b[p] === 0x2b || b[p] === DASH)) {
      if (
        e - p < 6 ||
        !isDigit(b[p + 1]) ||
        !isDigit(b[p + 2]) ||
        b[p + 3] !== COLON ||
        !isDigit(b[p + 4]) ||
        !isDigit(b[p + 5])
      )
        return -1;
      offMin = ((b[p + 1]! - 0x30) * 10 + (b[p + 2]! - 0x30)) * 60 + (b[p + 4]! - 0x30) * 10 + (b[p + 5]! - 0x30);
      if (b[p] === DASH) offMin = -offMin;
      tz = 2;
      p += 6;
    }
    if (p >= e || b[p] !== SP) return -1;
    if (!cached) {
      const num = (k: number, n: number) => {
        let v = 0;
        for (let x = 0; x < n; x++) v = v * 10 + (b[i + k + x]! - 0x30);
        return v;
      };
      const y = num(0, 4);
      const mo = num(5, 2) - 1;
      const d = num(8, 2);
      const hh = num(11, 2);
      const mi = num(14, 2);
      const ss = num(17, 2);
      this.tsLocal = new Date(y, mo, d, hh, mi, ss).getTime();
      this.tsUtc = Date.UTC(y, mo, d, hh, mi, ss);
      b.copy(this.tsKey, 0, i, i + 19);
      this.tsKeyValid = true;
    }
    this.tsValue = tz === 0 ? this.tsLocal + frac : tz === 1 ? this.tsUtc + frac : this.tsUtc + frac - offMin * 60_000;
    if (!Number.isFinite(this.tsValue)) this.tsValue = NaN;
    return p;
  }

  /**
   * RFC 3164 date `b[from, to)` (spaces only) with the year guessed from `nowMs`; cached for the same bytes and now.
   */
  private date3164(b: Buffer, from: number, to: number, nowMs: number): number | undefined {
    const len = to - from;
    if (len !== this.d3164Len || nowMs !== this.d3164Now || !same(this.d3164Key, b, from, len)) {
      const v = parseRfc3164Date(b.toString('latin1', from, to), nowMs, false);
      this.d3164Ms = v !== undefined && Number.isFinite(v) ? v : undefined;
      b.copy(this.d3164Key, 0, from, to);
      this.d3164Len = len;
      this.d3164Now = nowMs;
    }
    return this.d3164Ms;
  }

  /**
   * `\w[\w.@-]*` at `i` followed by a space: the index of that space, or -1. Leaves a hash of the bytes in hostHash.
   */
  private hostEnd(b: Buffer, i: number, e: number): number {
    if (i >= e || HOST_BYTE[b[i]!] !== 1) return -1;
    let h = b[i]!;
    i++;
    while (i < e && HOST_BYTE[b[i]!] !== 0) {
      h = (Math.imul(h, 31) + b[i]!) | 0;
      i++;
    }
    // murmur3's finaliser: every input bit moves the slot bits
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    this.hostHash = h ^ (h >>> 16);
    return i < e && b[i] === SP ? i : -1;
  }

  /**
   * The host text of `b[s, e)` (ASCII; hostEnd() just scanned it), from a small two-way table keyed by the
   * bytes (a relay forwarding for many hosts still hits for the busiest ones).
   */
  private hostString(b: Buffer, s: number, e: number): string {
    const len = e - s;
    let slot = this.hostHash & (HOST_SLOTS - 1);
    let known = this.hostBytes[slot];
    if (known !== undefined && known.length === len && same(known, b, s, len)) return this.hostText[slot]!;
    known = this.hostBytes[slot ^ 1];
    if (known !== undefined && known.length === len && same(known, b, s, len)) return this.hostText[slot ^ 1]!;
    // miss: fill an empty way, else take turns
    if (this.hostBytes[slot] !== undefined && (this.hostBytes[slot ^ 1] === undefined || (this.hostTurn++ & 1) === 1))
      slot ^= 1;
    const text = b.toString('latin1', s, e);
    const copy = Buffer.allocUnsafeSlow(len);
    b.copy(copy, 0, s, e);
    this.hostBytes[slot] = copy;
    this.hostText[slot] = text;
    return text;
  }
}
