/**
 * seq: a pollable source whose event bodies are an ASCII decimal counter from 0 (Flume SequenceGeneratorSource).
 * Unlike Flume, a batch the channel refused is retried with the same numbers (Flume skips them), with the
 * pollable-runner backoff timing (min(n x backoffSleepIncrement, maxBackoffSleep)); the loop ends after totalEvents.
 */
import { defineSource, type Source, type SourceContext, opt, type Resolved } from '../contract/index.js';
import { errorMessage } from '../core/errors.js';
import { makeEvent, type FlumeEvent } from '../core/event.js';
import { LinearBackoff } from '../core/backoff.js';
import { retrying } from '../core/retry.js';
import { PollableLoop, type PollResult } from './support/pollable.js';

const options = {
  batchSize: opt.int({ default: 1, min: 1, doc: 'Events per channel transaction.' }),
  totalEvents: opt.int({ min: 0, defaultText: 'unlimited', doc: 'Stop after this many events have been committed.' }),
  backoffSleepIncrement: opt.duration({
    default: 1000,
    unit: 'ms',
    min: 1,
    doc: 'Pollable-runner backoff step: after the n-th consecutive refused batch the source sleeps min(n x this, maxBackoffSleep).',
  }),
  maxBackoffSleep: opt.duration({
    default: 5000,
    unit: 'ms',
    min: 1,
    doc: 'Longest backoff sleep; also the pause after an unexpected error.',
  }),
};

export type SeqOptions = Resolved<typeof options>;

const NEVER = new AbortController().signal;

export class SequenceSource implements Source {
  private nextSeq = 0;
  /** A batch built but not yet committed: retried as is. */
  private pending: FlumeEvent[] | undefined;
  private loop: PollableLoop | undefined;
  private readonly total: number;
  private readonly batchMode: boolean;
  /** Waits before a refused batch is emitted again: the pollable runner's timing. */
  private readonly backoff: LinearBackoff;

  constructor(
    private readonly o: SeqOptions,
    private readonly ctx: SourceContext,
  ) {
    this.total = o.totalEvents ?? Number.MAX_SAFE_INTEGER;
    this.batchMode = o.batchSize > 1;
    this.backoff = new LinearBackoff(o.backoffSleepIncrement, o.maxBackoffSleep);
  }

  /** The next number to be committed (= events committed so far). */
  get sequence(): number {
    return this.nextSeq;
  }

  async start(): Promise<void> {
    if (this.loop) return;
    this.ctx.logger.info('Sequence generator source starting', {
      batchSize: this.o.batchSize,
      totalEvents: this.o.totalEvents ?? 'unlimited',
    });
    this.loop = new PollableLoop(() => this.poll(), {
      incrementMs: this.o.backoffSleepIncrement,
      maxMs: this.o.maxBackoffSleep,
      logger: this.ctx.logger,
    });
    void this.loop.finished.then(() => {
      if (this.nextSeq >= this.total)
        this.ctx.logger.info('Sequence generator source finished', { events: this.nextSeq });
    });
  }

  /** Resolves when the loop has ended: after totalEvents, or after close(). */
  finished(): Promise<void> {
    return this.loop?.finished ?? Promise.resolve();
  }

  async close(): Promise<void> {
    await this.loop?.stop();
  }

  destroy(): void {
    void this.loop?.stop();
  }

  /** One poll: build (or reuse) a batch, emit it. */
  async poll(): Promise<PollResult> {
    let batch = this.pending;
    if (!batch) {
      const left = this.total - this.nextSeq;
      if (left <= 0) return 'done';
      const n = Math.min(this.o.batchSize, this.ctx.maxBatchSize, left);
      batch = new Array<FlumeEvent>(n);
      for (let i = 0; i < n; i++) batch[i] = makeEvent(Buffer.from(String(this.nextSeq + i), 'latin1'));
      this.pending = batch;
      if (this.batchMode) this.ctx.counters.add('AppendBatchReceivedCount');
    }
    const full = batch;
    // other refusals go to the runner (logged, maxBackoffSleep), and the next poll retries the pending batch
    const committed = await retrying(() => this.ctx.emit(full), {
      backoff: this.backoff,
      signal: this.loop?.signal ?? NEVER,
      onRetry: (err) =>
        this.ctx.logger.warn('Channel full; will retry the same sequence numbers after a backoff', {
          from: this.nextSeq,
          events: full.length,
          error: errorMessage(err),
        }),
    });
    if (!committed) return 'backoff';
    this.pending = undefined;
    this.nextSeq += batch.length;
    if (this.batchMode) this.ctx.counters.add('AppendBatchAcceptedCount');
    return this.nextSeq >= this.total ? 'done' : 'ready';
  }
}

export default defineSource({
  type: 'seq',
  classNames: ['org.apache.flume.source.SequenceGeneratorSource'],
  summary: 'Generates events whose bodies are 0, 1, 2, ... (for testing); stops after totalEvents.',
  options,
  batchSize: (o) => o.batchSize,
  batchSizeKey: 'batchSize',
  create: (o, ctx) => new SequenceSource(o, ctx),
});
