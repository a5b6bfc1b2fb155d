/**
 * Syslog message parsing with Flume's header semantics. Two flavours, as in Flume:
 *
 * - `classic` (syslogtcp, syslogudp; Flume SyslogUtils): `<PRI>` must be 1-3 digits; then the RFC 5424 pattern
 *   `<PRI>VERSION? TIMESTAMP|- HOST|- MSG` is tried, then RFC 3164 `<PRI>Mmm dd HH:mm:ss HOST MSG`. Headers
 *   `Facility`, `Severity`, `priority`, `version`, `timestamp` (epoch ms), `host`. A bad PRI gives Facility 0,
 *   Severity 0, `flume.syslog.status = Invalid` and the raw line as body; a good PRI whose rest matches neither
 *   pattern gives Facility/Severity only and the raw line as body (no status: Flume does the same).
 * - `multiport` (multiport_syslogtcp; Flume SyslogParser): a positional parser. Headers `Priority`, `Facility`,
 *   `Severity`, `Version`, `timestamp` (a `-` timestamp is "now"), `host`. Anything it cannot parse becomes the
 *   raw line with `flume.syslog.status = Invalid` and no other header; bytes that are not valid in the port's
 *   charset (utf-8, us-ascii) are Invalid too.
 *
 * Both: a message cut at eventSize is parsed as it is and flagged `flume.syslog.status = Incomplete`; keepFields
 * prepends `<PRI>`, `version `, `timestamp `, `hostname ` (original text) to the body, `all` keeps the whole line.
 * The body is the message bytes as received: a copy from parseClassic/parseMultiport; syslogtcp's per-connection
 * ClassicParser may hand out views into the socket's chunks (tcp-intake.ts says when).
 *
 * Differences from Flume, on purpose: bodies are byte-exact (Flume decodes and re-encodes, replacing invalid
 * UTF-8 with U+FFFD); fractional seconds are read as fractions (Flume's classic parser reads `.5` as 5 ms);
 * a missing `-` field kept by keepFields is written `-` (Flume writes `null`); priority/version never leak from
 * one message to the next (a Flume bug); the RFC 3164 year is guessed with the same 11-months-back /
 * 1-month-ahead window in both flavours (Flume's multiport parser moves anything older than a month into the
 * next year); an RFC 3164 date that does not parse leaves `timestamp` unset (Flume multiport: "0"); an
 * RFC 5424 timestamp without offset is accepted (local time in classic, UTC in multiport).
 */
import { OptionError, type OptionSpec } from '../../contract/index.js';
import { AgentError } from '../../core/errors.js';
import type { FlumeEvent } from '../../core/event.js';
import { parseRfc3164Date, parseRfc5424Date } from './dates.js';
import { ClassicParser } from './fast-classic.js';
import { charsetFor } from '../../text/index.js';

export { parseRfc3164Date, parseRfc5424Date };

export const STATUS_HEADER = 'flume.syslog.status';

// ----------------------------------------------------------------------------------------------- keepFields

export interface KeepFields {
  readonly all: boolean;
  readonly priority: boolean;
  readonly version: boolean;
  readonly timestamp: boolean;
  readonly hostname: boolean;
}

export const KEEP_NONE: KeepFields = Object.freeze({
  all: false,
  priority: false,
  version: false,
  timestamp: false,
  hostname: false,
});
const KEEP_ALL: KeepFields = Object.freeze({
  all: true,
  priority: false,
  version: false,
  timestamp: false,
  hostname: false,
});
const FIELD_NAMES = ['priority', 'version', 'timestamp', 'hostname'] as const;

/** Flume's keepFields: none/false, all/true, or a list of priority version timestamp hostname. */
export function parseKeepFields(raw: string): KeepFields {
  const v = raw.trim().toLowerCase();
  if (v === '' || v === 'none' || v === 'false') return KEEP_NONE;
  if (v === 'all' || v === 'true') return KEEP_ALL;
  const words = v.split(/[\s,;]+/).filter(Boolean);
  const bad = words.filter((w) => !(FIELD_NAMES as readonly string[]).includes(w));
  if (bad.length)
    throw new OptionError(
      `'${raw}' is not none, all, or a list of priority version timestamp hostname`,
      `unknown: ${bad.join(', ')}`,
    );
  return Object.freeze({
    all: false,
    priority: words.includes('priority'),
    version: words.includes('version'),
    timestamp: words.includes('timestamp'),
    hostname: words.includes('hostname'),
  });
}

export const keepFieldsOption: OptionSpec<KeepFields> = {
  kind: 'string',
  doc: 'Header fields also kept in the body: none (false), all (true: the whole original line), or a space-separated list of priority version timestamp hostname.',
  required: false,
  default: KEEP_NONE,
  defaultText: 'none',
  typeText: 'none | all | list of priority version timestamp hostname',
  prefix: false,
  ignored: false,
  parse: parseKeepFields,
};

function keptPrefix(k: KeepFields, priority: string, version: string | undefined, ts: string, host: string): string {
  let p = '';
  if (k.priority) p += `<${priority}>`;
  if (k.version && version) p += `${version} `;
  if (k.timestamp) p += `${ts} `;
  if (k.hostname) p += `${host} `;
  return p;
}

// ----------------------------------------------------------------------------------------------- classic (SyslogUtils)

// Java's \s is [ \t\n\x0B\f\r]; JS's \s also matches U+00A0 etc., so spell it out. Bodies may hold any byte (s flag).
const WS = '[ \\t\\n\\x0B\\f\\r]';
const RFC5424_RE = new RegExp(
  `^<(\\d{1,3})>(\\d?)${WS}?(?:(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d{1,6})?(?:[+-]\\d{2}:\\d{2}|Z)?)|-)${WS}(?:(\\w[\\w.@-]*)|-)${WS}(.*)$`,
  's',
);
const RFC3164_RE = new RegExp(
  `^<(\\d{1,3})>(?:(\\d)?${WS}?)([A-Z][a-z][a-z]${WS}{1,2}\\d{1,2}${WS}\\d{2}:\\d{2}:\\d{2})${WS}(\\w[\\w.@-]*)${WS}(.*)$`,
  's',
);

export interface ParsedSyslog {
  headers: Record<string, string>;
  body: Buffer;
}

const NUM: string[] = Array.from({ length: 1000 }, (_, i) => String(i));

/** True when `line` starts with `<` + 1-3 digits + `>` (the classic parser's PRI rule). */
function classicPri(line: Buffer): number {
  if (line.length < 3 || line[0] !== 0x3c) return -1;
  let pri = 0;
  let i = 1;
  for (; i < line.length && i <= 4; i++) {
    const c = line[i]!;
    if (c === 0x3e) break;
    if (c < 0x30 || c > 0x39 || i === 4) return -1;
    pri = pri * 10 + (c - 0x30);
  }
  if (i === 1 || i >= line.length || line[i] !== 0x3e) return -1;
  return pri;
}

let shared: ClassicParser | undefined;

/**
 * Flume SyslogUtils semantics (syslogtcp, syslogudp). `line` is one message without its delimiter;
 * `incomplete` when it was cut at eventSize. `extra` headers are added (client IP, ...). The body is a copy.
 * Well-formed messages take the byte-scanning fast path (fast-classic.ts); everything else, and keepFields
 * lists, go through parseClassicReference.
 */
export function parseClassic(
  line: Buffer,
  incomplete: boolean,
  keep: KeepFields,
  nowMs: number,
  extra?: Record<string, string>,
): FlumeEvent {
  shared ??= new ClassicParser(parseClassicReference);
  return shared.parse(line, 0, line.length, incomplete, keep, nowMs, extra, true);
}

/**
 * The classic parser as regular expressions that spell out Flume's SyslogUtils patterns: the reference the fast
 * path must agree with (a differential test checks it), and the fallback for whatever the fast path declines.
 * The body is always a copy.
 */
export function parseClassicReference(
  line: Buffer,
  incomplete: boolean,
  keep: KeepFields,
  nowMs: number,
  extra?: Record<string, string>,
): ParsedSyslog {
  const h = Object.create(null) as Record<string, string>;
  const pri = classicPri(line);
  let body: Buffer | undefined;
  if (pri < 0) {
    h.Facility = '0';
    h.Severity = '0';
    h[STATUS_HEADER] = 'Invalid';
  } else {
    h.Facility = NUM[(pri / 8) | 0]!;
    h.Severity = NUM[pri % 8]!;
    const s = line.toString('latin1');
    const m = RFC5424_RE.exec(s) ?? RFC3164_RE.exec(s);
    if (m) {
      const priority = m[1]!;
      const version = m[2];
      const tsText = m[3];
      const host = m[4];
      const msg = m[5]!;
      h.priority = priority;
      if (version) h.version = version;
      if (tsText !== undefined) {
        const ms = /^\d/.test(tsText)
          ? parseRfc5424Date(tsText, true, false)
          : parseRfc3164Date(tsText.replace(/[ \t\n\v\f\r]/g, ' '), nowMs, false);
        if (ms !== undefined && Number.isFinite(ms)) h.timestamp = String(ms);
      }
      if (host) h.host = host;
      if (!keep.all) {
        const prefix = keptPrefix(keep, priority, version, tsText ?? '-', host ?? '-');
        const start = line.length - msg.length;
        if (prefix.length > 0) body = Buffer.concat([Buffer.from(prefix, 'latin1'), line.subarray(start)]);
        else if (msg.length > 0) body = Buffer.from(line.subarray(start));
      }
    }
    if (incomplete) h[STATUS_HEADER] = 'Incomplete';
  }
  if (extra) for (const k of Object.keys(extra)) h[k] = extra[k]!;
  return { headers: h, body: body ?? Buffer.from(line) };
}

// ----------------------------------------------------------------------------------------------- multiport
// (SyslogParser)

export type MultiportCharset = { name: string; check?: (b: Buffer) => boolean; decode: (b: Buffer) => string };

/**
 * How multiport reads header text and validates bytes for a charset name: messages with bytes invalid in UTF-8 or
 * US-ASCII are Invalid (Java's decoders report them); other charsets are decoded with replacement.
 */
export function multiportCharset(name: string): MultiportCharset {
  const cs = charsetFor(name);
  const checked = cs.name === 'utf-8' || cs.name === 'us-ascii';
  return { name: cs.name, ...(checked ? { check: (b: Buffer) => cs.valid(b) } : {}), decode: (b) => cs.decode(b) };
}

/** A message the multiport parser cannot read: caught in parseMultiport, which flags the event Invalid. */
class Bad extends AgentError {
  constructor() {
    super('FLUME_ERR_SYSLOG_UNPARSABLE', 'not an RFC 5424 or RFC 3164 syslog message');
    this.name = 'Bad';
  }
}

/**
 * Flume SyslogParser semantics (multiport_syslogtcp). Throws nothing: a message it cannot parse becomes the
 * raw line with status Invalid.
 */
export function parseMultiport(
  line: Buffer,
  incomplete: boolean,
  keep: KeepFields,
  nowMs: number,
  cs: MultiportCharset,
  extra?: Record<string, string>,
): ParsedSyslog {
  let parsed: ParsedSyslog | undefined;
  if (!cs.check || cs.check(line)) {
    try {
      parsed = multiport(line, keep, nowMs, cs);
    } catch (err) {
      if (!(err instanceof Bad)) throw err;
    }
  }
  if (!parsed) {
    const h = Object.create(null) as Record<string, string>;
    h[STATUS_HEADER] = 'Invalid';
    parsed = { headers: h, body: Buffer.from(line) };
  } else if (incomplete) {
    parsed.headers[STATUS_HEADER] = 'Incomplete';
  }
  if (extra) for (const k of Object.keys(extra)) parsed.headers[k] = extra[k]!;
  return parsed;
}

function multiport(line: Buffer, keep: KeepFields, nowMs: number, cs: MultiportCharset): ParsedSyslog {
  const s = line.toString('latin1');
  const len = s.length;
  if (len === 0 || s.charCodeAt(0) !== 0x3c) throw new Bad();
  const end = s.indexOf('>');
  if (end < 2 || end > 6) throw new Bad();
  const priority = s.slice(1, end);
  if (!/^\d+$/.test(priority)) throw new Bad();
  const pri = Number(priority);
  const h = Object.create(null) as Record<string, string>;
  h.Priority = priority;
  h.Facility = String((pri / 8) | 0);
  h.Severity = String(pri % 8);
  if (len <= end + 1) throw new Bad();
  let cur = end + 1;
  let version: string | undefined;
  if (len > cur + 2 && s.startsWith('1 ', cur)) {
    version = '1';
    h.Version = version;
    cur += 2;
  }
  const c = s.charCodeAt(cur);
  let tsText: string;
  let ts: number | undefined;
  if (c === 0x2d /* - */) {
    tsText = '-';
    ts = nowMs;
    if (len <= cur + 2) throw new Bad();
    cur += 2;
  } else if (c >= 0x41 && c <= 0x5a) {
    if (len <= cur + 15) throw new Bad();
    tsText = s.slice(cur, cur + 15);
    ts = parseRfc3164Date(tsText, nowMs, true);
    cur += 16;
  } else {
    const sp = s.indexOf(' ', cur);
    if (sp < 0) throw new Bad();
    tsText = s.slice(cur, sp);
    ts = parseRfc5424Date(tsText, false, true);
    if (ts === undefined) throw new Bad();
    cur = sp + 1;
  }
  if (ts !== undefined && Number.isFinite(ts)) h.timestamp = String(ts);
  const sp = s.indexOf(' ', cur);
  if (sp < 0) throw new Bad();
  const host = cs.decode(line.subarray(cur, sp));
  h.host = host;
  let body: Buffer;
  if (len > sp + 1 && !keep.all) {
    const prefix = keptPrefix(keep, priority, version, tsText, host);
    body = prefix
      ? Buffer.concat([Buffer.from(prefix, 'utf8'), line.subarray(sp + 1)])
      : Buffer.from(line.subarray(sp + 1));
  } else {
    body = Buffer.from(line);
  }
  return { headers: h, body };
}
