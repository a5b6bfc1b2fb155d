/** Thrift writers (compact, binary) into one framed message; see protocol.ts. */
import { T, TO_COMPACT, type ThriftProtocolName } from './types.js';

/** A growable output buffer; `frame()` returns the framed message (4-byte big-endian length first). */
export abstract class ThriftWriter {
  protected buf: Buffer;
  protected p = 4;
  constructor(size = 256) {
    this.buf = Buffer.allocUnsafe(Math.max(16, size));
  }

  protected ensure(n: number): void {
    if (this.p + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.p + n));
    this.buf.copy(next, 0, 0, this.p);
    this.buf = next;
  }

  protected u8(v: number): void {
    this.ensure(1);
    this.buf[this.p++] = v;
  }

  /** The framed message. */
  frame(): Buffer {
    this.buf.writeUInt32BE(this.p - 4, 0);
    return this.buf.subarray(0, this.p);
  }

  abstract messageBegin(name: string, type: number, seqid: number): void;
  abstract structBegin(): void;
  abstract structEnd(): void;
  /** Field header; STOP via structEnd. */
  abstract field(type: number, id: number): void;
  abstract i32(v: number): void;
  abstract binary(b: Buffer): void;
  abstract mapBegin(key: number, value: number, size: number): void;
  abstract listBegin(elem: number, size: number): void;

  string(s: string): void {
    this.binary(Buffer.from(s, 'utf8'));
  }
}

export class CompactWriter extends ThriftWriter {
  private lastField: number[] = [];
  private fieldId = 0;

  private varint(n: number): void {
    this.ensure(5);
    let v = n >>> 0;
    while (v >= 0x80) {
      this.buf[this.p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.buf[this.p++] = v;
  }

  messageBegin(name: string, type: number, seqid: number): void {
    this.u8(0x82);
    this.u8((type << 5) | 1);
    this.varint(seqid);
    this.string(name);
  }

  structBegin(): void {
    this.lastField.push(this.fieldId);
    this.fieldId = 0;
  }

  structEnd(): void {
    this.u8(0);
    this.fieldId = this.lastField.pop() ?? 0;
  }

  field(type: number, id: number): void {
    const ct = TO_COMPACT[type]!;
    const delta = id - this.fieldId;
    if (delta > 0 && delta <= 15) this.u8((delta << 4) | ct);
    else {
      this.u8(ct);
      this.varint(((id << 1) ^ (id >> 15)) & 0xffff);
    }
    this.fieldId = id;
  }

  i32(v: number): void {
    this.varint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  binary(b: Buffer): void {
    this.varint(b.length);
    this.ensure(b.length);
    b.copy(this.buf, this.p);
    this.p += b.length;
  }

  override string(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.varint(n);
    this.ensure(n);
    this.p += this.buf.write(s, this.p, 'utf8');
  }

  mapBegin(key: number, value: number, size: number): void {
    this.varint(size);
    if (size > 0) this.u8((TO_COMPACT[key]! << 4) | TO_COMPACT[value]!);
  }

  listBegin(elem: number, size: number): void {
    if (size < 15) this.u8((size << 4) | TO_COMPACT[elem]!);
    else {
      this.u8(0xf0 | TO_COMPACT[elem]!);
      this.varint(size);
    }
  }
}

export class BinaryWriter extends ThriftWriter {
  private int32(v: number): void {
    this.ensure(4);
    this.buf.writeInt32BE(v | 0, this.p);
    this.p += 4;
  }

  messageBegin(name: string, type: number, seqid: number): void {
    this.int32(0x80010000 | type);
    this.string(name);
    this.int32(seqid);
  }

  structBegin(): void {}

  structEnd(): void {
    this.u8(T.STOP);
  }

  field(type: number, id: number): void {
    this.u8(type);
    this.ensure(2);
    this.buf.writeInt16BE(id, this.p);
    this.p += 2;
  }

  i32(v: number): void {
    this.int32(v);
  }

  binary(b: Buffer): void {
    this.int32(b.length);
    this.ensure(b.length);
    b.copy(this.buf, this.p);
    this.p += b.length;
  }

  override string(s: string): void {
    const n = Buffer.byteLength(s, 'utf8');
    this.int32(n);
    this.ensure(n);
    this.p += this.buf.write(s, this.p, 'utf8');
  }

  mapBegin(key: number, value: number, size: number): void {
    this.u8(key);
    this.u8(value);
    this.int32(size);
  }

  listBegin(elem: number, size: number): void {
    this.u8(elem);
    this.int32(size);
  }
}

export function writerFor(protocol: ThriftProtocolName, size?: number): ThriftWriter {
  return protocol === 'compact' ? new CompactWriter(size) : new BinaryWriter(size);
}
