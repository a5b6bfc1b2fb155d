/** Thrift readers (compact, binary) over one whole frame; see protocol.ts. */
import { FROM_COMPACT, MAX_DEPTH, T, ThriftDecodeError, type MessageHead, type ThriftProtocolName } from './types.js';

/** Reads one frame's message. */
export abstract class ThriftReader {
  protected p = 0;
  constructor(protected readonly b: Buffer) {}

  get remaining(): number {
    return this.b.length - this.p;
  }

  protected need(n: number, what: string): void {
    if (n < 0 || n > this.b.length - this.p)
      throw new ThriftDecodeError(`${what}: ${n} bytes declared, ${this.b.length - this.p} left in the frame`);
  }

  protected byte(): number {
    this.need(1, 'byte');
    return this.b[this.p++]!;
  }

  abstract messageBegin(): MessageHead;
  /** The next field's type and id; type STOP ends the struct. */
  abstract fieldBegin(): { type: number; id: number };
  abstract structBegin(): void;
  abstract structEnd(): void;
  abstract i32(): number;
  abstract binary(): Buffer;
  abstract mapBegin(): { key: number; value: number; size: number };
  abstract listBegin(): { elem: number; size: number };
  protected abstract fixed(type: number): void;
  /** A bool element (in a container); fields carry theirs in the field header (compact). */
  protected abstract boolElem(): void;
  protected abstract i64(): void;

  string(): string {
    return this.binary().toString('utf8');
  }

  /** Skips a value of `type` (an unknown field or a value we do not need). */
  skip(type: number, depth = 0): void {
    if (depth > MAX_DEPTH) throw new ThriftDecodeError(`nesting deeper than ${MAX_DEPTH}`);
    switch (type) {
      case T.BOOL:
        this.boolElem();
        return;
      case T.BYTE:
      case T.I16:
      case T.DOUBLE:
        this.fixed(type);
        return;
      case T.I32:
        this.i32();
        return;
      case T.I64:
        this.i64();
        return;
      case T.STRING:
        this.binary();
        return;
      case T.STRUCT:
        this.structBegin();
        for (;;) {
          const f = this.fieldBegin();
          if (f.type === T.STOP) break;
          this.skipField(f.type, depth + 1);
        }
        this.structEnd();
        return;
      case T.MAP: {
        const m = this.mapBegin();
        for (let i = 0; i < m.size; i++) {
          this.skip(m.key, depth + 1);
          this.skip(m.value, depth + 1);
        }
        return;
      }
      case T.SET:
      case T.LIST: {
        const l = this.listBegin();
        for (let i = 0; i < l.size; i++) this.skip(l.elem, depth + 1);
        return;
      }
      default:
        throw new ThriftDecodeError(`unknown type ${type}`);
    }
  }

  /** Skips a field's value (compact bools live in the field header). */
  skipField(type: number, depth = 0): void {
    this.skip(type, depth);
  }

  /** A container size: never negative, and at least one byte per element must still be in the frame. */
  protected count(n: number, what: string): number {
    if (n < 0 || n > this.remaining) throw new ThriftDecodeError(`${what} of ${n} elements in ${this.remaining} bytes`);
    return n;
  }
}

export class CompactReader extends ThriftReader {
  private lastField: number[] = [];
  private fieldId = 0;
  private pendingBool: boolean | undefined;

  /** An unsigned 32-bit varint (at most 5 bytes). */
  private varint(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.byte();
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw new ThriftDecodeError('varint over 32 bits');
        return result;
      }
    }
    throw new ThriftDecodeError('varint over 32 bits');
  }

  /** A 64-bit varint, skipped (at most 10 bytes). */
  private skipVarint64(): void {
    for (let i = 0; i < 10; i++) if ((this.byte() & 0x80) === 0) return;
    throw new ThriftDecodeError('varint longer than 10 bytes');
  }

  private zigzag32(): number {
    const n = this.varint();
    return (n >>> 1) ^ -(n & 1);
  }

  messageBegin(): MessageHead {
    const id = this.byte();
    if (id !== 0x82) throw new ThriftDecodeError(`not a compact protocol message (first byte 0x${id.toString(16)})`);
    const vt = this.byte();
    if ((vt & 0x1f) !== 1) throw new ThriftDecodeError(`compact protocol version ${vt & 0x1f}, expected 1`);
    const seqid = this.varint() | 0;
    const name = this.string();
    return { name, type: vt >> 5, seqid };
  }

  structBegin(): void {
    this.lastField.push(this.fieldId);
    this.fieldId = 0;
  }

  structEnd(): void {
    this.fieldId = this.lastField.pop() ?? 0;
  }

  fieldBegin(): { type: number; id: number } {
    const h = this.byte();
    const ct = h & 0x0f;
    if (ct === 0) return { type: T.STOP, id: 0 };
    const delta = h >> 4;
    const id = delta ? this.fieldId + delta : this.zigzag32();
    this.fieldId = id;
    const type = FROM_COMPACT[ct];
    if (type === undefined) throw new ThriftDecodeError(`unknown compact type ${ct}`);
    if (type === T.BOOL) this.pendingBool = ct === 1;
    return { type, id };
  }

  override skipField(type: number, depth = 0): void {
    if (type === T.BOOL && this.pendingBool !== undefined) {
      this.pendingBool = undefined;
      return;
    }
    this.skip(type, depth);
  }

  i32(): number {
    return this.zigzag32() | 0;
  }

  protected i64(): void {
    this.skipVarint64();
  }

  protected fixed(type: number): void {
    if (type === T.DOUBLE) {
      this.need(8, 'double');
      this.p += 8;
    } else if (type === T.I16) this.varint();
    else this.byte();
  }

  protected boolElem(): void {
    this.byte();
  }

  binary(): Buffer {
    const n = this.varint();
    this.need(n, 'binary');
    const out = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return out;
  }

  mapBegin(): { key: number; value: number; size: number } {
    const size = this.count(this.varint(), 'map');
    if (size === 0) return { key: T.STOP, value: T.STOP, size: 0 };
    const kv = this.byte();
    const key = FROM_COMPACT[kv >> 4];
    const value = FROM_COMPACT[kv & 0x0f];
    if (key === undefined || value === undefined) throw new ThriftDecodeError(`bad map types 0x${kv.toString(16)}`);
    return { key, value, size };
  }

  listBegin(): { elem: number; size: number } {
    const h = this.byte();
    let size = h >> 4;
    if (size === 15) size = this.varint();
    const elem = FROM_COMPACT[h & 0x0f];
    if (elem === undefined) throw new ThriftDecodeError(`bad list element type ${h & 0x0f}`);
    return { elem, size: this.count(size, 'list') };
  }
}

export class BinaryReader extends ThriftReader {
  private int32(): number {
    this.need(4, 'i32');
    const v = this.b.readInt32BE(this.p);
    this.p += 4;
    return v;
  }

  messageBegin(): MessageHead {
    const first = this.int32();
    if (first < 0) {
      if ((first & 0xffff0000) !== (0x80010000 | 0))
        throw new ThriftDecodeError(`binary protocol version 0x${(first >>> 16).toString(16)}, expected 0x8001`);
      const name = this.string();
      return { name, type: first & 0xff, seqid: this.int32() };
    }
    // an old, non-strict client: the name's length first
    this.need(first, 'method name');
    const name = this.b.toString('utf8', this.p, this.p + first);
    this.p += first;
    const type = this.byte();
    return { name, type, seqid: this.int32() };
  }

  structBegin(): void {}
  structEnd(): void {}

  fieldBegin(): { type: number; id: number } {
    const type = this.byte();
    if (type === T.STOP) return { type, id: 0 };
    this.need(2, 'field id');
    const id = this.b.readInt16BE(this.p);
    this.p += 2;
    return { type, id };
  }

  i32(): number {
    return this.int32();
  }

  protected i64(): void {
    this.need(8, 'i64');
    this.p += 8;
  }

  protected fixed(type: number): void {
    const n = type === T.DOUBLE ? 8 : type === T.I16 ? 2 : 1;
    this.need(n, 'value');
    this.p += n;
  }

  protected boolElem(): void {
    this.byte();
  }

  binary(): Buffer {
    const n = this.int32();
    this.need(n, 'binary');
    const out = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return out;
  }

  mapBegin(): { key: number; value: number; size: number } {
    const key = this.byte();
    const value = this.byte();
    return { key, value, size: this.count(this.int32(), 'map') };
  }

  listBegin(): { elem: number; size: number } {
    const elem = this.byte();
    return { elem, size: this.count(this.int32(), 'list') };
  }
}

export function readerFor(protocol: ThriftProtocolName, frame: Buffer): ThriftReader {
  return protocol === 'compact' ? new CompactReader(frame) : new BinaryReader(frame);
}
