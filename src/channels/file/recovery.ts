/**
 * Start-up: reads the state of an opened store and checks it against checkpoint.json and the take log, refusing a
 * store that is not the one this channel used (deleted, moved, unmounted or restored data directory). With
 * recover = true it rebuilds the state from the records instead (after a LevelDB repair, or when the state record
 * is missing), counting what was lost. Constant time for a healthy store, whatever its depth: nothing is replayed.
 */
import fs from 'node:fs';
import crypto from 'node:crypto';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../telemetry/logger.js';
import {
  KEY_META,
  KEY_PUT_STATE,
  KEY_RECORDS_END,
  KEY_STATE,
  decodeEvents,
  encodePutState,
  encodeTakeState,
  parseRecordKey,
  recordKey,
  type StoreMeta,
  type StoreState,
} from './codec.js';
import { addConsumed, liveParts, liveRanges, rangesLength } from './ranges.js';
import { FileChannelError, type Op } from './store.js';
import type { TakeLog } from './take-log.js';
import type { ChannelCore } from './state.js';
import type { CheckpointFile } from './checkpoint.js';

const FLUME_DATA_FILE = /^log-\d+(\.meta)?$/;
const FLUME_CHECKPOINT_FILES = new Set(['checkpoint', 'checkpoint.meta', 'inflightputs', 'inflighttakes']);

type FullState = StoreState & { puts?: number; taken?: number };

export interface RecoveryHost extends ChannelCore {
  readonly dataDir: string;
  /** checkpoint.json, for messages. */
  readonly checkpointFile: string;
  readonly recover: boolean;
  readonly takeLog: TakeLog;
  /** Events found lost while rebuilding (recover mode). */
  lost(n: number): void;
  /** Records deleted at start-up (the next housekeeping compacts them away). */
  deleted(n: number): void;
}

/** Warns when the directories hold Apache Flume's own file-channel files (which are not read). */
export function warnAboutFlumeFiles(dataDir: string, checkpointDir: string, log: Logger): void {
  const has = (dir: string, test: (n: string) => boolean) => {
    try {
      return fs.readdirSync(dir).some(test);
    } catch {
      return false;
    }
  };
  if (has(dataDir, (n) => FLUME_DATA_FILE.test(n)) || has(checkpointDir, (n) => FLUME_CHECKPOINT_FILES.has(n))) {
    log.warn(
      'These directories hold Apache Flume file-channel files, which flume-ts does not read: events queued by ' +
        'Flume stay there. Drain them with Flume first, or point this channel at new directories.',
      { dataDir, checkpointDir },
    );
  }
}

/**
 * Whether the store a checkpoint names may have held events: it said so, or it was not written by a clean stop
 * (kill -9, power loss): events may have been put after it, so its `size` is only a lower bound.
 */
function mayHaveHeldEvents(checkpoint: CheckpointFile): boolean {
  return checkpoint.size > 0 || checkpoint.clean !== true;
}

/** Both state records for a whole state (start-up, recovery). */
function stateOps(s: StoreState): Op[] {
  return [
    {
      type: 'put',
      key: KEY_STATE,
      value: encodeTakeState({ head: s.head, done: s.done, headBase: s.headBase, taken: 0 }),
    },
    { type: 'put', key: KEY_PUT_STATE, value: encodePutState({ nextIndex: s.nextIndex, puts: s.size }) },
  ];
}

export class Recovery {
  constructor(private readonly host: RecoveryHost) {}

  /**
   * Reads (or rebuilds) the state of the open store into `state`, after checking it against the checkpoint and
   * the take log; `existed`: the store was on disk before it was opened; `repaired`: LevelDB repaired it.
   */
  async load(existed: boolean, checkpoint: CheckpointFile | undefined, repaired: boolean): Promise<void> {
    const { store, state, takeLog, name, dataDir, recover, log } = this.host;
    const storedMeta = await store.readMeta();
    let found: FullState | undefined = await store.readState();
    const hasRecords = await this.anyRecord();
    if (!storedMeta && (found || hasRecords) && !recover) {
      throw store.corrupt('its identity record is missing while it holds data');
    }
    const meta: StoreMeta = storedMeta ?? {
      format: 1,
      storeId: crypto.randomUUID(),
      createdAt: new Date().toISOString(),
      channel: name,
    };
    state.storeId = meta.storeId;
    if (found) found = this.withTakeLog(found);
    if (checkpoint && checkpoint.storeId !== meta.storeId && mayHaveHeldEvents(checkpoint)) {
      const msg =
        !existed || (!found && !hasRecords)
          ? this.noStore(checkpoint)
          : `checkpoint ${this.host.checkpointFile} belongs to another store (${checkpoint.storeId}, at ` +
            `${checkpoint.dataDir}, ${checkpoint.size} events) than the one in ${dataDir} (${meta.storeId})`;
      if (!recover) throw this.mismatch(msg);
      log.error('File channel checkpoint does not match the store; continuing because recover = true', {
        problem: msg,
      });
    }
    if (repaired) {
      found = await this.rebuild(found);
    } else if (!found && hasRecords) {
      if (!recover) throw store.corrupt('its state record is missing while it holds event records');
      found = await this.rebuild(undefined);
    }
    const stateStored = found !== undefined;
    found ??= { head: 0, done: [], nextIndex: 0, size: 0, headBase: 0 };
    if (checkpoint && checkpoint.storeId === meta.storeId && checkpoint.nextIndex > found.nextIndex) {
      const msg =
        `the store ends at event index ${found.nextIndex} but checkpoint.json saw ${checkpoint.nextIndex}: ` +
        `up to ${checkpoint.nextIndex - found.nextIndex} committed events are missing (was the store restored ` +
        'from an older copy, or its log truncated?)';
      if (!recover) throw store.corrupt(msg);
      log.error('File channel store lost committed events; continuing because recover = true', { problem: msg });
    }
    state.adopt(found);
    if (!storedMeta || !stateStored) {
      const metaOp: Op = { type: 'put', key: KEY_META, value: Buffer.from(JSON.stringify(meta)) };
      await store.write([metaOp, ...stateOps(found)], true);
    }
    try {
      takeLog.reset(state.storeId, state.takeState());
    } catch (err) {
      throw new FileChannelError(
        'io',
        `Channel ${name}: cannot write the take log ${takeLog.file}: ${errorMessage(err)}. ` +
          'Check that the directory is writable by this user and the disk is not full.',
        { cause: err, retriable: true },
      );
    }
    await this.purgeConsumed();
  }

  /**
   * Before a store is created where there is none: refuses when checkpoint.json says this channel had one that may
   * have held events (so an unmounted volume never gets an empty store written on its mount point).
   */
  refuseMissingStore(checkpoint: CheckpointFile | undefined): void {
    if (this.host.recover || !checkpoint || !mayHaveHeldEvents(checkpoint)) return;
    throw this.mismatch(this.noStore(checkpoint));
  }

  private noStore(checkpoint: CheckpointFile): string {
    const held =
      checkpoint.clean === true
        ? `held ${checkpoint.size} events`
        : `held ${checkpoint.size} events at ${checkpoint.writtenAt} and was not stopped cleanly after that (more ` +
          'may have been queued since)';
    return (
      `checkpoint ${this.host.checkpointFile} says this channel ${held} in the store at ${checkpoint.dataDir}, ` +
      `but ${this.host.dataDir} has no store (was the data directory deleted or moved, or is its volume not mounted?)`
    );
  }

  private mismatch(msg: string): FileChannelError {
    const { name, checkpointFile } = this.host;
    return new FileChannelError(
      'mismatch',
      `Channel ${name}: ${msg}. The agent refuses to start rather than run over the wrong or an empty store. ` +
        `Fix dataDirs/checkpointDir, or mount the volume. If those events are really gone, delete ${checkpointFile} ` +
        `(or set <agent>.channels.${name}.recover = true for one start).`,
    );
  }

  /** Deletes records below headBase left by a stop before the reclaimer caught up with the take log. */
  private async purgeConsumed(): Promise<void> {
    const { store, state } = this.host;
    const it = store.keys({ gte: recordKey(0, 0), lt: recordKey(state.headBase, 0) });
    try {
      for (;;) {
        const keys = await it.nextv(1000);
        if (keys.length === 0) return;
        const ops: Op[] = keys.map((key) => ({ type: 'del', key }));
        ops.push({ type: 'put', key: KEY_STATE, value: encodeTakeState(state.takeState()) });
        await store.write(ops, false);
        this.host.deleted(keys.length);
      }
    } finally {
      await it.close();
    }
  }

  /**
   * The take log is ahead of the store's copy of the take state (that copy is written only when consumed records
   * are deleted): use its state when it has consumed more. A missing, foreign or damaged log falls back to the
   * copy, which at worst delivers some events again.
   */
  private withTakeLog<S extends FullState>(found: S): S {
    const { takeLog, log } = this.host;
    const r = takeLog.read(this.host.state.storeId);
    if (r.problem) {
      log.warn(
        'The take log is not usable; using the take state kept in the store (some events may be delivered ' + 'again)',
        { problem: r.problem },
      );
    }
    const t = r.state;
    if (!t || t.taken <= (found.taken ?? 0) || found.puts === undefined) return found;
    if (t.head > found.nextIndex || t.taken > found.puts || t.head < found.head) {
      log.warn(
        'The take log does not match the store; using the take state kept in the store (some events may be ' +
          'delivered again)',
        { file: takeLog.file },
      );
      return found;
    }
    return { ...found, head: t.head, done: t.done, headBase: t.headBase, taken: t.taken, size: found.puts - t.taken };
  }

  private async anyRecord(): Promise<boolean> {
    const it = this.host.store.keys({ gte: recordKey(0, 0), lt: KEY_RECORDS_END });
    try {
      const k = await it.nextv(1);
      return k.length > 0;
    } finally {
      await it.close();
    }
  }

  /**
   * Recovery: reads every record, drops the unreadable ones, marks missing index ranges as lost, and recomputes
   * the state. Consumed marks from a readable state record are kept; without one, everything still in the store
   * is delivered again.
   */
  private async rebuild(prev: StoreState | undefined): Promise<StoreState> {
    const t0 = performance.now();
    let consumed = { head: prev?.head ?? 0, done: prev?.done ?? [] };
    const ops: Op[] = [];
    const good: { base: number; count: number }[] = [];
    const lostRanges: number[] = [];
    let badRecords = 0;
    const it = this.host.store.iterator({ gte: Buffer.from([0x64]), lt: KEY_RECORDS_END });
    try {
      for (;;) {
        const batch = await it.nextv(256);
        if (batch.length === 0) break;
        for (const [k, v] of batch) {
          let key: { base: number; count: number };
          try {
            key = parseRecordKey(k);
          } catch {
            ops.push({ type: 'del', key: k });
            badRecords++;
            continue;
          }
          try {
            decodeEvents(v, key.count);
            good.push(key);
          } catch {
            ops.push({ type: 'del', key: k });
            badRecords++;
            lostRanges.push(key.base, key.base + key.count);
          }
        }
      }
    } finally {
      await it.close();
    }
    if (!prev && good.length > 0) consumed = { head: good[0]!.base, done: [] };
    // index ranges with no record that were not consumed are lost (a damaged log or table lost them)
    let pos = consumed.head;
    let nextIndex = prev?.nextIndex ?? 0;
    for (const r of good) {
      if (r.base > pos) lostRanges.push(pos, r.base);
      pos = Math.max(pos, r.base + r.count);
    }
    if (pos > nextIndex) nextIndex = pos;
    if (nextIndex > pos) lostRanges.push(pos, nextIndex);
    const lost = rangesLength(lostRanges.length ? liveRanges(lostRanges, consumed) : []);
    consumed = addConsumed(consumed, lostRanges);
    let size = 0;
    let firstLive: number | undefined;
    for (const r of good) {
      const live = rangesLength(liveParts(r.base, r.base + r.count, consumed, []));
      if (live === 0 && r.base + r.count <= consumed.head) {
        ops.push({ type: 'del', key: recordKey(r.base, r.count) });
        continue;
      }
      firstLive ??= r.base;
      size += live;
    }
    const state: StoreState = {
      head: consumed.head,
      done: consumed.done,
      nextIndex,
      size,
      headBase: firstLive ?? nextIndex,
    };
    ops.push(...stateOps(state));
    await this.host.store.write(ops, true);
    this.host.lost(lost);
    const fields = {
      recoveredEvents: size,
      lostEvents: lost,
      unreadableRecords: badRecords,
      ms: Math.round(performance.now() - t0),
      stateRecord: prev ? 'kept' : 'missing: every event still in the store will be delivered again',
    };
    if (lost > 0 || badRecords > 0 || !prev) {
      this.host.log.error('File channel store recovered with losses or redeliveries', fields);
    } else {
      this.host.log.warn('File channel store recovered', fields);
    }
    return state;
  }
}
