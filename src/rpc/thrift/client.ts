/**
 * Thrift client for Flume's ThriftSourceProtocol (used by the thrift sink): one connection, framed transport,
 * compact or binary protocol, plain TCP or TLS. Calls go one at a time, each with its own request timeout; a
 * timeout, an undecodable answer, a TApplicationException or a lost connection fails the call and destroys the
 * connection (the caller reconnects), as Flume's ThriftRpcClient does. A Status answer keeps the connection.
 */
import type net from 'node:net';
import type tls from 'node:tls';
import type { Duplex } from 'node:stream';
import type { FlumeEvent } from '../../core/event.js';
import { errorMessage } from '../../core/errors.js';
import { connectStream } from '../transport.js';
import { RpcError } from '../avro/client.js';
import { FLUME_MAX_FRAME_BYTES, FrameAssembler } from './framing.js';
import { decodeReply, encodeCall, type CallName } from './flume.js';
import { readerFor, type Status, type ThriftProtocolName } from './protocol.js';

export { RpcError };

export interface ThriftClientOptions {
  host: string;
  port: number;
  protocol: ThriftProtocolName;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  tls?: tls.ConnectionOptions;
}

interface Pending {
  seqid: number;
  name: CallName;
  resolve: (s: Status) => void;
  reject: (e: RpcError) => void;
  timer: NodeJS.Timeout;
  cleanup?: () => void;
}

export class ThriftClient {
  private seqid = 0;
  private pending?: Pending;
  private readonly frames = new FrameAssembler(FLUME_MAX_FRAME_BYTES);
  private closedErr?: RpcError;
  private readonly closeListeners: (() => void)[] = [];
  readonly createdAt = performance.now();

  private constructor(
    private readonly o: ThriftClientOptions,
    private readonly socket: net.Socket,
    private readonly stream: Duplex,
  ) {
    stream.on('data', (d: Buffer) => this.onData(d));
    stream.on('error', (e: Error) =>
      this.fail(new RpcError(`connection to ${this.address} failed: ${e.message}`, 'closed')),
    );
    stream.on('end', () => this.fail(new RpcError(`connection closed by ${this.address}`, 'closed')));
    stream.on('close', () => this.fail(new RpcError(`connection to ${this.address} closed`, 'closed')));
    socket.on('error', () => {});
  }

  static async connect(o: ThriftClientOptions, signal?: AbortSignal): Promise<ThriftClient> {
    try {
      const c = await connectStream({
        host: o.host,
        port: o.port,
        timeoutMs: o.connectTimeoutMs,
        signal,
        tlsClient: o.tls,
      });
      return new ThriftClient(o, c.socket, c.stream);
    } catch (err) {
      throw new RpcError(
        `cannot connect to ${o.host}:${o.port}: ${errorMessage(err)}`,
        signal?.aborted ? 'aborted' : 'connect',
        {
          cause: err,
        },
      );
    }
  }

  get address(): string {
    return `${this.o.host}:${this.o.port}`;
  }

  get closed(): boolean {
    return this.closedErr !== undefined;
  }

  onClose(f: () => void): void {
    if (this.closedErr) f();
    else this.closeListeners.push(f);
  }

  appendBatch(events: readonly FlumeEvent[], signal?: AbortSignal): Promise<Status> {
    return this.call('appendBatch', events, signal);
  }

  append(event: FlumeEvent, signal?: AbortSignal): Promise<Status> {
    return this.call('append', [event], signal);
  }

  private call(name: CallName, events: readonly FlumeEvent[], signal?: AbortSignal): Promise<Status> {
    if (this.closedErr) return Promise.reject(this.closedErr);
    if (this.pending) return Promise.reject(new RpcError('a call is already in flight on this connection', 'protocol'));
    if (signal?.aborted) return Promise.reject(new RpcError('aborted', 'aborted'));
    this.seqid = (this.seqid + 1) | 0;
    const frame = encodeCall(this.o.protocol, name, this.seqid, events);
    return new Promise<Status>((resolve, reject) => {
      const ms = this.o.requestTimeoutMs;
      const timer = setTimeout(
        () => this.fail(new RpcError(`no response from ${this.address} within ${ms} ms`, 'timeout')),
        ms,
      );
      const p: Pending = { seqid: this.seqid, name, resolve, reject, timer };
      if (signal) {
        const onAbort = () => this.fail(new RpcError('aborted', 'aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
        p.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.pending = p;
      this.stream.write(frame);
    });
  }

  private onData(d: Buffer): void {
    this.frames.push(d);
    let frame: Buffer | undefined;
    try {
      frame = this.frames.next();
    } catch (err) {
      this.fail(new RpcError(`bad response from ${this.address}: ${errorMessage(err)}`, 'protocol'));
      return;
    }
    if (!frame) return;
    const p = this.pending;
    if (!p) {
      this.fail(new RpcError(`unexpected message from ${this.address}`, 'protocol'));
      return;
    }
    let reply;
    try {
      reply = decodeReply(readerFor(this.o.protocol, frame));
    } catch (err) {
      this.fail(new RpcError(`undecodable response from ${this.address}: ${errorMessage(err)}`, 'protocol'));
      return;
    }
    if (reply.head.seqid !== p.seqid || reply.head.name !== p.name) {
      this.fail(
        new RpcError(`response to ${reply.head.name} #${reply.head.seqid}, expected ${p.name} #${p.seqid}`, 'protocol'),
      );
      return;
    }
    if ('error' in reply) {
      this.fail(new RpcError(`server ${this.address} answered with an exception: ${reply.error}`, 'remote'));
      return;
    }
    this.pending = undefined;
    clearTimeout(p.timer);
    p.cleanup?.();
    p.resolve(reply.status);
  }

  private fail(err: RpcError): void {
    if (this.closedErr) return;
    this.closedErr = err;
    const p = this.pending;
    this.pending = undefined;
    if (p) {
      clearTimeout(p.timer);
      p.cleanup?.();
      p.reject(err);
    }
    this.stream.destroy();
    this.socket.destroy();
    for (const f of this.closeListeners.splice(0)) f();
  }

  /** Closes the connection (a call in flight fails). */
  async close(): Promise<void> {
    if (this.closedErr) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 1000);
      this.stream.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      this.stream.end();
    });
    this.fail(new RpcError(`connection to ${this.address} closed`, 'closed'));
  }

  destroy(): void {
    this.fail(new RpcError(`connection to ${this.address} closed`, 'closed'));
  }
}
