/**
 * Byte-level line splitting shared by taildir and exec.
 *
 * Lines are split on the 0x0A byte before any decoding (a multi-byte character can straddle two reads; it is
 * never decoded here). Bodies are slices of the chunk that was read (zero copy); the unterminated rest of a
 * chunk is kept as a list of slices and joined once, when its terminator arrives.
 *
 * Memory is bounded by `maxLineBytes`: a line longer than that is cut while streaming. With the `truncate`
 * policy its first maxLineBytes bytes become one event and the rest is discarded up to the terminator; with
 * `skip` the whole line is discarded. Either way `oversize` counts it and the following lines flow normally.
 *
 * Offsets are absolute (the caller passes the offset of each chunk's first byte): every complete line reports
 * the offset just after its terminator, so a reader can commit positions that always sit on a line boundary.
 */

export type OversizePolicy = 'truncate' | 'skip';

/**
 * - `lf`: lines end at `\n`; a `\r` before it is kept (spooldir LINE, like Flume's LineDeserializer);
 * - `crlf`: lines end at `\n`; one `\r` right before it is stripped (taildir);
 * - `any`: lines end at `\n`, `\r` or `\r\n` (exec, like Java's BufferedReader.readLine).
 */
export type Terminators = 'lf' | 'crlf' | 'any';

export interface LineSink {
  /** Bodies of complete lines, in order. */
  bodies: Buffer[];
  /** For each body, the absolute offset just after its terminator (or the cut point of a truncated line). */
  ends: number[];
  /** For each body, the absolute offset of its first byte (only filled when the array is given). */
  starts?: number[];
}

const EMPTY = Buffer.alloc(0);

export class LineSplitter {
  /** Lines cut or skipped because they were longer than maxLineBytes. */
  oversize = 0;
  /** Slices of the current unterminated line (never more than maxLineBytes + 1 bytes in total). */
  private pend: Buffer[] = [];
  private pendBytes = 0;
  /** Absolute offset of the first byte of the current unterminated line. */
  private lineStart: number;
  /** Absolute offset just after the last byte pushed. */
  private consumed: number;
  /** Inside an oversize line: bytes are dropped until its terminator. */
  private discarding = false;
  /** `any` mode: the previous line ended with `\r`; a `\n` right after it belongs to that terminator. */
  private afterCR = false;
  /** Most bytes of line content kept while waiting for the terminator (`crlf` may hold one extra `\r`). */
  private readonly holdCap: number;

  constructor(
    readonly maxLineBytes: number,
    readonly policy: OversizePolicy,
    readonly mode: Terminators,
    offset = 0,
  ) {
    this.lineStart = offset;
    this.consumed = offset;
    this.holdCap = mode === 'crlf' ? maxLineBytes + 1 : maxLineBytes;
  }

  /**
   * Where a reader may resume without losing or repeating a line: the start of the unterminated line, or, while
   * an oversize line is being discarded, the bytes consumed so far (the discarded part is never re-read).
   */
  boundary(): number {
    return this.discarding ? this.consumed : this.lineStart;
  }

  /** Bytes of the unterminated line held in memory. */
  get pendingBytes(): number {
    return this.pendBytes;
  }

  /** True while there is an unterminated line (held or being discarded). */
  get hasPartial(): boolean {
    return this.pendBytes > 0 || this.discarding;
  }

  /** Forgets everything and restarts at `offset` (truncation, reopen). */
  reset(offset: number): void {
    this.pend = [];
    this.pendBytes = 0;
    this.lineStart = offset;
    this.consumed = offset;
    this.discarding = false;
    this.afterCR = false;
  }

  /**
   * Hands out the unterminated line as a body (end of stream, a rotated file being closed), or undefined when
   * there is none. A line being discarded (oversize) yields nothing more.
   */
  flushPartial(out: LineSink): boolean {
    if (this.discarding) {
      this.discarding = false;
      this.lineStart = this.consumed;
      return false;
    }
    if (this.pendBytes === 0) return false;
    const body = this.pend.length === 1 ? this.pend[0]! : Buffer.concat(this.pend, this.pendBytes);
    out.bodies.push(body);
    out.ends.push(this.consumed);
    out.starts?.push(this.lineStart);
    this.pend = [];
    this.pendBytes = 0;
    this.lineStart = this.consumed;
    return true;
  }

  /** Splits `chunk` (whose first byte is at absolute offset `base`, which must equal the previous end). */
  push(chunk: Buffer, base: number, out: LineSink): void {
    if (this.mode === 'any') return this.pushAny(chunk, base, out);
    const { bodies, ends, starts } = out;
    const max = this.maxLineBytes;
    const strip = this.mode === 'crlf';
    const len = chunk.length;
    let start = 0;
    let nl = chunk.indexOf(10);
    if (this.pendBytes > 0 || this.discarding) {
      if (nl < 0) {
        this.hold(chunk, 0, base, out);
        this.consumed = base + len;
        return;
      }
      this.finishHeld(chunk, nl, base, out);
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    while (nl >= 0) {
      let e = nl;
      if (strip && e > start && chunk[e - 1] === 13) e--;
      if (e - start <= max) {
        bodies.push(chunk.subarray(start, e));
        ends.push(base + nl + 1);
        starts?.push(base + start);
      } else {
        this.oversize++;
        if (this.policy === 'truncate') {
          bodies.push(chunk.subarray(start, start + max));
          ends.push(base + nl + 1);
          starts?.push(base + start);
        }
      }
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    this.lineStart = base + start;
    if (start < len) this.hold(chunk, start, base, out);
    this.consumed = base + len;
  }

  /** Keeps chunk[from..] as part of the unterminated line, cutting it when it passes the cap. */
  private hold(chunk: Buffer, from: number, base: number, out: LineSink): void {
    if (this.discarding) return;
    const n = chunk.length - from;
    if (this.pendBytes + n <= this.holdCap) {
      this.pend.push(from === 0 ? chunk : chunk.subarray(from));
      this.pendBytes += n;
      return;
    }
    // oversize while streaming: cut now, never buffer past the cap
    this.oversize++;
    if (this.policy === 'truncate') {
      const take = this.maxLineBytes - this.pendBytes;
      if (take > 0) this.pend.push(chunk.subarray(from, from + take));
      const head = Buffer.concat(this.pend, this.maxLineBytes);
      out.bodies.push(head);
      out.ends.push(this.lineStart + this.maxLineBytes);
      out.starts?.push(this.lineStart);
    }
    this.pend = [];
    this.pendBytes = 0;
    this.discarding = true;
    void base;
  }

  /** The held line ends at chunk[nl] (a `\n`). */
  private finishHeld(chunk: Buffer, nl: number, base: number, out: LineSink): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    let total = this.pendBytes + nl;
    const parts = this.pend;
    if (nl > 0) parts.push(chunk.subarray(0, nl));
    let line = parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
    if (this.mode === 'crlf' && total > 0 && line[total - 1] === 13) {
      total--;
      line = line.subarray(0, total);
    }
    this.pend = [];
    this.pendBytes = 0;
    if (total <= this.maxLineBytes) {
      out.bodies.push(line);
    } else {
      this.oversize++;
      if (this.policy === 'skip') return;
      out.bodies.push(line.subarray(0, this.maxLineBytes));
    }
    out.ends.push(base + nl + 1);
    out.starts?.push(this.lineStart);
  }

  /** `any` mode: `\n`, `\r` and `\r\n` end a line (a `\r\n` split across chunks is one terminator). */
  private pushAny(chunk: Buffer, base: number, out: LineSink): void {
    const len = chunk.length;
    let i = 0;
    if (this.afterCR && len > 0) {
      this.afterCR = false;
      if (chunk[0] === 10) i = 1;
      this.lineStart = base + i;
    }
    while (i < len) {
      const lf = chunk.indexOf(10, i);
      const cr = chunk.indexOf(13, i);
      const t = lf < 0 ? cr : cr < 0 ? lf : Math.min(lf, cr);
      if (t < 0) {
        this.hold(chunk, i, base, out);
        this.consumed = base + len;
        return;
      }
      let next = t + 1;
      if (chunk[t] === 13) {
        if (t + 1 < len) {
          if (chunk[t + 1] === 10) next = t + 2;
        } else {
          this.afterCR = true;
        }
      }
      if (this.pendBytes > 0 || this.discarding) {
        // finishHeld handles the held part; it expects the terminator at chunk[t]
        this.finishHeldAny(chunk, i, t, base + next, out);
      } else if (t - i <= this.maxLineBytes) {
        out.bodies.push(chunk.subarray(i, t));
        out.ends.push(base + next);
        out.starts?.push(base + i);
      } else {
        this.oversize++;
        if (this.policy === 'truncate') {
          out.bodies.push(chunk.subarray(i, i + this.maxLineBytes));
          out.ends.push(base + next);
          out.starts?.push(base + i);
        }
      }
      i = next;
      this.lineStart = base + i;
    }
    this.consumed = base + len;
  }

  private finishHeldAny(chunk: Buffer, from: number, t: number, end: number, out: LineSink): void {
    if (this.discarding) {
      this.discarding = false;
      return;
    }
    const n = t - from;
    const total = this.pendBytes + n;
    if (n > 0) this.pend.push(chunk.subarray(from, t));
    const line =
      this.pend.length === 1 ? this.pend[0]! : this.pend.length === 0 ? EMPTY : Buffer.concat(this.pend, total);
    this.pend = [];
    this.pendBytes = 0;
    if (total <= this.maxLineBytes) {
      out.bodies.push(line);
    } else {
      this.oversize++;
      if (this.policy === 'skip') return;
      out.bodies.push(line.subarray(0, this.maxLineBytes));
    }
    out.ends.push(end);
    out.starts?.push(this.lineStart);
  }
}
