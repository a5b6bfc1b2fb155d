/**
 * The slice of Avro's binary encoding that Flume's RPC needs: zig-zag varints, booleans, strings, bytes, fixed,
 * maps and arrays (as blocks), unions (branch index + value), enums (index).
 *
 * Reader: every length is checked against the bytes that are actually there before anything is sliced or
 * allocated, so a hostile length can never make us allocate it. Bytes come back as zero-copy subarrays of the
 * message buffer. Writer: a growable buffer that can leave room for a frame header in front.
 */
import { AgentError } from '../../core/errors.js';

export class AvroDecodeError extends AgentError {
  constructor(message: string) {
    super('FLUME_ERR_RPC_DECODE', message);
    this.name = 'AvroDecodeError';
  }
}

export class Reader {
  pos: number;
  constructor(
    readonly buf: Buffer,
    pos = 0,
    readonly end = buf.length,
  ) {
    this.pos = pos;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  /** A zig-zag varint long, restricted to |value| <= 2^52 (exact in a double). */
  long(): number {
    const b = this.buf;
    let p = this.pos;
    const end = this.end;
    if (p >= end) throw new AvroDecodeError('truncated varint');
    let byte = b[p++]!;
    if (byte < 0x80) {
      this.pos = p;
      return (byte >>> 1) ^ -(byte & 1);
    }
    let n = byte & 0x7f;
    let mul = 0x80;
    for (let i = 1; ; i++) {
      if (p >= end) throw new AvroDecodeError('truncated varint');
      if (i >= 8) throw new AvroDecodeError('varint out of range');
      byte = b[p++]!;
      n += (byte & 0x7f) * mul;
      mul *= 0x80;
      if (byte < 0x80) break;
    }
    if (n > 2 ** 53) throw new AvroDecodeError('varint out of range'); // |value| <= 2^52 stays exact
    this.pos = p;
    // zig-zag without 32-bit operators
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }

  /** An Avro int (a long that fits in 32 bits). */
  int(): number {
    const n = this.long();
    if (n > 0x7fffffff || n < -0x80000000) throw new AvroDecodeError(`int out of range: ${n}`);
    return n;
  }

  bool(): boolean {
    if (this.pos >= this.end) throw new AvroDecodeError('truncated boolean');
    const v = this.buf[this.pos++]!;
    if (v > 1) throw new AvroDecodeError(`bad boolean byte ${v}`);
    return v === 1;
  }

  /** Length prefix of bytes/string, checked against what is left. */
  private len(what: string, max: number): number {
    const n = this.long();
    if (n < 0) throw new AvroDecodeError(`negative ${what} length ${n}`);
    if (n > this.end - this.pos)
      throw new AvroDecodeError(`${what} length ${n} exceeds the ${this.end - this.pos} bytes left`);
    if (n > max) throw new AvroDecodeError(`${what} length ${n} exceeds the limit ${max}`);
    return n;
  }

  /** Zero-copy view of `bytes`. */
  bytes(max = Number.MAX_SAFE_INTEGER): Buffer {
    const n = this.len('bytes', max);
    const s = this.pos;
    this.pos = s + n;
    return this.buf.subarray(s, s + n);
  }

  string(max = Number.MAX_SAFE_INTEGER): string {
    const n = this.len('string', max);
    const s = this.pos;
    this.pos = s + n;
    return n === 0 ? '' : this.buf.toString('utf8', s, s + n);
  }

  fixed(n: number): Buffer {
    if (n > this.end - this.pos) throw new AvroDecodeError(`truncated fixed(${n})`);
    const s = this.pos;
    this.pos = s + n;
    return this.buf.subarray(s, s + n);
  }

  /** An enum index checked against the number of symbols. */
  enumIndex(symbols: number): number {
    const i = this.int();
    if (i < 0 || i >= symbols) throw new AvroDecodeError(`enum index ${i} out of range`);
    return i;
  }

  /** A union branch index checked against the number of branches. */
  unionIndex(branches: number): number {
    const i = this.long();
    if (i < 0 || i >= branches) throw new AvroDecodeError(`union branch ${i} out of range`);
    return i;
  }

  /**
   * The item count of the next array/map block (0 = end). Negative counts carry a byte size, which is read and
   * dropped. Each item takes at least `minItemBytes`, so a count larger than the bytes left allow is refused.
   */
  blockCount(minItemBytes: number): number {
    let n = this.long();
    if (n < 0) {
      n = -n;
      const size = this.long();
      if (size < 0) throw new AvroDecodeError('negative block size');
    }
    if (n * minItemBytes > this.end - this.pos) throw new AvroDecodeError(`block count ${n} exceeds the bytes left`);
    return n;
  }

  /** Reads a map<bytes> (call metadata) and drops it, checking the limits. */
  skipBytesMap(maxEntries: number): void {
    let total = 0;
    for (let n = this.blockCount(2); n !== 0; n = this.blockCount(2)) {
      total += n;
      if (total > maxEntries) throw new AvroDecodeError(`more than ${maxEntries} metadata entries`);
      for (let i = 0; i < n; i++) {
        this.bytes(); // key (a string has the same layout as bytes)
        this.bytes();
      }
    }
  }

  /** Reads a map<bytes> into an object (limits as skipBytesMap). */
  bytesMap(maxEntries: number): Record<string, Buffer> {
    const out = Object.create(null) as Record<string, Buffer>;
    let total = 0;
    for (let n = this.blockCount(2); n !== 0; n = this.blockCount(2)) {
      total += n;
      if (total > maxEntries) throw new AvroDecodeError(`more than ${maxEntries} metadata entries`);
      for (let i = 0; i < n; i++) {
        const k = this.string();
        out[k] = this.bytes();
      }
    }
    return out;
  }
}

/** Number of bytes of the zig-zag varint of `n` (n >= 0 here: lengths and counts). */
export function varintSize(n: number): number {
  let z = n * 2;
  let s = 1;
  while (z >= 0x80) {
    z = Math.floor(z / 0x80);
    s++;
  }
  return s;
}

export class Writer {
  buf: Buffer;
  pos: number;

  /** `reserve` bytes at the front stay free (a frame header written later). */
  constructor(initial = 256, reserve = 0) {
    this.buf = Buffer.allocUnsafe(Math.max(initial, reserve + 16));
    this.pos = reserve;
  }

  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const nb = Buffer.allocUnsafe(cap);
    this.buf.copy(nb, 0, 0, this.pos);
    this.buf = nb;
  }

  /** A zig-zag varint of a safe integer. */
  long(n: number): void {
    this.ensure(10);
    const b = this.buf;
    let p = this.pos;
    if (n >= 0 && n < 64) {
      b[p++] = n << 1;
      this.pos = p;
      return;
    }
    let z = n >= 0 ? n * 2 : -n * 2 - 1;
    while (z >= 0x80) {
      b[p++] = (z % 0x80) | 0x80;
      z = Math.floor(z / 0x80);
    }
    b[p++] = z;
    this.pos = p;
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  bytes(v: Buffer): void {
    const n = v.length;
    this.long(n);
    this.ensure(n);
    v.copy(this.buf, this.pos);
    this.pos += n;
  }

  string(s: string): void {
    if (s.length === 0) {
      this.long(0);
      return;
    }
    const n = Buffer.byteLength(s, 'utf8');
    this.long(n);
    this.ensure(n);
    this.buf.write(s, this.pos, n, 'utf8');
    this.pos += n;
  }

  fixed(v: Buffer): void {
    this.ensure(v.length);
    v.copy(this.buf, this.pos);
    this.pos += v.length;
  }

  raw(v: Buffer): void {
    this.fixed(v);
  }

  /** The bytes written (including any reserved front), a view of the internal buffer. */
  finish(): Buffer {
    return this.buf.subarray(0, this.pos);
  }
}
