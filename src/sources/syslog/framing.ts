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

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;

const enum Mode { Start, Digits, Line, Octet, SkipLine }

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

  constructor(readonly maxSize: number, readonly maxDeclared: number) {}

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
              let frame: Buffer;
              if (this.partsLen === 0) {
                frame = chunk.subarray(i, end);
              } else {
                this.append(chunk.subarray(i, end));
                frame = this.take();
              }
              if (frame.length > 0 && frame[frame.length - 1] === CR) frame = frame.subarray(0, frame.length - 1);
              if (frame.length > max) out.push({ data: frame.subarray(0, max), incomplete: true });
              else out.push({ data: frame, incomplete: false });
            } else {
              this.skippedBytes += this.partsLen + len - max;
              this.append(chunk.subarray(i, i + Math.max(0, max - this.partsLen)));
              out.push({ data: this.take().subarray(0, max), incomplete: true });
            }
            this.parts = [];
            this.partsLen = 0;
            this.mode = Mode.Start;
            i = j + 1;
          } else if (this.partsLen + len > max + 1) {
            const keep = max - this.partsLen;
            if (keep > 0) this.append(chunk.subarray(i, i + keep));
            this.skippedBytes += len - Math.max(keep, 0);
            out.push({ data: this.take().subarray(0, max), incomplete: true });
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
            let frame = whole ? chunk.subarray(i, i + take) : this.take();
            let e = frame.length;
            if (!this.truncated) {
              while (e > 0 && (frame[e - 1] === LF || frame[e - 1] === CR)) e--;
              frame = frame.subarray(0, e);
            }
            out.push({ data: frame, incomplete: this.truncated });
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
    if (this.mode === Mode.Digits) {
      out.push({ data: Buffer.from(String(this.digits), 'latin1'), incomplete: false });
    } else if (this.mode === Mode.Line && this.partsLen > 0) {
      let f = this.take();
      if (f[f.length - 1] === CR) f = f.subarray(0, f.length - 1);
      out.push({ data: f.length > this.maxSize ? f.subarray(0, this.maxSize) : f, incomplete: f.length > this.maxSize });
    } else if (this.mode === Mode.Octet && this.partsLen > 0) {
      out.push({ data: this.take(), incomplete: true });
    }
    this.parts = [];
    this.partsLen = 0;
    this.mode = Mode.Start;
    return out.length - before;
  }

  /** Bytes held for an unfinished message. */
  get pendingBytes(): number {
    return this.partsLen;
  }
}
