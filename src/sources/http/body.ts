/** Reading a request body within the per-request and per-source limits, and closing early-answered connections. */
import http from 'node:http';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import type { ByteBudget } from '../../net/byte-budget.js';

export const DECODERS: Record<
  string,
  ((b: Buffer, o: zlib.ZlibOptions & zlib.BrotliOptions) => Promise<Buffer>) | null
> = {
  identity: null,
  gzip: promisify(zlib.gunzip) as (b: Buffer, o: zlib.ZlibOptions) => Promise<Buffer>,
  'x-gzip': promisify(zlib.gunzip) as (b: Buffer, o: zlib.ZlibOptions) => Promise<Buffer>,
  deflate: promisify(zlib.inflate) as (b: Buffer, o: zlib.ZlibOptions) => Promise<Buffer>,
  br: promisify(zlib.brotliDecompress) as (b: Buffer, o: zlib.BrotliOptions) => Promise<Buffer>,
};

export type BodyResult = { ok: true; body: Buffer } | { ok: false; tooLarge?: boolean; busy?: boolean };

/**
 * Reads the whole body, giving up (and pausing the stream) as soon as it exceeds `max` or the shared budget.
 * On success the caller owns `total` bytes of the budget and must give them back.
 */
export function readBody(req: http.IncomingMessage, max: number, budget: ByteBudget): Promise<BodyResult> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let total = 0;
    let settled = false;
    const done = (r: BodyResult) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onErr);
      req.off('close', onClose);
      if (!r.ok) {
        budget.give(total);
        chunks.length = 0;
      }
      resolve(r);
    };
    const onData = (c: Buffer) => {
      if (total + c.length > max) {
        req.pause();
        done({ ok: false, tooLarge: true });
        return;
      }
      if (!budget.take(c.length)) {
        req.pause();
        done({ ok: false, busy: true });
        return;
      }
      total += c.length;
      chunks.push(c);
    };
    const onEnd = () => done({ ok: true, body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total) });
    const onErr = () => done({ ok: false });
    const onClose = () => done({ ok: false });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onErr);
    req.on('close', onClose);
  });
}

/** How long a connection answered early (413, 503 while the body was still coming) keeps discarding input. */
export const LINGER_MS = 2000;

/**
 * Closes a connection whose request body was not read, once the answer is out, without a reset: closing a socket
 * with unread input makes the kernel send RST, and a client still uploading then loses the answer (EPIPE or
 * ECONNRESET instead of 413/503). Half-close, discard what the client still sends for at most LINGER_MS (memory
 * stays flat: nothing is kept), then close.
 */
export function lingeringClose(req: http.IncomingMessage, res: http.ServerResponse): void {
  const s = req.socket;
  // Node's own close after a `Connection: close` answer destroys the socket as soon as the answer is written
  s.destroySoon = () => s.end();
  res.once('finish', () => {
    const t = setTimeout(() => s.destroy(), LINGER_MS);
    t.unref();
    s.once('close', () => clearTimeout(t));
    s.end();
    req.resume();
  });
}
