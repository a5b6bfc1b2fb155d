/**
 * The connection of an RPC sink (avro, thrift) to its next hop: opened in the background at start and again
 * lazily after any failure (one attempt shared by every caller), with Flume's counters (ConnectionCreatedCount,
 * ConnectionFailedCount, ConnectionClosedCount), one warning per outage and one info line per recovery, and the
 * periodic reset (reset-connection-interval / connection-reset-interval) that re-resolves a host behind a load
 * balancer. While the next hop is absent every attempt fails fast and the sink runner's backoff spaces them.
 */
import { AgentError, errorMessage } from '../core/errors.js';
import type { FlumeEvent } from '../core/event.js';
import type { Logger } from '../telemetry/logger.js';
import type { SinkCounters } from '../telemetry/counters.js';
import { RpcError } from './rpc-error.js';

export interface RpcConnection {
  /** Sends one appendBatch call; resolves with the receiver's Status. */
  appendBatch(events: FlumeEvent[], signal?: AbortSignal): Promise<string>;
  readonly closed: boolean;
  /** performance.now() when it was opened. */
  readonly createdAt: number;
  onClose(f: () => void): void;
  close(): Promise<void>;
  destroy(): void;
}

export interface KeeperContext {
  logger: Logger;
  counters: SinkCounters;
}

export class ConnectionKeeper<C extends RpcConnection> {
  private conn?: C;
  private connecting?: Promise<C>;
  private stopped = false;
  private failing = false;
  private abort = new AbortController();

  constructor(
    private readonly address: string,
    private readonly open: (signal: AbortSignal) => Promise<C>,
    private readonly ctx: KeeperContext,
  ) {}

  /** Starts connecting in the background, like Flume's start(); a missing next hop is not a start failure. */
  start(): void {
    this.stopped = false;
    this.abort = new AbortController();
    this.get().catch(() => {});
  }

  /** The open connection, or a (shared) attempt to open one; `signal` stops waiting for it. */
  get(signal?: AbortSignal): Promise<C> {
    if (this.conn && !this.conn.closed) return Promise.resolve(this.conn);
    this.connecting ??= this.connect(this.abort.signal).finally(() => {
      this.connecting = undefined;
    });
    return signal ? raceAbort(this.connecting, signal) : this.connecting;
  }

  /** Closes the connection when it is older than `ms` (0 = never), logging why. */
  async resetIfOlder(ms: number, why: string): Promise<void> {
    const c = this.conn;
    if (ms <= 0 || !c || performance.now() - c.createdAt < ms) return;
    this.ctx.logger.info(`Resetting the connection (${why})`, { address: this.address });
    this.conn = undefined;
    await c.close();
  }

  /**
   * Delivers `batch` with one appendBatch call on the connection (opened if needed) and resolves on OK. Anything
   * else throws a retriable FLUME_ERR_SINK_DELIVERY naming `sink` (the runner rolls back and retries): a non-OK
   * Status (the connection stays), or a failed call (a timeout, a lost connection, an exception answer).
   */
  async appendBatch(sink: string, batch: FlumeEvent[], requestTimeoutMs: number, signal: AbortSignal): Promise<void> {
    let status;
    try {
      status = await (await this.get(signal)).appendBatch(batch, signal);
    } catch (err) {
      let msg =
        err instanceof RpcError && err.kind === 'timeout'
          ? `no answer from ${this.address} within request-timeout ${requestTimeoutMs} ms`
          : errorMessage(err);
      if (err instanceof RpcError && err.kind === 'closed') msg += batchSizeHint(batch);
      throw new AgentError(
        'FLUME_ERR_SINK_DELIVERY',
        `${sink}: batch of ${batch.length} events not delivered to ${this.address}: ${msg}`,
        { cause: err },
      );
    }
    if (status !== 'OK')
      throw new AgentError(
        'FLUME_ERR_SINK_DELIVERY',
        `${sink}: ${this.address} answered ${status} for a batch of ${batch.length} events (its channel is probably full); will retry`,
      );
  }

  private async connect(signal: AbortSignal): Promise<C> {
    const counters = this.ctx.counters;
    let conn: C;
    try {
      conn = await this.open(signal);
    } catch (err) {
      if (signal.aborted) throw err; // the sink is stopping: not a connection failure
      counters.add('ConnectionFailedCount');
      if (!this.failing) {
        this.failing = true;
        this.ctx.logger.warn('Cannot connect to the next hop; retrying with backoff', {
          address: this.address,
          error: errorMessage(err),
        });
      }
      throw err;
    }
    if (this.stopped) {
      conn.destroy();
      throw new RpcError('sink stopped', 'aborted');
    }
    counters.add('ConnectionCreatedCount');
    this.failing = false;
    this.ctx.logger.info('Connected to the next hop', { address: this.address });
    conn.onClose(() => {
      counters.add('ConnectionClosedCount');
      if (this.conn === conn) this.conn = undefined;
    });
    this.conn = conn;
    return conn;
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    const pending = this.connecting;
    if (pending) await pending.catch(() => {});
    const c = this.conn;
    this.conn = undefined;
    if (c) await c.close();
  }

  destroy(): void {
    this.stopped = true;
    this.abort.abort();
    this.conn?.destroy();
    this.conn = undefined;
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new RpcError('aborted', 'aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new RpcError('aborted', 'aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** For a connection closed under a big batch: the receiver probably closed it for its size. */
export function batchSizeHint(batch: readonly { body: Buffer }[]): string {
  let bytes = 0;
  for (let i = 0; i < batch.length; i++) bytes += batch[i]!.body.length;
  return bytes > 8 * 1024 * 1024
    ? ` (the batch holds ${(bytes / 1048576).toFixed(0)} MiB of bodies; a receiver closes connections whose messages exceed its limit - lower batch-size)`
    : '';
}
