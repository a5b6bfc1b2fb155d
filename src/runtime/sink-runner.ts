/**
 * Sink side: a SinkDriver owns the channel transaction of one sink (take -> deliver -> commit, rollback on any
 * failure), and a SinkRunner loops a sink group's processor with Flume's backoff, waking early when events arrive.
 */
import type { Channel, Sink, SinkHandle, SinkProcessor } from '../contract/index.js';
import type { SinkCounters } from '../telemetry/counters.js';
import type { Logger } from '../telemetry/logger.js';
import { AgentError, errorMessage } from '../core/errors.js';
import { ExponentialBackoff, LinearBackoff } from '../core/backoff.js';
import { sleep } from '../core/clock.js';
import { DebugDigest } from '../telemetry/debug-digest.js';

/**
 * Per channel that cannot count its events (Channel.size() undefined): whether its latest take found nothing. The
 * drain takes that as "empty" instead of waiting for a size it cannot know; shared by every driver of the channel.
 */
const takeFoundNothing = new WeakMap<Channel, boolean>();

/** True when the channel holds no events: by its size, or by its latest take when it cannot count them. */
function channelEmpty(ch: Channel): boolean {
  const n = ch.size();
  return n === undefined ? takeFoundNothing.get(ch) === true : n === 0;
}

export class SinkDriver implements SinkHandle {
  /** The channel cannot count its events (remote): takes record what they found, for the drain. */
  private readonly uncounted: boolean;

  constructor(
    readonly name: string,
    readonly sink: Sink,
    readonly channel: Channel,
    readonly counters: SinkCounters,
    /** Returns why the sink cannot deliver right now (e.g. it has not started), or undefined. */
    private readonly notReady?: () => string | undefined,
  ) {
    this.uncounted = channel.size() === undefined;
  }

  async process(signal: AbortSignal): Promise<'ready' | 'backoff'> {
    const why = this.notReady?.();
    if (why !== undefined) throw new AgentError('FLUME_ERR_SINK_DELIVERY', why);
    const c = this.counters;
    const tx = this.channel.begin();
    let batch;
    try {
      batch = await tx.take(this.sink.batchSize);
    } catch (err) {
      c.add('ChannelReadFail');
      await tx.rollback();
      throw err;
    }
    const n = batch.length;
    if (this.uncounted) takeFoundNothing.set(this.channel, n === 0);
    if (n === 0) {
      await tx.commit();
      c.add('BatchEmptyCount');
      return 'backoff';
    }
    c.add(n < this.sink.batchSize ? 'BatchUnderflowCount' : 'BatchCompleteCount');
    c.add('EventDrainAttemptCount', n);
    let report;
    try {
      report = await this.sink.deliver(batch, signal);
    } catch (err) {
      c.add('EventWriteFail');
      await tx.rollback();
      throw err;
    }
    await tx.commit();
    c.add('EventDrainSuccessCount', report ? report.drained : n);
    return 'ready';
  }

  waitForEvents(ms: number, signal?: AbortSignal): Promise<void> {
    return this.channel.waitForEvents(ms, signal);
  }
}

export interface SinkRunnerOptions {
  /** Backoff when the channel is empty: Flume's fixed 1 s increments up to 5 s (we wake as soon as events arrive). */
  emptyIncrementMs?: number;
  emptyMaxMs?: number;
  /** Backoff after a delivery failure: exponential from 500 ms to 5 s (Flume sleeps a fixed 5 s). */
  errorBaseMs?: number;
  errorMaxMs?: number;
}

export class SinkRunner {
  private readonly abort = new AbortController();
  /** Wakes sleeps and waits without aborting an in-flight delivery (graceful stop). */
  private readonly abortWaits = new AbortController();
  /** Wakes the current idle wait once (drain start), without making later waits return at once. */
  private wakeIdle?: () => void;
  private loop?: Promise<void>;
  private draining = false;
  private stopping = false;
  private lastError?: { since: number; at: number; message: string };
  /** DEBUG: one line a second with what each sink delivered, found empty or failed (from its counters). */
  private readonly digest: DebugDigest;
  private readonly seen = new Map<SinkDriver, number[]>();

  constructor(
    readonly group: string,
    private readonly processor: SinkProcessor,
    private readonly drivers: readonly SinkDriver[],
    private readonly logger: Logger,
    private readonly opts: SinkRunnerOptions = {},
  ) {
    this.digest = new DebugDigest(logger, 'Sink batches (sums since the previous line)');
  }

  /** Adds what the sinks' counters moved since the last call to the DEBUG digest. */
  private sample(): void {
    const out: Record<string, number> = {};
    for (const d of this.drivers) {
      const c = d.counters;
      const now = [
        c.get('BatchCompleteCount') + c.get('BatchUnderflowCount'),
        c.get('EventDrainSuccessCount'),
        c.get('BatchEmptyCount'),
        c.get('EventWriteFail'),
      ];
      const before = this.seen.get(d) ?? [0, 0, 0, 0];
      this.seen.set(d, now);
      const pre = this.drivers.length > 1 ? `${d.name}.` : '';
      ['batches', 'delivered', 'emptyTakes', 'failedBatches'].forEach((k, i) => (out[pre + k] = now[i]! - before[i]!));
    }
    this.digest.add(out);
  }

  /** Set while deliveries fail: since the first failure of the current streak, and the latest message. */
  get failure(): { since: number; at: number; message: string } | undefined {
    return this.lastError;
  }

  start(): void {
    this.logger.debug('Sink runner started', { group: this.group, sinks: this.drivers.map((d) => d.name).join(',') });
    this.loop ??= this.run().finally(() => {
      this.digest.flush();
      this.logger.debug('Sink runner stopped', { group: this.group });
    });
  }

  private channelsEmpty(): boolean {
    return this.drivers.every((d) => channelEmpty(d.channel));
  }

  private async run(): Promise<void> {
    const empty = new LinearBackoff(this.opts.emptyIncrementMs ?? 1000, this.opts.emptyMaxMs ?? 5000);
    const errors = new ExponentialBackoff(this.opts.errorBaseMs ?? 500, this.opts.errorMaxMs ?? 5000);
    const signal = this.abort.signal;
    const waitSignal = AbortSignal.any([signal, this.abortWaits.signal]);
    while (!signal.aborted && !this.stopping) {
      try {
        const status = await this.processor.process(signal);
        if (this.digest.enabled) this.sample();
        errors.reset();
        this.lastError = undefined;
        if (status === 'ready') {
          empty.reset();
          continue;
        }
        if (this.draining && this.channelsEmpty()) return;
        const woken = new Promise<void>((r) => (this.wakeIdle = r));
        await Promise.race([this.processor.waitForEvents(this.draining ? 50 : empty.next(), waitSignal), woken]);
        this.wakeIdle = undefined;
        // a channel whose wait resolves while takes find nothing must not turn this loop into a busy spin
        await new Promise<void>((r) => setImmediate(r));
      } catch (err) {
        if (this.digest.enabled) this.sample();
        if (signal.aborted) return;
        const wait = errors.next();
        this.lastError = { since: this.lastError?.since ?? Date.now(), at: Date.now(), message: errorMessage(err) };
        this.logger.error('Sink delivery failed; the batch was rolled back and will be retried', {
          group: this.group,
          error: errorMessage(err),
          retryInMs: wait,
          attempt: errors.consecutive,
        });
        await sleep(wait, waitSignal);
      }
    }
  }

  /** Keeps delivering until the channels are empty or `timeoutMs` passes, then stops. */
  async drainAndStop(timeoutMs: number): Promise<boolean> {
    this.logger.debug('Draining the channels into the sinks', { group: this.group, timeoutMs });
    this.draining = true;
    this.wakeIdle?.();
    if (!this.loop) return this.channelsEmpty();
    const timer = setTimeout(() => this.abort.abort(), timeoutMs);
    try {
      await this.loop;
    } finally {
      clearTimeout(timer);
    }
    this.abort.abort();
    return this.channelsEmpty();
  }

  /** Finishes the batch in flight (if any), then stops; nothing is aborted. */
  async stopGracefully(): Promise<void> {
    this.stopping = true;
    this.wakeIdle?.();
    this.abortWaits.abort();
    await this.loop;
  }

  /** Stops at once; an in-flight batch is rolled back by its driver when the sink aborts. */
  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }
}
