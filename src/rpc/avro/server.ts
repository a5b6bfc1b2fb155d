/**
 * Avro RPC server speaking Flume's AvroSourceProtocol over the Netty framing, with the stateful handshake of
 * Java's Responder (reference §11.4): until a connection is "connected" every request starts with a
 * HandshakeRequest; an unknown client protocol without text gets NONE (with our protocol and hash), a known one
 * CLIENT or BOTH, after which calls carry no handshake. Serials are echoed.
 *
 * Per connection, requests are handled one at a time in arrival order (reading pauses while one is processed),
 * so a connection holds at most one message plus one socket chunk. Anything malformed - bad frame numbers,
 * undecodable handshake or call, corrupt deflate or TLS - closes that connection with a logged reason and a
 * `readFail` hook; other connections are untouched.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { FlumeEvent } from '../../core/event.js';
import { AgentError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../telemetry/logger.js';
import { AvroDecodeError, Reader } from './avro-binary.js';
import { FrameDecoder, FrameError, type FrameLimits } from './framing.js';
import {
  checkClientProtocol,
  encodeResponseFrame,
  PROTOCOL_HASH,
  PROTOCOL_JSON,
  readCallHead,
  readEventArray,
  readHandshakeRequest,
  readSingleEvent,
  type DecodeLimits,
  type HandshakeResponse,
  type Status,
} from './protocol.js';
import { serverStream, type LayerOptions } from './transport.js';
import { IDLE_EVICT_MIN_MS, listen } from '../../net/listen.js';
import { WarnLimiter } from '../../net/warn-limiter.js';
import { ByteBudget } from '../../net/byte-budget.js';

export type CallKind = 'append' | 'appendBatch';

export interface ServerHooks {
  /** Handles decoded events; resolves with the status to answer. Should not throw (a throw answers FAILED). */
  handle(events: FlumeEvent[], kind: CallKind): Promise<Status>;
  /** A connection was closed because of malformed or hostile input. */
  readFail?(reason: string, remote: string): void;
  /** The number of open connections changed. */
  connections?(open: number): void;
  /** Decides whether a client may connect (ipFilter). */
  accept?(remoteAddress: string): boolean | Promise<boolean>;
}

export interface RpcServerOptions {
  host: string;
  port: number;
  layers: LayerOptions;
  frameLimits: FrameLimits;
  decodeLimits: DecodeLimits;
  /**
   * A connection that has not completed its handshake, or is in the middle of a message, and sends nothing for this
   * long is closed.
   */
  readTimeoutMs: number;
  /** A connection with no request for this long is closed; 0 = never. */
  idleTimeoutMs: number;
  maxConnections: number;
  /**
   * Most bytes buffered from clients over all connections (partial, queued and in-progress messages); a connection
   * that would go beyond is closed, after the partial messages of connections still in their handshake were dropped
   * to make room for a connected one. Default: no cap.
   */
  maxBufferedBytes?: number;
  logger: Logger;
  /** Who listens, for the start error (FLUME_ERR_SOURCE_START): `avro source r1`. */
  owner?: string;
}

/** Remembers client protocols by hash (bounded; ours is always known). */
class ProtocolCache {
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

class Connection {
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

export class AvroRpcServer {
  readonly protocols = new ProtocolCache();
  /** Bytes buffered from clients, over all connections (maxBufferedBytes). */
  readonly budget: ByteBudget;
  private server?: net.Server;
  private readonly conns = new Set<Connection>();
  private idleWaiters: (() => void)[] = [];
  private readonly warnings = new WarnLimiter();

  constructor(
    readonly o: RpcServerOptions,
    readonly hooks: ServerHooks,
  ) {
    this.budget = new ByteBudget(o.maxBufferedBytes ?? Infinity);
  }

  /**
   * @internal Takes `n` bytes of the budget for `c`. When they do not fit, partial messages of connections still in
   * their handshake are dropped, largest first, to make room: any of them for a connected client, those larger than
   * what `c` would hold for one still in its handshake. Clients that never handshake cannot lock out those that do.
   */
  reserve(c: Connection, n: number): boolean {
    if (this.budget.take(n)) return true;
    const mine = c.heldBytes + n;
    const victims = [...this.conns].filter((v) => v !== c && v.evictableBytes > (c.connected ? 0 : mine));
    victims.sort((a, b) => b.evictableBytes - a.evictableBytes);
    for (const v of victims) {
      this.warn(
        'Closing connection: it holds a partial message before its handshake while maxBufferedBytes is reached',
        {
          remote: v.remote,
          bufferedBytes: v.evictableBytes,
        },
      );
      v.destroy();
      if (this.budget.take(n)) return true;
    }
    return false;
  }

  /** Closes the connection idle the longest (at least `minIdleMs`), to make room for a new client; false if none. */
  private evictIdle(minIdleMs: number): boolean {
    let best: Connection | undefined;
    for (const c of this.conns) if (c.idleMs >= minIdleMs && (!best || c.idleMs > best.idleMs)) best = c;
    if (!best) return false;
    this.o.logger.debug('Closing the longest idle connection: maxConnections reached', { remote: best.remote });
    best.destroy();
    return true;
  }

  /** @internal A warning about a client, rate-limited. */
  warn(message: string, fields: Record<string, unknown>): void {
    this.warnings.log(this.o.logger, message, message, fields);
  }

  get openConnections(): number {
    return this.conns.size;
  }

  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : 0;
  }

  listen(): Promise<number> {
    const server = net.createServer({ pauseOnConnect: true, noDelay: true });
    this.server = server;
    server.maxConnections = this.o.maxConnections;
    server.on('connection', (s) => this.onConnection(s));
    server.on('drop', (d) => {
      // idle connections must not lock new clients out: the longest idle one makes room for the next attempt
      const evicted = this.evictIdle(IDLE_EVICT_MIN_MS);
      this.warn('Connection refused: maxConnections reached', {
        maxConnections: this.o.maxConnections,
        remote: d?.remoteAddress,
        ...(evicted ? { closedIdle: 1 } : {}),
      });
    });
    server.on('error', (e) => this.o.logger.error('Avro RPC server error', { error: errorMessage(e) }));
    return listen(server, { host: this.o.host, port: this.o.port, owner: this.o.owner ?? 'Avro RPC server' });
  }

  private onConnection(socket: net.Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.on('error', () => {}); // reported through the stream; never an uncaught error
    socket.setKeepAlive(true, 60_000);
    const go = (ok: boolean) => {
      if (!ok) {
        this.warn('Connection denied by ipFilterRules', { remote });
        socket.destroy();
        return;
      }
      if (socket.destroyed || !this.server?.listening) {
        socket.destroy();
        return;
      }
      let stream: Duplex;
      try {
        stream = serverStream(socket, this.o.layers);
      } catch (err) {
        this.o.logger.error('Could not set up the connection layers', { remote, error: errorMessage(err) });
        socket.destroy();
        return;
      }
      const c = new Connection(this, socket, stream, remote);
      this.conns.add(c);
      // at the cap: keep a slot free for the next client by closing the connection idle the longest
      if (this.conns.size >= this.o.maxConnections) this.evictIdle(IDLE_EVICT_MIN_MS);
      this.hooks.connections?.(this.conns.size);
      c.start();
      socket.resume();
    };
    if (!this.hooks.accept) return go(true);
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = this.hooks.accept(socket.remoteAddress ?? '');
    } catch {
      verdict = false;
    }
    if (typeof verdict === 'boolean') go(verdict);
    else verdict.then(go, () => go(false));
  }

  /** @internal */
  forget(c: Connection): void {
    if (!this.conns.delete(c)) return;
    this.hooks.connections?.(this.conns.size);
    if (this.conns.size === 0) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  /**
   * Stops accepting; lets each connection finish the request in progress, then closes it; destroys stragglers after
   * `graceMs`.
   */
  async close(graceMs = 5000): Promise<void> {
    this.server?.close();
    for (const c of [...this.conns]) c.end();
    if (this.conns.size > 0) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, graceMs);
        this.idleWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    for (const c of [...this.conns]) c.destroy();
  }

  destroy(): void {
    this.server?.close();
    for (const c of [...this.conns]) c.destroy();
  }
}
