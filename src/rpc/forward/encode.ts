/**
 * Events -> Forward protocol requests, for the forward sink: one PackedForward request per tag (entries
 * `[EventTime, record]`), optionally gzip-compressed (CompressedPackedForward), with `size` and, when an ack is
 * wanted, a fresh `chunk` id (16 random bytes, base64, as fluentd's out_forward).
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { isUtf8 } from 'node:buffer';
import { Packr } from 'msgpackr';
import type { FlumeEvent } from '../../core/event.js';
import { packValue } from './msgpack.js';
import { ByteSink } from '../../text/json-bytes.js';

const packr = new Packr({ useRecords: false, variableMapSize: true });

export interface RecordMapping {
  /** Header naming the tag; events without it get `defaultTag`. */
  tagHeader: string;
  defaultTag: string;
  /** A body that is not a JSON object becomes `{ [messageKey]: body }`. */
  messageKey: string;
  /** Copy the event's headers into the record (the record's own fields win). */
  includeHeaders: boolean;
  /** Header with the event time in epoch ms (else: now). */
  timestampHeader: string;
}

/** The record of one event. */
export function toRecord(e: FlumeEvent, m: RecordMapping): Record<string, unknown> {
  const body = e.body;
  let rec: Record<string, unknown> | undefined;
  let i = 0;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
  if (body[i] === 0x7b) {
    try {
      const v: unknown = JSON.parse(body.toString('utf8'));
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) rec = v as Record<string, unknown>;
    } catch {
      rec = undefined;
    }
  }
  rec ??= { [m.messageKey]: body.toString('utf8') };
  if (m.includeHeaders) {
    for (const k of Object.keys(e.headers)) if (!(k in rec)) rec[k] = e.headers[k];
  }
  return rec;
}

export interface Request {
  tag: string;
  bytes: Buffer;
  /** The chunk id as sent (str), when an ack is wanted. */
  chunk?: string;
  events: number;
}

/** One request's entries: the shared byte buffer with msgpack's str header. */
class Out extends ByteSink {
  /** A msgpack str header for `n` bytes. */
  strHead(n: number): void {
    this.ensure(5);
    const b = this.buf;
    if (n < 32) b[this.len++] = 0xa0 | n;
    else if (n < 256) {
      b[this.len++] = 0xd9;
      b[this.len++] = n;
    } else if (n < 65536) {
      b[this.len++] = 0xda;
      this.len = b.writeUInt16BE(n, this.len);
    } else {
      b[this.len++] = 0xdb;
      this.len = b.writeUInt32BE(n, this.len);
    }
  }
}

/** True when the body (after leading whitespace) starts with `{`: it may be a JSON object record. */
function mayBeObject(body: Buffer): boolean {
  let i = 0;
  while (i < body.length && (body[i] === 0x20 || body[i] === 0x0a || body[i] === 0x0d || body[i] === 0x09)) i++;
  return body[i] === 0x7b;
}

/** Appends `[EventTime, record]` for one event. */
function writeEntry(out: Out, e: FlumeEvent, m: RecordMapping, time: number, key: Buffer): void {
  const ms = Math.floor(time);
  out.ensure(11);
  const b = out.buf;
  b[out.len++] = 0x92;
  b[out.len++] = 0xd7;
  b[out.len++] = 0x00;
  out.len = b.writeUInt32BE(Math.floor(ms / 1000) >>> 0, out.len);
  out.len = b.writeUInt32BE((ms % 1000) * 1_000_000, out.len);
  const body = e.body;
  if (!m.includeHeaders && !mayBeObject(body) && isUtf8(body)) {
    // the common plain-text case, without building an object: {"<messageKey>": "<body>"}
    out.ensure(1);
    out.buf[out.len++] = 0x81;
    out.strHead(key.length);
    out.bytes(key);
    out.strHead(body.length);
    out.bytes(body);
    return;
  }
  out.bytes(packr.pack(toRecord(e, m)));
}

/** Bytes kept free before the entries for the request's head (tags up to 58 bytes fit). */
const HEAD_ROOM = 64;

/** Groups the batch by tag, keeping order within each tag. */
export function encodeBatch(
  batch: readonly FlumeEvent[],
  m: RecordMapping,
  o: { ack: boolean; gzip: boolean; now: number },
): Request[] {
  const byTag = new Map<string, FlumeEvent[]>();
  for (const e of batch) {
    const tag = e.headers[m.tagHeader] || m.defaultTag;
    let list = byTag.get(tag);
    if (!list) byTag.set(tag, (list = []));
    list.push(e);
  }
  const out: Request[] = [];
  const key = Buffer.from(m.messageKey, 'utf8');
  for (const [tag, events] of byTag) {
    const entries = new Out();
    entries.len = HEAD_ROOM; // the request's head (array, tag, bin32 header) is written last, in front
    for (const e of events) {
      const ts = Number(e.headers[m.timestampHeader]);
      writeEntry(entries, e, m, Number.isFinite(ts) && ts > 0 ? ts : o.now, key);
    }
    const chunk = o.ack ? crypto.randomBytes(16).toString('base64') : undefined;
    const option: Record<string, unknown> = { size: events.length, compressed: o.gzip ? 'gzip' : 'text' };
    if (chunk) option.chunk = chunk;
    const head = Buffer.from(packValue(tag, [0x93]));
    const tail = Buffer.from(packValue(option));
    let bytes: Buffer;
    if (o.gzip) {
      const gz = zlib.gzipSync(entries.buf.subarray(HEAD_ROOM, entries.len));
      bytes = Buffer.concat([head, binHead(gz.length), gz, tail]);
    } else if (head.length + 5 <= HEAD_ROOM) {
      // the entries are already in place: write the head just before them, the options after
      const n = entries.len - HEAD_ROOM;
      const at = HEAD_ROOM - 5 - head.length;
      head.copy(entries.buf, at);
      binHead(n).copy(entries.buf, HEAD_ROOM - 5);
      entries.bytes(tail);
      bytes = entries.buf.subarray(at, entries.len);
    } else {
      const n = entries.len - HEAD_ROOM;
      bytes = Buffer.concat([head, binHead(n), entries.buf.subarray(HEAD_ROOM, entries.len), tail]);
    }
    out.push({ tag, bytes, chunk, events: events.length });
  }
  return out;
}

function binHead(n: number): Buffer {
  return Buffer.from([0xc6, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
}
