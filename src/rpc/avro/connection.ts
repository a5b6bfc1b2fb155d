/** One connection of the Avro RPC server: handshake state, framing, the request queue, timers and memory accounting. */
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { FlumeEvent } from '../../core/event.js';
import { AgentError, errorMessage } from '../../core/errors.js';
import { AvroDecodeError, Reader } from './avro-binary.js';
import { FrameDecoder, FrameError } from './framing.js';
import {
  checkClientProtocol,
  encodeResponseFrame,
  PROTOCOL_HASH,
  PROTOCOL_JSON,
  readCallHead,
  readEventArray,
  readHandshakeRequest,
  readSingleEvent,
  type HandshakeResponse,
  type Status,
} from './protocol.js';
import type { AvroRpcServer, CallKind } from './server.js';

/** Remembers client protocols by hash (bounded; ours is always known). */
export class ProtocolCache {
  private readonly known = new Map<string, true>();
  constructor(private readonly max = 256) {
    this.known.set(PROTOCOL_HASH.toString('hex'), true);
  }
  has(hash: Buffer): boolean {
    return this.known.has(hash.toString('hex'));
  }
  add(hash: Buffer): void {
    const k = hash.toString('hex');
    if (this.known.has(k)) return;
    if (this.known.size >= this.max) {
      const first = this.known.keys().next().value as string;
      if (first !== PROTOCOL_HASH.toString('hex')) this.known.delete(first);
    }
    this.known.set(k, true);
  }
}

class ProtocolViolation extends AgentError {
  constructor(message: string) {
    super('FLUME_ERR_RPC_PROTOCOL', message);
    this.name = 'ProtocolViolation';
  }
}

const LINGER_MS = 2000;

export class Connection {
  connected = false;
  closed = false;
  private closing = false;
  private busy = false;
  private readonly queue: { serial: number; msg: Buffer }[] = [];
  private readonly decoder: FrameDecoder;
  private timer?: NodeJS.Timeout;
  private lastActivity = performance.now();
  /** Bytes of this connection counted in the server's budget. */
  private accounted = 0;
  /** Bytes of the complete messages queued, and of the one being handled. */
  private queuedBytes = 0;
  private handlingBytes = 0;

  constructor(
    private readonly server: AvroRpcServer,
    readonly socket: net.Socket,
    readonly stream: Duplex,
    readonly remote: string,
  ) {
    this.decoder = new FrameDecoder(server.o.frameLimits, (serial, msg) => this.onMessage(serial, msg));
  }

  start(): void {
    this.stream.on('data', (d: Buffer) => this.onData(d));
    this.stream.on('error', (e: Error) =>
      this.fail(`connection error: ${e.message}`, !/ECONNRESET|EPIPE/.test(e.message)),
    );
    this.stream.on('end', () => this.end());
    this.stream.on('close', () => this.onClosed());
    this.socket.on('close', () => this.onClosed());
    const tlsMs = this.server.o.layers.tlsServer?.handshakeTimeout ?? 0;
    if (tlsMs > 0 && this.stream instanceof tls.TLSSocket) {
      // sslHandshakeTimeout: a client that connects and never completes the TLS handshake is dropped
      const t = setTimeout(() => this.fail(`no TLS handshake within ${tlsMs} ms`, true), tlsMs);
      t.unref();
      this.stream.once('secure', () => clearTimeout(t));
      this.stream.once('close', () => clearTimeout(t));
    }
    this.arm();
  }

  private onData(d: Buffer): void {
    if (this.closed || this.closing) return;
    this.lastActivity = performance.now();
    if (!this.server.reserve(this, d.length)) {
      this.server.warn('Closing connection: the bytes buffered over all connections reached maxBufferedBytes', {
        remote: this.remote,
        maxBufferedBytes: this.server.budget.limit,
        bufferedBytes: this.server.budget.used,
      });
      this.destroy();
      return;
    }
    this.accounted += d.length;
    try {
      this.decoder.push(d);
    } catch (err) {
      this.fail(err instanceof FrameError ? `bad frame: ${err.message}` : `bad input: ${errorMessage(err)}`, true);
      return;
    }
    this.settle();
    if (!this.busy) this.arm();
  }

  /** Bytes held now: the partial message, the queued ones, the one being handled. */
  get heldBytes(): number {
    return this.decoder.bufferedBytes + this.queuedBytes + this.handlingBytes;
  }

  /** Bytes of a partial message held before the handshake completed (what a connected client may evict). */
  get evictableBytes(): number {
    return this.connected || this.busy || this.closed ? 0 : this.decoder.bufferedBytes;
  }

  /** Milliseconds since the last request when nothing is in progress, else -1. */
  get idleMs(): number {
    if (this.busy || this.closed || this.closing || this.decoder.midMessage || this.queue.length) return -1;
    return performance.now() - this.lastActivity;
  }

  /** Brings the server's count of this connection's bytes to what it holds (frame headers are not kept). */
  private settle(): void {
    const now = this.closed ? 0 : this.heldBytes;
    if (now < this.accounted) this.server.budget.give(this.accounted - now);
    else if (now > this.accounted) this.server.budget.force(now - this.accounted);
    this.accounted = now;
  }

  private onMessage(serial: number, msg: Buffer): void {
    if (this.closed || this.closing) return;
    this.queue.push({ serial, msg });
    this.queuedBytes += msg.length;
    if (this.busy) {
      this.stream.pause();
      return;
    }
    void this.drain();
  }

  private async drain(): Promise<void> {
    this.busy = true;
    this.disarm();
    try {
      while (this.queue.length > 0 && !this.closed) {
        const { serial, msg } = this.queue.shift()!;
        this.queuedBytes -= msg.length;
        this.handlingBytes = msg.length;
        let out: Buffer;
        try {
          out = await this.handle(serial, msg);
        } finally {
          this.handlingBytes = 0;
          this.settle();
        }
        if (this.closed) return;
        this.stream.write(out);
      }
    } catch (err) {
      const known = err instanceof AvroDecodeError || err instanceof ProtocolViolation;
      this.fail(known ? `bad request: ${err.message}` : `request failed: ${errorMessage(err)}`, true);
      return;
    } finally {
      this.busy = false;
    }
    if (this.closed) return;
    if (this.closing) {
      this.end();
      return;
    }
    this.lastActivity = performance.now();
    if (this.stream.isPaused()) this.stream.resume();
    this.arm();
  }

  private async handle(serial: number, msg: Buffer): Promise<Buffer> {
    const lim = this.server.o.decodeLimits;
    const r = new Reader(msg);
    let hs: HandshakeResponse | undefined;
    if (!this.connected) {
      const req = readHandshakeRequest(r, lim);
      const cache = this.server.protocols;
      let known = cache.has(req.clientHash);
      if (!known && req.clientProtocol !== null) {
        const problem = checkClientProtocol(req.clientProtocol);
        if (problem) throw new ProtocolViolation(problem);
        cache.add(req.clientHash);
        known = true;
      }
      const match = !known ? 'NONE' : req.serverHash.equals(PROTOCOL_HASH) ? 'BOTH' : 'CLIENT';
      hs =
        match === 'BOTH'
          ? { match, serverProtocol: null, serverHash: null, meta: null }
          : { match, serverProtocol: PROTOCOL_JSON, serverHash: PROTOCOL_HASH, meta: null };
      if (match === 'NONE') return encodeResponseFrame(serial, hs, undefined);
      this.connected = true;
    }
    const name = readCallHead(r, lim);
    if (name === '') return encodeResponseFrame(serial, hs, undefined); // handshake ping
    let events: FlumeEvent[];
    let kind: CallKind;
    if (name === 'appendBatch') {
      kind = 'appendBatch';
      events = readEventArray(r, lim);
    } else if (name === 'append') {
      kind = 'append';
      events = [readSingleEvent(r, lim)];
    } else {
      this.server.warn('Client called an unknown message; answered with an error', {
        remote: this.remote,
        message: name.slice(0, 64),
      });
      return encodeResponseFrame(serial, hs, { error: `No such remote message: ${name}` });
    }
    let status: Status;
    try {
      status = await this.server.hooks.handle(events, kind);
    } catch (err) {
      this.server.o.logger.error('Handler failed; answered FAILED', { remote: this.remote, error: errorMessage(err) });
      status = 'FAILED';
    }
    return encodeResponseFrame(serial, hs, { status });
  }

  // ------------------------------------------------------------------------------------------- timers

  private arm(): void {
    if (this.closed || this.busy) return;
    const o = this.server.o;
    const reading = !this.connected || this.decoder.midMessage;
    const ms = reading ? o.readTimeoutMs : o.idleTimeoutMs;
    if (ms <= 0) {
      this.disarm();
      return;
    }
    const due = Math.max(0, this.lastActivity + ms - performance.now());
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => this.onTimer(), due + 1);
    this.timer.unref();
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.closed || this.busy) return;
    const o = this.server.o;
    const reading = !this.connected || this.decoder.midMessage;
    const ms = reading ? o.readTimeoutMs : o.idleTimeoutMs;
    if (ms > 0 && performance.now() - this.lastActivity >= ms) {
      if (reading) {
        this.fail(
          this.connected
            ? `stalled: no bytes for ${ms} ms in the middle of a request (${this.decoder.bufferedBytes} bytes buffered)`
            : `no complete handshake within ${ms} ms`,
          true,
        );
      } else {
        this.server.o.logger.info('Closing idle connection', { remote: this.remote, idleTimeoutMs: ms });
        this.end();
      }
      return;
    }
    this.arm();
  }

  // ------------------------------------------------------------------------------------------- closing

  /** Closes because of bad input: logs the reason, counts it (when `count`), destroys the connection. */
  fail(reason: string, count: boolean): void {
    if (this.closed) return;
    if (count) {
      this.server.warn('Closing connection', { remote: this.remote, reason });
      this.server.hooks.readFail?.(reason, this.remote);
    } else {
      this.server.o.logger.debug('Connection ended', { remote: this.remote, reason });
    }
    this.destroy();
  }

  /** Graceful end: after the request in progress is answered. */
  end(): void {
    if (this.closed) return;
    if (this.busy) {
      this.closing = true;
      return;
    }
    this.closing = true;
    this.disarm();
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.decoder.reset();
    this.settle();
    this.stream.end();
    const t = setTimeout(() => this.destroy(), LINGER_MS);
    t.unref();
  }

  destroy(): void {
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.decoder.reset();
    this.stream.destroy();
    this.socket.destroy();
    this.onClosed();
  }

  private onClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.disarm();
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.settle();
    if (!this.socket.destroyed) this.socket.destroy();
    this.server.forget(this);
  }
}
