/**
 * The msgpack needed to read Fluentd's Forward protocol safely, without a general-purpose decoder on untrusted
 * input: a resumable scanner that finds where one top-level object ends while it arrives (every declared length
 * and count checked against the message limit before anything is buffered for it), a bounds-checked reader of
 * headers, and a small decoder for the little maps and arrays around the events (options, handshake), with a depth
 * limit. Event records never become JavaScript objects on the source's hot path: json.ts transcodes them to JSON.
 */
import { AgentError } from '../../core/errors.js';

/** Malformed or over-limit msgpack: the connection that sent it is closed. */
export class MsgpackError extends AgentError {
  constructor(message: string) {
    super('FLUME_ERR_RPC_DECODE', message);
    this.name = 'MsgpackError';
  }
}

/** Deepest nesting accepted anywhere (records included). */
export const MAX_DEPTH = 100;

/** What one msgpack header says. */
export const enum T {
  Int,
  Nil,
  Bool,
  Float,
  Str,
  Bin,
  Array,
  Map,
  Ext,
}

/**
 * Finds the end of one top-level msgpack object in a buffer that fills up over time. `scan(buf, fill)` resumes where
 * the previous call stopped (the bytes before `fill` never change between calls), so a message arriving in many reads
 * is looked at once. Returns the object's length once it is complete, else -1.
 */
export class ObjectScanner {
  /** Offset of the next header to read (may lie beyond `fill` while a long str/bin payload is arriving). */
  private pos = 0;
  /** Items still to read before the object is complete. */
  private need = 1;

  constructor(private readonly maxBytes: number) {}

  /** Bytes the object needs at least (known from the headers read so far). */
  get knownBytes(): number {
    return this.pos;
  }

  get started(): boolean {
    return this.pos > 0;
  }

  reset(): void {
    this.pos = 0;
    this.need = 1;
  }

  scan(buf: Buffer, fill: number): number {
    let pos = this.pos;
    let need = this.need;
    const max = this.maxBytes;
    while (need > 0) {
      if (pos >= fill) break;
      const b = buf[pos]!;
      let head = 1;
      let payload = 0;
      let items = 0;
      if (b <= 0x7f || b >= 0xe0 || (b >= 0xc0 && b <= 0xc3)) {
        if (b === 0xc1) throw new MsgpackError('byte 0xc1 is never used in msgpack');
      } else if (b <= 0x8f) items = (b & 0x0f) * 2;
      else if (b <= 0x9f) items = b & 0x0f;
      else if (b <= 0xbf) payload = b & 0x1f;
      else {
        const w = HEAD_WIDTH[b - 0xc4]!;
        head = 1 + w;
        if (pos + head > fill) break;
        switch (b) {
          case 0xc4:
          case 0xd9:
            payload = buf[pos + 1]!;
            break;
          case 0xc5:
          case 0xda:
            payload = buf.readUInt16BE(pos + 1);
            break;
          case 0xc6:
          case 0xdb:
            payload = buf.readUInt32BE(pos + 1);
            break;
          case 0xc7:
            payload = buf[pos + 1]!;
            break;
          case 0xc8:
            payload = buf.readUInt16BE(pos + 1);
            break;
          case 0xc9:
            payload = buf.readUInt32BE(pos + 1);
            break;
          case 0xca:
            payload = 4;
            head = 1;
            break;
          case 0xcb:
            payload = 8;
            head = 1;
            break;
          case 0xcc:
          case 0xd0:
            payload = 1;
            head = 1;
            break;
          case 0xcd:
          case 0xd1:
            payload = 2;
            head = 1;
            break;
          case 0xce:
          case 0xd2:
            payload = 4;
            head = 1;
            break;
          case 0xcf:
          case 0xd3:
            payload = 8;
            head = 1;
            break;
          case 0xd4:
            payload = 2;
            head = 1;
            break;
          case 0xd5:
            payload = 3;
            head = 1;
            break;
          case 0xd6:
            payload = 5;
            head = 1;
            break;
          case 0xd7:
            payload = 9;
            head = 1;
            break;
          case 0xd8:
            payload = 17;
            head = 1;
            break;
          case 0xdc:
            items = buf.readUInt16BE(pos + 1);
            break;
          case 0xdd:
            items = buf.readUInt32BE(pos + 1);
            break;
          case 0xde:
            items = buf.readUInt16BE(pos + 1) * 2;
            break;
          case 0xdf:
            items = buf.readUInt32BE(pos + 1) * 2;
            break;
        }
      }
      pos += head + payload;
      need += items - 1;
      // every item takes at least one byte: a declared length or count that cannot fit is refused now
      if (pos + need > max)
        throw new MsgpackError(
          `a message needs more than ${max} bytes (maxMessageBytes): declared lengths reach ${pos + need} bytes`,
        );
    }
    this.pos = pos;
    this.need = need;
    return need === 0 && pos <= fill ? pos : -1;
  }
}

/** Header bytes after the type byte for 0xc4..0xdf (fixed-size numbers: their payload, counted separately). */
const HEAD_WIDTH = [
  1,
  2,
  4, // bin8/16/32
  2,
  3,
  5, // ext8/16/32 (length + type)
  0,
  0, // float32/64
  0,
  0,
  0,
  0, // uint8..64
  0,
  0,
  0,
  0, // int8..64
  0,
  0,
  0,
  0,
  0, // fixext1..16
  1,
  2,
  4, // str8/16/32
  2,
  4, // array16/32
  2,
  4, // map16/32
];

/** A bounds-checked cursor over one complete message (or a part of it). */
export class Reader {
  /** After head(): the value of an Int/Bool/Float, the length of Str/Bin/Ext, the count of Array/Map. */
  n = 0;
  /** After head() of an Ext: its type. */
  extType = 0;
  /** After head() of a 64-bit integer too large for a double: its exact value. */
  big: bigint | undefined;

  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  private need(n: number): void {
    if (this.pos + n > this.end) throw new MsgpackError('truncated msgpack data');
  }

  /** Reads one header; for Str/Bin/Ext `pos` is left at the payload (skip it with `this.pos += this.n`). */
  head(): T {
    this.need(1);
    const buf = this.buf;
    const b = buf[this.pos++]!;
    this.big = undefined;
    if (b <= 0x7f) return ((this.n = b), T.Int);
    if (b >= 0xe0) return ((this.n = b - 0x100), T.Int);
    if (b <= 0x8f) return ((this.n = b & 0x0f), T.Map);
    if (b <= 0x9f) return ((this.n = b & 0x0f), T.Array);
    if (b <= 0xbf) return this.payload(b & 0x1f, T.Str);
    const p = this.pos;
    switch (b) {
      case 0xc0:
        return T.Nil;
      case 0xc2:
        return ((this.n = 0), T.Bool);
      case 0xc3:
        return ((this.n = 1), T.Bool);
      case 0xc4:
        this.need(1);
        return ((this.pos += 1), this.payload(buf[p]!, T.Bin));
      case 0xc5:
        this.need(2);
        return ((this.pos += 2), this.payload(buf.readUInt16BE(p), T.Bin));
      case 0xc6:
        this.need(4);
        return ((this.pos += 4), this.payload(buf.readUInt32BE(p), T.Bin));
      case 0xc7:
        this.need(2);
        return ((this.pos += 2), this.ext(buf[p]!, buf.readInt8(p + 1)));
      case 0xc8:
        this.need(3);
        return ((this.pos += 3), this.ext(buf.readUInt16BE(p), buf.readInt8(p + 2)));
      case 0xc9:
        this.need(5);
        return ((this.pos += 5), this.ext(buf.readUInt32BE(p), buf.readInt8(p + 4)));
      case 0xca:
        this.need(4);
        return ((this.n = buf.readFloatBE(p)), (this.pos += 4), T.Float);
      case 0xcb:
        this.need(8);
        return ((this.n = buf.readDoubleBE(p)), (this.pos += 8), T.Float);
      case 0xcc:
        this.need(1);
        return ((this.n = buf[p]!), (this.pos += 1), T.Int);
      case 0xcd:
        this.need(2);
        return ((this.n = buf.readUInt16BE(p)), (this.pos += 2), T.Int);
      case 0xce:
        this.need(4);
        return ((this.n = buf.readUInt32BE(p)), (this.pos += 4), T.Int);
      case 0xcf: {
        this.need(8);
        const v = buf.readBigUInt64BE(p);
        this.pos += 8;
        this.n = Number(v);
        if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.big = v;
        return T.Int;
      }
      case 0xd0:
        this.need(1);
        return ((this.n = buf.readInt8(p)), (this.pos += 1), T.Int);
      case 0xd1:
        this.need(2);
        return ((this.n = buf.readInt16BE(p)), (this.pos += 2), T.Int);
      case 0xd2:
        this.need(4);
        return ((this.n = buf.readInt32BE(p)), (this.pos += 4), T.Int);
      case 0xd3: {
        this.need(8);
        const v = buf.readBigInt64BE(p);
        this.pos += 8;
        this.n = Number(v);
        if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) this.big = v;
        return T.Int;
      }
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        this.need(1);
        return ((this.pos += 1), this.ext(1 << (b - 0xd4), buf.readInt8(p)));
      case 0xd9:
        this.need(1);
        return ((this.pos += 1), this.payload(buf[p]!, T.Str));
      case 0xda:
        this.need(2);
        return ((this.pos += 2), this.payload(buf.readUInt16BE(p), T.Str));
      case 0xdb:
        this.need(4);
        return ((this.pos += 4), this.payload(buf.readUInt32BE(p), T.Str));
      case 0xdc:
        this.need(2);
        return ((this.n = buf.readUInt16BE(p)), (this.pos += 2), this.count(T.Array, 1));
      case 0xdd:
        this.need(4);
        return ((this.n = buf.readUInt32BE(p)), (this.pos += 4), this.count(T.Array, 1));
      case 0xde:
        this.need(2);
        return ((this.n = buf.readUInt16BE(p)), (this.pos += 2), this.count(T.Map, 2));
      case 0xdf:
        this.need(4);
        return ((this.n = buf.readUInt32BE(p)), (this.pos += 4), this.count(T.Map, 2));
      default:
        throw new MsgpackError(`byte 0x${b.toString(16)} is never used in msgpack`);
    }
  }

  private payload(len: number, t: T): T {
    this.n = len;
    this.need(len);
    return t;
  }

  private ext(len: number, type: number): T {
    this.extType = type;
    return this.payload(len, T.Ext);
  }

  private count(t: T, per: number): T {
    if (this.n * per > this.end - this.pos) throw new MsgpackError('truncated msgpack data (count past the end)');
    return t;
  }

  /** Skips one whole value (iteratively: no recursion on hostile nesting). */
  skip(): void {
    let need = 1;
    while (need > 0) {
      const t = this.head();
      need--;
      if (t === T.Str || t === T.Bin || t === T.Ext) this.pos += this.n;
      else if (t === T.Array) need += this.n;
      else if (t === T.Map) need += this.n * 2;
    }
  }

  /** A str or bin as text (UTF-8); undefined (and nothing consumed but the header) for any other type. */
  text(): string | undefined {
    const t = this.head();
    if (t === T.Str || t === T.Bin) {
      const s = this.buf.toString('utf8', this.pos, this.pos + this.n);
      this.pos += this.n;
      return s;
    }
    this.skipRest(t);
    return undefined;
  }

  /** Skips the payload or children of a value whose header was just read. */
  skipRest(t: T): void {
    if (t === T.Str || t === T.Bin || t === T.Ext) this.pos += this.n;
    else if (t === T.Array || t === T.Map) {
      const n = t === T.Array ? this.n : this.n * 2;
      for (let i = 0; i < n; i++) this.skip();
    }
  }

  /**
   * Decodes one small value into plain JavaScript: str -> string, bin -> Buffer (a copy), maps -> null-prototype
   * objects with string keys, ext -> { ext, data }. For options and handshake messages, not for records.
   */
  value(depth = 0): unknown {
    if (depth > 32) throw new MsgpackError('msgpack nested too deeply');
    const t = this.head();
    const { buf } = this;
    switch (t) {
      case T.Int:
        return this.big ?? this.n;
      case T.Nil:
        return null;
      case T.Bool:
        return this.n === 1;
      case T.Float:
        return this.n;
      case T.Str: {
        const s = buf.toString('utf8', this.pos, this.pos + this.n);
        this.pos += this.n;
        return s;
      }
      case T.Bin: {
        const b = Buffer.from(buf.subarray(this.pos, this.pos + this.n));
        this.pos += this.n;
        return b;
      }
      case T.Ext: {
        const data = Buffer.from(buf.subarray(this.pos, this.pos + this.n));
        this.pos += this.n;
        return { ext: this.extType, data };
      }
      case T.Array: {
        const n = this.n;
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
        return out;
      }
      case T.Map: {
        const n = this.n;
        const out = Object.create(null) as Record<string, unknown>;
        for (let i = 0; i < n; i++) {
          const k = this.value(depth + 1);
          out[Buffer.isBuffer(k) ? k.toString('utf8') : String(k)] = this.value(depth + 1);
        }
        return out;
      }
    }
  }
}

// ----------------------------------------------------------------------------------------------- writing

/** msgpack for the few small messages a server or client writes itself (acks, handshake). */
export function packValue(v: unknown, out: number[] = []): number[] {
  if (v === null || v === undefined) out.push(0xc0);
  else if (v === true) out.push(0xc3);
  else if (v === false) out.push(0xc2);
  else if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 2 ** 32) {
    if (v < 128) out.push(v);
    else out.push(0xce, (v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
  } else if (typeof v === 'string' || Buffer.isBuffer(v)) {
    const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    const n = b.length;
    if (typeof v !== 'string') out.push(0xc6, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    else if (n < 32) out.push(0xa0 | n);
    else out.push(0xdb, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    for (const x of b) out.push(x);
  } else if (Array.isArray(v)) {
    pushCount(out, v.length, 0x90, 0xdd);
    for (const x of v) packValue(x, out);
  } else if (typeof v === 'object') {
    const keys = Object.keys(v);
    pushCount(out, keys.length, 0x80, 0xdf);
    for (const k of keys) {
      packValue(k, out);
      packValue((v as Record<string, unknown>)[k], out);
    }
  } else throw new MsgpackError(`cannot pack a ${typeof v}`);
  return out;
}

function pushCount(out: number[], n: number, fix: number, wide: number): void {
  if (n < 16) out.push(fix | n);
  else out.push(wide, (n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

export function pack(v: unknown): Buffer {
  return Buffer.from(packValue(v));
}
