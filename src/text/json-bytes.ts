/**
 * JSON written as bytes, without a string per value: a growable output buffer and a JSON string escaper that reads
 * UTF-8 bytes. Used where events become JSON on a hot path (the forward source's msgpack -> JSON transcoding, the
 * Fluentd-style HTTP input, the elasticsearch sink's `_bulk` body); the text is byte for byte what JSON.stringify
 * writes for the decoded string.
 */
import { isUtf8 } from 'node:buffer';

/** A growable output buffer; what was written is read through views of it (one allocation per output). */
export class ByteSink {
  buf: Buffer;
  /** Bytes written (set it back to reuse the buffer). */
  len = 0;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Room for `n` more bytes. */
  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.len + n));
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
  }

  byte(b: number): void {
    if (this.len >= this.buf.length) this.ensure(1);
    this.buf[this.len++] = b;
  }

  /** A string known to be ASCII (or Latin-1). */
  ascii(s: string): void {
    this.ensure(s.length);
    this.len += this.buf.write(s, this.len, 'latin1');
  }

  /** A string as UTF-8. */
  utf8(s: string): void {
    this.ensure(s.length * 3);
    this.len += this.buf.write(s, this.len, 'utf8');
  }

  /** The bytes [start, end) of `src` as they are (short runs are copied in JavaScript, cheaper than a C++ call). */
  bytes(src: Uint8Array, start = 0, end = src.length): void {
    const n = end - start;
    this.ensure(n);
    if (n < 64) {
      const out = this.buf;
      let o = this.len;
      for (let i = start; i < end; i++) out[o++] = src[i]!;
    } else this.buf.set(src.subarray(start, end), this.len);
    this.len += n;
  }

  /** Starts a new output (earlier views stay valid: a fresh buffer is allocated). */
  fresh(initial: number): void {
    this.buf = Buffer.allocUnsafe(Math.max(initial, 256));
    this.len = 0;
  }

  /** The bytes from `start` to `end`, as a view (valid until a write grows the buffer or `fresh`). */
  view(start = 0, end = this.len): Buffer {
    return this.buf.subarray(start, end);
  }
}

/** What a byte needs in a JSON string: 0 copied as is, 1 an escape (ESCAPES), 2 not ASCII. */
const KIND = new Uint8Array(256).fill(2);
/** JSON.stringify's escapes of the ASCII bytes that need one (\b \t \n \f \r \" \\ and \u00XX). */
const ESCAPES: Buffer[] = [];
for (let c = 0; c < 0x80; c++) {
  const s = JSON.stringify(String.fromCharCode(c)).slice(1, -1);
  KIND[c] = s.length > 1 ? 1 : 0;
  ESCAPES.push(Buffer.from(s, 'latin1'));
}

/**
 * Writes the bytes [start, end) of `src` (UTF-8 text) as a JSON string, the same text JSON.stringify writes for the
 * decoded string. ASCII and valid UTF-8 are copied byte for byte with the escapes put in; invalid UTF-8 goes
 * through a string (U+FFFD replacements).
 */
export function writeJsonString(out: ByteSink, src: Uint8Array, start = 0, end = src.length): void {
  out.ensure((end - start) * 6 + 2);
  const o = out.buf;
  const first = out.len;
  let n = first;
  o[n++] = 0x22;
  let checked = false;
  for (let i = start; i < end; i++) {
    const c = src[i]!;
    const kind = KIND[c];
    if (kind === 0) o[n++] = c;
    else if (kind === 1) {
      const esc = ESCAPES[c]!;
      for (let k = 0; k < esc.length; k++) o[n++] = esc[k]!;
    } else {
      // not ASCII: valid UTF-8 is copied as is (JSON.stringify leaves those characters unescaped)
      if (!checked) {
        checked = true;
        if (!isUtf8(src.subarray(start, end))) {
          out.len = first;
          out.utf8(JSON.stringify(Buffer.from(src.buffer, src.byteOffset + start, end - start).toString('utf8')));
          return;
        }
      }
      o[n++] = c;
    }
  }
  o[n++] = 0x22;
  out.len = n;
}
