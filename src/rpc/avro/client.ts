/**
 * Avro RPC client for Flume's AvroSourceProtocol (used by the avro sink and `flume-ng avro-client`).
 *
 * connect() opens the socket (plus deflate/TLS layers) and completes the stateful handshake with a ping, as avsc
 * and Java's stateful transceivers do: the first HandshakeRequest carries no protocol text (Java's behaviour); a
 * NONE answer is retried once with the text. Both steps share connect-timeout. Calls then carry no handshake.
 * Each call has a serial (echoed by the server) and its own request timeout; a timeout, a protocol error or a
 * lost connection fails the call and destroys the connection (the caller reconnects).
 */
import type net from 'node:net';
import type { Duplex } from 'node:stream';
import type { FlumeEvent } from '../../core/event.js';
import { errorMessage } from '../../core/errors.js';
import { Reader } from './avro-binary.js';
import { DEFAULT_FRAME_LIMITS, FrameDecoder, type FrameLimits } from './framing.js';
import {
  DEFAULT_DECODE_LIMITS,
  encodeCallFrame,
  PROTOCOL_HASH,
  PROTOCOL_JSON,
  readCallResult,
  readHandshakeResponse,
  type CallName,
  type CallResult,
  type HandshakeResponse,
  type Status,
} from './protocol.js';
import { connectStream, type LayerOptions } from '../transport.js';
import { RpcError } from '../rpc-error.js';

export { RpcError, type RpcErrorKind } from '../rpc-error.js';

export interface RpcClientOptions {
  host: string;
  port: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  layers?: LayerOptions;
  frameLimits?: FrameLimits;
}

interface Pending {
  handshake: boolean;
  resolve: (v: { hs?: HandshakeResponse; result?: CallResult }) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  cleanup?: () => void;
}

/** Server protocol hashes learned per address, so the next connection's first handshake can say BOTH. */
const learnedHashes = new Map<string, Buffer>();

export class AvroRpcClient {
  private serial = 0;
  private readonly pending = new Map<number, Pending>();
  private readonly decoder: FrameDecoder;
  private closedErr?: RpcError;
  private readonly closeListeners: ((err?: RpcError) => void)[] = [];
  readonly createdAt = performance.now();

  private constructor(
    private readonly o: RpcClientOptions,
    readonly socket: net.Socket,
    private readonly stream: Duplex,
  ) {
    this.decoder = new FrameDecoder(o.frameLimits ?? DEFAULT_FRAME_LIMITS, (s, m) => this.onMessage(s, m));
    stream.on('data', (d: Buffer) => {
      try {
        this.decoder.push(d);
      } catch (err) {
        this.fail(new RpcError(`bad response from ${this.address}: ${errorMessage(err)}`, 'protocol'));
      }
    });
    stream.on('error', (e: Error) =>
      this.fail(new RpcError(`connection to ${this.address} failed: ${e.message}`, 'closed', { cause: e })),
    );
    stream.on('end', () => this.fail(new RpcError(`connection closed by ${this.address}`, 'closed')));
    stream.on('close', () => this.fail(new RpcError(`connection to ${this.address} closed`, 'closed')));
    socket.on('error', () => {});
  }

  get address(): string {
    return `${this.o.host}:${this.o.port}`;
  }

  get closed(): boolean {
    return this.closedErr !== undefined;
  }

  /** Called once when the connection goes away (with the reason, or undefined after close()). */
  onClose(f: (err?: RpcError) => void): void {
    if (this.closedErr) f(this.closedErr);
    else this.closeListeners.push(f);
  }

  /** Connects and completes the handshake within connectTimeoutMs. */
  static async connect(o: RpcClientOptions, signal?: AbortSignal): Promise<AvroRpcClient> {
    const start = performance.now();
    let conn;
    try {
      conn = await connectStream({ host: o.host, port: o.port, timeoutMs: o.connectTimeoutMs, signal, ...o.layers });
    } catch (err) {
      throw new RpcError(
        `cannot connect to ${o.host}:${o.port}: ${errorMessage(err)}`,
        signal?.aborted ? 'aborted' : 'connect',
        { cause: err },
      );
    }
    const c = new AvroRpcClient(o, conn.socket, conn.stream);
    try {
      await c.handshake(Math.max(1, o.connectTimeoutMs - (performance.now() - start)), signal);
    } catch (err) {
      c.destroy();
      throw err instanceof RpcError
        ? err
        : new RpcError(`handshake with ${o.host}:${o.port} failed: ${errorMessage(err)}`, 'handshake', { cause: err });
    }
    return c;
  }

  private async handshake(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const key = this.address;
    const deadline = performance.now() + timeoutMs;
    let sendText = false;
    for (let attempt = 0; attempt < 2; attempt++) {
      const serverHash = learnedHashes.get(key) ?? PROTOCOL_HASH;
      const { hs } = await this.send(
        '',
        [],
        {
          handshake: {
            clientHash: PROTOCOL_HASH,
            clientProtocol: sendText ? PROTOCOL_JSON : null,
            serverHash,
            meta: null,
          },
        },
        Math.max(1, deadline - performance.now()),
        signal,
      );
      if (!hs) throw new RpcError('no handshake response', 'handshake');
      if (hs.serverHash) {
        if (learnedHashes.size > 1000) learnedHashes.clear();
        learnedHashes.set(key, hs.serverHash);
      }
      if (hs.match === 'BOTH' || hs.match === 'CLIENT') return;
      if (sendText) break;
      sendText = true;
    }
    throw new RpcError(`server ${key} refused our protocol (handshake NONE after sending it)`, 'handshake');
  }

  /** Sends appendBatch; resolves with the server's Status. Rejects (RpcError) on timeout, I/O or a remote error. */
  async appendBatch(events: readonly FlumeEvent[], signal?: AbortSignal): Promise<Status> {
    return this.status(await this.send('appendBatch', events, {}, this.o.requestTimeoutMs, signal));
  }

  async append(event: FlumeEvent, signal?: AbortSignal): Promise<Status> {
    return this.status(await this.send('append', [event], {}, this.o.requestTimeoutMs, signal));
  }

  private status(r: { result?: CallResult }): Status {
    const res = r.result;
    if (!res) throw new RpcError('empty response', 'protocol');
    if ('error' in res) throw new RpcError(`server ${this.address} answered with an error: ${res.error}`, 'remote');
    return res.status;
  }

  private send(
    name: CallName,
    events: readonly FlumeEvent[],
    opts: { handshake?: Parameters<typeof encodeCallFrame>[2]['handshake'] },
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<{ hs?: HandshakeResponse; result?: CallResult }> {
    if (this.closedErr) return Promise.reject(this.closedErr);
    if (signal?.aborted) return Promise.reject(new RpcError('aborted', 'aborted'));
    this.serial = (this.serial + 1) | 0;
    const serial = this.serial;
    const frame = encodeCallFrame(name, events, { serial, handshake: opts.handshake });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(new RpcError(`no response from ${this.address} within ${timeoutMs} ms`, 'timeout'));
      }, timeoutMs);
      const p: Pending = { handshake: !!opts.handshake, resolve, reject, timer };
      if (signal) {
        const onAbort = () => this.fail(new RpcError('aborted', 'aborted'));
        signal.addEventListener('abort', onAbort, { once: true });
        p.cleanup = () => signal.removeEventListener('abort', onAbort);
      }
      this.pending.set(serial, p);
      this.stream.write(frame);
    });
  }

  private onMessage(serial: number, msg: Buffer): void {
    const p = this.pending.get(serial);
    if (!p) {
      this.fail(new RpcError(`response with unknown serial ${serial} from ${this.address}`, 'protocol'));
      return;
    }
    this.pending.delete(serial);
    clearTimeout(p.timer);
    p.cleanup?.();
    try {
      const r = new Reader(msg);
      const hs = p.handshake ? readHandshakeResponse(r, DEFAULT_DECODE_LIMITS) : undefined;
      // a NONE handshake and a ping are answered with the handshake only
      const result = r.remaining > 0 ? readCallResult(r, DEFAULT_DECODE_LIMITS) : undefined;
      p.resolve({ hs, result });
    } catch (err) {
      const e = new RpcError(`undecodable response from ${this.address}: ${errorMessage(err)}`, 'protocol');
      p.reject(e);
      this.fail(e);
    }
  }

  private fail(err: RpcError): void {
    if (this.closedErr) return;
    this.closedErr = err;
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.cleanup?.();
      p.reject(err);
    }
    this.pending.clear();
    this.stream.destroy();
    this.socket.destroy();
    for (const f of this.closeListeners.splice(0)) f(err.kind === 'closed' && this.closing ? undefined : err);
  }

  private closing = false;

  /** Closes the connection; pending calls fail. */
  async close(): Promise<void> {
    if (this.closedErr) return;
    this.closing = true;
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
    this.closing = true;
    this.fail(new RpcError(`connection to ${this.address} closed`, 'closed'));
  }
}
