/**
 * A growing byte buffer that the bulk request is written into directly: a batch becomes one Buffer without a string
 * per line (the strings, their concatenation and their UTF-8 encoding were most of the sink's CPU time).
 */

/** What a byte needs in a JSON string: 0 copied as is, 1 an escape (ESCAPES), 2 not ASCII. */
const KIND = new Uint8Array(256).fill(2);
/** JSON.stringify's escapes of the ASCII bytes that need one. */
const ESCAPES: Buffer[] = [];
for (let c = 0; c < 0x80; c++) {
  const s = JSON.stringify(String.fromCharCode(c)).slice(1, -1);
  KIND[c] = s.length > 1 ? 1 : 0;
  ESCAPES.push(Buffer.from(s, 'latin1'));
}

export class ByteWriter {
  private buf: Buffer;
  /** Bytes written. */
  length = 0;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** Room for `n` more bytes. */
  private reserve(n: number): void {
    if (this.buf.length - this.length >= n) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  /** Bytes as they are (short constants are copied in JavaScript, cheaper than a call into C++). */
  bytes(b: Uint8Array): void {
    const n = b.length;
    this.reserve(n);
    const buf = this.buf;
    let off = this.length;
    if (n <= 64) for (let i = 0; i < n; i++) buf[off++] = b[i]!;
    else {
      buf.set(b, off);
      off += n;
    }
    this.length = off;
  }

  /** A string as UTF-8. */
  text(s: string): void {
    this.reserve(s.length * 3);
    this.length += this.buf.write(s, this.length, 'utf8');
  }

  /**
   * JSON.stringify(bytes.toString('utf8')) as bytes. ASCII is escaped here in one pass; a body with any other byte
   * (UTF-8, or invalid bytes that become U+FFFD) goes through the string functions.
   */
  jsonString(b: Uint8Array): void {
    const n = b.length;
    this.reserve(n * 6 + 2);
    const buf = this.buf;
    const start = this.length;
    let off = start;
    buf[off++] = 0x22;
    for (let i = 0; i < n; i++) {
      const c = b[i]!;
      const kind = KIND[c];
      if (kind === 0) {
        buf[off++] = c;
        continue;
      }
      if (kind === 2) {
        this.length = start;
        this.text(JSON.stringify(Buffer.from(b.buffer, b.byteOffset, n).toString('utf8')));
        return;
      }
      const esc = ESCAPES[c]!;
      for (let k = 0; k < esc.length; k++) buf[off++] = esc[k]!;
    }
    buf[off++] = 0x22;
    this.length = off;
  }

  /** The bytes from `start` to `end`, as a view (valid until the next write that grows the buffer). */
  view(start = 0, end = this.length): Buffer {
    return this.buf.subarray(start, end);
  }
}
