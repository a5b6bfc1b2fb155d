/**
 * stress: a load generator (Flume StressSource). Every event has no headers and the same body: `size` bytes of
 * 0x7F, one shared Buffer. Refused batches are counted as failed and not retried (as Flume); the loop ends when
 * maxTotalEvents (attempted) or maxSuccessfulEvents (committed) is reached.
 */
import { defineSource, type Source, type SourceContext, opt, type Resolved } from '../contract/index.js';
import { ChannelFullError, errorMessage } from '../core/errors.js';
import { makeEvent, type FlumeEvent } from '../core/event.js';
import { sleep } from '../core/clock.js';
import type { Clock } from '../core/clock.js';
import { PollableLoop, type PollResult } from './support/pollable.js';

const options = {
  size: opt.int({ default: 500, min: 0, doc: 'Body size in bytes (every byte 0x7F).' }),
  maxTotalEvents: opt.int({
    default: -1,
    min: -1,
    doc: 'Stop after this many events were attempted (committed or refused); -1 = no limit.',
  }),
  maxSuccessfulEvents: opt.int({
    default: -1,
    min: -1,
    doc: 'Stop after this many events were committed; -1 = no limit.',
  }),
  batchSize: opt.int({ default: 1, min: 1, doc: 'Events per channel transaction.' }),
  maxEventsPerSecond: opt.int({ default: 0, min: 0, doc: 'Rate limit in events per second; 0 = no limit.' }),
  backoffSleepIncrement: opt.duration({
    default: 1000,
    unit: 'ms',
    min: 1,
    doc: 'Pollable-runner backoff step after a refused batch.',
  }),
  maxBackoffSleep: opt.duration({
    default: 5000,
    unit: 'ms',
    min: 1,
    doc: 'Longest backoff sleep; also the pause after an unexpected error.',
  }),
};

export type StressOptions = Resolved<typeof options>;

/** Smooth rate limiter: permits are spaced 1/rate apart; a caller pays for its permits after taking them. */
class RateLimiter {
  private nextFree = 0;
  constructor(
    private readonly perSecond: number,
    private readonly clock: Clock,
  ) {}
  async acquire(n: number, signal: AbortSignal): Promise<void> {
    const now = this.clock.monotonicMs();
    const wait = Math.max(0, this.nextFree - now);
    this.nextFree = Math.max(this.nextFree, now) + (n * 1000) / this.perSecond;
    if (wait > 0) await sleep(wait, signal);
  }
}

export class StressSource implements Source {
  /** The one body every event shares. */
  readonly body: Buffer;
  private fullBatch: FlumeEvent[];
  private loop: PollableLoop | undefined;
  private readonly limiter: RateLimiter | undefined;
  private total = 0;
  private successful = 0;
  private failed = 0;

  constructor(
    private readonly o: StressOptions,
    private readonly ctx: SourceContext,
  ) {
    this.body = Buffer.alloc(o.size, 0x7f);
    const event = makeEvent(this.body);
    const n = Math.max(1, Math.min(o.batchSize, ctx.maxBatchSize));
    this.fullBatch = new Array<FlumeEvent>(n).fill(event);
    this.limiter = o.maxEventsPerSecond > 0 ? new RateLimiter(o.maxEventsPerSecond, ctx.clock) : undefined;
  }

  /** Events attempted, committed, refused so far. */
  get stats(): { total: number; successful: number; failed: number } {
    return { total: this.total, successful: this.successful, failed: this.failed };
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.loop = new PollableLoop(() => this.poll(), {
      incrementMs: this.o.backoffSleepIncrement,
      maxMs: this.o.maxBackoffSleep,
      logger: this.ctx.logger,
    });
    void this.loop.finished.then(() => this.ctx.logger.info('Stress source stopped', this.stats));
  }

  /** Resolves when the loop has ended (a limit reached, or close()). */
  finished(): Promise<void> {
    return this.loop?.finished ?? Promise.resolve();
  }

  async close(): Promise<void> {
    await this.loop?.stop();
  }

  destroy(): void {
    void this.loop?.stop();
  }

  private limitReached(): boolean {
    return (
      (this.o.maxTotalEvents >= 0 && this.total >= this.o.maxTotalEvents) ||
      (this.o.maxSuccessfulEvents >= 0 && this.successful >= this.o.maxSuccessfulEvents)
    );
  }

  async poll(): Promise<PollResult> {
    if (this.limitReached()) return 'done';
    let n = this.fullBatch.length;
    if (this.o.maxTotalEvents >= 0) n = Math.min(n, this.o.maxTotalEvents - this.total);
    if (this.o.maxSuccessfulEvents >= 0) n = Math.min(n, this.o.maxSuccessfulEvents - this.successful);
    if (this.limiter && this.loop) {
      await this.limiter.acquire(n, this.loop.signal);
      if (this.loop.signal.aborted) return 'ready';
    }
    const batch = n === this.fullBatch.length ? this.fullBatch : this.fullBatch.slice(0, n);
    this.total += n;
    try {
      await this.ctx.emit(batch);
    } catch (err) {
      this.failed += n;
      // a refused batch is not retried: the next poll must not pass the same array (it would count as a retry)
      if (batch === this.fullBatch) this.fullBatch = this.fullBatch.slice();
      if (err instanceof ChannelFullError) {
        this.ctx.logger.debug('Channel full; batch counted as failed', { events: n, error: errorMessage(err) });
        return this.limitReached() ? 'done' : 'backoff';
      }
      throw err;
    }
    this.successful += n;
    return this.limitReached() ? 'done' : 'ready';
  }
}

export default defineSource({
  type: 'stress',
  classNames: ['org.apache.flume.source.StressSource'],
  summary: 'Load generator: events of `size` bytes of 0x7F, optionally rate-limited, up to a total (for testing).',
  options,
  batchSize: (o) => o.batchSize,
  batchSizeKey: 'batchSize',
  create: (o, ctx) => new StressSource(o, ctx),
});
