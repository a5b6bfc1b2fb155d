/**
 * The pollable-source loop (Flume's PollableSourceRunner): call `poll()` again and again.
 * - 'ready'   -> poll again at once (the consecutive-backoff count resets);
 * - 'backoff' -> sleep min(consecutive x incrementMs, maxMs), then poll again;
 * - 'done'    -> the source has nothing more to do (seq after totalEvents): the loop ends;
 * - a throw   -> logged, then sleep maxMs (Flume sleeps maxBackoffSleep on unexpected exceptions).
 * The loop ends when `signal` aborts; an in-flight poll is awaited (it is never cut off), a sleep is woken.
 * Used by seq, stress and taildir (and later kafka). A source that must retry a refused batch does it inside its
 * poll with core/retry.ts, with these same waits.
 */
import { LinearBackoff } from '../../core/backoff.js';
import { sleep as defaultSleep } from '../../core/clock.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../telemetry/logger.js';

export type PollStatus = 'ready' | 'backoff';
/** What a poll may return: a PollStatus, or 'done' to end the loop for good. */
export type PollResult = PollStatus | 'done';

export interface PollableRunOptions {
  /** Flume `backoffSleepIncrement` (1000 ms). */
  incrementMs: number;
  /** Flume `maxBackoffSleep` (5000 ms); also the pause after an unexpected error. */
  maxMs: number;
  /** Aborting ends the loop after the in-flight poll. */
  signal: AbortSignal;
  logger: Logger;
  /** Injectable sleep (tests); must resolve early when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/** How long a run of back-to-back 'ready' polls may hold the event loop before yielding to I/O and timers. */
const YIELD_EVERY_MS = 10;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs the poll loop until `opts.signal` aborts or `poll` returns 'done'. Never rejects.
 * Resolves when the loop has exited (no poll in flight).
 */
export async function runPollable(poll: () => Promise<PollResult>, opts: PollableRunOptions): Promise<void> {
  const sleep = opts.sleep ?? defaultSleep;
  const backoff = new LinearBackoff(opts.incrementMs, opts.maxMs);
  const { signal, logger } = opts;
  let lastYield = performance.now();
  while (!signal.aborted) {
    let status: PollResult;
    try {
      status = await poll();
    } catch (err) {
      logger.error('Pollable source failed; sleeping before the next poll', {
        error: errorMessage(err),
        sleepMs: opts.maxMs,
      });
      await sleep(opts.maxMs, signal);
      lastYield = performance.now();
      continue;
    }
    if (status === 'done') return;
    if (status === 'backoff') {
      await sleep(backoff.next(), signal);
      lastYield = performance.now();
    } else {
      backoff.reset();
      // a poll whose awaits settle in microtasks only would otherwise starve sockets and timers
      const now = performance.now();
      if (now - lastYield >= YIELD_EVERY_MS) {
        await yieldToEventLoop();
        lastYield = performance.now();
      }
    }
  }
}

/** Starts `runPollable` and gives back the abort handle and the loop's completion, for a source's start/close. */
export class PollableLoop {
  private readonly ctl = new AbortController();
  readonly finished: Promise<void>;
  constructor(poll: () => Promise<PollResult>, opts: Omit<PollableRunOptions, 'signal'>) {
    this.finished = runPollable(poll, { ...opts, signal: this.ctl.signal });
  }
  get signal(): AbortSignal {
    return this.ctl.signal;
  }
  /** Stops after the in-flight poll; resolves when the loop has exited. */
  stop(): Promise<void> {
    this.ctl.abort();
    return this.finished;
  }
}
