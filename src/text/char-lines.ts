/**
 * Line splitting with a limit in characters and UTF-8 bodies, for line protocols whose input has a charset
 * (netcat): `charLineSplitter(charset, max)`.
 *
 * - Charsets where a 0x0A byte is always a line feed and a line decodes on its own (UTF-8, ISO-8859-x, windows-125x,
 *   Shift_JIS ...) are split on the byte with indexOf before any decoding; a line's bytes become a UTF-8 body (the
 *   same bytes for UTF-8 and ASCII). The unterminated rest is kept as a list of slices, joined once at its newline.
 * - The others (UTF-16, UTF-32, ISO-2022-JP) are decoded as a stream (a character split across chunks decodes
 *   whole) and the text is split on '\n'; bodies are re-encoded as UTF-8.
 *
 * The limit counts UTF-16 units (Java chars) including the newline, as Flume's max-line-length does.
 */
import { makeEvent, type FlumeEvent } from '../core/event.js';
import type { Charset } from './charset.js';
import type { StreamDecoder } from './utf.js';

export interface CharLineSplitter {
  /**
   * Appends an event for every complete line of `chunk` to `out`. Returns false when a line, or the unterminated
   * rest, exceeds the limit; the lines before it are in `out`, nothing after it is.
   */
  push(chunk: Buffer, out: FlumeEvent[]): boolean;
  /** Drops the unterminated rest (at EOF); true when there was one. */
  discard(): boolean;
}

/** A splitter for one connection: `max` is the most characters per line, including the newline. */
export function charLineSplitter(cs: Charset, max: number): CharLineSplitter {
  return cs.lfSafe && cs.stateless ? new ByteSplitter(cs, max) : new TextSplitter(cs, max);
}

/** Splits on the 0x0A byte; the unterminated rest is kept as a list of slices (joined once, at its newline). */
class ByteSplitter implements CharLineSplitter {
  private pend: Buffer[] = [];
  private pendBytes = 0;
  private pendUnits = 0;
  private counted = 0;
  /** A line whose content is longer than this in bytes is too long whatever it decodes to. */
  private readonly byteCap: number;

  constructor(
    private readonly codec: Charset,
    private readonly max: number,
  ) {
    this.byteCap = codec.maxBytesPerUnit * (max - 1);
  }

  push(chunk: Buffer, out: FlumeEvent[]): boolean {
    const codec = this.codec;
    const max = this.max;
    let start = 0;
    let nl = chunk.indexOf(10);
    if (this.pendBytes > 0) {
      if (nl < 0) return this.addPending(chunk);
      const parts = this.pend;
      parts.push(chunk.subarray(0, nl));
      const line = Buffer.concat(parts, this.pendBytes + nl);
      this.resetPending();
      if (this.tooLong(line, 0, line.length)) return false;
      out.push(makeEvent(codec.toUtf8(line)));
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    while (nl >= 0) {
      if (nl - start >= max && this.tooLong(chunk, start, nl)) return false;
      out.push(makeEvent(codec.toUtf8(chunk.subarray(start, nl))));
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) return this.addPending(start === 0 ? chunk : chunk.subarray(start));
    return true;
  }

  /** Content [s, e) plus its newline longer than max-line-length chars? */
  private tooLong(b: Buffer, s: number, e: number): boolean {
    const bytes = e - s;
    if (bytes + 1 <= this.max) return false;
    if (bytes > this.byteCap) return true;
    return this.codec.units(b, s, e) + 1 > this.max;
  }

  private addPending(b: Buffer): boolean {
    this.pend.push(b);
    this.pendBytes += b.length;
    if (this.pendBytes < this.max) return true; // units <= bytes: fits even with its newline
    if (this.pendBytes > this.byteCap) return false;
    for (; this.counted < this.pend.length; this.counted++) {
      const p = this.pend[this.counted]!;
      this.pendUnits += this.codec.units(p, 0, p.length);
    }
    return this.pendUnits < this.max;
  }

  private resetPending(): void {
    this.pend = [];
    this.pendBytes = 0;
    this.pendUnits = 0;
    this.counted = 0;
  }

  discard(): boolean {
    const had = this.pendBytes > 0;
    this.resetPending();
    return had;
  }
}

/** Decodes the stream (UTF-16, UTF-32, ISO-2022-JP) and splits the text on `\n`; bodies are re-encoded as UTF-8. */
class TextSplitter implements CharLineSplitter {
  private pend = '';
  private readonly dec: StreamDecoder;

  constructor(
    codec: Charset,
    private readonly max: number,
  ) {
    this.dec = codec.stream();
  }

  push(chunk: Buffer, out: FlumeEvent[]): boolean {
    const s = this.dec.write(chunk);
    const text = this.pend.length > 0 ? this.pend + s : s;
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      if (nl - start + 1 > this.max) return false;
      out.push(makeEvent(Buffer.from(text.slice(start, nl), 'utf8')));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.pend = start === 0 ? text : text.slice(start);
    return this.pend.length < this.max;
  }

  discard(): boolean {
    const rest = this.pend + this.dec.end();
    this.pend = '';
    return rest.length > 0;
  }
}

const asciiReply = (s: string): Buffer => Buffer.from(s.replace(/[\u0080-\u{10ffff}]/gu, '?'), 'latin1');

/**
 * Encodes reply lines (netcat's `OK`, `FAILED: ...`) inside a connection's byte stream: after `cs.streamBom`, in the
 * charset; charsets flume-ts cannot encode (ASCII-compatible multi-byte ones) get ASCII, `?` for anything else.
 */
export function replyEncoder(cs: Charset): (s: string) => Buffer {
  return cs.encodable ? cs.encodeChunk : asciiReply;
}
