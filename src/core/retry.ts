/**
 * Retry on a full channel, shared by every source that retries a refused batch (the TCP and UDP intakes, exec,
 * spooldir, taildir, seq): the same attempt again after an abortable backoff, until it succeeds, the refusal is
 * not retriable, or the source gives up. The source keeps its own reaction (stop reading, log, answer).
 */
import { ChannelFullError } from './errors.js';
import { sleep as defaultSleep } from './clock.js';

/** LinearBackoff (Flume's pollable runners) or ExponentialBackoff, from backoff.ts. */
export interface Backoff {
  next(): number;
  reset(): void;
}

export interface RetryPolicy {
  /** The waits between attempts; reset when a retrying() call starts. */
  readonly backoff: Backoff;
  /** Aborting gives up: retrying() resolves false at the next refusal (a wait cut short still gets one more try). */
  readonly signal: AbortSignal;
  /** The refusals worth retrying; default: ChannelFullError. Any other refusal is rethrown at once. */
  readonly retriable?: (err: unknown) => boolean;
  /** Each refusal that will be retried, before its wait (attempt 1 is the first): log, stop reading. */
  readonly onRetry?: (err: unknown, attempt: number, waitMs: number) => void;
  /** Injectable sleep (tests); must resolve early when the signal aborts. */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

export function isChannelFull(err: unknown): boolean {
  return err instanceof ChannelFullError;
}

/**
 * Runs `attempt` until it resolves, waiting `backoff.next()` after each retriable refusal. Resolves true once an
 * attempt succeeded, false when the signal had aborted by the time a refusal came back; rethrows a refusal that is
 * not retriable. `refused`: the caller already made the first attempt and it failed with this error (a pipelined
 * emit); retrying starts from there.
 */
export async function retrying(
  attempt: () => Promise<void>,
  policy: RetryPolicy,
  refused?: { error: unknown },
): Promise<boolean> {
  let err: unknown;
  if (refused) {
    err = refused.error;
  } else {
    try {
      await attempt();
      return true;
    } catch (e) {
      err = e;
    }
  }
  const retriable = policy.retriable ?? isChannelFull;
  const sleep = policy.sleep ?? defaultSleep;
  policy.backoff.reset();
  for (let n = 1; ; n++) {
    if (!retriable(err)) throw err;
    if (policy.signal.aborted) return false;
    const wait = policy.backoff.next();
    policy.onRetry?.(err, n, wait);
    await sleep(wait, policy.signal);
    try {
      await attempt();
      return true;
    } catch (e) {
      err = e;
    }
  }
}
