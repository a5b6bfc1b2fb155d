/**
 * The Netty framing of Avro Java's NettyTransportCodec (reference §11.2), big-endian signed 32-bit integers:
 *
 *   frame := serial:int32 count:int32 { length:int32 bytes[length] } x count
 *
 * A message is the concatenation of its `count` buffers (their boundaries mean nothing). The decoder is a
 * streaming state machine with hard limits checked on the declared numbers BEFORE anything is allocated: a
 * negative count or length, too many buffers, a buffer or a message over the byte limits -> FrameError. It only
 * ever holds the bytes that actually arrived.
 */
import { AgentError } from '../../core/errors.js';

export const FRAME_HEADER_BYTES = 12; // serial, count = 1, length

export interface FrameLimits {
  /** Most buffers in one message (Java splits messages into 8 KiB buffers; zero-length buffers are legal). */
  maxFramesPerMessage: number;
  /** Largest single buffer. */
  maxFrameBytes: number;
  /** Largest message (sum of its buffers). */
  maxMessageBytes: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = {
  maxFramesPerMessage: 65_536,
  maxFrameBytes: 64 * 1024 * 1024,
  maxMessageBytes: 64 * 1024 * 1024,
};

export class FrameError extends AgentError {
  constructor(message: string) {
    super('FLUME_ERR_RPC_FRAME', message);
    this.name = 'FrameError';
  }
}

/** Writes the 12-byte header of a one-buffer frame at the start of `buf`. */
export function writeFrameHeader(buf: Buffer, serial: number, payloadLength: number): void {
  buf.writeInt32BE(serial | 0, 0);
  buf.writeInt32BE(1, 4);
  buf.writeInt32BE(payloadLength, 8);
}

/** A frame with one buffer holding `payload` (copies it). */
export function encodeFrame(serial: number, payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(out, serial, payload.length);
  payload.copy(out, FRAME_HEADER_BYTES);
  return out;
}

/** A frame with several buffers (what Java writes). */
export function encodeFrameBuffers(serial: number, buffers: readonly Buffer[]): Buffer {
  let n = 8;
  for (const b of buffers) n += 4 + b.length;
  const out = Buffer.allocUnsafe(n);
  out.writeInt32BE(serial | 0, 0);
  out.writeInt32BE(buffers.length, 4);
  let p = 8;
  for (const b of buffers) {
    out.writeInt32BE(b.length, p);
    b.copy(out, p + 4);
    p += 4 + b.length;
  }
  return out;
}

const enum St {
  Header,
  Length,
  Body,
}

export type MessageHandler = (serial: number, message: Buffer) => void;

export class FrameDecoder {
  private st = St.Header;
  /** Bytes of an incomplete 8- or 4-byte header carried over between chunks. */
  private readonly head = Buffer.alloc(8);
  private headLen = 0;
  private serial = 0;
  private framesLeft = 0;
  private bodyLeft = 0;
  /** Declared bytes of the message so far (checked against maxMessageBytes). */
  private messageBytes = 0;
  /** Bytes actually received for the message in progress. */
  private held = 0;
  private pieces: Buffer[] = [];

  constructor(
    private readonly limits: FrameLimits,
    private readonly onMessage: MessageHandler,
  ) {}

  /** True when part of a message has arrived but not all of it. */
  get midMessage(): boolean {
    return this.st !== St.Header || this.headLen > 0;
  }

  /** Bytes actually held for the message in progress (never more than arrived). */
  get bufferedBytes(): number {
    return this.held + this.headLen;
  }

  /** Feeds a chunk; calls onMessage for every complete message. Throws FrameError on a limit or format breach. */
  push(chunk: Buffer): void {
    let p = 0;
    const n = chunk.length;
    while (p < n) {
      if (this.st === St.Body) {
        const take = Math.min(this.bodyLeft, n - p);
        this.pieces.push(chunk.subarray(p, p + take));
        this.held += take;
        p += take;
        this.bodyLeft -= take;
        if (this.bodyLeft === 0) this.endBuffer();
        continue;
      }
      const need = this.st === St.Header ? 8 : 4;
      let view: Buffer;
      let at: number;
      if (this.headLen === 0 && n - p >= need) {
        view = chunk;
        at = p;
        p += need;
      } else {
        const take = Math.min(need - this.headLen, n - p);
        chunk.copy(this.head, this.headLen, p, p + take);
        this.headLen += take;
        p += take;
        if (this.headLen < need) return;
        view = this.head;
        at = 0;
        this.headLen = 0;
      }
      if (this.st === St.Header) {
        this.serial = view.readInt32BE(at);
        const count = view.readInt32BE(at + 4);
        if (count < 0) throw new FrameError(`negative buffer count ${count}`);
        if (count > this.limits.maxFramesPerMessage)
          throw new FrameError(`buffer count ${count} exceeds the limit of ${this.limits.maxFramesPerMessage}`);
        this.framesLeft = count;
        this.messageBytes = 0;
        this.held = 0;
        this.pieces = [];
        if (count === 0) this.emit();
        else this.st = St.Length;
      } else {
        const len = view.readInt32BE(at);
        if (len < 0) throw new FrameError(`negative buffer length ${len}`);
        if (len > this.limits.maxFrameBytes)
          throw new FrameError(`buffer length ${len} exceeds the limit of ${this.limits.maxFrameBytes} bytes`);
        if (this.messageBytes + len > this.limits.maxMessageBytes)
          throw new FrameError(`message of more than ${this.limits.maxMessageBytes} bytes`);
        this.messageBytes += len;
        if (len === 0) this.endBuffer();
        else {
          this.bodyLeft = len;
          this.st = St.Body;
        }
      }
    }
  }

  private endBuffer(): void {
    this.framesLeft--;
    if (this.framesLeft === 0) this.emit();
    else this.st = St.Length;
  }

  private emit(): void {
    const pieces = this.pieces;
    const size = this.messageBytes;
    this.pieces = [];
    this.messageBytes = 0;
    this.held = 0;
    this.st = St.Header;
    // one copy: the message owns its memory (event bodies are views of it) and socket chunks are released
    const msg = pieces.length === 1 ? Buffer.from(pieces[0]!) : Buffer.concat(pieces, size);
    this.onMessage(this.serial, msg);
  }

  /** Drops any partial message. */
  reset(): void {
    this.st = St.Header;
    this.headLen = 0;
    this.pieces = [];
    this.messageBytes = 0;
    this.held = 0;
  }
}
