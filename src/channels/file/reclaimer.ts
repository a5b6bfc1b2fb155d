/**
 * Reclaiming and housekeeping.
 *
 * - reclaim(): deletes the records whose events are all consumed, soon after the take that consumed them.
 * - Every second (a tick): looks at the free space (the channel's health shows the floor as soon as it is crossed),
 *   reopens the store after a failed write when nothing else asks for it (so the channel recovers by itself once
 *   space is back), and compacts the consumed part of the store early when the volume is below the floor or the
 *   channel has drained and is idle: deleted records only give their space back once LevelDB compacts them.
 * - Every checkpointInterval: compacts what was deleted since the last compaction and rewrites checkpoint.json.
 *
 * Runs never overlap; a tick that comes while one runs is folded into a run right after it.
 */
import { errorMessage } from '../../core/errors.js';
import type { Timers } from '../../core/clock.js';
import { KEY_STATE, encodeTakeState, recordKey } from './codec.js';
import { errCode, type Op } from './store.js';
import type { ChannelCore } from './state.js';
import type { ReadWindow } from './window.js';

/** How often the free space is looked at and a failed store is retried (ms). */
export const TICK_MS = 1000;

export interface ReclaimHost extends ChannelCore {
  readonly window: ReadWindow;
  readonly checkpointIntervalMs: number;
  readonly timers: Timers;
  /** Rewrites checkpoint.json. */
  writeCheckpoint(): void;
  /** Measures the free space and updates the floor state (never rejects). */
  checkFloor(): Promise<void>;
  /** Reopens the store after a failed write (rejects while it cannot). */
  reopen(): Promise<void>;
}

export class Reclaimer {
  /** The reclaimer's run (deleting consumed records), when one is under way. */
  private reclaimRun: Promise<void> | undefined;
  private housekeepingRun: Promise<void> | undefined;
  private compactRun: Promise<void> | undefined;
  private deletedSinceCompact = 0;
  /** Compact at the next tick whatever was deleted (start-up: the last run may have deleted without compacting). */
  private compactDue = false;
  private tickDue = false;
  private fullDue = false;
  /** `state.puts` at the previous tick: unchanged means the channel is idle. */
  private putsAtLastTick = -1;
  private timers: { cancel(): void }[] = [];

  constructor(private readonly host: ReclaimHost) {}

  /** The deletion under way, if any (settles, never rejects). */
  get reclaiming(): Promise<void> | undefined {
    return this.reclaimRun;
  }

  /** The housekeeping run under way, if any (settles, never rejects). */
  get housekeeping(): Promise<void> | undefined {
    return this.housekeepingRun;
  }

  /** The compaction under way, if any (settles, never rejects). */
  get compacting(): Promise<void> | undefined {
    return this.compactRun;
  }

  /** Starts the timers; the first tick also compacts the part of the store consumed before this start. */
  start(): void {
    this.stop();
    this.compactDue = this.host.state.headBase > 0;
    this.putsAtLastTick = -1;
    const { timers, checkpointIntervalMs } = this.host;
    this.timers.push(timers.every(Math.min(TICK_MS, checkpointIntervalMs), () => this.poke(false)));
    this.timers.push(timers.every(checkpointIntervalMs, () => this.poke(true)));
  }

  stop(): void {
    for (const t of this.timers.splice(0)) t.cancel();
  }

  /** `n` records were deleted elsewhere (start-up): the next housekeeping compacts. */
  deleted(n: number): void {
    this.deletedSinceCompact += n;
  }

  /**
   * Deletes the records every event of which is consumed, with a copy of the take state, in one unsynced batch
   * (nobody waits for it). The copy is never ahead of the take log, and a record is deleted only together with a
   * state that consumed it: whichever of the two start-up picks, nothing is lost.
   */
  reclaim(): void {
    const { status } = this.host;
    if (this.reclaimRun || status.closed || status.needsReopen) return;
    const run = this.deleteConsumed().finally(() => {
      this.reclaimRun = undefined;
    });
    this.reclaimRun = run;
  }

  private async deleteConsumed(): Promise<void> {
    const { status, state, window, store, counters, log } = this.host;
    for (;;) {
      const ops: Op[] = window.consumedRecordKeys(state.head).map((key) => ({ type: 'del', key }));
      const deletions = ops.length;
      if (deletions === 0 || status.needsReopen) return;
      ops.push({ type: 'put', key: KEY_STATE, value: encodeTakeState(state.takeState()) });
      const gen = window.gen;
      try {
        await store.write(ops, false);
      } catch (err) {
        status.needsReopen = true;
        counters.set('Unhealthy', 1);
        log.error(
          'Deleting consumed records from the file-channel store failed; the store is reopened before the ' +
            'next write (no event is affected)',
          { error: errorMessage(err), code: errCode(err) },
        );
        return;
      }
      // a window reset during the write cleared the list; the reader re-reads from headBase
      window.forgetRecords(deletions, gen);
      this.deletedSinceCompact += deletions;
    }
  }

  /** A timer fired: run housekeeping now, or right after the run under way. */
  private poke(full: boolean): void {
    this.tickDue = true;
    if (full) this.fullDue = true;
    if (this.housekeepingRun) return;
    // `.finally` always runs in a later microtask, after the assignment below (an async body that completes
    // synchronously must not clear the slot before it is set, or every later tick would see a run "under way")
    const run = this.housekeep().finally(() => {
      this.housekeepingRun = undefined;
    });
    this.housekeepingRun = run;
  }

  private async housekeep(): Promise<void> {
    while (this.tickDue) {
      const full = this.fullDue;
      this.tickDue = this.fullDue = false;
      try {
        await this.tick(full);
      } catch (err) {
        this.host.log.warn('File channel housekeeping failed', { error: errorMessage(err) });
      }
    }
  }

  private async tick(full: boolean): Promise<void> {
    const { status, state } = this.host;
    if (!status.started) return;
    if (status.needsReopen) await this.host.reopen().catch(() => {});
    await this.host.checkFloor();
    const idle = state.puts === this.putsAtLastTick;
    this.putsAtLastTick = state.puts;
    const drainedAndIdle = idle && state.durableSize === 0;
    if (this.deletedSinceCompact > 0 || this.compactDue) {
      if (full || this.compactDue || status.belowFloor || drainedAndIdle) await this.compact();
    }
    if (full && status.started && !status.needsReopen) this.host.writeCheckpoint();
  }

  /** Compacts the consumed part of the store: LevelDB drops the deleted records and gives their space back. */
  private async compact(): Promise<void> {
    const { status, state, store, log } = this.host;
    if (status.needsReopen || !status.started) return;
    const n = this.deletedSinceCompact;
    this.deletedSinceCompact = 0;
    this.compactDue = false;
    const run = store.compact(recordKey(0, 0), recordKey(state.headBase, 0)).catch((err) => {
      this.deletedSinceCompact += n;
      log.warn('Compacting the consumed part of the file-channel store failed', { error: errorMessage(err) });
    });
    this.compactRun = run;
    await run;
    this.compactRun = undefined;
  }
}
