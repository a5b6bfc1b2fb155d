/**
 * The take path: takes are served from the read window, a rollback returns them to its head in order, and a
 * commit records the consumed indices in the take log (takes.log: one write(), never behind a put's fsync; see
 * take-log.ts). Records whose events are all consumed are left to the reclaimer.
 */
import type { FlumeEvent } from '../../core/event.js';
import { errorMessage } from '../../core/errors.js';
import type { Waiters } from '../waiters.js';
import { addConsumed } from './ranges.js';
import { FileChannelError, isDiskFull } from './store.js';
import type { TakeLog } from './take-log.js';
import type { ChannelCore } from './state.js';
import type { ReadWindow, TakenRanges } from './window.js';

export interface TakeHost extends ChannelCore {
  readonly window: ReadWindow;
  readonly takeLog: TakeLog;
  /** Woken when committed takes free room. */
  readonly spaceWaiters: Waiters;
  /** Woken when events come back to the head. */
  readonly dataWaiters: Waiters;
  /** Reopens the store after a failed write (resolves at once when it is open). */
  ensureOpen(): Promise<void>;
  /** Some records became wholly consumed: delete them. */
  reclaim(): void;
}

export class TakePath {
  private readonly open = new Set<TakenRanges>();
  private lastTake = Number.NEGATIVE_INFINITY;

  constructor(private readonly host: TakeHost) {}

  /** When a take last committed (pacing applies only while a sink drains). */
  get lastTakeAt(): number {
    return this.lastTake;
  }

  /** Forgets every open transaction (start-up). */
  reset(): void {
    this.host.state.inflight = 0;
    this.open.clear();
  }

  /** Index ranges held by open transactions, as flat [start, end) pairs. */
  takenRanges(): number[] {
    const out: number[] = [];
    if (this.open.size === 0) return out;
    for (const tx of this.open) for (let i = 0; i < tx.ranges.length; i++) out.push(tx.ranges[i]!);
    return out;
  }

  take(tx: TakenRanges, n: number): FlumeEvent[] | Promise<FlumeEvent[]> {
    const { status, window } = this.host;
    this.host.counters.add('EventTakeAttemptCount');
    if (status.fault) throw status.fault;
    if (!status.started) return [];
    if (status.needsReopen || (!window.caughtUp && window.events < n)) {
      return (async () => {
        await this.host.ensureOpen();
        if (!window.caughtUp && window.events < n) await window.load();
        return this.takeNow(tx, n);
      })();
    }
    return this.takeNow(tx, n);
  }

  private takeNow(tx: TakenRanges, n: number): FlumeEvent[] {
    const out = this.host.window.take(tx, n);
    if (out.length > 0) {
      this.host.state.inflight += out.length;
      this.open.add(tx);
    }
    this.host.window.prefetch();
    return out;
  }

  /** Returns a transaction's takes to the head, in order. */
  rollback(tx: TakenRanges, events: readonly FlumeEvent[]): void {
    if (!this.open.delete(tx)) return;
    const { state, window } = this.host;
    state.inflight -= events.length;
    if (tx.gen !== window.gen) {
      // the window was rebuilt from the store since these were taken: read them again from there
      window.reset();
      window.prefetch();
    } else {
      window.giveBack(tx, events);
    }
    this.host.counters.set('ChannelSize', state.size);
    this.host.dataWaiters.wakeAll();
  }

  commit(tx: TakenRanges, takeCount: number): Promise<void> {
    try {
      this.record(tx, tx.ranges, takeCount, 0);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Marks unreadable or missing events consumed (recover mode); a failure leaves them to the next start. */
  drop(ranges: number[], n: number): void {
    try {
      this.record(undefined, ranges, 0, n);
    } catch (err) {
      this.host.log.warn('Recording dropped events failed; they are counted again on the next start', {
        error: errorMessage(err),
      });
    }
  }

  /**
   * Records committed takes (and, in recover mode, dropped events) in the take log: one write() that never waits
   * behind a put's fsync. Throws when the log cannot be written (the transaction is then rolled back).
   */
  private record(tx: TakenRanges | undefined, ranges: number[], takeCount: number, dropCount: number): void {
    const { state, counters } = this.host;
    const consumed = addConsumed({ head: state.head, done: state.done }, ranges);
    const { headBase, consumedRecords } = this.host.window.headBaseAfter(consumed.head);
    const taken = state.taken + takeCount + dropCount;
    try {
      this.host.takeLog.append(state.storeId, { head: consumed.head, done: consumed.done, headBase, taken });
    } catch (err) {
      counters.add('EventTakeErrorCount');
      throw new FileChannelError(
        isDiskFull(err) ? 'disk-full' : 'io',
        `Channel ${this.host.name}: recording the take in ${this.host.takeLog.file} failed (${errorMessage(err)}); ` +
          'the events will be delivered again.',
        { cause: err, retriable: true },
      );
    }
    state.head = consumed.head;
    state.done = consumed.done;
    state.headBase = headBase;
    state.taken = taken;
    state.inflight -= takeCount;
    if (tx) this.open.delete(tx);
    counters.add('EventTakeSuccessCount', takeCount);
    counters.set('ChannelSize', state.size);
    if (takeCount > 0) this.lastTake = performance.now();
    this.host.spaceWaiters.wakeAll();
    if (consumedRecords > 0) this.host.reclaim();
  }
}
