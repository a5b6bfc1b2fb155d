/**
 * Flume's ThriftSourceProtocol messages on top of protocol.ts: calls (append, appendBatch), replies (Status) and
 * TApplicationException answers, each as one framed message. Decoding enforces the event and header limits on the
 * declared counts, before the elements are read.
 */
import type { FlumeEvent } from '../../core/event.js';
import {
  AppError,
  MessageType,
  STATUS_NAMES,
  T,
  ThriftDecodeError,
  writerFor,
  type MessageHead,
  type Status,
  type ThriftProtocolName,
  type ThriftReader,
} from './protocol.js';

export type CallName = 'append' | 'appendBatch';

export interface DecodeLimits {
  /** Most events in one appendBatch. */
  maxEvents: number;
  /** Most headers in one event. */
  maxHeaders: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = { maxEvents: 100_000, maxHeaders: 10_000 };

function writeEvent(w: ReturnType<typeof writerFor>, e: FlumeEvent): void {
  w.structBegin();
  const keys = Object.keys(e.headers);
  w.field(T.MAP, 1);
  w.mapBegin(T.STRING, T.STRING, keys.length);
  for (const k of keys) {
    w.string(k);
    w.string(e.headers[k]!);
  }
  w.field(T.STRING, 2);
  w.binary(e.body);
  w.structEnd();
}

/** A framed call. `events` holds one event for append. */
export function encodeCall(
  protocol: ThriftProtocolName,
  name: CallName,
  seqid: number,
  events: readonly FlumeEvent[],
): Buffer {
  let size = 64;
  for (const e of events) size += e.body.length + 32;
  const w = writerFor(protocol, size);
  w.messageBegin(name, MessageType.CALL, seqid);
  w.structBegin();
  if (name === 'append') {
    w.field(T.STRUCT, 1);
    writeEvent(w, events[0]!);
  } else {
    w.field(T.LIST, 1);
    w.listBegin(T.STRUCT, events.length);
    for (const e of events) writeEvent(w, e);
  }
  w.structEnd();
  return w.frame();
}

/** A framed reply carrying a Status (field 0 `success`). */
export function encodeReply(protocol: ThriftProtocolName, name: string, seqid: number, status: Status): Buffer {
  const w = writerFor(protocol, 32 + name.length);
  w.messageBegin(name, MessageType.REPLY, seqid);
  w.structBegin();
  w.field(T.I32, 0);
  w.i32(STATUS_NAMES.indexOf(status));
  w.structEnd();
  return w.frame();
}

/** A framed TApplicationException {1: message, 2: type}. */
export function encodeException(
  protocol: ThriftProtocolName,
  name: string,
  seqid: number,
  type: number,
  message: string,
): Buffer {
  const w = writerFor(protocol, 64 + name.length + message.length * 3);
  w.messageBegin(name, MessageType.EXCEPTION, seqid);
  w.structBegin();
  w.field(T.STRING, 1);
  w.string(message);
  w.field(T.I32, 2);
  w.i32(type);
  w.structEnd();
  return w.frame();
}

function readEvent(r: ThriftReader, limits: DecodeLimits): FlumeEvent {
  let headers: Record<string, string> | undefined;
  let body: Buffer | undefined;
  r.structBegin();
  for (;;) {
    const f = r.fieldBegin();
    if (f.type === T.STOP) break;
    if (f.id === 1 && f.type === T.MAP) {
      const m = r.mapBegin();
      if (m.size > limits.maxHeaders)
        throw new ThriftDecodeError(`an event with ${m.size} headers (maxHeaders ${limits.maxHeaders})`);
      if (m.size > 0 && (m.key !== T.STRING || m.value !== T.STRING))
        throw new ThriftDecodeError('headers must be map<string,string>');
      headers = Object.create(null) as Record<string, string>;
      for (let i = 0; i < m.size; i++) {
        const k = r.string();
        headers[k] = r.string();
      }
    } else if (f.id === 2 && f.type === T.STRING) body = r.binary();
    else r.skipField(f.type);
  }
  r.structEnd();
  // both fields are `required` in Flume's IDL: Thrift's generated validate() refuses an event without them
  if (!headers) throw new ThriftDecodeError('ThriftFlumeEvent without its required field headers');
  if (!body) throw new ThriftDecodeError('ThriftFlumeEvent without its required field body');
  return { headers, body };
}

export interface DecodedCall {
  head: MessageHead;
  /** undefined when the method is not one of Flume's (the server answers UNKNOWN_METHOD). */
  events?: FlumeEvent[];
}

/** Reads a call message; throws ThriftDecodeError on malformed input or a broken limit. */
export function decodeCall(r: ThriftReader, limits: DecodeLimits): DecodedCall {
  const head = r.messageBegin();
  if (head.type !== MessageType.CALL && head.type !== MessageType.ONEWAY)
    throw new ThriftDecodeError(`message type ${head.type} where a call was expected`);
  if (head.name !== 'append' && head.name !== 'appendBatch') return { head };
  let events: FlumeEvent[] | undefined;
  r.structBegin();
  for (;;) {
    const f = r.fieldBegin();
    if (f.type === T.STOP) break;
    if (f.id === 1 && head.name === 'append' && f.type === T.STRUCT) events = [readEvent(r, limits)];
    else if (f.id === 1 && head.name === 'appendBatch' && f.type === T.LIST) {
      const l = r.listBegin();
      if (l.size > limits.maxEvents)
        throw new ThriftDecodeError(`appendBatch of ${l.size} events (maxEventsPerRequest ${limits.maxEvents})`);
      if (l.size > 0 && l.elem !== T.STRUCT) throw new ThriftDecodeError('appendBatch events must be structs');
      events = new Array<FlumeEvent>(l.size);
      for (let i = 0; i < l.size; i++) events[i] = readEvent(r, limits);
    } else r.skipField(f.type);
  }
  r.structEnd();
  if (!events) throw new ThriftDecodeError(`${head.name} without its argument`);
  return { head, events };
}

export type DecodedReply =
  { head: MessageHead; status: Status } | { head: MessageHead; error: string; errorType: number | undefined };

/** Reads a reply or exception message. */
export function decodeReply(r: ThriftReader): DecodedReply {
  const head = r.messageBegin();
  let status: number | undefined;
  let message = '';
  let errorType: number | undefined;
  r.structBegin();
  for (;;) {
    const f = r.fieldBegin();
    if (f.type === T.STOP) break;
    if (head.type === MessageType.REPLY && f.id === 0 && f.type === T.I32) status = r.i32();
    else if (head.type === MessageType.EXCEPTION && f.id === 1 && f.type === T.STRING) message = r.string();
    else if (head.type === MessageType.EXCEPTION && f.id === 2 && f.type === T.I32) errorType = r.i32();
    else r.skipField(f.type);
  }
  r.structEnd();
  if (head.type === MessageType.EXCEPTION) return { head, error: message || 'TApplicationException', errorType };
  if (head.type !== MessageType.REPLY)
    throw new ThriftDecodeError(`message type ${head.type} where a reply was expected`);
  if (status === undefined) throw new ThriftDecodeError(`${head.name} reply without a result`);
  const name = STATUS_NAMES[status];
  if (!name) throw new ThriftDecodeError(`unknown Status ${status}`);
  return { head, status: name };
}

export { AppError };
