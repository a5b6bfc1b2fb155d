/**
 * The per-connection machinery shared by the line/frame TCP sources (netcat, syslogtcp): socket chunks queue
 * up while a batch is in flight, reading pauses while the queue is large, the source is stopping or a full
 * channel is being retried, batches are emitted with retry-on-full and exponential backoff, and the connection
 * ends with our side closed, further input ignored and a linger timeout before it is destroyed. The source's
 * Listener (listen.ts) tracks the connections and runs the graceful close.
 *
 * Subclasses implement `process()` (consume `take()`n chunks, emit with `deliver()`, handle end of stream) and
 * the few hooks where the protocols differ (replies on commit, what a rejected batch answers).
 */
import type net from 'node:net';
import type { SourceContext } from '../contract/index.js';
import type { FlumeEvent } from '../core/event.js';
import { ChannelFullError, errorMessage, AgentError } from '../core/errors.js';
import { ExponentialBackoff } from '../core/backoff.js';
import { retrying, type RetryPolicy } from '../core/retry.js';
import { LINGER_MS, type Tracked } from './listen.js';
import type { ByteBudget } from './byte-budget.js';
import type { WarnLimiter } from './warn-limiter.js';

/** Bytes read ahead (while a batch is in flight) before a connection stops reading. */
export const READ_AHEAD_BYTES = 256 * 1024;
/**
 * Most events one source keeps in flight beyond one batch per connection when its channel lets producers
 * pipeline (SourceContext.pipelineDepth): bounds the memory of many busy connections.
 */
export const PIPELINED_EVENTS_PER_SOURCE = 16_384;

/** Events in flight per source, across its connections. */
const inFlightBySource = new WeakMap<object, { events: number }>();

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
  /** Bytes queued over all the source's connections (maxBufferedBytes): reading pauses while it is full. */
  readonly buffered?: ByteBudget;
  /** A connection that holds nothing and has sent nothing for this long is closed; 0 or absent: never. */
  readonly idleTimeoutMs?: number;
  /** The source's limiter for warnings about its clients (one line per kind per interval, with a count). */
  readonly warnings?: WarnLimiter;
}

/** A batch handed to emit whose outcome is not yet acknowledged. */
class InFlight {
  done = false;
  error: unknown;
  readonly outcome: Promise<void>;

  constructor(
    readonly batch: FlumeEvent[],
    emitted: Promise<void>,
  ) {
    this.outcome = emitted.then(
      () => {
        this.done = true;
      },
      (err: unknown) => {
        this.done = true;
        this.error = err ?? new AgentError('FLUME_ERR_RUNTIME', 'emit failed without a reason');
      },
    );
  }
}

export abstract class QueuedConnection<S extends QueuedSource> implements Tracked {
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
  /** Batches emitted and not yet acknowledged, oldest first. */
  private readonly pending: InFlight[] = [];
  /** Wakes settleOrRead() when input arrives. */
  private wake: (() => void) | undefined;
  /** Events in flight across the source's connections (shared). */
  private readonly budget: { events: number };
  /** When the client last sent something or a batch of it was acknowledged. */
  private lastActivity = performance.now();
  /** Bytes of the chunks taken in the current round (counted in the budget until the round is done). */
  private roundBytes = 0;
  /** Cancels the wait for room in the source's byte budget. */
  private unwait: (() => void) | undefined;

  /** `label` starts the connection's log messages (`<label> connection error`). */
  constructor(
    protected readonly src: S,
    protected readonly socket: net.Socket,
    private readonly label: string,
  ) {
    let budget = inFlightBySource.get(src);
    if (!budget) inFlightBySource.set(src, (budget = { events: 0 }));
    this.budget = budget;
    this.closed = new Promise((resolve) =>
      socket.once('close', () => {
        if (this.linger) clearTimeout(this.linger);
        this.release();
        resolve();
      }),
    );
    const idleMs = src.idleTimeoutMs ?? 0;
    if (idleMs > 0) socket.setTimeout(idleMs, () => this.onIdleTimeout(idleMs));
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('end', () => this.onEnd());
    socket.on('error', (err) =>
      src.ctx.logger.debug(`${label} connection error`, { remote: this.remote, error: errorMessage(err) }),
    );
  }

  /** A warning about this client, rate-limited over all the source's connections by `key`. */
  protected warn(key: string, message: string, fields: Record<string, unknown>): void {
    if (this.src.warnings) this.src.warnings.log(this.src.ctx.logger, key, message, fields);
    else this.src.ctx.logger.warn(message, fields);
  }

  /** The client's address, for log messages. */
  protected get remote(): string | undefined {
    return this.socket.remoteAddress;
  }

  /**
   * Consumes the queued chunks (with `take()`) and emits them (with `deliver()`) until the queue is empty, the
   * connection is done or the source stops; handles the end of the stream once `eof` is set and all is read
   * (after `settleAll()`, so the acknowledgements go out first). Runs one at a time; called again when chunks or
   * the end arrive after it returned, or while batches are still in flight.
   */
  protected abstract process(): Promise<void>;

  /** A batch was committed; a returned promise is awaited before the next batch. */
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

  /** Milliseconds since the last activity when the connection holds nothing (Tracked.idleMs), else -1. */
  idleMs(): number {
    if (this.running || this.done || this.retrying || this.pending.length > 0 || this.queue.length > 0) return -1;
    return performance.now() - this.lastActivity;
  }

  private onIdleTimeout(ms: number): void {
    if (this.done || this.socket.destroyed) return;
    const idle = this.idleMs();
    if (idle < 0 || idle < ms) {
      this.socket.setTimeout(ms); // busy (a batch waits for channel space): look again later
      return;
    }
    this.src.ctx.logger.debug('Closing idle connection', { remote: this.remote, idleTimeoutMs: ms });
    this.shutdown();
  }

  /** Gives the queued bytes back to the source's budget and stops waiting for room in it. */
  private release(): void {
    this.src.buffered?.give(this.queued + this.roundBytes);
    this.roundBytes = 0;
    this.queue.length = 0;
    this.queued = 0;
    this.unwait?.();
    this.unwait = undefined;
  }

  private onData(chunk: Buffer): void {
    if (this.done) return;
    this.lastActivity = performance.now();
    this.queue.push(chunk);
    this.queued += chunk.length;
    this.src.buffered?.force(chunk.length);
    if (!this.running) void this.run();
    else this.updateFlow();
    this.wake?.();
  }

  private onEnd(): void {
    this.eof = true;
    if (!this.running) void this.run();
    this.wake?.();
  }

  /** Reads only while nothing holds it back. */
  protected updateFlow(): void {
    if (this.done || this.socket.destroyed) return;
    const budget = this.src.buffered;
    const full = budget !== undefined && budget.full;
    const hold = this.src.stopping || this.retrying || this.queued >= READ_AHEAD_BYTES || full;
    if (full && !this.unwait) {
      // read again once other connections gave bytes back
      this.unwait = budget.onRelease(() => {
        this.unwait = undefined;
        this.updateFlow();
      });
    }
    if (hold) {
      if (!this.socket.isPaused()) this.socket.pause();
    } else if (this.socket.isPaused()) {
      this.socket.resume();
    }
  }

  /** Takes every queued chunk (reading may go on meanwhile). */
  protected take(): Buffer[] {
    const chunks = this.queue.splice(0);
    // the previous round is done: its bytes are given back; this round's stay counted until the next take
    this.src.buffered?.give(this.roundBytes);
    this.roundBytes = this.queued;
    this.queued = 0;
    this.updateFlow();
    return chunks;
  }

  /** The chunks taken are processed: their bytes are given back to the source's budget. */
  private endRound(): void {
    if (this.roundBytes === 0) return;
    this.src.buffered?.give(this.roundBytes);
    this.roundBytes = 0;
  }

  /** The only place batches are emitted for this connection. */
  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (;;) {
        await this.process();
        this.endRound();
        if (this.pending.length === 0) break;
        if (this.done || this.src.stopping) {
          await this.settleAll();
          break;
        }
        // batches in flight and nothing queued: read on while they commit, acknowledge each as it commits
        if (this.queue.length === 0 && !this.eof && !(await this.settleOrRead())) break;
      }
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

  /**
   * Emits one batch; the batch is acknowledged (`committed`) once it and every batch before it committed. With
   * SourceContext.pipelineDepth > 1 up to that many batches are in flight and this returns as soon as there is
   * room for the next one; call `settleAll()` before anything that must follow the acknowledgements (end of stream,
   * an error reply). A failed batch is retried (reading paused) until the channel takes it. False when the
   * connection must stop (source closing).
   */
  protected async deliver(batch: FlumeEvent[]): Promise<boolean> {
    const { ctx } = this.src;
    const depth = Math.max(1, ctx.pipelineDepth ?? 1);
    // a batch in flight failed: it is retried before anything new goes out, or this batch could overtake it
    // (its failure is known here: the channel rejects within one macrotask, and this runs after I/O)
    while (this.pending.some((f) => f.error !== undefined)) if (!(await this.settleOldest())) return false;
    // past the source's budget a connection keeps one batch in flight (it never waits on the others)
    while (this.pending.length > 0 && this.budget.events + batch.length > PIPELINED_EVENTS_PER_SOURCE) {
      if (!(await this.settleOldest())) return false;
    }
    this.budget.events += batch.length;
    this.pending.push(new InFlight(batch, ctx.emit(batch)));
    while (this.pending.length >= depth) if (!(await this.settleOldest())) return false;
    return true;
  }

  /** Waits for every batch in flight and acknowledges them in order. False when the connection must stop. */
  protected async settleAll(): Promise<boolean> {
    while (this.pending.length > 0) if (!(await this.settleOldest())) return false;
    return true;
  }

  /**
   * Waits until new input arrives or the oldest batch in flight settles (then acknowledges the batches that are
   * done, in order). False when the connection must stop.
   */
  protected async settleOrRead(): Promise<boolean> {
    const head = this.pending[0];
    if (!head) return true;
    if (!head.done) {
      await Promise.race([
        head.outcome,
        new Promise<void>((resolve) => {
          this.wake = resolve;
        }),
      ]);
      this.wake = undefined;
    }
    while (this.pending[0]?.done) if (!(await this.settleOldest())) return false;
    return true;
  }

  private async settleOldest(): Promise<boolean> {
    const f = this.pending.shift()!;
    await f.outcome;
    this.budget.events -= f.batch.length;
    if (f.error === undefined) return this.accepted(f.batch.length);
    // later batches were submitted after this one: a channel that orders puts failed them too (they are retried
    // in turn, after this one), so the events keep their order
    return this.retry(f.batch, f.error);
  }

  /** Retries a batch that `emit` refused with `error`, while the refusal is retriable (reading paused meanwhile). */
  private async retry(batch: FlumeEvent[], error: unknown): Promise<boolean> {
    const { ctx } = this.src;
    const n = batch.length;
    const policy: RetryPolicy = {
      backoff: new ExponentialBackoff(this.src.retryInitialMs, this.src.retryMaxMs),
      signal: this.src.abort.signal,
      retriable: (err) => this.retriable(err),
      onRetry: (err) => {
        if (this.retrying) return;
        this.retrying = true;
        this.updateFlow();
        this.warn('full', 'Channel full; stopped reading from the client and retrying the batch', {
          remote: this.remote,
          events: n,
          error: errorMessage(err),
        });
      },
    };
    let ok: boolean;
    try {
      ok = await retrying(() => ctx.emit(batch), policy, { error });
    } catch (err) {
      this.rejected(n, err);
      this.endRetry();
      return true;
    }
    if (!ok) {
      this.abandoned(n);
      return false;
    }
    this.endRetry();
    return this.accepted(n);
  }

  private async accepted(n: number): Promise<boolean> {
    this.lastActivity = performance.now();
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
    this.release();
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
