/**
 * Thrift's framed transport (what Flume's TFastFramedTransport puts on the wire): every message is a 4-byte
 * big-endian length followed by that many bytes. The assembler keeps the chunks that arrived and hands out whole
 * frames; the declared length is checked against the limit, and may be reserved from a shared memory budget,
 * before any of the frame's bytes are accepted.
 */
import { AgentError } from '../../core/errors.js';

/** Flume's (Thrift 0.14) largest frame: larger ones close the connection. */
export const FLUME_MAX_FRAME_BYTES = 16_384_000;

export class FrameError extends AgentError {
  constructor(message: string) {
    super('FLUME_ERR_RPC_FRAME', message);
    this.name = 'FrameError';
  }
}

export class FrameAssembler {
  private chunks: Buffer[] = [];
  private off = 0;
  private avail = 0;
  private declared = -1;
  private reserved = false;

  constructor(private readonly maxFrameBytes: number) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.avail += chunk.length;
  }

  /** Something of a frame has arrived but not the whole frame. */
  get partial(): boolean {
    return this.declared >= 0 || this.avail > 0;
  }

  /** Bytes held (arrived and not handed out). */
  get held(): number {
    return this.avail;
  }

  /**
   * The next whole frame, or undefined when it has not all arrived yet, or when `reserve` refused its declared
   * length (call again later). Throws FrameError for a length over the limit.
   */
  next(reserve?: (bytes: number) => boolean): Buffer | undefined {
    if (this.declared < 0) {
      if (this.avail < 4) return undefined;
      const n = this.take(4).readUInt32BE(0);
      if (n > this.maxFrameBytes) throw new FrameError(`a frame of ${n} bytes (the limit is ${this.maxFrameBytes})`);
      if (n === 0) throw new FrameError('an empty frame');
      this.declared = n;
      this.reserved = false;
    }
    if (!this.reserved) {
      if (reserve && !reserve(this.declared)) return undefined;
      this.reserved = true;
    }
    if (this.avail < this.declared) return undefined;
    const frame = this.take(this.declared);
    this.declared = -1;
    return frame;
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length - this.off >= n) {
      const out = first.subarray(this.off, this.off + n);
      this.advance(n);
      return out;
    }
    const out = Buffer.allocUnsafe(n);
    let p = 0;
    while (p < n) {
      const c = this.chunks[0]!;
      const k = Math.min(n - p, c.length - this.off);
      c.copy(out, p, this.off, this.off + k);
      p += k;
      this.advance(k);
    }
    return out;
  }

  private advance(n: number): void {
    this.off += n;
    this.avail -= n;
    if (this.off === this.chunks[0]!.length) {
      this.chunks.shift();
      this.off = 0;
    }
  }
}
