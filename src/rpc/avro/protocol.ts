/**
 * Flume's AvroSourceProtocol (flume-ng-sdk flume.avdl) and Avro IPC's handshake and call messages, encoded by
 * hand (reference §11.1, §11.3). Everything here is pure: bytes in, values out, with limits checked while decoding.
 */
import crypto from 'node:crypto';
import { makeEvent, type FlumeEvent } from '../../core/event.js';
import { AvroDecodeError, Reader, Writer } from './avro-binary.js';
import { FRAME_HEADER_BYTES, writeFrameHeader } from './framing.js';

/** The protocol as JSON text. Java prints it differently, so hashes never match Java's: the handshake copes. */
export const PROTOCOL_JSON = JSON.stringify({
  protocol: 'AvroSourceProtocol',
  namespace: 'org.apache.flume.source.avro',
  types: [
    { type: 'enum', name: 'Status', symbols: ['OK', 'FAILED', 'UNKNOWN'] },
    {
      type: 'record',
      name: 'AvroFlumeEvent',
      fields: [
        { name: 'headers', type: { type: 'map', values: 'string' } },
        { name: 'body', type: 'bytes' },
      ],
    },
  ],
  messages: {
    append: { request: [{ name: 'event', type: 'AvroFlumeEvent' }], response: 'Status' },
    appendBatch: {
      request: [{ name: 'events', type: { type: 'array', items: 'AvroFlumeEvent' } }],
      response: 'Status',
    },
  },
});
export const PROTOCOL_HASH: Buffer = crypto.createHash('md5').update(PROTOCOL_JSON, 'utf8').digest();

export const STATUS = ['OK', 'FAILED', 'UNKNOWN'] as const;
export type Status = (typeof STATUS)[number];
export const MATCH = ['BOTH', 'CLIENT', 'NONE'] as const;
export type HandshakeMatch = (typeof MATCH)[number];

export interface HandshakeRequest {
  clientHash: Buffer;
  clientProtocol: string | null;
  serverHash: Buffer;
  meta: Record<string, Buffer> | null;
}
export interface HandshakeResponse {
  match: HandshakeMatch;
  serverProtocol: string | null;
  serverHash: Buffer | null;
  meta: Record<string, Buffer> | null;
}

/** Decoding limits (the frame layer already bounds the message size). */
export interface DecodeLimits {
  /** Most events in one appendBatch. */
  maxEvents: number;
  /** Most headers per event. */
  maxHeaders: number;
  /** Longest protocol text accepted in a handshake. */
  maxProtocolBytes: number;
  /** Most call-metadata entries. */
  maxMetaEntries: number;
}
export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  maxEvents: 100_000,
  maxHeaders: 10_000,
  maxProtocolBytes: 1 << 20,
  maxMetaEntries: 1024,
};

// ----------------------------------------------------------------------------------------------- handshake

export function writeHandshakeRequest(w: Writer, h: HandshakeRequest): void {
  w.fixed(h.clientHash);
  if (h.clientProtocol === null) w.long(0);
  else {
    w.long(1);
    w.string(h.clientProtocol);
  }
  w.fixed(h.serverHash);
  writeOptionalMeta(w, h.meta);
}

export function readHandshakeRequest(r: Reader, lim: DecodeLimits = DEFAULT_DECODE_LIMITS): HandshakeRequest {
  const clientHash = Buffer.from(r.fixed(16));
  const clientProtocol = r.unionIndex(2) === 1 ? r.string(lim.maxProtocolBytes) : null;
  const serverHash = Buffer.from(r.fixed(16));
  const meta = r.unionIndex(2) === 1 ? r.bytesMap(lim.maxMetaEntries) : null;
  return { clientHash, clientProtocol, serverHash, meta };
}

export function writeHandshakeResponse(w: Writer, h: HandshakeResponse): void {
  w.long(MATCH.indexOf(h.match));
  if (h.serverProtocol === null) w.long(0);
  else {
    w.long(1);
    w.string(h.serverProtocol);
  }
  if (h.serverHash === null) w.long(0);
  else {
    w.long(1);
    w.fixed(h.serverHash);
  }
  writeOptionalMeta(w, h.meta);
}

export function readHandshakeResponse(r: Reader, lim: DecodeLimits = DEFAULT_DECODE_LIMITS): HandshakeResponse {
  const match = MATCH[r.enumIndex(3)]!;
  const serverProtocol = r.unionIndex(2) === 1 ? r.string(lim.maxProtocolBytes) : null;
  const serverHash = r.unionIndex(2) === 1 ? Buffer.from(r.fixed(16)) : null;
  const meta = r.unionIndex(2) === 1 ? r.bytesMap(lim.maxMetaEntries) : null;
  return { match, serverProtocol, serverHash, meta };
}

function writeOptionalMeta(w: Writer, meta: Record<string, Buffer> | null): void {
  if (meta === null) {
    w.long(0);
    return;
  }
  w.long(1);
  writeBytesMap(w, meta);
}

function writeBytesMap(w: Writer, m: Record<string, Buffer>): void {
  const keys = Object.keys(m);
  if (keys.length > 0) {
    w.long(keys.length);
    for (const k of keys) {
      w.string(k);
      w.bytes(m[k]!);
    }
  }
  w.long(0);
}

/**
 * Checks that a client's protocol text is an Avro protocol that declares Flume's messages; returns a problem or
 * undefined. (Java would resolve schemas; we only accept the shape we decode.)
 */
export function checkClientProtocol(text: string): string | undefined {
  let p: unknown;
  try {
    p = JSON.parse(text);
  } catch {
    return 'client protocol is not JSON';
  }
  if (typeof p !== 'object' || p === null) return 'client protocol is not a JSON object';
  const messages = (p as { messages?: unknown }).messages;
  if (typeof messages !== 'object' || messages === null) return 'client protocol declares no messages';
  const names = Object.keys(messages);
  if (!names.includes('append') && !names.includes('appendBatch'))
    return `client protocol '${String((p as { protocol?: unknown }).protocol)}' has neither append nor appendBatch`;
  return undefined;
}

// ----------------------------------------------------------------------------------------------- events

function writeEvent(w: Writer, e: FlumeEvent): void {
  const h = e.headers;
  let n = 0;
  for (const _ in h) n++;
  if (n > 0) {
    w.long(n);
    for (const k in h) {
      const v = h[k];
      w.string(k);
      w.string(typeof v === 'string' ? v : v == null ? '' : String(v)); // Flume's file channel also turns null into ""
    }
  }
  w.long(0);
  w.bytes(e.body);
}

/** Upper estimate of the encoded size of a batch, to size the buffer once. */
function estimate(events: readonly FlumeEvent[]): number {
  let n = 64;
  for (let i = 0; i < events.length; i++) n += events[i]!.body.length + 16;
  return n;
}

function readEvent(r: Reader, lim: DecodeLimits): FlumeEvent {
  let n = r.blockCount(2);
  if (n === 0) return makeEvent(r.bytes()); // no headers: the shared empty header object
  const headers = Object.create(null) as Record<string, string>;
  let total = 0;
  for (; n !== 0; n = r.blockCount(2)) {
    total += n;
    if (total > lim.maxHeaders) throw new AvroDecodeError(`an event has more than ${lim.maxHeaders} headers`);
    for (let i = 0; i < n; i++) {
      const k = r.string();
      headers[k] = r.string();
    }
  }
  return { headers, body: r.bytes() };
}

// ----------------------------------------------------------------------------------------------- calls

export type CallName = 'append' | 'appendBatch' | '';

export interface CallRequestOptions {
  serial: number;
  handshake?: HandshakeRequest;
}

/**
 * One complete request frame (Netty framing header + message) in a single buffer: optional handshake, empty
 * metadata, the message name and its parameters. `name` '' is a handshake-only ping.
 */
export function encodeCallFrame(name: CallName, events: readonly FlumeEvent[], o: CallRequestOptions): Buffer {
  const w = new Writer(
    estimate(events) + (o.handshake ? 64 + (o.handshake.clientProtocol?.length ?? 0) * 3 : 0),
    FRAME_HEADER_BYTES,
  );
  if (o.handshake) writeHandshakeRequest(w, o.handshake);
  w.long(0); // empty call metadata
  w.string(name);
  if (name === 'appendBatch') {
    if (events.length > 0) {
      w.long(events.length);
      for (let i = 0; i < events.length; i++) writeEvent(w, events[i]!);
    }
    w.long(0);
  } else if (name === 'append') {
    writeEvent(w, events[0]!);
  }
  const buf = w.finish();
  writeFrameHeader(buf, o.serial, buf.length - FRAME_HEADER_BYTES);
  return buf;
}

/** The payload of a request message after the handshake: metadata and name (and the reader left at the params). */
export function readCallHead(r: Reader, lim: DecodeLimits = DEFAULT_DECODE_LIMITS): string {
  r.skipBytesMap(lim.maxMetaEntries);
  return r.string(256);
}

/** Reads appendBatch's array<AvroFlumeEvent>. */
export function readEventArray(r: Reader, lim: DecodeLimits = DEFAULT_DECODE_LIMITS): FlumeEvent[] {
  const out: FlumeEvent[] = [];
  for (let n = r.blockCount(2); n !== 0; n = r.blockCount(2)) {
    if (out.length + n > lim.maxEvents)
      throw new AvroDecodeError(`appendBatch carries more than ${lim.maxEvents} events`);
    for (let i = 0; i < n; i++) out.push(readEvent(r, lim));
  }
  return out;
}

/** Reads append's single AvroFlumeEvent. */
export function readSingleEvent(r: Reader, lim: DecodeLimits = DEFAULT_DECODE_LIMITS): FlumeEvent {
  return readEvent(r, lim);
}

export type CallResult = { status: Status } | { error: string };

/**
 * One complete response frame: optional handshake response, then (unless `result` is undefined: handshake only)
 * empty metadata, the error flag and the Status or the system-error string.
 */
export function encodeResponseFrame(
  serial: number,
  handshake: HandshakeResponse | undefined,
  result: CallResult | undefined,
): Buffer {
  const w = new Writer(64 + (handshake?.serverProtocol?.length ?? 0) * 3, FRAME_HEADER_BYTES);
  if (handshake) writeHandshakeResponse(w, handshake);
  if (result) {
    w.long(0);
    if ('status' in result) {
      w.bool(false);
      w.long(STATUS.indexOf(result.status));
    } else {
      w.bool(true);
      w.long(0); // union ["string"] branch 0
      w.string(result.error);
    }
  }
  const buf = w.finish();
  writeFrameHeader(buf, serial, buf.length - FRAME_HEADER_BYTES);
  return buf;
}

/** Reads a call response body (after any handshake response): metadata, error flag, Status or error text. */
export function readCallResult(r: Reader, lim: DecodeLimits = DEFAULT_DECODE_LIMITS): CallResult {
  r.skipBytesMap(lim.maxMetaEntries);
  if (r.bool()) {
    r.unionIndex(1);
    return { error: r.string(1 << 20) };
  }
  return { status: STATUS[r.enumIndex(3)]! };
}

// ----------------------------------------------------------------------------------------------- AvroFlumeEvent datum

/** The bare AvroFlumeEvent binary datum (no framing), as Kafka's useFlumeEventFormat stores it. */
export function encodeEventDatum(e: FlumeEvent): Buffer {
  const w = new Writer(e.body.length + 32);
  writeEvent(w, e);
  return Buffer.from(w.finish());
}

export function decodeEventDatum(b: Buffer, lim: DecodeLimits = DEFAULT_DECODE_LIMITS): FlumeEvent {
  return readEvent(new Reader(b), lim);
}
