/**
 * Start/retry supervision shared by every component of a running agent (Flume's supervisor): a component that fails
 * to start is retried with exponential backoff and reported, never fatal to the agent. Also the shapes of the
 * running graph the agent, its health and its snapshot share.
 */
import type { PlannedChannel, PlannedGroup, PlannedSink, PlannedSource } from '../config/validate/index.js';
import type { Channel, Lifecycle, Sink, Source, SinkProcessor } from '../contract/index.js';
import type { ChannelCounters, SinkCounters, SourceCounters } from '../telemetry/counters.js';
import type { Logger } from '../telemetry/logger.js';
import { errorMessage } from '../core/errors.js';
import { ExponentialBackoff } from '../core/backoff.js';
import type { ChannelProcessor } from './channel-processor.js';
import type { SinkDriver, SinkRunner } from './sink-runner.js';

export type ComponentState = 'starting' | 'running' | 'failed' | 'stopping' | 'stopped';

/** Start/retry bookkeeping shared by every component. */
export class Supervised<T extends Lifecycle> {
  state: ComponentState = 'starting';
  error?: string;
  /** What the last failed start threw. */
  lastError?: unknown;
  errorSince?: number;
  attempts = 0;
  private timer?: NodeJS.Timeout;
  private backoff: ExponentialBackoff;
  private startedOnce?: Promise<void>;
  private resolveStarted!: () => void;
  private abandoned = false;

  constructor(
    readonly kind: 'source' | 'channel' | 'sink',
    readonly name: string,
    readonly type: string,
    readonly instance: T,
    private readonly log: Logger,
    baseMs: number,
    maxMs: number,
    private readonly onStarted: () => void,
    /** The component's own logger, for its DEBUG lifecycle lines. */
    private readonly own: Logger = log,
  ) {
    this.backoff = new ExponentialBackoff(baseMs, maxMs);
    this.startedOnce = new Promise((r) => (this.resolveStarted = r));
  }

  /** Resolves once the component started (never rejects; may never resolve if it never starts). */
  get started(): Promise<void> {
    return this.startedOnce!;
  }

  /** Tries to start; on failure schedules a retry. Resolves after the first attempt. */
  async start(): Promise<void> {
    if (this.abandoned) return;
    this.attempts++;
    this.own.debug(`Starting ${this.kind}`, { type: this.type, attempt: this.attempts });
    try {
      await this.instance.start();
      if (this.abandoned) {
        await this.instance.close().catch(() => undefined);
        return;
      }
      this.state = 'running';
      this.own.debug(`${capital(this.kind)} started`, { type: this.type });
      if (this.error) this.log.info(`${this.kind} started after ${this.attempts} attempts`, { [this.kind]: this.name });
      this.error = undefined;
      this.lastError = undefined;
      this.errorSince = undefined;
      this.onStarted();
      this.resolveStarted();
    } catch (err) {
      if (this.abandoned) return;
      const wait = this.backoff.next();
      this.state = 'failed';
      this.error = errorMessage(err);
      this.lastError = err;
      this.errorSince ??= Date.now();
      this.log.error(`${this.kind} failed to start; retrying`, {
        [this.kind]: this.name,
        error: this.error,
        retryInMs: wait,
        attempt: this.attempts,
      });
      this.timer = setTimeout(() => void this.start(), wait);
      this.timer.unref?.();
    }
  }

  /** Stops retrying; closes the instance if it started. */
  async close(): Promise<void> {
    this.abandoned = true;
    clearTimeout(this.timer);
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    if (wasRunning) {
      this.own.debug(`Stopping ${this.kind}`, { type: this.type });
      try {
        await this.instance.close();
      } catch (err) {
        this.log.warn(`${this.kind} did not close cleanly`, { [this.kind]: this.name, error: errorMessage(err) });
      }
      this.own.debug(`${capital(this.kind)} stopped`, { type: this.type });
    }
    this.state = 'stopped';
  }

  destroy(): void {
    this.abandoned = true;
    clearTimeout(this.timer);
    this.instance.destroy?.();
    this.state = 'stopped';
  }
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export interface RunningChannel {
  planned: PlannedChannel;
  sup: Supervised<Channel>;
  counters: ChannelCounters;
}
export interface RunningSink {
  planned: PlannedSink;
  sup: Supervised<Sink>;
  counters: SinkCounters;
  driver: SinkDriver;
}
export interface RunningGroup {
  planned: PlannedGroup;
  runner: SinkRunner;
  processor: SinkProcessor;
}
export interface RunningSource {
  planned: PlannedSource;
  sup: Supervised<Source>;
  counters: SourceCounters;
  processor: ChannelProcessor;
}
