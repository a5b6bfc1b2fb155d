/**
 * Fluentd Forward Protocol v1, the message level (reference: protocols.md §1): one request = one msgpack array in
 * Message `[tag, time, record, option?]`, Forward `[tag, [[time, record], ...], option?]`, PackedForward
 * `[tag, <bin|str of concatenated entries>, option?]` or CompressedPackedForward (the same, gzip, possibly several
 * concatenated members) mode. Time: integer seconds, EventTime (ext 0: uint32 seconds + uint32 nanoseconds, fixext8
 * or ext8), a float (seconds), or Fluent Bit's `[time, metadata]`; 0 or nil is now.
 *
 * Decoding never drops an entry: a record that is not a map still becomes an event (its JSON), an entry that is not
 * an array becomes an event of its whole value at the current time. What cannot be decoded at all closes the
 * connection (no ack: the client sends it again).
 */
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import type { FlumeEvent } from '../../core/event.js';
import { MsgpackError, Reader, T } from './msgpack.js';
import { eventTimeMs, findKey, writeJson } from './json.js';
import { ByteSink } from '../../text/json-bytes.js';

const gunzip = promisify(zlib.gunzip);

export interface Mapping {
  /** Header that carries the tag. */
  tagHeader: string;
  /** When set, the body is this record field (a string as is, anything else as JSON); else the record's JSON. */
  messageKey?: string;
}

export interface DecodeLimits {
  /** Most entries in one request. */
  maxEntries: number;
  /** Most bytes after decompressing a CompressedPackedForward payload. */
  maxMessageBytes: number;
}

/** The options map of a request, as far as a server needs it. */
export interface RequestOptions {
  /** The raw msgpack bytes of the `chunk` value, echoed byte for byte in the ack. */
  chunk?: Buffer;
  compressed?: string;
  size?: number;
}

export type Request =
  | { kind: 'none' } // nil or not an array: nothing to do, nothing to answer
  | { kind: 'events'; tag: string; events: FlumeEvent[]; options: RequestOptions };

/** Reads the options map at `r` (any type other than a map is skipped). */
function readOptions(r: Reader): RequestOptions {
  const out: RequestOptions = {};
  const t = r.head();
  if (t !== T.Map) {
    r.skipRest(t);
    return out;
  }
  const n = r.n;
  for (let i = 0; i < n; i++) {
    const key = r.text();
    if (key === 'chunk') {
      const at = r.pos;
      r.skip();
      out.chunk = Buffer.from(r.buf.subarray(at, r.pos));
    } else if (key === 'compressed') {
      out.compressed = r.text();
    } else if (key === 'size') {
      const vt = r.head();
      if (vt === T.Int) out.size = r.n;
      else r.skipRest(vt);
    } else r.skip();
  }
  return out;
}

/** Epoch ms of the time value at `r`; 0, nil and anything unreadable are `now`. */
function readTime(r: Reader, now: number): number {
  const t = r.head();
  switch (t) {
    case T.Int:
      return r.n > 0 ? r.n * 1000 : now;
    case T.Float:
      return Number.isFinite(r.n) && r.n > 0 ? Math.round(r.n * 1000) : now;
    case T.Ext: {
      const at = r.pos;
      r.pos += r.n;
      return r.extType === 0 && r.n === 8 ? eventTimeMs(r.buf, at) || now : now;
    }
    case T.Array: {
      // Fluent Bit: [time, metadata]
      const n = r.n;
      if (n === 0) return now;
      const ms = readTime(r, now);
      for (let i = 1; i < n; i++) r.skip();
      return ms;
    }
    default:
      r.skipRest(t);
      return now;
  }
}

/** Turns entries into events; bodies are views into one output buffer per request. */
export class EventBuilder {
  private readonly out = new ByteSink(1024);
  private readonly key: Buffer | undefined;
  readonly events: FlumeEvent[] = [];

  constructor(
    private readonly m: Mapping,
    private readonly tag: string,
    sizeHint: number,
  ) {
    this.key = m.messageKey === undefined ? undefined : Buffer.from(m.messageKey, 'utf8');
    this.out.fresh(Math.min(sizeHint + (sizeHint >> 2), 64 * 1024 * 1024));
  }

  /** The record at `r` with time `ms`. */
  add(r: Reader, ms: number): void {
    const out = this.out;
    const start = out.len;
    const key = this.key;
    if (key) {
      const recStart = r.pos;
      const at = findKey(r, key);
      const after = r.pos;
      const v = new Reader(r.buf, at >= 0 ? at : recStart, r.end);
      if (at >= 0) {
        const t = v.head();
        if (t === T.Str || t === T.Bin) out.bytes(v.buf, v.pos, v.pos + v.n);
        else {
          v.pos = at;
          writeJson(v, out);
        }
      } else writeJson(v, out);
      r.pos = after;
    } else writeJson(r, out);
    const headers: Record<string, string> = { timestamp: String(ms) };
    headers[this.m.tagHeader] = this.tag;
    this.events.push({ headers, body: out.buf.subarray(start, out.len) });
  }

  /** One entry `[time, record, ...]` at `r`. */
  entry(r: Reader, now: number): void {
    const at = r.pos;
    const t = r.head();
    if (t !== T.Array || r.n < 2) {
      r.pos = at;
      this.add(r, now);
      return;
    }
    const n = r.n;
    const ms = readTime(r, now);
    this.add(r, ms);
    for (let i = 2; i < n; i++) r.skip();
  }
}

/**
 * Decodes one complete request (`buf[start, end)`). `now` is the time given to entries without one. Throws
 * MsgpackError on malformed input or a broken limit.
 */
export async function decodeRequest(
  buf: Buffer,
  start: number,
  end: number,
  m: Mapping,
  lim: DecodeLimits,
  now: number,
): Promise<Request> {
  const r = new Reader(buf, start, end);
  const top = r.head();
  if (top !== T.Array) return { kind: 'none' };
  const len = r.n;
  if (len < 2) throw new MsgpackError(`a request array needs at least 2 elements, got ${len}`);
  const tag = r.text();
  if (tag === undefined) throw new MsgpackError('the first element of a request (the tag) must be a string');
  const second = r.pos;
  const t = r.head();
  if (t === T.Array) {
    // Forward
    const n = r.n;
    if (n > lim.maxEntries) throw new MsgpackError(`${n} entries in one request, more than maxEntriesPerMessage`);
    const b = new EventBuilder(m, tag, end - start);
    for (let i = 0; i < n; i++) b.entry(r, now);
    const options = len >= 3 ? readOptions(r) : {};
    for (let i = 3; i < len; i++) r.skip();
    return { kind: 'events', tag, events: b.events, options };
  }
  if (t === T.Str || t === T.Bin) {
    // PackedForward / CompressedPackedForward
    let packed = buf;
    let ps = r.pos;
    let pe = r.pos + r.n;
    r.pos = pe;
    const options = len >= 3 ? readOptions(r) : {};
    for (let i = 3; i < len; i++) r.skip();
    if (options.compressed === 'gzip') {
      try {
        packed = await gunzip(buf.subarray(ps, pe), { maxOutputLength: lim.maxMessageBytes });
      } catch (err) {
        const tooLarge = err instanceof RangeError || (err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
        throw new MsgpackError(
          tooLarge
            ? `the gzip payload inflates to more than ${lim.maxMessageBytes} bytes (maxMessageBytes)`
            : `the gzip payload cannot be decompressed: ${(err as Error).message}`,
        );
      }
      ps = 0;
      pe = packed.length;
    } else if (options.compressed !== undefined && options.compressed !== 'text') {
      throw new MsgpackError(`compressed = '${options.compressed.slice(0, 32)}' is not supported (gzip or text)`);
    }
    const b = new EventBuilder(m, tag, pe - ps);
    const er = new Reader(packed, ps, pe);
    let count = 0;
    while (er.pos < pe) {
      if (++count > lim.maxEntries) throw new MsgpackError(`more than ${lim.maxEntries} entries in one request`);
      b.entry(er, now);
    }
    return { kind: 'events', tag, events: b.events, options };
  }
  // Message: [tag, time, record, option?]
  if (len < 3) throw new MsgpackError('a Message-mode request needs a time and a record');
  r.pos = second;
  const ms = readTime(r, now);
  const b = new EventBuilder(m, tag, end - start);
  b.add(r, ms);
  const options = len >= 4 ? readOptions(r) : {};
  for (let i = 4; i < len; i++) r.skip();
  return { kind: 'events', tag, events: b.events, options };
}

/** `{"ack": <chunk>}` with the chunk's msgpack bytes as received. */
export function encodeAck(chunk: Buffer): Buffer {
  return Buffer.concat([Buffer.from([0x81, 0xa3, 0x61, 0x63, 0x6b]), chunk]);
}
