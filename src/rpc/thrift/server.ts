/**
 * Thrift server for Flume's ThriftSourceProtocol over the framed transport (compact or binary protocol), plain TCP
 * or TLS. Per connection, requests are handled one at a time in arrival order (reading pauses while one is being
 * handled), so a connection holds at most one frame plus what the socket had buffered. Frame lengths are checked
 * before the bytes are accepted, and reserved from the source's memory budget when it has one (a connection whose
 * frame does not fit waits, unread, until others give bytes back). Malformed input closes that connection with a
 * logged, counted reason; other connections are untouched.
 *
 * Answers follow Flume's ThriftSource: the handler's Status (OK once committed, FAILED when a channel refused);
 * a method that is not Flume's -> TApplicationException UNKNOWN_METHOD; a handler that throws ->
 * TApplicationException INTERNAL_ERROR "Internal error processing <method>".
 */
import net from 'node:net';
import tls from 'node:tls';
import type { FlumeEvent } from '../../core/event.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../telemetry/logger.js';
import type { SourceCounters } from '../../telemetry/counters.js';
import { Listener, idleTimeout, type Tracked } from '../../net/listen.js';
import { WarnLimiter } from '../../net/warn-limiter.js';
import type { ServerTls } from '../../net/tls/index.js';
import { FrameAssembler } from './framing.js';
import { decodeCall, encodeException, encodeReply, type CallName, type DecodeLimits } from './flume.js';
import { AppError, MessageType, readerFor, type Status, type ThriftProtocolName } from './protocol.js';

/** Bytes held by the connections of one source, against one cap (the shared network budget's shape). */
export interface MemoryBudget {
  take(n: number): boolean;
  give(n: number): void;
  onRelease(f: () => void): () => void;
}

export interface ThriftServerHooks {
  /** Handles decoded events; resolves with the status to answer. A throw answers INTERNAL_ERROR. */
  handle(events: FlumeEvent[], kind: CallName): Promise<Status>;
  /** A connection was closed because of malformed or hostile input. */
  readFail?(reason: string, remote: string): void;
  /** Decides whether a client may connect (ipFilter). */
  accept?(remoteAddress: string): boolean;
}

export interface ThriftServerOptions {
  host: string;
  port: number;
  protocol: ThriftProtocolName;
  tls?: ServerTls;
  maxFrameBytes: number;
  decodeLimits: DecodeLimits;
  /** A connection in the middle of a frame that sends nothing for this long is closed (0 = never). */
  readTimeoutMs: number;
  /** A connection between requests that sends nothing for this long is closed (0 = never). */
  idleTimeoutMs: number;
  maxConnections: number;
  budget?: MemoryBudget;
  logger: Logger;
  counters?: SourceCounters;
  /** Who listens, for start errors and log lines: `thrift source r1`. */
  owner: string;
}

export class ThriftServer {
  private readonly listener: Listener<Connection>;
  private boundPort = 0;
  readonly warn = new WarnLimiter();

  constructor(
    readonly o: ThriftServerOptions,
    readonly hooks: ThriftServerHooks,
  ) {
    this.listener = new Listener<Connection>({
      owner: o.owner,
      logger: o.logger,
      counters: o.counters,
      maxConnections: o.maxConnections,
      label: o.owner,
    });
  }

  get port(): number {
    return this.boundPort;
  }

  get openConnections(): number {
    return this.listener.connections.size;
  }

  async listen(): Promise<number> {
    const onSocket = (socket: net.Socket) => {
      const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
      if (this.hooks.accept && !this.hooks.accept(socket.remoteAddress ?? '')) {
        this.limitedWarn('denied', 'Connection refused by ipFilterRules', { remote });
        socket.destroy();
        return;
      }
      this.listener.connections.add(new Connection(this, socket, remote));
    };
    const server = this.o.tls ? tls.createServer(this.o.tls) : net.createServer();
    if (this.o.tls) {
      server.on('secureConnection', onSocket);
      server.on('tlsClientError', (err, socket) => {
        this.hooks.readFail?.(`TLS: ${err.message}`, `${socket.remoteAddress ?? '?'}`);
        this.limitedWarn('tls', 'TLS handshake failed', { remote: socket.remoteAddress, error: err.message });
      });
    } else server.on('connection', onSocket);
    this.boundPort = await this.listener.listen(server, this.o.host, this.o.port);
    return this.boundPort;
  }

  limitedWarn(key: string, message: string, fields: Record<string, unknown>): void {
    this.warn.log(this.o.logger, key, message, fields);
  }

  /** Stops accepting; requests in flight are answered for up to `graceMs`, then what is left is closed. */
  close(graceMs: number): Promise<void> {
    return this.listener.close(graceMs);
  }

  destroy(): void {
    this.listener.destroy();
  }
}

class Connection implements Tracked {
  readonly closed: Promise<void>;
  private readonly frames: FrameAssembler;
  private busy = false;
  private stopping = false;
  private reserved = 0;
  private refused = false;
  private ended = false;
  private cancelWait?: () => void;

  constructor(
    private readonly server: ThriftServer,
    private readonly socket: net.Socket,
    private readonly remote: string,
  ) {
    this.frames = new FrameAssembler(server.o.maxFrameBytes);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => {});
    socket.on('close', () => this.release());
    socket.on('data', (chunk: Buffer) => {
      this.frames.push(chunk);
      this.pump();
    });
    socket.on('end', () => {
      this.ended = true;
      if (!this.busy) socket.end();
    });
    this.arm();
  }

  /** The timer for the state the connection is in: mid-frame (readTimeout), idle (idleTimeout), or none. */
  private arm(): void {
    const o = this.server.o;
    if (this.busy || this.cancelWait) idleTimeout(this.socket, 0);
    else idleTimeout(this.socket, this.frames.partial ? o.readTimeoutMs : o.idleTimeoutMs);
  }

  private release(): void {
    this.cancelWait?.();
    this.cancelWait = undefined;
    if (this.reserved) this.server.o.budget?.give(this.reserved);
    this.reserved = 0;
  }

  private reserve = (n: number): boolean => {
    const budget = this.server.o.budget;
    if (!budget) return true;
    if (budget.take(n)) {
      this.reserved = n;
      return true;
    }
    this.refused = true;
    return false;
  };

  private pump(): void {
    if (this.busy || this.cancelWait || this.socket.destroyed) return;
    let frame: Buffer | undefined;
    try {
      frame = this.frames.next(this.reserve);
    } catch (err) {
      this.fail(errorMessage(err));
      return;
    }
    if (!frame) {
      if (this.refused && this.server.o.budget) {
        // the declared frame does not fit in the source's memory budget: stop reading until bytes are given back
        this.refused = false;
        this.socket.pause();
        this.cancelWait = this.server.o.budget.onRelease(() => {
          this.cancelWait = undefined;
          this.socket.resume();
          this.pump();
        });
      }
      this.arm();
      if (this.stopping && !this.frames.partial) this.socket.end();
      return;
    }
    this.busy = true;
    this.socket.pause();
    this.arm();
    void this.handle(frame).then(() => {
      this.busy = false;
      this.release();
      if (this.socket.destroyed) return;
      if (this.ended) {
        this.socket.end();
        return;
      }
      this.socket.resume();
      this.pump();
    });
  }

  private async handle(frame: Buffer): Promise<void> {
    const { o, hooks } = this.server;
    let call;
    try {
      call = decodeCall(readerFor(o.protocol, frame), o.decodeLimits);
    } catch (err) {
      this.fail(`undecodable ${o.protocol} protocol call: ${errorMessage(err)}`);
      return;
    }
    const { head, events } = call;
    const oneway = head.type === MessageType.ONEWAY;
    if (!events) {
      this.server.limitedWarn('method', 'A client called a method Flume does not have', {
        method: head.name,
        remote: this.remote,
      });
      if (!oneway)
        this.write(
          encodeException(
            o.protocol,
            head.name,
            head.seqid,
            AppError.UNKNOWN_METHOD,
            `Invalid method name: '${head.name}'`,
          ),
        );
      return;
    }
    let reply: Buffer;
    try {
      const status = await hooks.handle(events, head.name as CallName);
      reply = encodeReply(o.protocol, head.name, head.seqid, status);
    } catch (err) {
      this.server.limitedWarn('internal', 'Internal error processing a thrift call', {
        method: head.name,
        error: errorMessage(err),
      });
      reply = encodeException(
        o.protocol,
        head.name,
        head.seqid,
        AppError.INTERNAL_ERROR,
        `Internal error processing ${head.name}`,
      );
    }
    if (!oneway) this.write(reply);
  }

  private write(b: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(b);
  }

  private fail(reason: string): void {
    this.server.hooks.readFail?.(reason, this.remote);
    this.server.limitedWarn('bad-input', 'Closed a thrift connection: bad input', { remote: this.remote, reason });
    this.socket.destroy();
  }

  stop(): void {
    this.stopping = true;
    if (!this.busy && !this.frames.partial) this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
