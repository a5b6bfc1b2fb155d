/**
 * `avro_event` (Flume's FlumeEventAvroEventSerializer): an Avro object container file whose records are
 * `Event { headers: map<string>, body: bytes }`.
 *
 * Container layout (Avro 1.x spec, "Object Container Files"):
 *   header = 'O' 'b' 'j' 0x01, file metadata (map<bytes>: avro.schema, avro.codec), 16-byte sync marker
 *   block  = long record count, long byte size of the (compressed) data, the data, the sync marker
 * Like Avro's DataFileWriter under Flume, a block ends when the uncompressed block reaches syncIntervalBytes and
 * on every flush; Flume flushes once per transaction, so each batch ends its last block. `deflate` is raw deflate
 * (RFC 1951, no zlib header) per block, as the spec requires. A new serializer (new sync marker) is made for every
 * file, and the header is written only at the start of a file: a container file cannot be appended to.
 */
import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import type { FlumeEvent } from '../core/event.js';
import { opt, OptionError } from '../contract/index.js';
import type { EventSerializer, SerializerDef } from './types.js';

/** The schema text Flume writes (Schema.toString() of its parsed literal). */
export const FLUME_EVENT_SCHEMA =
  '{"type":"record","name":"Event","fields":[{"name":"headers","type":{"type":"map","values":"string"}},{"name":"body","type":"bytes"}]}';

export const AVRO_MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // 'Obj' 1

export type AvroCodec = 'null' | 'deflate';

const UNSUPPORTED_CODECS = ['snappy', 'bzip2', 'xz', 'zstandard'];

const codecEnum = opt.enum({
  values: ['null', 'deflate'] as const,
  default: 'null',
  doc: 'Block compression: `null` (none) or `deflate`. snappy, bzip2, xz and zstandard are not supported.',
});

export const avroEventOptions = {
  syncIntervalBytes: opt.int({
    default: 2048000,
    min: 32,
    max: 2 ** 30,
    doc: 'Uncompressed bytes after which a block (and a sync marker) is written. Every batch also ends a block.',
  }),
  compressionCodec: {
    ...codecEnum,
    parse: (raw: string): AvroCodec => {
      if (UNSUPPORTED_CODECS.includes(raw.toLowerCase())) {
        throw new OptionError(`compression codec '${raw}' is not supported`, 'use deflate, or null for no compression');
      }
      return codecEnum.parse(raw) as AvroCodec;
    },
  },
};

/** A growable buffer with Avro binary encoding primitives. */
export class AvroEncoder {
  buf: Buffer;
  pos = 0;

  constructor(initial = 1024) {
    this.buf = Buffer.allocUnsafe(Math.max(16, initial));
  }

  private ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < need) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Zig-zag varint of a (safe) integer. */
  long(n: number): void {
    this.ensure(10);
    let z = n >= 0 ? n * 2 : -n * 2 - 1;
    while (z >= 0x80) {
      this.buf[this.pos++] = (z % 0x80) | 0x80;
      z = Math.floor(z / 0x80);
    }
    this.buf[this.pos++] = z;
  }

  /** Length-prefixed bytes. */
  bytes(b: Uint8Array): void {
    this.long(b.length);
    this.raw(b);
  }

  /** Length-prefixed UTF-8 string. */
  string(s: string): void {
    const len = Buffer.byteLength(s, 'utf8');
    this.long(len);
    this.ensure(len);
    this.pos += this.buf.write(s, this.pos, len, 'utf8');
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** The bytes written so far (a view; valid until the next write or reset). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
  }
}

export class FlumeEventAvroSerializer implements EventSerializer {
  /** The file's sync marker. */
  readonly sync: Buffer;
  private readonly block = new AvroEncoder(64 * 1024);

  constructor(
    private readonly syncIntervalBytes: number,
    private readonly codec: AvroCodec,
    sync?: Buffer,
  ) {
    this.sync = sync ?? randomBytes(16);
  }

  header(): Buffer {
    const e = new AvroEncoder(512);
    e.raw(AVRO_MAGIC);
    e.long(2);
    e.string('avro.schema');
    e.bytes(Buffer.from(FLUME_EVENT_SCHEMA, 'utf8'));
    e.string('avro.codec');
    e.bytes(Buffer.from(this.codec, 'utf8'));
    e.long(0);
    e.raw(this.sync);
    return Buffer.from(e.view());
  }

  serialize(batch: readonly FlumeEvent[]): Buffer {
    const out = new AvroEncoder(estimate(batch));
    const block = this.block;
    block.reset();
    let count = 0;
    for (let i = 0; i < batch.length; i++) {
      const ev = batch[i]!;
      const h = ev.headers;
      const keys = Object.keys(h);
      if (keys.length > 0) {
        block.long(keys.length);
        for (const k of keys) {
          block.string(k);
          block.string(h[k]!);
        }
      }
      block.long(0);
      block.bytes(ev.body);
      count++;
      if (block.pos >= this.syncIntervalBytes) {
        this.writeBlock(out, count);
        count = 0;
      }
    }
    if (count > 0) this.writeBlock(out, count);
    return out.view();
  }

  private writeBlock(out: AvroEncoder, count: number): void {
    const data = this.codec === 'deflate' ? zlib.deflateRawSync(this.block.view()) : this.block.view();
    out.long(count);
    out.long(data.length);
    out.raw(data);
    out.raw(this.sync);
    this.block.reset();
  }
}

function estimate(batch: readonly FlumeEvent[]): number {
  let n = 64;
  for (let i = 0; i < batch.length; i++) n += batch[i]!.body.length + 16;
  return n;
}

const def: SerializerDef = {
  name: 'avro_event',
  className: 'org.apache.flume.serialization.FlumeEventAvroEventSerializer$Builder',
  summary:
    'An Avro container file of Flume events (headers map and body bytes), readable by avro-tools and other Avro readers.',
  options: avroEventOptions,
  create: (o) => new FlumeEventAvroSerializer(o.syncIntervalBytes as number, o.compressionCodec as AvroCodec),
};
export default def;
