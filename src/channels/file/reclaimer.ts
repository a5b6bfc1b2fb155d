/**
 * Reclaiming and housekeeping: deleting the records whose events are all consumed, and, every
 * checkpointInterval, compacting the consumed part of the store and rewriting checkpoint.json.
 */
import { errorMessage } from '../../core/errors.js';
import { KEY_STATE, encodeTakeState, recordKey } from './codec.js';
import { errCode, type Op } from './store.js';
import type { ChannelCore } from './state.js';
import type { ReadWindow } from './window.js';

export interface ReclaimHost extends ChannelCore {
  readonly window: ReadWindow;
  readonly checkpointIntervalMs: number;
  /** Rewrites checkpoint.json. */
  writeCheckpoint(): void;
}

export class Reclaimer {
  /** The reclaimer's run (deleting consumed records), when one is under way. */
  private reclaimRun: Promise<void> | undefined;
  private housekeepingRun: Promise<void> | undefined;
  private deletedSinceCompact = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly host: ReclaimHost) {}

  /** The deletion under way, if any (settles, never rejects). */
  get reclaiming(): Promise<void> | undefined {
    return this.reclaimRun;
  }

  /** The housekeeping run under way, if any. */
  get housekeeping(): Promise<void> | undefined {
    return this.housekeepingRun;
  }

  /** Starts the housekeeping timer. */
  start(): void {
    this.timer = setInterval(() => void this.runHousekeeping(), this.host.checkpointIntervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
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
    const { status, state, window, store, counters, log } = this.host;
    if (this.reclaimRun || status.closed || status.needsReopen) return;
    this.reclaimRun = (async () => {
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
    })().finally(() => {
      this.reclaimRun = undefined;
    });
  }

  private runHousekeeping(): Promise<void> {
    const { status, state, store, log } = this.host;
    this.housekeepingRun ??= (async () => {
      try {
        if (this.deletedSinceCompact > 0 && !status.needsReopen && status.started) {
          const n = this.deletedSinceCompact;
          this.deletedSinceCompact = 0;
          await store.compact(recordKey(0, 0), recordKey(state.headBase, 0)).catch((err) => {
            this.deletedSinceCompact += n;
            log.warn('Compacting the consumed part of the file-channel store failed', { error: errorMessage(err) });
          });
        }
        if (status.started && !status.needsReopen) this.host.writeCheckpoint();
      } finally {
        this.housekeepingRun = undefined;
      }
    })();
    return this.housekeepingRun;
  }
}
