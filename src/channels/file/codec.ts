/**
 * Binary layout of the file channel's LevelDB store.
 *
 * Keys (all Buffers, compared bytewise):
 *   'd' + base u64 BE + count u32 BE   one record per committed put transaction; events get global indices
 *                                       base .. base+count-1 (the count in the key lets a scan size a record
 *                                       without decoding it)
 *   'p'                                 put-side state, rewritten atomically with every batch of put records
 *   's'                                 take-side state, rewritten atomically with every batch of take commits
 *   'm'                                 store identity (JSON), written once when the store is created
 *
 * Record value: u8 version | u32 event count | u32 crc32 of the rest | events.
 * Event: u16 header count | (u32 key length, key UTF-8, u32 value length, value UTF-8)* | u32 body length | body.
 */
import zlib from 'node:zlib';
import { AgentError } from '../../core/errors.js';
import type { FlumeEvent } from '../../core/event.js';

export const RECORD_PREFIX = 0x64; // 'd'
export const RECORD_KEY_LEN = 13;
export const KEY_RECORDS_END = Buffer.from('e');
export const KEY_STATE = Buffer.from('s');
export const KEY_PUT_STATE = Buffer.from('p');
export const KEY_META = Buffer.from('m');

const RECORD_VERSION = 1;
const STATE_VERSION = 1;
const RECORD_HEADER = 9;
const TWO32 = 2 ** 32;

/** A record or state record that cannot be encoded or decoded (FLUME_ERR_CHANNEL_RECORD). */
export class CodecError extends AgentError {
  constructor(message: string) {
    super('FLUME_ERR_CHANNEL_RECORD', message);
    this.name = 'CodecError';
  }
}

function writeU64(buf: Buffer, v: number, off: number): void {
  buf.writeUInt32BE(Math.floor(v / TWO32), off);
  buf.writeUInt32BE(v >>> 0, off + 4);
}
function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32BE(off) * TWO32 + buf.readUInt32BE(off + 4);
}

export function recordKey(base: number, count: number): Buffer {
  const k = Buffer.allocUnsafe(RECORD_KEY_LEN);
  k[0] = RECORD_PREFIX;
  writeU64(k, base, 1);
  k.writeUInt32BE(count, 9);
  return k;
}

export function parseRecordKey(k: Uint8Array): { base: number; count: number } {
  const b = Buffer.isBuffer(k) ? k : Buffer.from(k.buffer, k.byteOffset, k.byteLength);
  if (b.length !== RECORD_KEY_LEN || b[0] !== RECORD_PREFIX)
    throw new CodecError(`malformed record key ${b.toString('hex')}`);
  const count = b.readUInt32BE(9);
  if (count === 0) throw new CodecError(`record key ${b.toString('hex')} has a zero event count`);
  return { base: readU64(b, 1), count };
}

const EMPTY_HEADERS: Record<string, string> = Object.freeze(Object.create(null)) as Record<string, string>;

/** Encodes one put transaction into one record value (one allocation, one copy per body). */
export function encodeEvents(events: readonly FlumeEvent[]): Buffer {
  let size = RECORD_HEADER;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    size += 6 + e.body.length;
    const h = e.headers;
    for (const k in h) size += 8 + Buffer.byteLength(k, 'utf8') + Buffer.byteLength(h[k] ?? '', 'utf8');
  }
  const buf = Buffer.allocUnsafe(size);
  buf[0] = RECORD_VERSION;
  buf.writeUInt32BE(events.length, 1);
  let off = RECORD_HEADER;
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    const h = e.headers;
    const countAt = off;
    off += 2;
    let n = 0;
    for (const k in h) {
      const kl = buf.write(k, off + 4, 'utf8');
      buf.writeUInt32BE(kl, off);
      off += 4 + kl;
      const vl = buf.write(h[k] ?? '', off + 4, 'utf8');
      buf.writeUInt32BE(vl, off);
      off += 4 + vl;
      n++;
    }
    if (n > 0xffff) throw new CodecError(`an event has ${n} headers; at most 65535 are supported`);
    buf.writeUInt16BE(n, countAt);
    buf.writeUInt32BE(e.body.length, off);
    off += 4;
    off += e.body.copy(buf, off);
  }
  buf.writeUInt32BE(zlib.crc32(buf.subarray(RECORD_HEADER)) >>> 0, 5);
  return buf;
}

/** Number of events a record value says it holds, without decoding it. */
export function recordCount(v: Buffer): number {
  if (v.length < RECORD_HEADER) throw new CodecError('record shorter than its header');
  return v.readUInt32BE(1);
}

/**
 * Decodes a record value. Bodies are views into `v` (no copy). Throws CodecError when the checksum, version or
 * layout is wrong.
 */
export function decodeEvents(v: Buffer, expectedCount?: number): FlumeEvent[] {
  if (v.length < RECORD_HEADER) throw new CodecError('record shorter than its header');
  if (v[0] !== RECORD_VERSION) throw new CodecError(`unknown record version ${v[0]}`);
  const count = v.readUInt32BE(1);
  if (expectedCount !== undefined && count !== expectedCount)
    throw new CodecError(`record holds ${count} events, its key says ${expectedCount}`);
  const crc = zlib.crc32(v.subarray(RECORD_HEADER)) >>> 0;
  if (crc !== v.readUInt32BE(5)) throw new CodecError('record checksum mismatch');
  const out = new Array<FlumeEvent>(count);
  let off = RECORD_HEADER;
  const end = v.length;
  try {
    for (let i = 0; i < count; i++) {
      const nh = v.readUInt16BE(off);
      off += 2;
      let headers = EMPTY_HEADERS;
      if (nh > 0) {
        headers = Object.create(null) as Record<string, string>;
        for (let j = 0; j < nh; j++) {
          const kl = v.readUInt32BE(off);
          const k = v.toString('utf8', off + 4, off + 4 + kl);
          off += 4 + kl;
          const vl = v.readUInt32BE(off);
          headers[k] = v.toString('utf8', off + 4, off + 4 + vl);
          off += 4 + vl;
        }
      }
      const bl = v.readUInt32BE(off);
      off += 4;
      if (off + bl > end) throw new CodecError('event body runs past the end of the record');
      out[i] = { headers, body: v.subarray(off, off + bl) };
      off += bl;
    }
  } catch (err) {
    if (err instanceof CodecError) throw err;
    throw new CodecError(`record layout is damaged: ${(err as Error).message}`);
  }
  if (off !== end) throw new CodecError(`record has ${end - off} trailing bytes`);
  return out;
}

// ----------------------------------------------------------------------------------------------- state

/**
 * The channel state, kept in two records so that the put side and the take side can write concurrently: each
 * record is rewritten by one side only, atomically with that side's record puts or deletes.
 */
export interface StoreState {
  /** Every index below `head` is consumed (taken and committed). */
  head: number;
  /** Consumed ranges above `head` ([start, end) pairs, sorted, disjoint, not touching `head`). */
  done: number[];
  /** Index the next put record starts at. */
  nextIndex: number;
  /** Events in the store not consumed (includes events taken by open transactions) = puts - taken. */
  size: number;
  /** Base index at or below which the first live record starts (where the reader seeks to). */
  headBase: number;
}

/** Take side ('s'): consumed marks, where to start reading, and how many events were consumed in total. */
export interface TakeState {
  head: number;
  done: number[];
  headBase: number;
  taken: number;
}
/** Put side ('p'): the next index and how many events were put in total. */
export interface PutState {
  nextIndex: number;
  puts: number;
}

export function encodeTakeState(s: TakeState): Buffer {
  const n = s.done.length / 2;
  const buf = Buffer.allocUnsafe(1 + 24 + 4 + n * 16 + 4);
  buf[0] = STATE_VERSION;
  writeU64(buf, s.head, 1);
  writeU64(buf, s.headBase, 9);
  writeU64(buf, s.taken, 17);
  buf.writeUInt32BE(n, 25);
  let off = 29;
  for (let i = 0; i < s.done.length; i++, off += 8) writeU64(buf, s.done[i]!, off);
  buf.writeUInt32BE(zlib.crc32(buf.subarray(0, off)) >>> 0, off);
  return buf;
}

export function decodeTakeState(buf: Buffer): TakeState {
  if (buf.length < 33 || buf[0] !== STATE_VERSION)
    throw new CodecError('take-state record has an unknown version or is truncated');
  const n = buf.readUInt32BE(25);
  const end = 29 + n * 16;
  if (buf.length !== end + 4) throw new CodecError('take-state record has the wrong length');
  if (zlib.crc32(buf.subarray(0, end)) >>> 0 !== buf.readUInt32BE(end))
    throw new CodecError('take-state record checksum mismatch');
  const done: number[] = [];
  for (let off = 29; off < end; off += 8) done.push(readU64(buf, off));
  return { head: readU64(buf, 1), headBase: readU64(buf, 9), taken: readU64(buf, 17), done };
}

export function encodePutState(s: PutState): Buffer {
  const buf = Buffer.allocUnsafe(21);
  buf[0] = STATE_VERSION;
  writeU64(buf, s.nextIndex, 1);
  writeU64(buf, s.puts, 9);
  buf.writeUInt32BE(zlib.crc32(buf.subarray(0, 17)) >>> 0, 17);
  return buf;
}

export function decodePutState(buf: Buffer): PutState {
  if (buf.length !== 21 || buf[0] !== STATE_VERSION)
    throw new CodecError('put-state record has an unknown version or the wrong length');
  if (zlib.crc32(buf.subarray(0, 17)) >>> 0 !== buf.readUInt32BE(17))
    throw new CodecError('put-state record checksum mismatch');
  return { nextIndex: readU64(buf, 1), puts: readU64(buf, 9) };
}

export interface StoreMeta {
  format: 1;
  storeId: string;
  createdAt: string;
  channel: string;
}
