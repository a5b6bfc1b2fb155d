/**
 * Forward protocol server: one Connection per client socket (TCP or TLS) reading a stream of msgpack requests.
 *
 * Per connection the bytes of the request being received sit in one buffer that grows only as bytes arrive (never
 * to a declared length), reserved from the source's memory budget; the scanner refuses any declared length past
 * maxMessageBytes before it is buffered. Complete requests already received are decoded together and handed to the
 * source as one batch; once the source has committed them, each request that carries a `chunk` is acknowledged, in
 * request order. Reading goes on during a commit until the next request is complete, then pauses until the commit
 * is done (a chunk that ends no request needs no pause). The buffer (up to KEEP_BUFFER) is kept between requests.
 * Bad input, a broken limit or a stalled request closes that connection (no ack: the client sends its chunk again),
 * never the agent. With a shared key, nothing but a small PING is read before the
 * handshake has succeeded.
 */
import type net from 'node:net';
import { errorMessage } from '../../core/errors.js';
import type { FlumeEvent } from '../../core/event.js';
import { LINGER_MS, type Tracked } from '../../net/listen.js';
import { WarnLimiter } from '../../net/warn-limiter.js';
import type { Logger } from '../../telemetry/logger.js';
import { checkPing, helo, type Helo, type ServerAuth } from './handshake.js';
import type { MemoryBudget } from './limits.js';
import { MsgpackError, ObjectScanner, Reader } from './msgpack.js';
import { decodeRequest, encodeAck, type Mapping, type Request } from './protocol.js';

/** Most bytes read before the handshake has succeeded (a PING is a few hundred bytes). */
export const HANDSHAKE_MAX_BYTES = 64 * 1024;
/** Most events decoded ahead into one batch from requests already received. */
const BATCH_EVENTS = 20_000;
const MIN_BUFFER = 64 * 1024;
/**
 * A connection keeps a request buffer up to this size between requests (so the next request is read into it without
 * growing it again), while the source holds less than half its maxBufferedBytes; a larger one is given back.
 */
const KEEP_BUFFER = 1024 * 1024;

export interface ForwardServerOptions {
  mapping: Mapping;
  maxMessageBytes: number;
  maxEntries: number;
  /** A request in progress (or a handshake) that sends nothing for this long closes the connection; 0 = never. */
  readTimeoutMs: number;
  /** A connection with no request for this long is closed; 0 = never. */
  idleTimeoutMs: number;
  auth?: ServerAuth;
  budget: MemoryBudget;
  logger: Logger;
}

export interface ForwardHooks {
  /** Commits the events; resolves true once committed, false when it gave up (the connection is then closed). */
  commit(events: FlumeEvent[], requests: number, signal: AbortSignal): Promise<boolean>;
  /** A connection was closed for bad input or a broken limit. */
  readFail(): void;
}

/** Rate-limited warnings about clients, shared by the connections of one source. */
export class ClientWarnings {
  private readonly limiter = new WarnLimiter();
  constructor(private readonly logger: Logger) {}
  warn(key: string, message: string, fields: Record<string, unknown>): void {
    this.limiter.log(this.logger, key, message, fields);
  }
}

export class ForwardConnection implements Tracked {
  readonly closed: Promise<void>;
  private buf: Buffer | undefined;
  /** Bytes of `buf` reserved from the budget. */
  private reserved = 0;
  private start = 0;
  private fill = 0;
  private scanner: ObjectScanner;
  /** Requests are being decoded, committed and acknowledged (the loop of process()). */
  private busy = false;
  /** A decode is awaiting (gunzip) and holds `buf`: an append must not move bytes inside it. */
  private decoding = false;
  /** Reading was paused while busy because a whole request is waiting already. */
  private paused = false;
  private stopping = false;
  private gone = false;
  private helo: Helo | undefined;
  private readonly remote: string;
  /** Aborted when the connection closes: a commit being retried gives up. */
  readonly abort = new AbortController();

  constructor(
    private readonly socket: net.Socket,
    private readonly o: ForwardServerOptions,
    private readonly hooks: ForwardHooks,
    private readonly warnings: ClientWarnings,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        this.gone = true;
        this.abort.abort();
        this.release();
        resolve();
      }),
    );
    socket.on('error', (err) => this.o.logger.debug('Forward connection error', { remote: this.remote, error: err }));
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('end', () => this.stop());
    socket.on('timeout', () => this.onTimeout());
    this.scanner = new ObjectScanner(o.auth ? HANDSHAKE_MAX_BYTES : o.maxMessageBytes);
    if (o.auth) {
      this.helo = helo(o.auth);
      socket.write(this.helo.message);
    }
    this.arm();
  }

  /** Stop reading; close once the requests being committed are answered. */
  stop(): void {
    this.stopping = true;
    if (!this.busy) this.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private end(): void {
    if (this.gone) return;
    this.socket.pause();
    this.socket.end();
    setTimeout(() => this.socket.destroy(), LINGER_MS).unref();
  }

  private fail(reason: string, count = true): void {
    if (this.gone) return;
    this.warnings.warn(reason.slice(0, 40), 'Closing forward connection', { remote: this.remote, reason });
    if (count) this.hooks.readFail();
    this.socket.destroy();
  }

  private arm(): void {
    if (this.gone) return;
    if (this.busy) {
      this.socket.setTimeout(0);
      return;
    }
    const reading = this.helo !== undefined || this.scanner.started || this.fill > this.start;
    const ms = reading ? this.o.readTimeoutMs : this.o.idleTimeoutMs;
    this.socket.setTimeout(ms > 0 ? ms : 0);
  }

  private onTimeout(): void {
    if (this.busy || this.gone) return;
    if (this.helo) return this.fail(`no handshake within ${this.o.readTimeoutMs} ms`);
    if (this.scanner.started || this.fill > this.start)
      return this.fail(`stalled: no bytes for ${this.o.readTimeoutMs} ms in the middle of a request`);
    this.o.logger.debug('Closing idle forward connection', { remote: this.remote });
    this.end();
  }

  private release(): void {
    if (this.reserved) this.o.budget.give(this.reserved);
    this.reserved = 0;
    this.buf = undefined;
    this.start = this.fill = 0;
  }

  /**
   * Appends the bytes. While a request is being committed, reading goes on until the next request is complete (it is
   * decoded once the commit is acknowledged); only then is the socket paused, so at most one request waits per
   * connection besides the one being committed, always within the budget.
   */
  private onData(d: Buffer): void {
    if (this.gone || this.stopping) return;
    if (!this.append(d)) return;
    let ready: boolean;
    try {
      ready = this.helo !== undefined || this.next() >= 0;
    } catch {
      // bad input: the scanner throws again (its state unchanged) in process(), after the requests before it are
      // committed and acknowledged, and the connection is closed there
      ready = true;
    }
    if (this.busy) {
      if (ready && !this.paused) {
        this.paused = true;
        this.socket.pause();
      }
    } else if (ready) void this.process();
    else this.arm();
  }

  /** Copies `d` into the buffer, growing it (within the budget) as needed. */
  private append(d: Buffer): boolean {
    let buf = this.buf;
    const live = this.fill - this.start;
    if (!buf || this.fill + d.length > buf.length) {
      const need = live + d.length;
      const cap = buf ? buf.length : 0;
      const size = Math.max(
        need,
        MIN_BUFFER,
        need > cap ? Math.min(cap * 2, this.o.maxMessageBytes + MIN_BUFFER) : cap,
      );
      if (size !== cap || this.decoding) {
        if (!this.o.budget.take(size)) {
          this.warnings.warn('budget', 'Closing forward connection: the source holds maxBufferedBytes already', {
            remote: this.remote,
            maxBufferedBytes: this.o.budget.limit,
          });
          this.socket.destroy();
          return false;
        }
        const next = Buffer.allocUnsafe(size);
        if (buf && live > 0) buf.copy(next, 0, this.start, this.fill);
        if (this.reserved) this.o.budget.give(this.reserved);
        this.reserved = size;
        buf = this.buf = next;
      } else if (buf && this.start > 0) {
        buf.copy(buf, 0, this.start, this.fill);
      }
      this.start = 0;
      this.fill = live;
    }
    d.copy(buf!, this.fill);
    this.fill += d.length;
    return true;
  }

  /** Handles every complete request in the buffer, then reads on. */
  private async process(): Promise<void> {
    this.busy = true;
    this.arm();
    try {
      while (!this.gone) {
        const ok = this.helo ? this.handshake() : await this.requests();
        if (!ok) break;
      }
    } catch (err) {
      const bad = err instanceof MsgpackError;
      this.fail(bad ? `bad request: ${err.message}` : `request failed: ${errorMessage(err)}`, bad);
      return;
    } finally {
      this.busy = false;
    }
    if (this.gone) return;
    if (this.stopping) return this.end();
    if (this.fill === this.start && this.buf) {
      if (this.buf.length > MIN_BUFFER && !this.keep()) this.release();
      else this.start = this.fill = 0;
    }
    this.arm();
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /** Whether the empty buffer is kept for the next request: small enough, and the budget has room to spare. */
  private keep(): boolean {
    const b = this.o.budget;
    return this.reserved <= KEEP_BUFFER && b.used <= b.limit / 2;
  }

  /** The next complete request's length (relative to `start`), or -1. */
  private next(): number {
    if (!this.buf || this.fill === this.start) return -1;
    return this.scanner.scan(this.buf.subarray(this.start, this.fill), this.fill - this.start);
  }

  private handshake(): boolean {
    const n = this.next();
    if (n < 0) return false;
    const r = new Reader(this.buf!, this.start, this.start + n);
    const res = checkPing(r.value(), this.helo!, this.o.auth!);
    this.start += n;
    this.scanner = new ObjectScanner(this.o.maxMessageBytes);
    this.socket.write(res.pong);
    if (!res.ok) {
      this.warnings.warn('auth', 'Forward client failed the handshake', { remote: this.remote, reason: res.reason });
      this.hooks.readFail();
      this.stopping = true;
      return false;
    }
    this.helo = undefined;
    return true;
  }

  /**
   * Decodes the complete requests received so far (up to a batch), commits them, acks them. Bad input behind good
   * requests is thrown only once those are committed and acknowledged (it throws again on the next call).
   */
  private async requests(): Promise<boolean> {
    let events: FlumeEvent[] | undefined;
    const acks: Buffer[] = [];
    let requests = 0;
    const now = Date.now();
    for (;;) {
      let req: Request | undefined;
      try {
        req = await this.decodeNext(now);
      } catch (err) {
        if (events) break;
        throw err;
      }
      if (!req) break;
      if (req.kind === 'none') continue;
      requests++;
      if (!events) events = req.events;
      else for (const e of req.events) events.push(e);
      if (req.options.chunk) acks.push(encodeAck(req.options.chunk));
      if (events.length >= BATCH_EVENTS) break;
    }
    if (!events) return false;
    if (events.length > 0 && !(await this.hooks.commit(events, requests, this.abort.signal))) {
      this.socket.destroy();
      return false;
    }
    if (acks.length && !this.gone) this.socket.write(acks.length === 1 ? acks[0]! : Buffer.concat(acks));
    return true;
  }

  /** The next complete request, decoded and consumed; undefined when none is complete. */
  private async decodeNext(now: number): Promise<Request | undefined> {
    const n = this.next();
    if (n < 0) return undefined;
    const lim = { maxEntries: this.o.maxEntries, maxMessageBytes: this.o.maxMessageBytes };
    this.decoding = true;
    try {
      const req = await decodeRequest(this.buf!, this.start, this.start + n, this.o.mapping, lim, now);
      this.start += n;
      this.scanner.reset();
      return req;
    } finally {
      this.decoding = false;
    }
  }
}
