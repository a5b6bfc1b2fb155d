/** Injectable clock: monotonic milliseconds for timeouts/backoff, wall milliseconds for timestamps. */
export interface Clock {
  monotonicMs(): number;
  nowMs(): number;
}
export const systemClock: Clock = {
  monotonicMs: () => performance.now(),
  nowMs: () => Date.now(),
};

/** A promise that resolves after `ms`, or early (without rejecting) when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** A repeating timer that tests can drive by hand. */
export interface Timers {
  /** Calls `fn` every `ms` until the handle is cancelled; never keeps the process alive by itself. */
  every(ms: number, fn: () => void): { cancel(): void };
}
export const systemTimers: Timers = {
  every(ms, fn) {
    const t = setInterval(fn, ms);
    t.unref();
    return { cancel: () => clearInterval(t) };
  },
};
