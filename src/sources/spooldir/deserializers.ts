/**
 * spooldir deserializers: LINE (Flume's LineDeserializer) and BLOB (Flume's BlobDeserializer).
 * AVRO is not implemented (rejected when the config is validated).
 *
 * Both read a file from a byte offset and hand out bodies with, for each, the file offset just after it, so the
 * source can commit positions that resume exactly where the last committed event ended.
 *
 * LINE: bytes are split on `\n` before any decoding (`\r` is kept, as in Flume); a line longer than maxLineLength
 * characters (UTF-16 units, as Java counts) is cut into pieces of maxLineLength characters, each one event; the
 * last line is emitted at end of file even without `\n`. Memory stays bounded for a file without newlines (the
 * pending bytes are cut into pieces as soon as they exceed what maxLineLength characters can take). Each piece
 * is decoded with inputCharset and decodeErrorPolicy, then encoded with outputCharset; UTF-8 in and out with
 * valid input is passed through byte for byte.
 */
import { isUtf8 } from 'node:buffer';
import type { FileHandle } from 'node:fs/promises';
import { charsetForNeed, UndecodableError, type Charset, type DecodeErrorPolicy } from '../../text/index.js';

export type { DecodeErrorPolicy };

/** Undecodable input with decodeErrorPolicy = FAIL, located: the file offset of the line it is in. */
export class DecodeError extends UndecodableError {
  constructor(
    readonly offset: number,
    charset: string,
  ) {
    super(charset, `undecodable ${charset} input in the line starting at byte ${offset}`);
    this.name = 'DecodeError';
  }
}

/** An input charset: how bytes decode, and how many UTF-16 units a byte range holds. */
export interface InputCharset {
  readonly name: string;
  readonly utf8: boolean;
  /** Decodes `b` applying the policy; throws UndecodableError with FAIL. */
  decode(b: Buffer, policy: DecodeErrorPolicy): string;
  /** Index after the last byte of `max` units from `off` (or b.length when fewer remain). */
  cut(b: Buffer, off: number, max: number): number;
  /** Most bytes `max` units can take. */
  maxBytes(max: number): number;
}

function cutUtf8(b: Buffer, off: number, max: number): number {
  let units = 0;
  for (let i = off; i < b.length; i++) {
    const c = b[i]!;
    if ((c & 0xc0) === 0x80) continue;
    const u = c >= 0xf0 ? 2 : 1;
    if (units + u > max) return i;
    units += u;
  }
  return b.length;
}

/** inputCharset: UTF-8 or a single-byte charset (lines are cut by counting characters on bytes). */
export function inputCharset(raw: string): InputCharset {
  const cs = charsetForNeed(raw, 'single-byte', 'spooldir');
  const utf8 = cs.name === 'utf-8';
  return {
    name: cs.name,
    utf8,
    decode: (b, policy) => cs.decode(b, policy),
    cut: utf8 ? cutUtf8 : (b, off, max) => Math.min(b.length, off + max),
    maxBytes: utf8 ? (max) => 4 * max + 4 : (max) => max + 1,
  };
}

/** deserializer.outputCharset: any charset flume-ts can encode. */
export function outputCharset(raw: string): Charset {
  return charsetForNeed(raw, 'encode', 'spooldir');
}

export interface ReadResult {
  bodies: Buffer[];
  /** For each body, the file offset just after it. */
  ends: number[];
}

export interface Deserializer {
  /** Up to `n` events from the current position; none at end of file. */
  read(n: number): Promise<ReadResult>;
}

const CHUNK = 64 * 1024;

async function readAt(fh: FileHandle, pos: number, n: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(n);
  const { bytesRead } = await fh.read(buf, 0, n, pos);
  return bytesRead === n ? buf : buf.subarray(0, bytesRead);
}

export interface LineOptions {
  maxLineLength: number;
  input: InputCharset;
  output: Charset;
  policy: DecodeErrorPolicy;
}

export class LineDeserializer implements Deserializer {
  private readPos: number;
  private lineStart: number;
  private pend: Buffer[] = [];
  private pendBytes = 0;
  private eof = false;
  private failure: DecodeError | undefined;
  private q: ReadResult = { bodies: [], ends: [] };
  private head = 0;
  private readonly passThrough: boolean;
  private readonly holdCap: number;

  constructor(
    private readonly fh: FileHandle,
    start: number,
    private readonly o: LineOptions,
  ) {
    this.readPos = start;
    this.lineStart = start;
    this.passThrough = o.input.utf8 && o.output.name === 'utf-8';
    this.holdCap = o.input.maxBytes(o.maxLineLength);
  }

  async read(n: number): Promise<ReadResult> {
    while (this.q.bodies.length - this.head < n && !this.eof) {
      try {
        await this.fill();
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
        // the lines before the undecodable one are still handed out; the error comes with the next read
        this.failure = err;
        this.eof = true;
      }
    }
    const k = Math.min(n, this.q.bodies.length - this.head);
    if (k === 0 && this.failure) throw this.failure;
    const out = {
      bodies: this.q.bodies.slice(this.head, this.head + k),
      ends: this.q.ends.slice(this.head, this.head + k),
    };
    this.head += k;
    if (this.head === this.q.bodies.length) {
      this.q = { bodies: [], ends: [] };
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.q.bodies.length) {
      // drop the consumed prefix (it would keep every chunk read so far alive)
      this.q = { bodies: this.q.bodies.slice(this.head), ends: this.q.ends.slice(this.head) };
      this.head = 0;
    }
    return out;
  }

  private async fill(): Promise<void> {
    const chunk = await readAt(this.fh, this.readPos, CHUNK);
    const base = this.readPos;
    if (chunk.length === 0) {
      this.eof = true;
      if (this.pendBytes > 0) {
        const line = Buffer.concat(this.pend, this.pendBytes);
        this.pend = [];
        this.pendBytes = 0;
        this.emitLine(line, this.lineStart, this.readPos);
        this.lineStart = this.readPos;
      }
      return;
    }
    this.readPos += chunk.length;
    let start = 0;
    let nl = chunk.indexOf(10);
    while (nl >= 0) {
      let line = chunk.subarray(start, nl);
      if (this.pendBytes > 0) {
        this.pend.push(line);
        line = Buffer.concat(this.pend, this.pendBytes + line.length);
        this.pend = [];
        this.pendBytes = 0;
      }
      this.emitLine(line, this.lineStart, base + nl + 1);
      start = nl + 1;
      this.lineStart = base + start;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) {
      this.pend.push(start === 0 ? chunk : chunk.subarray(start));
      this.pendBytes += chunk.length - start;
      if (this.pendBytes > this.holdCap) this.cutPending();
    }
  }

  /** A line without its newline is already longer than maxLineLength: hand out its full pieces now. */
  private cutPending(): void {
    const buf = Buffer.concat(this.pend, this.pendBytes);
    const max = this.o.maxLineLength;
    let off = 0;
    for (;;) {
      const cut = this.o.input.cut(buf, off, max);
      if (cut >= buf.length) break;
      this.push(buf.subarray(off, cut), this.lineStart + off, this.lineStart + cut);
      off = cut;
    }
    this.pend = [buf.subarray(off)];
    this.pendBytes = buf.length - off;
    this.lineStart += off;
  }

  /** One line (without `\n`) starting at file offset `at`, ending (newline included) at `end`. */
  private emitLine(line: Buffer, at: number, end: number): void {
    const max = this.o.maxLineLength;
    if (line.length <= max) {
      this.push(line, at, end);
      return;
    }
    let off = 0;
    for (;;) {
      const cut = this.o.input.cut(line, off, max);
      if (cut >= line.length) {
        this.push(line.subarray(off), at + off, end);
        return;
      }
      this.push(line.subarray(off, cut), at + off, at + cut);
      off = cut;
    }
  }

  private push(bytes: Buffer, at: number, end: number): void {
    let body: Buffer;
    if (this.passThrough && isUtf8(bytes)) body = bytes;
    else {
      let text: string;
      try {
        text = this.o.input.decode(bytes, this.o.policy);
      } catch (err) {
        if (err instanceof UndecodableError) throw new DecodeError(at, this.o.input.name);
        throw err;
      }
      body = this.o.output.encode(text);
    }
    this.q.bodies.push(body);
    this.q.ends.push(end);
  }
}

/** Whole file (up to maxBlobLength bytes per event) as events; a batch holds at most BLOB_BATCH_BYTES. */
const BLOB_BATCH_BYTES = 32 * 1024 * 1024;

export class BlobDeserializer implements Deserializer {
  private pos: number;
  constructor(
    private readonly fh: FileHandle,
    start: number,
    private readonly maxBlobLength: number,
  ) {
    this.pos = start;
  }

  async read(n: number): Promise<ReadResult> {
    const out: ReadResult = { bodies: [], ends: [] };
    let bytes = 0;
    while (out.bodies.length < n && bytes < BLOB_BATCH_BYTES) {
      const parts: Buffer[] = [];
      let got = 0;
      while (got < this.maxBlobLength) {
        const b = await readAt(this.fh, this.pos + got, Math.min(CHUNK * 16, this.maxBlobLength - got));
        if (b.length === 0) break;
        parts.push(b);
        got += b.length;
      }
      if (got === 0) break;
      this.pos += got;
      bytes += got;
      out.bodies.push(parts.length === 1 ? parts[0]! : Buffer.concat(parts, got));
      out.ends.push(this.pos);
    }
    return out;
  }
}
