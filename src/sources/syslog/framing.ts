/**
 * Syslog over TCP framing, detected per frame as rsyslog does:
 * - a frame starting with a digit 1-9, followed by up to 9 more digits and a space, is RFC 6587 octet counting
 *   (`LEN SP MSG`); a trailing LF/CR inside the counted bytes is dropped;
 * - anything else is non-transparent framing: the message ends at LF (a CR before the LF is dropped).
 * Empty lines between frames are skipped.
 *
 * Limits: a message longer than `maxSize` (eventSize) is cut at maxSize and flagged incomplete; the rest of
 * that line or frame is skipped without being buffered. A declared octet count above `maxDeclared` means a
 * broken or hostile sender: push() returns false and the caller closes the connection. Memory per connection
 * is bounded by maxSize + 1 bytes.
 */

export interface Frame {
  /** The message bytes (may be a view into the pushed chunk: copy before keeping). */
  data: Buffer;
  /** Cut at maxSize. */
  incomplete: boolean;
}

/**
 * Receives the frames of scan()/finish(): the message is `buf[start, end)`; `buf` is either the scanned chunk
 * (a view: copy before keeping) or a fresh buffer assembled from several chunks. Incomplete: cut at maxSize.
 */
export interface FrameSink {
  frame(buf: Buffer, start: number, end: number, incomplete: boolean): void;
}

/** A sink collecting Frame objects (push/end, for tests and simple callers). */
function collect(out: Frame[]): FrameSink {
  return {
    frame: (buf, start, end, incomplete) =>
      out.push({ data: start === 0 && end === buf.length ? buf : buf.subarray(start, end), incomplete }),
  };
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;

const enum Mode {
  Start,
  Digits,
  Line,
  Octet,
  SkipLine,
}

export class SyslogFramer {
  private mode = Mode.Start;
  private parts: Buffer[] = [];
  private partsLen = 0;
  private digits = 0;
  private ndigits = 0;
  private remaining = 0;
  private truncated = false;
  /** Bytes skipped because a message exceeded maxSize. */
  skippedBytes = 0;
  /** Declared length of the frame that made push() fail. */
  badLength = 0;

  constructor(
    readonly maxSize: number,
    readonly maxDeclared: number,
  ) {}

  private take(): Buffer {
    const b = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLen);
    this.parts = [];
    this.partsLen = 0;
    return b;
  }

  private append(b: Buffer): void {
    if (b.length === 0) return;
    this.parts.push(b);
    this.partsLen += b.length;
  }

  /** Splits `chunk` into frames appended to `out`. False when the connection must be closed (bogus octet count). */
  push(chunk: Buffer, out: Frame[]): boolean {
    return this.scan(chunk, collect(out));
  }

  /** Splits `chunk` into frames handed to `sink`. False when the connection must be closed (bogus octet count). */
  scan(chunk: Buffer, sink: FrameSink): boolean {
    const n = chunk.length;
    const max = this.maxSize;
    let i = 0;
    while (i < n) {
      switch (this.mode) {
        case Mode.Start: {
          const b = chunk[i]!;
          if (b === LF || b === CR) {
            i++;
          } else if (b >= 0x31 && b <= 0x39) {
            this.mode = Mode.Digits;
            this.digits = b - 0x30;
            this.ndigits = 1;
            i++;
          } else {
            this.mode = Mode.Line;
          }
          break;
        }
        case Mode.Digits: {
          const b = chunk[i]!;
          if (b >= 0x30 && b <= 0x39 && this.ndigits < 10) {
            this.digits = this.digits * 10 + (b - 0x30);
            this.ndigits++;
            i++;
          } else if (b === SP) {
            i++;
            if (this.digits > this.maxDeclared) {
              this.badLength = this.digits;
              this.mode = Mode.Start;
              return false;
            }
            this.mode = Mode.Octet;
            this.remaining = this.digits;
            this.truncated = false;
          } else {
            // not octet counting: the digits begin an LF-terminated line
            this.append(Buffer.from(String(this.digits), 'latin1'));
            this.mode = Mode.Line;
          }
          break;
        }
        case Mode.Line: {
          const j = chunk.indexOf(LF, i);
          const end = j < 0 ? n : j;
          const len = end - i;
          if (j >= 0) {
            if (this.partsLen + len <= max + 1) {
              let fb: Buffer;
              let fs: number;
              let fe: number;
              if (this.partsLen === 0) {
                fb = chunk;
                fs = i;
                fe = end;
              } else {
                this.append(chunk.subarray(i, end));
                fb = this.take();
                fs = 0;
                fe = fb.length;
              }
              if (fe > fs && fb[fe - 1] === CR) fe--;
              if (fe - fs > max) sink.frame(fb, fs, fs + max, true);
              else sink.frame(fb, fs, fe, false);
            } else {
              this.skippedBytes += this.partsLen + len - max;
              this.append(chunk.subarray(i, i + Math.max(0, max - this.partsLen)));
              const t = this.take();
              sink.frame(t, 0, Math.min(max, t.length), true);
            }
            this.parts = [];
            this.partsLen = 0;
            this.mode = Mode.Start;
            i = j + 1;
          } else if (this.partsLen + len > max + 1) {
            const keep = max - this.partsLen;
            if (keep > 0) this.append(chunk.subarray(i, i + keep));
            this.skippedBytes += len - Math.max(keep, 0);
            const t = this.take();
            sink.frame(t, 0, Math.min(max, t.length), true);
            this.mode = Mode.SkipLine;
            i = n;
          } else {
            // copy: a partial message must not pin the socket's chunk
            this.append(Buffer.from(chunk.subarray(i, n)));
            i = n;
          }
          break;
        }
        case Mode.SkipLine: {
          const j = chunk.indexOf(LF, i);
          if (j < 0) {
            this.skippedBytes += n - i;
            i = n;
          } else {
            this.skippedBytes += j - i;
            this.mode = Mode.Start;
            i = j + 1;
          }
          break;
        }
        case Mode.Octet: {
          const take = Math.min(this.remaining, n - i);
          const room = max - this.partsLen;
          const keep = Math.min(take, room);
          const whole = this.partsLen === 0 && take === this.remaining && keep === take;
          if (!whole && keep > 0) this.append(Buffer.from(chunk.subarray(i, i + keep)));
          if (take > keep) {
            this.truncated = true;
            this.skippedBytes += take - keep;
          }
          this.remaining -= take;
          if (this.remaining === 0) {
            const fb = whole ? chunk : this.take();
            const fs = whole ? i : 0;
            let fe = whole ? i + take : fb.length;
            if (!this.truncated) {
              while (fe > fs && (fb[fe - 1] === LF || fb[fe - 1] === CR)) fe--;
            }
            sink.frame(fb, fs, fe, this.truncated);
            this.parts = [];
            this.partsLen = 0;
            this.mode = Mode.Start;
          }
          i += take;
          break;
        }
      }
    }
    return true;
  }

  /**
   * End of stream: an unterminated last line is a message (Flume drops it); a cut-off octet-counted frame is
   * delivered as incomplete. Returns the frames added.
   */
  end(out: Frame[]): number {
    const before = out.length;
    this.finish(collect(out));
    return out.length - before;
  }

  /** end() for a FrameSink. */
  finish(sink: FrameSink): void {
    if (this.mode === Mode.Digits) {
      const b = Buffer.from(String(this.digits), 'latin1');
      sink.frame(b, 0, b.length, false);
    } else if (this.mode === Mode.Line && this.partsLen > 0) {
      const f = this.take();
      let fe = f.length;
      if (f[fe - 1] === CR) fe--;
      sink.frame(f, 0, Math.min(fe, this.maxSize), fe > this.maxSize);
    } else if (this.mode === Mode.Octet && this.partsLen > 0) {
      const f = this.take();
      sink.frame(f, 0, f.length, true);
    }
    this.parts = [];
    this.partsLen = 0;
    this.mode = Mode.Start;
  }

  /** Bytes held for an unfinished message. */
  get pendingBytes(): number {
    return this.partsLen;
  }
}
