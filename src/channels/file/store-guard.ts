/**
 * What the file channel does when its store fails at run time. A failed write leaves LevelDB refusing further
 * writes until it is reopened: the next put or take reopens it (at most once a second) and re-reads the put side
 * of the state. A damaged record stops takes (puts continue) until the agent is restarted with recover = true.
 */
import { errorMessage } from '../../core/errors.js';
import { FileChannelError } from './store.js';
import type { ChannelCore } from './state.js';
import type { ReadWindow } from './window.js';

/** A failed reopen is retried at most this often (ms). */
const REOPEN_EVERY_MS = 1000;

export interface StoreGuardHost extends ChannelCore {
  readonly window: ReadWindow;
  /** Waits until nothing uses the store: the reader, housekeeping, the put write and the reclaimer. */
  quiesce(): Promise<void>;
}

export class StoreGuard {
  private reopenRun: Promise<void> | undefined;
  private lastReopenAttempt = Number.NEGATIVE_INFINITY;

  constructor(private readonly host: StoreGuardHost) {}

  /** The reopen under way, if any. */
  get reopening(): Promise<void> | undefined {
    return this.reopenRun;
  }

  /** Milliseconds until a failed reopen may be tried again (0: now). */
  nextReopenInMs(): number {
    return Math.max(0, this.lastReopenAttempt + REOPEN_EVERY_MS - performance.now());
  }

  /** The error a put or take fails with while the store cannot be reopened. */
  unavailable(): FileChannelError {
    const why = errorMessage(this.host.status.lastReopenError ?? 'reopening');
    const message = `Channel ${this.host.name}: the store is unavailable after a failed write (${why}); retrying`;
    return new FileChannelError('io', message, { retriable: true });
  }

  /** The store is damaged: takes stop (puts continue). Returns the error to throw. */
  corrupt(detail: string, cause: unknown): FileChannelError {
    const { status, counters } = this.host;
    const fault = this.host.store.corrupt(detail, cause);
    status.fault = fault;
    counters.set('Unhealthy', 1);
    counters.add('EventTakeErrorCount');
    this.host.log.error(
      'File channel store is damaged: takes are stopped (puts continue). Restart the agent with ' +
        'recover = true to drop the unreadable record and go on.',
      { problem: detail },
    );
    return fault;
  }

  /** After a failed write LevelDB refuses further writes until reopened; reopen (at most once a second). */
  ensureOpen(): Promise<void> {
    const { status, state, store, counters, log } = this.host;
    if (!status.needsReopen) return Promise.resolve();
    if (this.reopenRun) return this.reopenRun;
    if (performance.now() - this.lastReopenAttempt < REOPEN_EVERY_MS) return Promise.reject(this.unavailable());
    this.lastReopenAttempt = performance.now();
    this.reopenRun = (async () => {
      // the first await comes before the `finally` can run, so the slot is cleared only after it was set
      try {
        await this.host.quiesce();
        await store.close().catch(() => {});
        await store.open(false);
        const s = await store.readState();
        if (!s) throw store.corrupt('its state record vanished after a failed write');
        // the put side comes from the store; the take side in memory is the newest (it is in the take log)
        state.nextIndex = s.nextIndex;
        state.puts = s.puts;
        status.needsReopen = false;
        status.lastReopenError = undefined;
        if (!status.belowFloor && !status.fault) counters.set('Unhealthy', 0);
        this.host.window.reset();
        counters.set('ChannelSize', state.size);
        log.info('File channel store reopened after a failed write', { events: state.size });
      } catch (err) {
        status.lastReopenError = err;
        throw err;
      } finally {
        this.reopenRun = undefined;
      }
    })();
    return this.reopenRun;
  }
}
