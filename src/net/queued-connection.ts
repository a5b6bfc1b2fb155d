/**
 * The per-connection machinery shared by the line/frame TCP sources (netcat, syslogtcp): socket chunks queue
 * up while a batch is in flight, reading pauses while the queue is large, the source is stopping or a full
 * channel is being retried, batches are emitted with retry-on-full and exponential backoff, and the connection
 * ends with our side closed, further input ignored and a linger timeout before it is destroyed.
 *
 * Subclasses implement `process()` (consume `take()`n chunks, emit with `deliver()`, handle end of stream) and
 * the few hooks where the protocols differ (replies on commit, what a rejected batch answers).
 */
import type net from 'node:net';
import type { SourceContext } from '../registry/define.js';
import type { FlumeEvent } from '../core/event.js';
import { ChannelFullError, errorMessage } from '../core/errors.js';
import { sleep } from '../core/clock.js';

/** Bytes read ahead (while a batch is in flight) before a connection stops reading. */
export const READ_AHEAD_BYTES = 256 * 1024;
/** How long a closed-by-us connection may stay half open before it is destroyed. */
export const LINGER_MS = 1000;

/** What a connection needs from its source. */
export interface QueuedSource {
  readonly ctx: SourceContext;
  /** Set when close() starts: no reading. */
  readonly stopping: boolean;
  /** Aborted when the close grace has passed (or destroy): retries give up. */
  readonly abort: AbortController;
  /** Backoff while a channel is full: first wait, doubling up to the max. */
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
}

export abstract class QueuedConnection<S extends QueuedSource> {
  readonly closed: Promise<void>;
  protected readonly queue: Buffer[] = [];
  protected queued = 0;
  protected running = false;
  protected eof = false;
  /** Shut down (or destroyed): input is ignored from now on. */
  protected done = false;
  /** Waiting for channel space: not reading. */
  protected retrying = false;
  private linger: NodeJS.Timeout | undefined;

  /** `label` starts the connection's log messages (`<label> connection error`). */
  constructor(protected readonly src: S, protected readonly socket: net.Socket, private readonly label: string) {
    this.closed = new Promise((resolve) => socket.once('close', () => {
      if (this.linger) clearTimeout(this.linger);
      resolve();
    }));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) => src.ctx.logger.debug(`${label} connection error`, { remote: this.remote, error: errorMessage(err) }));
  }

  /** The client's address, for log messages. */
  protected get remote(): string | undefined {
    return this.socket.remoteAddress;
  }

  /**
   * Consumes the queued chunks (with `take()`) and emits them (with `deliver()`) until the queue is empty, the
   * connection is done or the source stops; handles the end of the stream once `eof` is set and all is read.
   * Runs one at a time; called again when chunks or the end arrive after it returned.
   */
  protected abstract process(): Promise<void>;

  /** A batch was committed (after EventAcceptedCount); a returned promise is awaited before the next batch. */
  protected committed(_n: number): Promise<void> | undefined {
    return undefined;
  }

  /** May `err` from emit be retried (reading paused) until the channel takes the batch? */
  protected retriable(err: unknown): boolean {
    return err instanceof ChannelFullError;
  }

  /** The channels refused a batch of `n` events for good (not retriable): log, answer. */
  protected abstract rejected(n: number, err: unknown): void;

  /** The source is closing and a batch of `n` still waits for channel space: it is given up. */
  protected abstract abandoned(n: number): void;

  private onData(chunk: Buffer): void {
    if (this.done) return;
    this.queue.push(chunk);
    this.queued += chunk.length;
    if (!this.running) void this.run();
    else this.updateFlow();
  }

  private onEnd(): void {
    this.eof = true;
    if (!this.running) void this.run();
  }

  /** Reads only while nothing holds it back. */
  protected updateFlow(): void {
    if (this.done || this.socket.destroyed) return;
    const hold = this.src.stopping || this.retrying || this.queued >= READ_AHEAD_BYTES;
    if (hold) {
      if (!this.socket.isPaused()) this.socket.pause();
    } else if (this.socket.isPaused()) {
      this.socket.resume();
    }
  }

  /** Takes every queued chunk (reading may go on meanwhile). */
  protected take(): Buffer[] {
    const chunks = this.queue.splice(0);
    this.queued = 0;
    this.updateFlow();
    return chunks;
  }

  /** The only place batches are emitted for this connection. */
  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.process();
    } catch (err) {
      this.src.ctx.logger.error(`${this.label} connection failed`, { remote: this.remote, error: errorMessage(err) });
      this.destroy();
    } finally {
      this.running = false;
    }
    if (this.src.stopping) this.stop();
    else if (!this.done && (this.queue.length > 0 || this.eof)) void this.run();
    else this.updateFlow();
  }

  /** Emits one batch, retrying while the channel is full. False when the connection must stop (source closing). */
  protected async deliver(batch: FlumeEvent[]): Promise<boolean> {
    const { ctx } = this.src;
    const n = batch.length;
    ctx.counters.add('EventReceivedCount', n);
    let delay = this.src.retryInitialMs;
    for (;;) {
      try {
        await ctx.emit(batch);
        break;
      } catch (err) {
        ctx.counters.add('ChannelWriteFail');
        if (!this.retriable(err)) {
          this.rejected(n, err);
          this.endRetry();
          return true;
        }
        if (this.src.abort.signal.aborted) {
          this.abandoned(n);
          return false;
        }
        if (!this.retrying) {
          this.retrying = true;
          this.updateFlow();
          ctx.logger.warn('Channel full; stopped reading from the client and retrying the batch', { remote: this.remote, events: n, error: errorMessage(err) });
        }
        await sleep(delay, this.src.abort.signal);
        delay = Math.min(delay * 2, this.src.retryMaxMs);
      }
    }
    this.endRetry();
    ctx.counters.add('EventAcceptedCount', n);
    const after = this.committed(n);
    if (after) await after;
    return true;
  }

  private endRetry(): void {
    if (!this.retrying) return;
    this.retrying = false;
    this.src.ctx.logger.info('Channel accepted the batch; reading from the client again', { remote: this.remote });
    this.updateFlow();
  }

  /** Source closing: stop reading; an idle connection ends now, a busy one after its current round. */
  stop(): void {
    if (this.running) {
      this.updateFlow();
      return;
    }
    this.shutdown();
  }

  /** Ends our side; further input is read and ignored; destroyed if the client does not close in time. */
  protected shutdown(): void {
    if (this.done) return;
    this.done = true;
    this.queue.length = 0;
    this.queued = 0;
    if (this.socket.destroyed) return;
    this.socket.end();
    this.socket.resume();
    this.linger = setTimeout(() => this.socket.destroy(), LINGER_MS);
  }

  destroy(): void {
    this.done = true;
    this.socket.destroy();
  }
}

/** The open connections of a source: keeps OpenConnectionCount current and runs the graceful close. */
export class ConnectionSet<C extends { readonly closed: Promise<void>; stop(): void; destroy(): void }> {
  private readonly conns = new Set<C>();

  constructor(private readonly counters: SourceContext['counters']) {}

  get size(): number {
    return this.conns.size;
  }

  add(conn: C): void {
    this.conns.add(conn);
    this.counters.set('OpenConnectionCount', this.conns.size);
    void conn.closed.then(() => {
      this.conns.delete(conn);
      this.counters.set('OpenConnectionCount', this.conns.size);
    });
  }

  /**
   * Asks every connection to stop; after `graceMs` calls `onGraceOver` (retries give up), after a further
   * LINGER_MS destroys what is still open. Resolves when all connections are closed.
   */
  async closeAll(graceMs: number, onGraceOver: () => void): Promise<void> {
    for (const c of this.conns) c.stop();
    const grace = setTimeout(onGraceOver, graceMs);
    const hard = setTimeout(() => this.destroyAll(), graceMs + LINGER_MS);
    try {
      await Promise.all([...this.conns].map((c) => c.closed));
    } finally {
      clearTimeout(grace);
      clearTimeout(hard);
    }
    this.counters.set('OpenConnectionCount', 0);
  }

  destroyAll(): void {
    for (const c of this.conns) c.destroy();
  }
}
