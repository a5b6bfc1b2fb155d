/**
 * Listening, shared by every network source: bind a host and port (0 = any free port, the bound one is
 * returned), start errors as AgentError FLUME_ERR_SOURCE_START naming the source, the address and the reason
 * (EADDRINUSE, EACCES, ...), the open connections (OpenConnectionCount), a per-connection idle timeout, and the
 * graceful close: stop accepting, let the work in flight finish for a grace period, then destroy what is left.
 *
 * Users: netcat, syslogtcp and multiport_syslogtcp (Listener + QueuedConnection), http (Listener over its
 * sockets), the avro RPC server (listen()), the UDP intake of syslogudp and netcatudp (bindUdp()).
 */
import type net from 'node:net';
import type dgram from 'node:dgram';
import { AgentError, errorMessage } from '../core/errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { SourceCounters } from '../telemetry/counters.js';
import { WarnLimiter } from './warn-limiter.js';
import { ByteBudget } from './byte-budget.js';

/** How long connections may take to close once the grace period is over before they are destroyed. */
export const LINGER_MS = 1000;

export interface ListenAt {
  host: string;
  port: number;
  /** Who listens, for the start error: `netcat source r1`. */
  owner: string;
}

const REASONS: Record<string, string> = {
  EADDRINUSE: 'the address is already in use',
  EACCES: 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
  EADDRNOTAVAIL: "the address is not one of this host's (EADDRNOTAVAIL)",
  ENOTFOUND: 'the host name cannot be resolved',
  EAI_AGAIN: 'the host name cannot be resolved right now (EAI_AGAIN)',
};

/** FLUME_ERR_SOURCE_START for a failed listen or bind, with the reason in words. */
export function startError(verb: string, at: ListenAt, err: unknown): AgentError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const why = (code && REASONS[code]) ?? errorMessage(err);
  const message = `${at.owner} cannot ${verb} ${at.host}:${at.port}: ${why}`;
  return new AgentError('FLUME_ERR_SOURCE_START', message, { cause: err });
}

/** Listens (exclusively) on `at`; resolves the bound port. */
export function listen(server: net.Server, at: ListenAt): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(startError('listen on', at, err));
    };
    const onListening = () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : at.port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host: at.host, port: at.port, exclusive: true });
  });
}

/** Binds a UDP socket (exclusively) to `at`; resolves the bound port. The socket is closed when binding fails. */
export function bindUdp(socket: dgram.Socket, at: ListenAt): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      socket.close();
      reject(startError('bind UDP', at, err));
    };
    socket.once('error', onError);
    socket.bind({ address: at.host, port: at.port, exclusive: true }, () => {
      socket.off('error', onError);
      resolve(socket.address().port);
    });
  });
}

/** Destroys `socket` when it has been idle (nothing read or written) for `ms`; 0 disarms. */
export function idleTimeout(socket: net.Socket, ms: number): void {
  if (ms > 0) socket.setTimeout(ms, () => socket.destroy());
  else socket.setTimeout(0);
}

/** One tracked connection. */
export interface Tracked {
  /** Resolves when the connection is closed. */
  readonly closed: Promise<void>;
  /** The source is closing: finish the work in flight, then close. */
  stop(): void;
  /** Close now. */
  destroy(): void;
  /**
   * Milliseconds since the connection last did anything, when it holds nothing (no input queued, no batch in
   * flight): such a connection may be closed to make room for a new client. -1 while busy. Absent: never idle.
   */
  idleMs?(): number;
}

/** A connection idle at least this long may be closed to make room for a new client at maxConnections. */
export const IDLE_EVICT_MIN_MS = 1000;

/** A bare socket as a tracked connection: it closes itself when its work is done (e.g. the http server's). */
export function trackedSocket(socket: net.Socket): Tracked {
  return {
    closed: new Promise((resolve) => socket.once('close', () => resolve())),
    stop: () => undefined,
    destroy: () => socket.destroy(),
  };
}

/** The open connections of a source: keeps OpenConnectionCount current. */
export class ConnectionSet<C extends Tracked = Tracked> {
  private readonly conns = new Set<C>();

  constructor(
    private readonly counters?: SourceCounters,
    private readonly added?: () => void,
  ) {}

  get size(): number {
    return this.conns.size;
  }

  /** The connection idle the longest, at least `minIdleMs` (see Tracked.idleMs). */
  longestIdle(minIdleMs: number): C | undefined {
    let best: C | undefined;
    let bestMs = minIdleMs;
    for (const c of this.conns) {
      const ms = c.idleMs?.() ?? -1;
      if (ms >= bestMs) {
        best = c;
        bestMs = ms;
      }
    }
    return best;
  }

  add(conn: C): void {
    this.conns.add(conn);
    this.added?.();
    this.counters?.set('OpenConnectionCount', this.conns.size);
    void conn.closed.then(() => {
      this.conns.delete(conn);
      this.counters?.set('OpenConnectionCount', this.conns.size);
    });
  }

  stopAll(): void {
    for (const c of this.conns) c.stop();
  }

  /** Resolves when every connection open now has closed. */
  allClosed(): Promise<void> {
    return Promise.all([...this.conns].map((c) => c.closed)).then(() => undefined);
  }

  destroyAll(): void {
    for (const c of this.conns) c.destroy();
  }
}

export interface ListenerOptions {
  /** Who listens, for the start error: `netcat source r1`. */
  owner: string;
  logger: Logger;
  /** OpenConnectionCount is kept in these. */
  counters?: SourceCounters;
  /**
   * Further connections are closed at once (and logged, rate-limited). Idle connections do not lock new clients
   * out: at the cap the connection idle the longest (IDLE_EVICT_MIN_MS at least) is closed to keep a slot free.
   */
  maxConnections?: number;
  /** Cap on the bytes buffered from clients over all connections (`budget`); default none. */
  maxBufferedBytes?: number;
  /** Starts the log line of a server error after start: `<label> server error`. */
  label: string;
}

export interface GracefulClose {
  /** The work in flight; default: every connection closed (they close themselves when done). */
  work?: Promise<void>;
  /** Called when the grace period is over (e.g. retries give up). */
  onGraceOver?: () => void;
  /** After the grace period, how long the work may still take before everything is destroyed (default LINGER_MS). */
  lingerMs?: number;
}

/** The servers (one per port) of a source and their connections. */
export class Listener<C extends Tracked = Tracked> {
  readonly connections: ConnectionSet<C>;
  private servers: net.Server[] = [];
  /** The one limiter for warnings about this source's clients. */
  readonly warnings = new WarnLimiter();
  /** Bytes buffered from clients over all connections (maxBufferedBytes). */
  readonly budget: ByteBudget;

  constructor(private readonly o: ListenerOptions) {
    this.connections = new ConnectionSet(o.counters, () => this.afterAdd());
    this.budget = new ByteBudget(o.maxBufferedBytes ?? Infinity);
  }

  /** At the cap, closes the connection idle the longest so the next client finds a slot. */
  private afterAdd(): void {
    const max = this.o.maxConnections;
    if (max !== undefined && this.connections.size >= max) this.evictIdle();
  }

  private evictIdle(): boolean {
    const c = this.connections.longestIdle(IDLE_EVICT_MIN_MS);
    if (!c) return false;
    this.o.logger.debug('Closing the longest idle connection to make room: maxConnections reached');
    c.destroy();
    return true;
  }

  get listening(): boolean {
    return this.servers.length > 0;
  }

  /** Listens with `server` (net, tls, http or https) on host:port; resolves the bound port. */
  async listen(server: net.Server, host: string, port: number): Promise<number> {
    const { o } = this;
    if (o.maxConnections !== undefined) server.maxConnections = o.maxConnections;
    const bound = await listen(server, { host, port, owner: o.owner });
    this.servers.push(server);
    server.on('error', (err) => o.logger.error(`${o.label} server error`, { port: bound, error: errorMessage(err) }));
    server.on('drop', (d) => {
      const evicted = this.evictIdle();
      this.warnings.log(o.logger, 'drop', 'Connection refused: maxConnections reached', {
        maxConnections: o.maxConnections,
        remote: d?.remoteAddress,
        ...(evicted ? { closedIdle: 1 } : {}),
      });
    });
    return bound;
  }

  /** Tracks every socket `server` accepts as a connection (servers that run the connections themselves: http). */
  trackSockets(server: net.Server): void {
    server.on('connection', (s: net.Socket) => this.connections.add(trackedSocket(s) as C));
  }

  /**
   * Graceful close: the servers stop accepting, every connection is asked to stop; once the work in flight is
   * done - or the grace period plus the linger time has passed - what is still open is destroyed. Resolves when the
   * servers and connections are closed.
   */
  async close(graceMs: number, g: GracefulClose = {}): Promise<void> {
    const servers = this.servers;
    this.servers = [];
    const closed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    this.connections.stopAll();
    const work = g.work ?? this.connections.allClosed();
    let hard: NodeJS.Timeout | undefined;
    const grace = setTimeout(() => g.onGraceOver?.(), graceMs);
    const deadline = new Promise<void>((resolve) => (hard = setTimeout(resolve, graceMs + (g.lingerMs ?? LINGER_MS))));
    try {
      await Promise.race([work, deadline]);
    } finally {
      clearTimeout(grace);
      clearTimeout(hard);
    }
    this.connections.destroyAll();
    await this.connections.allClosed();
    this.o.counters?.set('OpenConnectionCount', 0);
    await closed;
  }

  /** Closes everything now. */
  destroy(): void {
    for (const s of this.servers) s.close();
    this.servers = [];
    this.connections.destroyAll();
  }
}
