/**
 * What the parts of the file channel share: where the queue stands (QueueState) and which condition the channel
 * is in (ChannelStatus), plain data whose field comments say which part writes them; and ChannelCore, what the
 * coordinator hands every part.
 */
import type { Logger } from '../../telemetry/logger.js';
import type { ChannelCounters } from '../../telemetry/counters.js';
import type { StoreState, TakeState } from './codec.js';
import type { FileChannelError, Store } from './store.js';

/** Event indices and counts. The take and put sides are mirrored in the store (and the take side in takes.log). */
export class QueueState {
  /** Identity of the open store (its 'm' record), also in takes.log and checkpoint.json. Set by recovery. */
  storeId = '';

  // take side: written by the take path (and by recovery at start-up)
  /** Every index below `head` is consumed (taken and committed). */
  head = 0;
  /** Consumed ranges above `head` ([start, end) pairs). */
  done: number[] = [];
  /** Base of the first record not wholly consumed: where the reader seeks to. */
  headBase = 0;
  /** Events consumed since the store was created (taken, or dropped as unreadable). */
  taken = 0;

  // put side: written by the put writer (and by recovery at start-up and after a reopen)
  /** Index the next put record starts at. */
  nextIndex = 0;
  /** Events put since the store was created. */
  puts = 0;

  // open transactions
  /** Events taken by open transactions (still in the store). Written by the take path. */
  inflight = 0;
  /** Events of admitted puts whose write has not settled (their room is reserved). Written by the put pipeline. */
  reserved = 0;

  /** Events in the store not consumed, including those taken by open transactions. */
  get durableSize(): number {
    return this.puts - this.taken;
  }

  /** Events a take can still get. */
  get size(): number {
    return this.durableSize - this.inflight;
  }

  /** Takes a whole state read from (or rebuilt in) the store. */
  adopt(s: StoreState & { puts?: number; taken?: number }): void {
    this.head = s.head;
    this.done = s.done;
    this.nextIndex = s.nextIndex;
    this.headBase = s.headBase;
    this.taken = s.taken ?? 0;
    this.puts = s.size + this.taken;
  }

  takeState(): TakeState {
    return { head: this.head, done: this.done, headBase: this.headBase, taken: this.taken };
  }
}

/** The channel's condition; `Unhealthy` (the counter) follows `fault`, `needsReopen` and `belowFloor`. */
export class ChannelStatus {
  /** start() finished and close() was not called. Written by the coordinator. */
  started = false;
  /** Nothing may be written (start() has not loaded the store yet, or close() was called). Coordinator. */
  closed = true;
  /** The store is damaged: takes are stopped. Written by the coordinator (corruptAtRuntime) and start(). */
  fault: FileChannelError | undefined;
  /** A write failed: LevelDB refuses further writes until the store is reopened. Put writer, reclaimer, reopen. */
  needsReopen = false;
  /** Why the last reopen failed. */
  lastReopenError: unknown;
  /** The last put admission found the volume below minimumRequiredSpace. Put pipeline. */
  belowFloor = false;
}

/** What every part of the channel is given (each part's host interface adds what that part needs). */
export interface ChannelCore {
  readonly name: string;
  readonly store: Store;
  readonly state: QueueState;
  readonly status: ChannelStatus;
  readonly counters: ChannelCounters;
  readonly log: Logger;
}
