/**
 * The file channel: a durable FIFO on LevelDB.
 *
 * - One LevelDB record per committed put transaction (key = first event index + count, value = the encoded
 *   batch). Commits from concurrent transactions are grouped into one `batch(..., {sync})` while the previous
 *   write is in flight (group commit), and every batch also rewrites the small state record (consumed head,
 *   out-of-order consumed ranges, next index, size), so the store is always self-consistent.
 * - Takes are served from an in-memory window over the records, filled by a reader that seeks from the last
 *   record it read (`gt: lastKey`), never from the start, and holds at most `windowEvents` / `windowBytes`.
 * - A take commit records the consumed indices in the state record, in the same batch that deletes the records
 *   that became fully consumed. After `kill -9` at any instant: committed puts are there, committed takes are not
 *   redelivered, uncommitted takes come back at the head in order.
 * - Start-up reads the state record and one window: constant time whatever the depth of the channel.
 */
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Channel, ChannelContext } from '../../registry/define.js';
import { AgentError, ChannelFullError, errorMessage, isRetriable } from '../../core/errors.js';
import type { FlumeEvent } from '../../core/event.js';
import { Deque } from '../../core/deque.js';
import type { Logger } from '../../telemetry/logger.js';
import type { ChannelCounters } from '../../telemetry/counters.js';
import { BaseTransaction } from '../transaction.js';
import { Waiters } from '../waiters.js';
import {
  CodecError, KEY_META, KEY_PUT_STATE, KEY_RECORDS_END, KEY_STATE, decodeEvents, encodeEvents, encodePutState, encodeTakeState,
  parseRecordKey, recordKey,
  type StoreMeta, type StoreState,
} from './codec.js';
import { addConsumed, liveParts, liveRanges, rangesLength } from './ranges.js';
import { DiskSpaceGuard, mib, type StatFs } from './disk-space.js';
import { FileChannelError, Store, errCode, isDiskFull, type Op } from './store.js';
import { removeOwner, writeOwner } from './lock.js';
import { TakeLog } from './take-log.js';
import { resolveDirs, type FileChannelOptions } from './options.js';

/** Test and embedding knobs (not configuration keys). */
export interface FileChannelInternals {
  /** Most decoded events kept in memory ahead of the takers (default: max(2 x transactionCapacity, min(capacity, 100000))). */
  windowEvents?: number;
  /** Most bytes of records kept in memory ahead of the takers (default 64 MiB). */
  windowBytes?: number;
  statfs?: StatFs;
  /** LevelDB memtable size (default 16 MiB). */
  writeBufferSize?: number;
}

interface Run {
  /** Index of events[from]. */
  base: number;
  events: FlumeEvent[];
  from: number;
  to: number;
  /** Record bytes per event, for the memory budget. */
  bpe: number;
}

export const CHECKPOINT_FILE = 'checkpoint.json';

interface CheckpointFile {
  format: 1;
  storeId: string;
  channel: string;
  dataDir: string;
  size: number;
  head: number;
  nextIndex: number;
  writtenAt: string;
}

const FLUME_DATA_FILE = /^log-\d+(\.meta)?$/;
const FLUME_CHECKPOINT_FILES = new Set(['checkpoint', 'checkpoint.meta', 'inflightputs', 'inflighttakes']);

function isCorruption(err: unknown): boolean {
  if (err instanceof FileChannelError) return err.reason === 'corrupt';
  return errCode(err) === 'LEVEL_CORRUPTION' || /^(Error: )?Corruption:/.test(errorMessage(err));
}

export class FileChannel implements Channel {
  readonly name: string;
  readonly counters: ChannelCounters;
  readonly capacity: number;
  readonly transactionCapacity: number;
  readonly dataDir: string;
  readonly checkpointDir: string;
  /** Puts are admitted and written in commit() order with failures cascading (see commitTx): producers may pipeline. */
  readonly putsInFlight = 16;
  private readonly log: Logger;
  private readonly keepAliveMs: number;
  private readonly windowEvents: number;
  private readonly windowBytes: number;
  private readonly store: Store;
  private readonly takeLog: TakeLog;
  private readonly disk: DiskSpaceGuard;

  // durable state (mirrors the state record)
  private head = 0;
  private done: number[] = [];
  private nextIndex = 0;
  private durableSize = 0;
  private headBase = 0;
  private storeId = '';

  // transactions
  /** Events taken by open transactions (still in the store). */
  private inflight = 0;
  private readonly openTakes = new Set<FileTransaction>();
  private reservedPuts = 0;

  // in-memory window
  private readonly runs = new Deque<Run>(64);
  private memEvents = 0;
  private memBytes = 0;
  /** Records read or appended and not yet deleted, in index order (for deletion once consumed). */
  private readonly records = new Deque<{ base: number; count: number }>(64);
  private lastLoadedKey: Buffer | undefined;
  private loadedEnd = 0;
  private caughtUp = false;
  private loading: Promise<void> | undefined;
  private gen = 0;
  private writeSeq = 0;
  /** Events per record seen by the reader (sizes its reads). */
  private avgRecord = 0;

  // writer
  /** Puts in commit() order, waiting to be admitted (room, disk floor, open store). */
  private admitQueue: PendingPut[] = [];
  /** The slow admission of the put at the head of admitQueue, when one is under way. */
  private admitting: Promise<void> | undefined;
  /** Admitted puts (encoded, room reserved) waiting for the put writer. */
  private putQueue: PendingPut[] = [];
  private putLoop: Promise<void> | undefined;
  /** The reclaimer's run (deleting consumed records), when one is under way. */
  private reclaiming: Promise<void> | undefined;
  /** The write each writer has in flight (settles, never rejects). */
  private putWrite: Promise<void> | undefined;
  private putTotal = 0;
  private takenTotal = 0;
  /** When a take last committed (pacing applies only while a sink drains). */
  private lastTakeAt = Number.NEGATIVE_INFINITY;
  /** Backlog above which a producer is paced while a sink drains. */
  private readonly paceAbove: number;
  private lastSyncAt = 0;
  private needsReopen = false;
  private reopening: Promise<void> | undefined;
  private lastReopenAttempt = Number.NEGATIVE_INFINITY;
  private lastReopenError: unknown;

  private fault: FileChannelError | undefined;
  private belowFloor = false;
  private closed = true;
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private housekeepingRun: Promise<void> | undefined;
  private deletedSinceCompact = 0;
  private lostToCorruption = 0;
  private readonly dataWaiters = new Waiters();
  private readonly spaceWaiters = new Waiters();

  constructor(private readonly o: FileChannelOptions, ctx: ChannelContext, internals: FileChannelInternals = {}) {
    this.name = ctx.name;
    this.counters = ctx.counters;
    this.log = ctx.logger;
    this.capacity = o.capacity;
    this.transactionCapacity = o.transactionCapacity;
    this.keepAliveMs = o['keep-alive'];
    const dirs = resolveDirs(o, ctx.agentDir, ctx.name);
    this.dataDir = dirs.dataDir;
    this.checkpointDir = dirs.checkpointDir;
    if (dirs.extraDataDirs.length > 0) {
      this.log.warn('File channel uses only the first of dataDirs; the others are ignored', { used: this.dataDir, ignored: dirs.extraDataDirs.join(',') });
    }
    this.windowEvents = internals.windowEvents ?? Math.max(2 * o.transactionCapacity, Math.min(o.capacity, 100_000));
    this.windowBytes = internals.windowBytes ?? 64 * 1024 * 1024;
    this.paceAbove = Math.min(this.windowEvents / 2, Math.max(10 * o.transactionCapacity, 1000));
    this.store = new Store({ channel: this.name, dataDir: this.dataDir, checkpointDir: this.checkpointDir, writeBufferSize: internals.writeBufferSize ?? 16 * 1024 * 1024 });
    this.disk = new DiskSpaceGuard(this.dataDir, o.minimumRequiredSpace, internals.statfs);
    this.takeLog = new TakeLog(this.dataDir);
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    if (this.started) return;
    const t0 = performance.now();
    // start() may be retried by the agent's supervisor after a failure: begin from a clean slate
    this.fault = undefined;
    this.needsReopen = false;
    this.belowFloor = false;
    this.lostToCorruption = 0;
    this.inflight = 0;
    this.openTakes.clear();
    this.putQueue = [];
    this.admitQueue = [];
    for (const c of ['Open', 'Closed', 'Unhealthy', 'EventPutErrorCount', 'EventTakeErrorCount', 'CheckpointWriteErrorCount', 'CheckpointBackupWriteErrorCount']) this.counters.set(c, 0);
    this.counters.set('Closed', 1);
    this.counters.set('ChannelCapacity', this.capacity);
    fs.mkdirSync(this.dataDir, { recursive: true });
    fs.mkdirSync(this.checkpointDir, { recursive: true });
    this.warnAboutFlumeFiles();
    const checkpoint = this.readCheckpoint();
    const existed = this.store.inspect() !== 'none';
    let { repaired } = await this.store.open(this.o.recover);
    for (;;) {
      try {
        await this.loadState(existed, checkpoint, repaired);
        writeOwner(this.dataDir, this.name);
        this.closed = false;
        this.resetWindow();
        await this.loadMore();
        await this.disk.refresh().catch(() => {});
        if (this.disk.estimatedFree < this.o.minimumRequiredSpace) {
          this.log.warn('File channel starts below its free-space floor: puts are refused until space is freed; takes continue', { dir: this.dataDir, free: mib(this.disk.estimatedFree), minimumRequiredSpace: mib(this.o.minimumRequiredSpace) });
        }
        break;
      } catch (err) {
        this.closed = true;
        await this.loading?.catch(() => {});
        await this.writersIdle();
        await this.store.close().catch(() => {});
        this.lostToCorruption = 0; // the rebuild after a repair counts the losses again, from scratch
        const corrupt = isCorruption(err);
        if (corrupt && this.o.recover && !repaired) {
          this.log.error('File channel store is damaged; repairing it because recover = true', { dir: this.store.location, problem: errorMessage(err) });
          this.fault = undefined;
          this.counters.set('Unhealthy', 0);
          await this.store.repair();
          await this.store.open(false);
          repaired = true;
          continue;
        }
        throw corrupt && !(err instanceof FileChannelError) ? this.store.corrupt(`LevelDB: ${errorMessage(err)}`, err) : err;
      }
    }
    this.writeCheckpoint();
    this.started = true;
    this.counters.set('Open', 1);
    this.counters.set('Closed', 0);
    this.counters.set('ChannelSize', this.size());
    this.counters.started();
    this.timer = setInterval(() => void this.housekeeping(), this.o.checkpointInterval);
    this.timer.unref();
    this.dataWaiters.wakeAll();
    this.log.info('File channel ready', { dir: this.store.location, events: this.size(), startMs: Math.round(performance.now() - t0) });
  }

  async close(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.spaceWaiters.wakeAll();
    this.dataWaiters.wakeAll();
    while (this.admitting) await this.admitting;
    await this.writersIdle();
    await this.housekeepingRun;
    await this.loading?.catch(() => {});
    await this.reopening?.catch(() => {});
    if (!this.needsReopen) this.writeCheckpoint();
    this.takeLog.close();
    await this.store.close().catch((err) => this.log.warn('Closing the file-channel store failed', { error: errorMessage(err) }));
    removeOwner(this.dataDir);
    this.counters.set('Open', 0);
    this.counters.set('Closed', 1);
    this.counters.stopped();
  }

  destroy(): void {
    void this.close();
  }

  size(): number {
    return this.durableSize - this.inflight;
  }

  health(): { ok: boolean; reason?: string } {
    if (this.fault) return { ok: false, reason: this.fault.message };
    if (this.needsReopen) return { ok: false, reason: `the store is unavailable after a failed write${this.lastReopenError ? ` (${errorMessage(this.lastReopenError)})` : ''}; puts and takes are retried` };
    if (this.belowFloor) return { ok: false, reason: `disk floor reached: ${mib(Math.max(0, this.disk.estimatedFree))} free on the volume of ${this.dataDir}, below minimumRequiredSpace ${mib(this.o.minimumRequiredSpace)}; puts are refused` };
    return { ok: true };
  }

  /**
   * True when a take can make progress now: events in the window, or events on disk the take will read. Never
   * true before start() finished: a sink loop that polls an unready channel must wait on a timer, or it would spin
   * on resolved promises and starve the I/O that start() waits for.
   */
  hasReadyEvents(): boolean {
    return this.started && !this.fault && (this.memEvents > 0 || (!this.caughtUp && !this.needsReopen && this.size() > 0));
  }

  waitForEvents(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.hasReadyEvents()) return Promise.resolve();
    return this.dataWaiters.wait(ms, signal);
  }

  /** Events a put could add now without exceeding the capacity. */
  room(): number {
    return this.capacity - this.durableSize - this.reservedPuts;
  }

  begin(): FileTransaction {
    return new FileTransaction(this);
  }

  /** Events decoded in memory ahead of the takers (for tests of the memory bound). */
  get windowSize(): number {
    return this.memEvents;
  }

  // ------------------------------------------------------------------------------------------------ start-up

  private warnAboutFlumeFiles(): void {
    const has = (dir: string, test: (n: string) => boolean) => {
      try {
        return fs.readdirSync(dir).some(test);
      } catch {
        return false;
      }
    };
    if (has(this.dataDir, (n) => FLUME_DATA_FILE.test(n)) || has(this.checkpointDir, (n) => FLUME_CHECKPOINT_FILES.has(n))) {
      this.log.warn('These directories hold Apache Flume file-channel files, which flume-ts does not read: events queued by Flume stay there. Drain them with Flume first, or point this channel at new directories.', { dataDir: this.dataDir, checkpointDir: this.checkpointDir });
    }
  }

  private readCheckpoint(): CheckpointFile | undefined {
    const file = path.join(this.checkpointDir, CHECKPOINT_FILE);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as CheckpointFile;
    } catch {
      this.log.warn('checkpoint.json is unreadable; it is rewritten (the store itself is the source of truth)', { file });
      return undefined;
    }
  }

  private async loadState(existed: boolean, checkpoint: CheckpointFile | undefined, repaired: boolean): Promise<void> {
    const storedMeta = await this.store.readMeta();
    let state: (StoreState & { puts?: number; taken?: number }) | undefined = await this.store.readState();
    const hasRecords = await this.anyRecord();
    if (!storedMeta && (state || hasRecords) && !this.o.recover) throw this.store.corrupt('its identity record is missing while it holds data');
    const meta: StoreMeta = storedMeta ?? { format: 1, storeId: crypto.randomUUID(), createdAt: new Date().toISOString(), channel: this.name };
    this.storeId = meta.storeId;
    if (state) state = this.withTakeLog(state);
    if (checkpoint && checkpoint.storeId !== meta.storeId && checkpoint.size > 0) {
      const cpFile = path.join(this.checkpointDir, CHECKPOINT_FILE);
      const msg = !existed || (!state && !hasRecords)
        ? `checkpoint ${cpFile} says this channel held ${checkpoint.size} events in the store at ${checkpoint.dataDir}, but ${this.dataDir} has no store (was the data directory deleted or moved, or is its volume not mounted?)`
        : `checkpoint ${cpFile} belongs to another store (${checkpoint.storeId}, at ${checkpoint.dataDir}, ${checkpoint.size} events) than the one in ${this.dataDir} (${meta.storeId})`;
      if (!this.o.recover) {
        throw new FileChannelError('mismatch',
          `Channel ${this.name}: ${msg}. The agent refuses to start rather than run over the wrong or an empty store. ` +
          `Fix dataDirs/checkpointDir, or mount the volume. If those events are really gone, delete ${cpFile} ` +
          `(or set <agent>.channels.${this.name}.recover = true for one start).`);
      }
      this.log.error('File channel checkpoint does not match the store; continuing because recover = true', { problem: msg });
    }
    if (repaired) {
      state = await this.rebuild(state);
    } else if (!state && hasRecords) {
      if (!this.o.recover) throw this.store.corrupt('its state record is missing while it holds event records');
      state = await this.rebuild(undefined);
    }
    const stateStored = state !== undefined;
    state ??= { head: 0, done: [], nextIndex: 0, size: 0, headBase: 0 };
    if (checkpoint && checkpoint.storeId === meta.storeId && checkpoint.nextIndex > state.nextIndex) {
      const msg = `the store ends at event index ${state.nextIndex} but checkpoint.json saw ${checkpoint.nextIndex}: up to ${checkpoint.nextIndex - state.nextIndex} committed events are missing (was the store restored from an older copy, or its log truncated?)`;
      if (!this.o.recover) throw this.store.corrupt(msg);
      this.log.error('File channel store lost committed events; continuing because recover = true', { problem: msg });
    }
    this.adopt(state);
    if (!storedMeta || !stateStored) {
      await this.store.write([
        { type: 'put', key: KEY_META, value: Buffer.from(JSON.stringify(meta)) },
        ...this.stateOps(state),
      ], true);
    }
    try {
      this.takeLog.reset(this.storeId, { head: this.head, done: this.done, headBase: this.headBase, taken: this.takenTotal });
    } catch (err) {
      throw new FileChannelError('io', `Channel ${this.name}: cannot write the take log ${this.takeLog.file}: ${errorMessage(err)}. Check that the directory is writable by this user and the disk is not full.`, { cause: err, retriable: true });
    }
    await this.purgeConsumed();
  }

  /** Deletes records below headBase left by a stop before the reclaimer caught up with the take log. */
  private async purgeConsumed(): Promise<void> {
    const it = this.store.keys({ gte: recordKey(0, 0), lt: recordKey(this.headBase, 0) });
    try {
      for (;;) {
        const keys = await it.nextv(1000);
        if (keys.length === 0) return;
        const ops: Op[] = keys.map((key) => ({ type: 'del', key }));
        ops.push({ type: 'put', key: KEY_STATE, value: encodeTakeState({ head: this.head, done: this.done, headBase: this.headBase, taken: this.takenTotal }) });
        await this.store.write(ops, false);
        this.deletedSinceCompact += keys.length;
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
  private withTakeLog<S extends StoreState & { puts?: number; taken?: number }>(state: S): S {
    const r = this.takeLog.read(this.storeId);
    if (r.problem) this.log.warn('The take log is not usable; using the take state kept in the store (some events may be delivered again)', { problem: r.problem });
    const t = r.state;
    if (!t || t.taken <= (state.taken ?? 0) || state.puts === undefined) return state;
    if (t.head > state.nextIndex || t.taken > state.puts || t.head < state.head) {
      this.log.warn('The take log does not match the store; using the take state kept in the store (some events may be delivered again)', { file: this.takeLog.file });
      return state;
    }
    return { ...state, head: t.head, done: t.done, headBase: t.headBase, taken: t.taken, size: state.puts - t.taken };
  }

  private async anyRecord(): Promise<boolean> {
    const it = this.store.keys({ gte: recordKey(0, 0), lt: KEY_RECORDS_END });
    try {
      const k = await it.nextv(1);
      return k.length > 0;
    } finally {
      await it.close();
    }
  }

  private adopt(s: StoreState & { puts?: number; taken?: number }): void {
    this.head = s.head;
    this.done = s.done;
    this.nextIndex = s.nextIndex;
    this.durableSize = s.size;
    this.headBase = s.headBase;
    this.takenTotal = s.taken ?? 0;
    this.putTotal = s.size + this.takenTotal;
  }

  /** Both state records for a whole state (start-up, recovery). */
  private stateOps(s: StoreState): Op[] {
    return [
      { type: 'put', key: KEY_STATE, value: encodeTakeState({ head: s.head, done: s.done, headBase: s.headBase, taken: 0 }) },
      { type: 'put', key: KEY_PUT_STATE, value: encodePutState({ nextIndex: s.nextIndex, puts: s.size }) },
    ];
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
    const it = this.store.iterator({ gte: Buffer.from([0x64]), lt: KEY_RECORDS_END });
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
    const state: StoreState = { head: consumed.head, done: consumed.done, nextIndex, size, headBase: firstLive ?? nextIndex };
    ops.push(...this.stateOps(state));
    await this.store.write(ops, true);
    this.lostToCorruption += lost;
    const fields = { recoveredEvents: size, lostEvents: lost, unreadableRecords: badRecords, ms: Math.round(performance.now() - t0), stateRecord: prev ? 'kept' : 'missing: every event still in the store will be delivered again' };
    if (lost > 0 || badRecords > 0 || !prev) this.log.error('File channel store recovered with losses or redeliveries', fields);
    else this.log.warn('File channel store recovered', fields);
    return state;
  }

  // ------------------------------------------------------------------------------------------------ window

  private resetWindow(): void {
    this.gen++;
    this.runs.clear();
    this.memEvents = 0;
    this.memBytes = 0;
    this.records.clear();
    this.lastLoadedKey = undefined;
    this.loadedEnd = this.headBase;
    this.caughtUp = this.headBase >= this.nextIndex && this.durableSize === 0;
  }

  private inflightRanges(): number[] {
    const out: number[] = [];
    for (const tx of this.openTakes) for (let i = 0; i < tx.ranges.length; i++) out.push(tx.ranges[i]!);
    return out;
  }

  /** Fills the window from the store; single flight. */
  private loadMore(): Promise<void> {
    this.loading ??= this.doLoad().finally(() => {
      this.loading = undefined;
    });
    return this.loading;
  }

  private async doLoad(): Promise<void> {
    const g = this.gen;
    while (!this.caughtUp && this.memEvents < this.windowEvents && this.memBytes < this.windowBytes) {
      if (this.fault) throw this.fault;
      if (this.needsReopen) throw this.unavailable();
      const writesBefore = this.writeSeq;
      const it = this.store.iterator(this.lastLoadedKey ? { gt: this.lastLoadedKey, lt: KEY_RECORDS_END } : { gte: recordKey(this.headBase, 0), lt: KEY_RECORDS_END });
      let exhausted = false;
      try {
        while (this.memEvents < this.windowEvents && this.memBytes < this.windowBytes) {
          const want = this.avgRecord === 0 ? 1 : Math.max(1, Math.min(1000, Math.ceil((this.windowEvents - this.memEvents) / this.avgRecord)));
          const entries = await it.nextv(want);
          if (this.gen !== g) return;
          if (entries.length === 0) {
            exhausted = true;
            break;
          }
          let n = 0;
          let added = 0;
          for (const [k, v] of entries) {
            // past the budget: leave the rest for the next read (it starts after lastLoadedKey)
            if (added > 0 && (this.memEvents >= this.windowEvents || this.memBytes >= this.windowBytes)) break;
            n += this.addLoaded(k, v);
            added++;
          }
          this.avgRecord = Math.max(1, n / added);
        }
      } catch (err) {
        if (this.gen !== g) return;
        if (isCorruption(err) && !(err instanceof FileChannelError)) throw this.corruptAtRuntime(`LevelDB: ${errorMessage(err)}`, err);
        if (!(err instanceof FileChannelError)) {
          this.counters.add('EventTakeErrorCount');
          throw new FileChannelError('io', `Channel ${this.name}: reading the store failed: ${errorMessage(err)}`, { cause: err, retriable: true });
        }
        throw err;
      } finally {
        await it.close().catch(() => {});
      }
      if (this.gen !== g) return;
      if (this.loadedEnd >= this.nextIndex) {
        this.caughtUp = true;
      } else if (exhausted && this.writeSeq === writesBefore) {
        this.missing(this.loadedEnd, this.nextIndex);
        this.loadedEnd = this.nextIndex;
        this.caughtUp = true;
      } else if (!exhausted) {
        break;
      }
    }
    if (this.memEvents > 0) this.dataWaiters.wakeAll();
  }

  /** Adds one record read from the store to the window; returns its event count. */
  private addLoaded(k: Buffer, v: Buffer): number {
    let key: { base: number; count: number };
    try {
      key = parseRecordKey(k);
    } catch (err) {
      throw this.corruptAtRuntime(`a record key is unreadable (${errorMessage(err)})`, err);
    }
    const end = key.base + key.count;
    if (end <= this.loadedEnd && this.lastLoadedKey) return 0;
    if (key.base > this.loadedEnd) this.missing(this.loadedEnd, key.base);
    this.records.pushAll([key]);
    this.lastLoadedKey = k;
    this.loadedEnd = end;
    const parts = liveParts(key.base, end, { head: this.head, done: this.done }, this.openTakes.size ? this.inflightRanges() : []);
    if (parts.length === 0) return key.count;
    let events: FlumeEvent[];
    try {
      events = decodeEvents(v, key.count);
    } catch (err) {
      if (!(err instanceof CodecError) || !this.o.recover) throw this.corruptAtRuntime(`record of events ${key.base}..${end - 1}: ${errorMessage(err)}`, err);
      const live = rangesLength(parts);
      this.lostToCorruption += live;
      this.log.error('Dropping an unreadable file-channel record (recover = true)', { firstEvent: key.base, events: key.count, lostEvents: live, problem: errorMessage(err) });
      this.drop(parts, live);
      return key.count;
    }
    const bpe = v.length / key.count;
    for (let i = 0; i < parts.length; i += 2) {
      const s = parts[i]!;
      const e = parts[i + 1]!;
      this.runs.pushAll([{ base: s, events, from: s - key.base, to: e - key.base, bpe }]);
      this.memEvents += e - s;
      this.memBytes += (e - s) * bpe;
    }
    return key.count;
  }

  /** Marks unreadable or missing events consumed (recover mode); a failure leaves them to the next start. */
  private drop(ranges: number[], n: number): void {
    try {
      this.recordTakes(undefined, ranges, 0, n);
    } catch (err) {
      this.log.warn('Recording dropped events failed; they are counted again on the next start', { error: errorMessage(err) });
    }
  }

  /** Index range [from, to) has no record: whatever of it is not consumed was lost by the store. */
  private missing(from: number, to: number): void {
    const parts = liveParts(from, to, { head: this.head, done: this.done }, []);
    if (parts.length === 0) return;
    const n = rangesLength(parts);
    if (!this.o.recover) throw this.corruptAtRuntime(`${n} committed events (indices ${parts[0]}..${parts[parts.length - 1]! - 1}) are missing from it`, undefined);
    this.lostToCorruption += n;
    this.log.error('File-channel events are missing from the store; counting them as lost (recover = true)', { lostEvents: n, from: parts[0], to: parts[parts.length - 1] });
    this.drop(parts, n);
  }

  private corruptAtRuntime(detail: string, cause: unknown): FileChannelError {
    this.fault = this.store.corrupt(detail, cause);
    this.counters.set('Unhealthy', 1);
    this.counters.add('EventTakeErrorCount');
    this.log.error('File channel store is damaged: takes are stopped (puts continue). Restart the agent with recover = true to drop the unreadable record and go on.', { problem: detail });
    return this.fault;
  }

  private maybePrefetch(): void {
    if (!this.caughtUp && !this.loading && !this.fault && !this.needsReopen && !this.closed && this.memEvents < this.windowEvents / 2) {
      this.loadMore().catch((err) => this.log.warn('Reading ahead from the file-channel store failed', { error: errorMessage(err) }));
    }
  }

  // ------------------------------------------------------------------------------------------------ takes

  /** @internal */
  takeFor(tx: FileTransaction, n: number): FlumeEvent[] | Promise<FlumeEvent[]> {
    this.counters.add('EventTakeAttemptCount');
    if (this.fault) throw this.fault;
    if (!this.started) return [];
    if (this.needsReopen || (!this.caughtUp && this.memEvents < n)) {
      return (async () => {
        await this.ensureOpen();
        if (!this.caughtUp && this.memEvents < n) await this.loadMore();
        return this.takeSync(tx, n);
      })();
    }
    return this.takeSync(tx, n);
  }

  private takeSync(tx: FileTransaction, n: number): FlumeEvent[] {
    const out: FlumeEvent[] = [];
    while (out.length < n && this.runs.length > 0) {
      const r = this.runs.peek(0)!;
      const k = Math.min(n - out.length, r.to - r.from);
      for (let i = 0; i < k; i++) out.push(r.events[r.from + i]!);
      tx.addRange(r.base, r.base + k, r.bpe, this.gen);
      this.memBytes -= k * r.bpe;
      r.from += k;
      r.base += k;
      if (r.from >= r.to) this.runs.shiftMany(1);
    }
    if (out.length > 0) {
      this.memEvents -= out.length;
      this.inflight += out.length;
      this.openTakes.add(tx);
    }
    this.maybePrefetch();
    return out;
  }

  /** @internal Returns a transaction's takes to the head, in order. */
  rollbackTakes(tx: FileTransaction, events: readonly FlumeEvent[]): void {
    if (!this.openTakes.delete(tx)) return;
    const n = events.length;
    this.inflight -= n;
    if (tx.gen !== this.gen) {
      // the window was rebuilt from the store since these were taken: read them again from there
      this.resetWindow();
      this.maybePrefetch();
    } else {
      const back: Run[] = [];
      let off = 0;
      for (let i = 0; i < tx.ranges.length; i += 2) {
        const len = tx.ranges[i + 1]! - tx.ranges[i]!;
        back.push({ base: tx.ranges[i]!, events: events.slice(off, off + len), from: 0, to: len, bpe: tx.bpes[i / 2]! });
        this.memBytes += len * tx.bpes[i / 2]!;
        off += len;
      }
      this.runs.unshiftAll(back);
      this.memEvents += n;
    }
    this.counters.set('ChannelSize', this.size());
    this.dataWaiters.wakeAll();
  }

  // ------------------------------------------------------------------------------------------------ commits

  /**
   * Puts are admitted strictly in the order commit() was called (the synchronous part of commitTx), whatever has
   * to be waited for (room, the disk floor, a reopen), and written in that order. When a put fails with a
   * retriable error, every put submitted after it and not yet written fails too (ChannelFullError, "retry"): a
   * producer with several puts in flight that retries them in order never reorders its events.
   *
   * @internal
   */
  commitTx(tx: FileTransaction, puts: FlumeEvent[], takeCount: number): Promise<void> {
    if (puts.length === 0 && takeCount === 0) return Promise.resolve();
    // after close(): nothing is written; taken events stay in the store and come back on the next start
    if (this.closed) return Promise.reject(new AgentError('FLUME_ERR_CHANNEL_CLOSED', `Channel ${this.name} is closed`));
    if (puts.length === 0) return this.commitTakes(tx, takeCount);
    if (this.fault && this.fault.reason !== 'corrupt') return Promise.reject(this.fault);
    const put = new PendingPut(puts, takeCount, performance.now() + this.keepAliveMs);
    this.admitQueue.push(put);
    this.pumpAdmission();
    // a transaction that both puts and takes (no built-in component does) records its takes after its puts:
    // a crash in between redelivers the takes, it never loses them
    return takeCount > 0 ? put.promise.then(() => this.commitTakes(tx, takeCount)) : put.promise;
  }

  private commitTakes(tx: FileTransaction, takeCount: number): Promise<void> {
    try {
      this.recordTakes(tx, tx.ranges, takeCount, 0);
      return Promise.resolve();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Admits from the head of the queue synchronously while nothing has to be waited for; else starts the slow path. */
  private pumpAdmission(): void {
    if (this.closed && !this.admitting) {
      for (const put of this.admitQueue.splice(0)) put.reject(new AgentError('FLUME_ERR_CHANNEL_CLOSED', `Channel ${this.name} is closed`));
    }
    while (this.admitQueue.length > 0 && !this.admitting) {
      const put = this.admitQueue[0]!;
      if (!put.settled) {
        let buf: Buffer | undefined;
        try {
          if (this.fits(put) && !this.needsReopen && !this.belowFloor && !this.shouldPace(put)) buf = encodeEvents(put.events);
        } catch (err) {
          this.failPut(put, err);
        }
        if (!put.settled) {
          if (!buf || !this.disk.allowsNow(buf.length)) {
            this.admitting = this.admitSlowly(put, buf).finally(() => {
              this.admitting = undefined;
              this.pumpAdmission();
            });
            return;
          }
          this.submitPut(put, buf);
        }
      }
      this.admitQueue.shift();
    }
  }

  private fits(put: PendingPut): boolean {
    return this.durableSize + this.reservedPuts + put.events.length - put.takeCount <= this.capacity;
  }

  /**
   * Pacing (as in the memory channel): while a sink is draining, a producer far ahead of it waits briefly for the
   * next take instead of running the backlog past the in-memory window, where every event would be read back and
   * decoded from the store. When the sink stalls (no takes) the channel fills up to capacity as configured.
   */
  private shouldPace(put: PendingPut): boolean {
    return this.durableSize + this.reservedPuts + put.events.length > this.paceAbove && performance.now() - this.lastTakeAt < 100;
  }

  /** Waits for room, a reopened store and the disk floor, then submits; always shifts `put` off the queue. */
  private async admitSlowly(put: PendingPut, encoded: Buffer | undefined): Promise<void> {
    try {
      if (this.shouldPace(put)) {
        await this.spaceWaiters.wait(50);
        if (put.settled) return;
      }
      while (!this.fits(put)) {
        if (this.closed) throw new AgentError('FLUME_ERR_CHANNEL_CLOSED', `Channel ${this.name} is closed`);
        const left = put.deadline - performance.now();
        if (left <= 0) {
          throw new ChannelFullError(
            `Channel ${this.name} is full: no space for ${put.events.length} events within keep-alive ${this.keepAliveMs} ms ` +
            `(capacity ${this.capacity}, queued ${this.size()}). A sink is too slow or down; consider raising capacity.`);
        }
        await this.spaceWaiters.wait(left);
        if (put.settled) return;
      }
      await this.ensureOpen();
      if (put.settled) return;
      const buf = encoded ?? encodeEvents(put.events);
      if (!(await this.disk.allows(buf.length))) {
        if (!this.belowFloor) {
          this.belowFloor = true;
          this.counters.set('Unhealthy', 1);
          this.log.error('File channel is below its free-space floor: puts are refused until space is freed', { dir: this.dataDir, free: mib(this.disk.estimatedFree), minimumRequiredSpace: mib(this.o.minimumRequiredSpace) });
        }
        throw new ChannelFullError(
          `Channel ${this.name}: only ${mib(Math.max(0, this.disk.estimatedFree))} free on the volume of ${this.dataDir}, below ` +
          `minimumRequiredSpace ${mib(this.o.minimumRequiredSpace)}; puts are refused until disk space is freed (the put was rolled back).`);
      }
      if (this.belowFloor) {
        this.belowFloor = false;
        if (!this.needsReopen && !this.fault) this.counters.set('Unhealthy', 0);
        this.log.info('File channel is above its free-space floor again; puts resume', { dir: this.dataDir, free: mib(this.disk.estimatedFree) });
      }
      if (put.settled) return;
      if (this.closed) throw new AgentError('FLUME_ERR_CHANNEL_CLOSED', `Channel ${this.name} is closed`);
      this.submitPut(put, buf);
    } catch (err) {
      this.failPut(put, err);
    } finally {
      if (this.admitQueue[0] === put) this.admitQueue.shift();
    }
  }

  /** Hands an admitted put to the put writer; its room stays reserved until the write settles. */
  private submitPut(put: PendingPut, buf: Buffer): void {
    put.buf = buf;
    this.reservedPuts += put.events.length;
    this.putQueue.push(put);
    this.kickWriter();
  }

  /** Ends a put that was handed to the writer: its reserved room is released, then it settles. */
  private settleSubmitted(put: PendingPut, err?: unknown): void {
    this.reservedPuts -= put.events.length;
    if (err === undefined) put.resolve();
    else put.reject(err);
  }

  /** Fails a put that was not written; when the failure is retriable, every put submitted after it fails too. */
  private failPut(put: PendingPut, err: unknown): void {
    put.reject(err);
    if (!(err instanceof CodecError) && isRetriable(err)) this.failLaterPuts(put, err);
  }

  /** Fails every put queued behind `first` (a put that failed with `err`): admitted-but-unwritten and waiting ones. */
  private failLaterPuts(first: PendingPut | undefined, err: unknown): void {
    const why = (n: number) => new ChannelFullError(
      `Channel ${this.name} did not write this put of ${n} events because a put submitted before it failed (${errorMessage(err)}); retry it`);
    for (const put of this.putQueue.splice(0)) this.settleSubmitted(put, why(put.events.length));
    for (const put of this.admitQueue) if (put !== first && !put.settled) put.reject(why(put.events.length));
  }

  /** Starts the put writer unless it runs (it clears its slot itself, in the same tick it sees an empty queue). */
  private kickWriter(): void {
    this.putLoop ??= this.writeLoop();
  }

  /** Resolves when the put writer and the reclaimer are idle. */
  private async writersIdle(): Promise<void> {
    while (this.putLoop || this.reclaiming) await Promise.all([this.putLoop, this.reclaiming]);
  }

  /**
   * The put writer: writes whatever queued while its previous write was in flight as one synced batch (group
   * commit), with the put-side state record.
   */
  private async writeLoop(): Promise<void> {
    // the first iteration always awaits, so the caller has stored this promise before the loop can clear it
    for (;;) {
      if (this.putQueue.length === 0) {
        this.putLoop = undefined;
        return;
      }
      if (this.needsReopen) {
        try {
          await this.ensureOpen();
        } catch (err) {
          this.failGroup(this.putQueue.splice(0), err, false);
          this.failLaterPuts(undefined, err);
          continue;
        }
      }
      const write = this.flushPuts(this.putQueue.splice(0));
      this.putWrite = write;
      await write;
    }
  }

  private async flushPuts(group: PendingPut[]): Promise<void> {
    const ops: Op[] = [];
    let idx = this.nextIndex;
    let putEvents = 0;
    let bytes = 0;
    const appended: { base: number; events: FlumeEvent[]; bpe: number }[] = [];
    for (const put of group) {
      const n = put.events.length;
      const buf = put.buf!;
      ops.push({ type: 'put', key: recordKey(idx, n), value: buf });
      appended.push({ base: idx, events: put.events, bpe: buf.length / n });
      idx += n;
      putEvents += n;
      bytes += buf.length;
    }
    ops.push({ type: 'put', key: KEY_PUT_STATE, value: encodePutState({ nextIndex: idx, puts: this.putTotal + putEvents }) });
    const now = performance.now();
    const sync = this.o.fsyncPerTransaction || now - this.lastSyncAt >= this.o.fsyncInterval;
    try {
      await this.store.write(ops, sync);
    } catch (err) {
      this.failGroup(group, err, true);
      this.failLaterPuts(undefined, err);
      return;
    }
    if (sync) this.lastSyncAt = now;
    this.nextIndex = idx;
    this.putTotal += putEvents;
    this.durableSize += putEvents;
    this.disk.wrote(bytes);
    this.writeSeq++;
    for (const a of appended) this.appendCommitted(a.base, a.events, a.bpe);
    this.counters.add('EventPutSuccessCount', putEvents);
    this.counters.set('ChannelSize', this.size());
    this.dataWaiters.wakeAll();
    this.maybePrefetch();
    for (const put of group) this.settleSubmitted(put);
  }

  /**
   * Records committed takes (and, in recover mode, dropped events) in the take log: one write() that never waits
   * behind a put's fsync. Throws when the log cannot be written (the transaction is then rolled back).
   */
  private recordTakes(tx: FileTransaction | undefined, ranges: number[], takeCount: number, dropCount: number): void {
    const consumed = addConsumed({ head: this.head, done: this.done }, ranges);
    let first = 0;
    while (first < this.records.length && this.records.peek(first)!.base + this.records.peek(first)!.count <= consumed.head) first++;
    const headBase = first < this.records.length ? this.records.peek(first)!.base : this.loadedEnd;
    const taken = this.takenTotal + takeCount + dropCount;
    try {
      this.takeLog.append(this.storeId, { head: consumed.head, done: consumed.done, headBase, taken });
    } catch (err) {
      this.counters.add('EventTakeErrorCount');
      throw new FileChannelError(isDiskFull(err) ? 'disk-full' : 'io',
        `Channel ${this.name}: recording the take in ${this.takeLog.file} failed (${errorMessage(err)}); the events will be delivered again.`, { cause: err, retriable: true });
    }
    this.head = consumed.head;
    this.done = consumed.done;
    this.headBase = headBase;
    this.takenTotal = taken;
    this.durableSize -= takeCount + dropCount;
    this.inflight -= takeCount;
    if (tx) this.openTakes.delete(tx);
    this.counters.add('EventTakeSuccessCount', takeCount);
    this.counters.set('ChannelSize', this.size());
    if (takeCount > 0) this.lastTakeAt = performance.now();
    this.spaceWaiters.wakeAll();
    if (first > 0) this.reclaim();
  }

  /**
   * Deletes the records every event of which is consumed, with a copy of the take state, in one unsynced batch
   * (nobody waits for it). The copy is never ahead of the take log, and a record is deleted only together with a
   * state that consumed it: whichever of the two start-up picks, nothing is lost.
   */
  private reclaim(): void {
    if (this.reclaiming || this.closed || this.needsReopen) return;
    this.reclaiming = (async () => {
      for (;;) {
        const ops: Op[] = [];
        for (let i = 0; i < this.records.length; i++) {
          const r = this.records.peek(i)!;
          if (r.base + r.count > this.head) break;
          ops.push({ type: 'del', key: recordKey(r.base, r.count) });
        }
        const deletions = ops.length;
        if (deletions === 0 || this.needsReopen) return;
        ops.push({ type: 'put', key: KEY_STATE, value: encodeTakeState({ head: this.head, done: this.done, headBase: this.headBase, taken: this.takenTotal }) });
        const gen = this.gen;
        try {
          await this.store.write(ops, false);
        } catch (err) {
          this.needsReopen = true;
          this.counters.set('Unhealthy', 1);
          this.log.error('Deleting consumed records from the file-channel store failed; the store is reopened before the next write (no event is affected)', { error: errorMessage(err), code: errCode(err) });
          return;
        }
        // a window reset during the write cleared the list; the reader re-reads from headBase
        if (gen === this.gen) this.records.shiftMany(deletions);
        this.deletedSinceCompact += deletions;
      }
    })().finally(() => {
      this.reclaiming = undefined;
    });
  }

  /** Puts just committed join the window directly when the window reaches the tail of the store. */
  private appendCommitted(base: number, events: FlumeEvent[], bpe: number): void {
    if (this.caughtUp && this.loadedEnd === base && this.memEvents < this.windowEvents && this.memBytes < this.windowBytes) {
      const n = events.length;
      this.records.pushAll([{ base, count: n }]);
      this.runs.pushAll([{ base, events, from: 0, to: n, bpe }]);
      this.memEvents += n;
      this.memBytes += n * bpe;
      this.loadedEnd = base + n;
      this.lastLoadedKey = recordKey(base, n);
    } else if (this.loadedEnd <= base) {
      this.caughtUp = false;
    }
  }

  /** A put write failed (`wrote`) or could not start: its transactions are rolled back. */
  private failGroup(group: PendingPut[], err: unknown, wrote: boolean): void {
    const full = isDiskFull(err);
    let puts = 0;
    for (const put of group) puts += put.events.length;
    if (wrote) {
      this.counters.add('EventPutErrorCount', puts);
      this.counters.set('Unhealthy', 1);
      this.needsReopen = true;
      this.log.error(full ? 'File channel write failed: the disk is full. The transactions were rolled back; the store is reopened before the next write.' : 'File channel write failed; the transactions were rolled back and the store is reopened before the next write', { error: errorMessage(err), puts, code: errCode(err) });
    }
    for (const put of group) {
      this.settleSubmitted(put, full
        ? new ChannelFullError(`Channel ${this.name}: the disk of ${this.dataDir} is full (${errorMessage(err)}); the put was rolled back.`)
        : err instanceof AgentError ? err : new FileChannelError('io', `Channel ${this.name}: writing the store failed (${errorMessage(err)}); the put was rolled back.`, { cause: err, retriable: true }));
    }
  }

  private unavailable(): FileChannelError {
    return new FileChannelError('io', `Channel ${this.name}: the store is unavailable after a failed write (${errorMessage(this.lastReopenError ?? 'reopening')}); retrying`, { retriable: true });
  }

  /** After a failed write LevelDB refuses further writes until reopened; reopen (at most once a second). */
  private ensureOpen(): Promise<void> {
    if (!this.needsReopen) return Promise.resolve();
    if (this.reopening) return this.reopening;
    if (performance.now() - this.lastReopenAttempt < 1000) return Promise.reject(this.unavailable());
    this.lastReopenAttempt = performance.now();
    this.reopening = (async () => {
      await this.loading?.catch(() => {});
      await this.housekeepingRun;
      await Promise.all([this.putWrite, this.reclaiming]);
      try {
        await this.store.close().catch(() => {});
        await this.store.open(false);
        const s = await this.store.readState();
        if (!s) throw this.store.corrupt('its state record vanished after a failed write');
        // the put side comes from the store; the take side in memory is the newest (it is in the take log)
        this.nextIndex = s.nextIndex;
        this.putTotal = s.puts;
        this.durableSize = this.putTotal - this.takenTotal;
        this.needsReopen = false;
        this.lastReopenError = undefined;
        if (!this.belowFloor && !this.fault) this.counters.set('Unhealthy', 0);
        this.resetWindow();
        this.counters.set('ChannelSize', this.size());
        this.log.info('File channel store reopened after a failed write', { events: this.size() });
      } catch (err) {
        this.lastReopenError = err;
        throw err;
      } finally {
        this.reopening = undefined;
      }
    })();
    return this.reopening;
  }

  // ------------------------------------------------------------------------------------------------ housekeeping

  private housekeeping(): Promise<void> {
    this.housekeepingRun ??= (async () => {
      try {
        if (this.deletedSinceCompact > 0 && !this.needsReopen && this.started) {
          const n = this.deletedSinceCompact;
          this.deletedSinceCompact = 0;
          await this.store.compact(recordKey(0, 0), recordKey(this.headBase, 0)).catch((err) => {
            this.deletedSinceCompact += n;
            this.log.warn('Compacting the consumed part of the file-channel store failed', { error: errorMessage(err) });
          });
        }
        if (this.started && !this.needsReopen) this.writeCheckpoint();
      } finally {
        this.housekeepingRun = undefined;
      }
    })();
    return this.housekeepingRun;
  }

  /** checkpoint.json: which store this channel uses and how deep it was (atomic replace). */
  private writeCheckpoint(): void {
    const cp: CheckpointFile = {
      format: 1, storeId: this.storeId, channel: this.name, dataDir: this.dataDir,
      size: this.durableSize, head: this.head, nextIndex: this.nextIndex, writtenAt: new Date().toISOString(),
    };
    const file = path.join(this.checkpointDir, CHECKPOINT_FILE);
    try {
      fs.writeFileSync(`${file}.tmp`, `${JSON.stringify(cp, null, 1)}\n`);
      fs.renameSync(`${file}.tmp`, file);
    } catch (err) {
      this.counters.add('CheckpointWriteErrorCount');
      this.log.warn('Writing checkpoint.json failed (the events are safe in the store)', { file, error: errorMessage(err) });
    }
  }

  /** Events dropped as unreadable since start (recover mode). */
  get lostEvents(): number {
    return this.lostToCorruption;
  }
}

/** A put transaction between commit() and the end of its write. */
class PendingPut {
  settled = false;
  /** The encoded record, once admitted. */
  buf: Buffer | undefined;
  readonly promise: Promise<void>;
  private res!: () => void;
  private rej!: (err: unknown) => void;

  constructor(readonly events: FlumeEvent[], readonly takeCount: number, readonly deadline: number) {
    this.promise = new Promise<void>((resolve, reject) => {
      this.res = resolve;
      this.rej = reject;
    });
  }

  resolve(): void {
    if (this.settled) return;
    this.settled = true;
    this.res();
  }

  reject(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.rej(err);
  }
}

export class FileTransaction extends BaseTransaction {
  /** Indices taken, as flat [start, end) pairs in take order. */
  readonly ranges: number[] = [];
  readonly bpes: number[] = [];
  gen = -2;

  constructor(private readonly ch: FileChannel) {
    super(ch.name, ch.transactionCapacity);
  }

  /** @internal */
  addRange(s: number, e: number, bpe: number, gen: number): void {
    const last = this.ranges.length - 1;
    if (last > 0 && this.ranges[last] === s && this.bpes[this.bpes.length - 1] === bpe) {
      this.ranges[last] = e;
    } else {
      this.ranges.push(s, e);
      this.bpes.push(bpe);
    }
    this.gen = this.gen === -2 || this.gen === gen ? gen : -1;
  }

  protected override onPut(events: readonly FlumeEvent[]): void {
    this.ch.counters.add('EventPutAttemptCount', events.length);
  }
  protected doTake(n: number): FlumeEvent[] | Promise<FlumeEvent[]> {
    return this.ch.takeFor(this, n);
  }
  protected doCommit(): Promise<void> {
    return this.ch.commitTx(this, this.puts, this.takes.length);
  }
  protected async doRollback(): Promise<void> {
    this.ch.rollbackTakes(this, this.takes);
  }

  /** A failed commit rolls the transaction back: its takes return to the head, its puts are dropped. */
  override async commit(): Promise<void> {
    this.assertOpen('commit');
    try {
      await this.doCommit();
    } catch (err) {
      this.state = 'rolledback';
      this.ch.rollbackTakes(this, this.takes);
      throw err;
    }
    this.state = 'committed';
  }
}
