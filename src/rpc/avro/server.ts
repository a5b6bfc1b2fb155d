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
import type { Duplex } from 'node:stream';
import type { FlumeEvent } from '../../core/event.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../telemetry/logger.js';
import { type FrameLimits } from './framing.js';
import { type DecodeLimits, type Status } from './protocol.js';
import { serverStream, type LayerOptions } from '../transport.js';
import { IDLE_EVICT_MIN_MS, listen } from '../../net/listen.js';
import { WarnLimiter } from '../../net/warn-limiter.js';
import { ByteBudget } from '../../net/byte-budget.js';

import { Connection, ProtocolCache } from './connection.js';

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
