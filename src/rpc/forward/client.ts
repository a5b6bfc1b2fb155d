/**
 * Forward protocol client for the forward sink: one connection (TCP, or TLS through the shared client layers),
 * the shared-key handshake when configured, requests written in order, acks matched by chunk id. Any protocol
 * problem, timeout or unexpected answer destroys the connection (a wrong or late ack means the socket cannot be
 * trusted, as out_forward does); the caller retries on a new one.
 */
import { AgentError } from '../../core/errors.js';
import { connectStream, type LayerOptions } from '../transport.js';
import type { Duplex } from 'node:stream';
import type net from 'node:net';
import { ping, pongProblem, type ClientAuth } from './handshake.js';
import { ObjectScanner, Reader } from './msgpack.js';

const MAX_ANSWER_BYTES = 1024 * 1024;

export interface ForwardClientOptions {
  host: string;
  port: number;
  /** Connect, TLS and handshake. */
  connectTimeoutMs: number;
  layers: LayerOptions;
  auth?: ClientAuth;
}

const fail = (msg: string) => new AgentError('FLUME_ERR_SINK_DELIVERY', msg);

export class ForwardClient {
  readonly createdAt = performance.now();
  private buf: Buffer = Buffer.alloc(0);
  private scanner = new ObjectScanner(MAX_ANSWER_BYTES);
  private readonly waiting = new Map<string, () => void>();
  private onMessage: ((v: unknown) => void) | undefined;
  private failure: Error | undefined;
  private readonly closeHooks: (() => void)[] = [];
  closed = false;

  private constructor(
    private readonly socket: net.Socket,
    private readonly stream: Duplex,
    private readonly address: string,
  ) {
    stream.on('data', (d: Buffer) => this.onData(d));
    stream.on('error', (err) => this.kill(err));
    stream.on('close', () => this.kill(fail(`${address} closed the connection`)));
    stream.on('end', () => this.kill(fail(`${address} closed the connection`)));
  }

  static async connect(o: ForwardClientOptions, signal: AbortSignal): Promise<ForwardClient> {
    const deadline = performance.now() + o.connectTimeoutMs;
    const { socket, stream } = await connectStream({
      host: o.host,
      port: o.port,
      timeoutMs: o.connectTimeoutMs,
      signal,
      ...o.layers,
    });
    socket.setNoDelay(true);
    const c = new ForwardClient(socket, stream, `${o.host}:${o.port}`);
    if (o.auth) {
      try {
        await c.handshake(o.auth, Math.max(1, deadline - performance.now()), signal);
      } catch (err) {
        c.destroy();
        throw err;
      }
    }
    return c;
  }

  onClose(f: () => void): void {
    if (this.closed) f();
    else this.closeHooks.push(f);
  }

  private next(ms: number, signal: AbortSignal, what: string): Promise<unknown> {
    return this.race(
      new Promise((resolve) => {
        this.onMessage = resolve;
      }),
      ms,
      signal,
      what,
    );
  }

  private async handshake(a: ClientAuth, ms: number, signal: AbortSignal): Promise<void> {
    const helo = await this.next(ms, signal, 'HELO');
    let p;
    try {
      p = ping(helo, a);
    } catch {
      throw new AgentError('FLUME_ERR_FORWARD_HANDSHAKE', `${this.address} did not start the handshake with HELO`);
    }
    this.stream.write(p.message);
    const pong = await this.next(ms, signal, 'PONG');
    const problem = pongProblem(pong, p.nonce, p.salt, a);
    if (problem) throw new AgentError('FLUME_ERR_FORWARD_HANDSHAKE', `handshake with ${this.address}: ${problem}`);
    this.onMessage = undefined;
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    try {
      for (;;) {
        const n = this.scanner.scan(this.buf, this.buf.length);
        if (n < 0) return;
        const v = new Reader(this.buf, 0, n).value();
        this.buf = this.buf.subarray(n);
        this.scanner.reset();
        this.answer(v);
      }
    } catch (err) {
      this.kill(fail(`${this.address} sent an answer that is not msgpack: ${(err as Error).message}`));
    }
  }

  private answer(v: unknown): void {
    if (this.onMessage) {
      const f = this.onMessage;
      this.onMessage = undefined;
      return f(v);
    }
    if (Array.isArray(v) && v[0] === 'HELO')
      return this.kill(fail(`${this.address} asks for the shared-key handshake: set sharedKey`));
    const ack = v !== null && typeof v === 'object' ? (v as Record<string, unknown>).ack : undefined;
    const id = Buffer.isBuffer(ack) ? ack.toString('utf8') : ack;
    const w = typeof id === 'string' ? this.waiting.get(id) : undefined;
    if (!w) return this.kill(fail(`${this.address} answered with an unexpected ack`));
    this.waiting.delete(id as string);
    w();
  }

  /**
   * Writes the requests (resolving once they are handed to the socket, within `sendMs`) and, when they carry
   * chunks, waits for every ack within `ackMs`.
   */
  async send(
    requests: readonly { bytes: Buffer; chunk?: string }[],
    sendMs: number,
    ackMs: number,
    signal: AbortSignal,
  ): Promise<void> {
    if (this.failure) throw this.failure;
    const acks: Promise<void>[] = [];
    for (const r of requests)
      if (r.chunk) acks.push(new Promise<void>((resolve) => this.waiting.set(r.chunk!, resolve)));
    const written = new Promise<void>((resolve, reject) => {
      for (let i = 0; i < requests.length; i++) {
        const last = i === requests.length - 1;
        this.stream.write(requests[i]!.bytes, last ? (err) => (err ? reject(err) : resolve()) : undefined);
      }
    });
    await this.race(written, sendMs, signal, 'the write to finish (send-timeout)');
    if (acks.length) await this.race(Promise.all(acks), ackMs, signal, 'the ack (ackResponseTimeout)');
  }

  /** Settles with `p`, or rejects (and destroys the connection) on timeout, abort or connection failure. */
  private race<T>(p: Promise<T>, ms: number, signal: AbortSignal, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(t);
        signal.removeEventListener('abort', onAbort);
        this.closeHooks.splice(this.closeHooks.indexOf(onClose) >>> 0, 1);
        if (err) {
          this.destroy();
          reject(err);
        }
      };
      const t = setTimeout(() => done(fail(`no ${what} from ${this.address} within ${ms} ms`)), ms);
      const onAbort = () => done(fail('aborted'));
      const onClose = () => done(this.failure ?? fail(`${this.address} closed the connection`));
      signal.addEventListener('abort', onAbort, { once: true });
      if (this.closed) return onClose();
      this.closeHooks.push(onClose);
      p.then(
        (v) => {
          done();
          resolve(v);
        },
        (err: Error) => done(err),
      );
    });
  }

  private kill(err: Error): void {
    if (this.closed) return;
    this.failure = err;
    this.closed = true;
    this.socket.destroy();
    this.stream.destroy();
    for (const f of this.closeHooks.splice(0)) f();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve) => {
      this.onClose(resolve);
      this.stream.end();
      setTimeout(() => this.destroy(), 1000).unref();
    });
  }

  destroy(): void {
    this.kill(fail('connection closed'));
  }
}
