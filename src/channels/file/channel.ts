/**
 * The file channel: a durable FIFO on LevelDB. This is the coordinator (lifecycle, transactions, health,
 * counters); the work is done by the parts it wires together:
 *
 * - recovery.ts: start-up. Reads the state records of the store and checks them against checkpoint.json and the
 *   take log; refuses a store that is not the one this channel used; rebuilds the state when recover = true.
 *   Constant time whatever the depth of the channel: nothing is replayed.
 * - window.ts: the read window. Takes are served from events decoded in memory, filled by a reader that seeks
 *   from the last record it read (`gt: lastKey`), never from the start, and holds at most `windowEvents` /
 *   `windowBytes`.
 * - takes.ts: the take path. A take commit appends the consumed indices to the take log (takes.log, one write(),
 *   never behind a put's fsync); a rollback returns the events to the head in order.
 * - puts.ts, put-writer.ts: the put pipeline. One LevelDB record per committed put transaction (key = first
 *   event index + count), admitted and written in commit() order; concurrent commits share one synced write
 *   (group commit).
 * - reclaimer.ts: deletes wholly consumed records (with a copy of the take state), compacts, and rewrites
 *   checkpoint.json every checkpointInterval.
 * - store-guard.ts: a failed write (the store is reopened) and a damaged record (takes stop) at run time.
 * - state.ts: what the parts share (event indices and counts, the channel's condition).
 *
 * After `kill -9` at any instant: committed puts are there, committed takes are not redelivered, uncommitted
 * takes come back at the head in order.
 */
import fs from 'node:fs';
import type { Channel, ChannelContext } from '../../contract/index.js';
import { AgentError, errorMessage } from '../../core/errors.js';
import type { FlumeEvent } from '../../core/event.js';
import type { Logger } from '../../telemetry/logger.js';
import type { ChannelCounters } from '../../telemetry/counters.js';
import { Waiters } from '../waiters.js';
import { DiskSpaceGuard, memtableSize, type StatFs } from './disk-space.js';
import { systemTimers, type Timers } from '../../core/clock.js';
import { FileChannelError, Store, isCorruption } from './store.js';
import { removeOwner, writeOwner } from './lock.js';
import { TakeLog } from './take-log.js';
import { resolveDirs, type FileChannelOptions } from './options.js';
import { Checkpoint } from './checkpoint.js';
import { ChannelStatus, QueueState } from './state.js';
import { ReadWindow } from './window.js';
import { TakePath } from './takes.js';
import { PutPipeline } from './puts.js';
import { Reclaimer } from './reclaimer.js';
import { Recovery, warnAboutFlumeFiles } from './recovery.js';
import { StoreGuard } from './store-guard.js';
import { FileTransaction } from './transaction.js';

export { FileTransaction } from './transaction.js';

/** Test and embedding knobs (not configuration keys). */
export interface FileChannelInternals {
  /**
   * Most decoded events kept in memory ahead of the takers
   * (default: max(2 x transactionCapacity, min(capacity, 100000))).
   */
  windowEvents?: number;
  /** Most bytes of records kept in memory ahead of the takers (default 64 MiB). */
  windowBytes?: number;
  statfs?: StatFs;
  /** LevelDB memtable size (default: 1/32 of the volume, between 1 and 16 MiB). */
  writeBufferSize?: number;
  /** Housekeeping timers (tests drive them by hand). */
  timers?: Timers;
}

export class FileChannel implements Channel {
  readonly name: string;
  readonly counters: ChannelCounters;
  readonly capacity: number;
  readonly transactionCapacity: number;
  readonly dataDir: string;
  readonly checkpointDir: string;
  /** Puts are admitted and written in commit() order with failures cascading (see puts.ts): producers may pipeline. */
  readonly putsInFlight = 16;
  private readonly log: Logger;
  private readonly store: Store;
  private readonly takeLog: TakeLog;
  private readonly disk: DiskSpaceGuard;
  private readonly checkpoint: Checkpoint;
  private readonly state = new QueueState();
  private readonly status = new ChannelStatus();
  private readonly window: ReadWindow;
  private readonly takes: TakePath;
  private readonly puts: PutPipeline;
  private readonly reclaimer: Reclaimer;
  private readonly recovery: Recovery;
  private readonly guard: StoreGuard;
  private lostToCorruption = 0;
  private readonly dataWaiters = new Waiters();
  private readonly spaceWaiters = new Waiters();
  private readonly fixedWriteBufferSize: number | undefined;

  constructor(
    private readonly o: FileChannelOptions,
    ctx: ChannelContext,
    internals: FileChannelInternals = {},
  ) {
    this.name = ctx.name;
    this.counters = ctx.counters;
    this.log = ctx.logger;
    this.capacity = o.capacity;
    this.transactionCapacity = o.transactionCapacity;
    const dirs = resolveDirs(o, ctx.agentDir, ctx.name);
    this.dataDir = dirs.dataDir;
    this.checkpointDir = dirs.checkpointDir;
    if (dirs.extraDataDirs.length > 0) {
      this.log.warn('File channel uses only the first of dataDirs; the others are ignored', {
        used: this.dataDir,
        ignored: dirs.extraDataDirs.join(','),
      });
    }
    const windowEvents = internals.windowEvents ?? Math.max(2 * o.transactionCapacity, Math.min(o.capacity, 100_000));
    const windowBytes = internals.windowBytes ?? 64 * 1024 * 1024;
    this.fixedWriteBufferSize = internals.writeBufferSize;
    this.store = new Store({
      channel: this.name,
      dataDir: this.dataDir,
      checkpointDir: this.checkpointDir,
      writeBufferSize: internals.writeBufferSize ?? 16 * 1024 * 1024,
    });
    this.disk = new DiskSpaceGuard(this.dataDir, o.minimumRequiredSpace, internals.statfs, () =>
      this.store.footprint(),
    );
    this.takeLog = new TakeLog(this.dataDir);
    this.checkpoint = new Checkpoint(this.checkpointDir, this.log, this.counters);

    const { name, store, state, status, counters, log, dataWaiters, spaceWaiters } = this;
    const shared = { name, store, state, status, counters, log };
    const ensureOpen = () => this.guard.ensureOpen();
    this.window = new ReadWindow(
      {
        ...shared,
        recover: o.recover,
        unavailable: () => this.guard.unavailable(),
        corrupt: (detail, cause) => this.guard.corrupt(detail, cause),
        takenRanges: () => this.takes.takenRanges(),
        lose: (ranges, n) => {
          this.lostToCorruption += n;
          this.takes.drop(ranges, n);
        },
        wake: () => dataWaiters.wakeAll(),
      },
      windowEvents,
      windowBytes,
    );
    const window = this.window;
    this.takes = new TakePath({
      ...shared,
      window,
      takeLog: this.takeLog,
      spaceWaiters,
      dataWaiters,
      ensureOpen,
      reclaim: () => this.reclaimer.reclaim(),
    });
    this.puts = new PutPipeline({
      ...shared,
      window,
      disk: this.disk,
      spaceWaiters,
      dataWaiters,
      ensureOpen,
      lastTakeAt: () => this.takes.lastTakeAt,
      nextReopenInMs: () => this.guard.nextReopenInMs(),
      settings: {
        capacity: o.capacity,
        keepAliveMs: o['keep-alive'],
        paceAbove: Math.min(windowEvents / 2, Math.max(10 * o.transactionCapacity, 1000)),
        fsyncPerTransaction: o.fsyncPerTransaction,
        fsyncInterval: o.fsyncInterval,
        minimumRequiredSpace: o.minimumRequiredSpace,
        dataDir: this.dataDir,
      },
    });
    this.reclaimer = new Reclaimer({
      ...shared,
      window,
      checkpointIntervalMs: o.checkpointInterval,
      timers: internals.timers ?? systemTimers,
      writeCheckpoint: () => this.writeCheckpoint(false),
      checkFloor: () => this.checkFloor(),
      reopen: () => this.guard.ensureOpen(),
    });
    this.guard = new StoreGuard({
      ...shared,
      window,
      quiesce: async () => {
        await window.loading?.catch(() => {});
        await Promise.all([this.puts.writeInFlight, this.reclaimer.reclaiming, this.reclaimer.compacting]);
      },
    });
    this.recovery = new Recovery({
      ...shared,
      dataDir: this.dataDir,
      checkpointFile: this.checkpoint.file,
      recover: o.recover,
      takeLog: this.takeLog,
      lost: (n) => {
        this.lostToCorruption += n;
      },
      deleted: (n) => this.reclaimer.deleted(n),
    });
  }

  // ------------------------------------------------------------------------------------------------ lifecycle

  async start(): Promise<void> {
    const { status, counters, log } = this;
    if (status.started) return;
    const t0 = performance.now();
    // start() may be retried by the agent's supervisor after a failure: begin from a clean slate
    status.fault = undefined;
    status.needsReopen = false;
    status.belowFloor = false;
    this.lostToCorruption = 0;
    this.takes.reset();
    this.puts.reset();
    const zeroed = [
      'Open',
      'Closed',
      'Unhealthy',
      'EventPutErrorCount',
      'EventTakeErrorCount',
      'CheckpointWriteErrorCount',
      'CheckpointBackupWriteErrorCount',
    ];
    for (const c of zeroed) counters.set(c, 0);
    counters.set('Closed', 1);
    counters.set('ChannelCapacity', this.capacity);
    fs.mkdirSync(this.dataDir, { recursive: true });
    fs.mkdirSync(this.checkpointDir, { recursive: true });
    this.store.o.writeBufferSize = this.fixedWriteBufferSize ?? memtableSize(this.dataDir);
    warnAboutFlumeFiles(this.dataDir, this.checkpointDir, log);
    const checkpoint = this.checkpoint.read();
    const existed = this.store.inspect() !== 'none';
    if (!existed) this.recovery.refuseMissingStore(checkpoint);
    let { repaired } = await this.store.open(this.o.recover);
    for (;;) {
      try {
        await this.recovery.load(existed, checkpoint, repaired);
        writeOwner(this.dataDir, this.name);
        status.closed = false;
        this.window.reset();
        await this.window.load();
        await this.checkFloor();
        break;
      } catch (err) {
        status.closed = true;
        await this.window.loading?.catch(() => {});
        await this.writersIdle();
        await this.store.close().catch(() => {});
        this.lostToCorruption = 0; // the rebuild after a repair counts the losses again, from scratch
        const corrupt = isCorruption(err);
        if (corrupt && this.o.recover && !repaired) {
          log.error('File channel store is damaged; repairing it because recover = true', {
            dir: this.store.location,
            problem: errorMessage(err),
          });
          status.fault = undefined;
          counters.set('Unhealthy', 0);
          await this.store.repair();
          await this.store.open(false);
          repaired = true;
          continue;
        }
        throw corrupt && !(err instanceof FileChannelError)
          ? this.store.corrupt(`LevelDB: ${errorMessage(err)}`, err)
          : err;
      }
    }
    this.writeCheckpoint(false);
    status.started = true;
    counters.set('Open', 1);
    counters.set('Closed', 0);
    counters.set('ChannelSize', this.size());
    counters.started();
    this.reclaimer.start();
    this.dataWaiters.wakeAll();
    log.info('File channel ready', {
      dir: this.store.location,
      events: this.size(),
      startMs: Math.round(performance.now() - t0),
    });
  }

  async close(): Promise<void> {
    const { status } = this;
    if (!status.started) return;
    status.started = false;
    status.closed = true;
    this.reclaimer.stop();
    this.spaceWaiters.wakeAll();
    this.dataWaiters.wakeAll();
    while (this.puts.admitting) await this.puts.admitting;
    await this.writersIdle();
    await this.reclaimer.housekeeping;
    await this.window.loading?.catch(() => {});
    await this.guard.reopening?.catch(() => {});
    if (!status.needsReopen) this.writeCheckpoint(true);
    this.takeLog.close();
    await this.store
      .close()
      .catch((err) => this.log.warn('Closing the file-channel store failed', { error: errorMessage(err) }));
    removeOwner(this.dataDir);
    this.counters.set('Open', 0);
    this.counters.set('Closed', 1);
    this.counters.stopped();
  }

  destroy(): void {
    void this.close();
  }

  /** Rejects with FLUME_ERR_CHANNEL_LOCKED when another running process holds this channel's store. */
  preflight(): Promise<void> {
    return this.store.checkLock();
  }

  size(): number {
    return this.state.size;
  }

  health(): { ok: boolean; reason?: string } {
    const { status } = this;
    if (status.fault) return { ok: false, reason: status.fault.message };
    if (status.needsReopen) {
      const why = status.lastReopenError ? ` (${errorMessage(status.lastReopenError)})` : '';
      return { ok: false, reason: `the store is unavailable after a failed write${why}; puts and takes are retried` };
    }
    if (status.belowFloor) {
      return { ok: false, reason: `disk floor reached: ${this.puts.floorProblem()}; puts are refused` };
    }
    return { ok: true };
  }

  /**
   * True when a take can make progress now: events in the window, or events on disk the take will read. Never
   * true before start() finished: a sink loop that polls an unready channel must wait on a timer, or it would spin
   * on resolved promises and starve the I/O that start() waits for.
   */
  hasReadyEvents(): boolean {
    const { status, window } = this;
    return (
      status.started &&
      !status.fault &&
      (window.events > 0 || (!window.caughtUp && !status.needsReopen && this.size() > 0))
    );
  }

  waitForEvents(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.hasReadyEvents()) return Promise.resolve();
    return this.dataWaiters.wait(ms, signal);
  }

  /** Events a put could add now without exceeding the capacity. */
  room(): number {
    return this.capacity - this.state.durableSize - this.state.reserved;
  }

  begin(): FileTransaction {
    return new FileTransaction(this);
  }

  /** Events decoded in memory ahead of the takers (for tests of the memory bound). */
  get windowSize(): number {
    return this.window.events;
  }

  /** Resolves once no housekeeping run is under way (for tests that drive the housekeeping timers). */
  async housekeepingIdle(): Promise<void> {
    while (this.reclaimer.housekeeping) await this.reclaimer.housekeeping;
  }

  /** Events dropped as unreadable since start (recover mode). */
  get lostEvents(): number {
    return this.lostToCorruption;
  }

  // ------------------------------------------------------------------------------------------------ transactions

  /** @internal */
  takeFor(tx: FileTransaction, n: number): FlumeEvent[] | Promise<FlumeEvent[]> {
    return this.takes.take(tx, n);
  }

  /** @internal Returns a transaction's takes to the head, in order. */
  rollbackTakes(tx: FileTransaction, events: readonly FlumeEvent[]): void {
    this.takes.rollback(tx, events);
  }

  /**
   * Puts go through the put pipeline, in the order commit() was called (see puts.ts); takes are recorded in the
   * take log.
   *
   * @internal
   */
  commitTx(tx: FileTransaction, puts: FlumeEvent[], takeCount: number): Promise<void> {
    if (puts.length === 0 && takeCount === 0) return Promise.resolve();
    // after close(): nothing is written; taken events stay in the store and come back on the next start
    if (this.status.closed) {
      return Promise.reject(new AgentError('FLUME_ERR_CHANNEL_CLOSED', `Channel ${this.name} is closed`));
    }
    if (puts.length === 0) return this.takes.commit(tx, takeCount);
    const { fault } = this.status;
    if (fault && fault.reason !== 'corrupt') return Promise.reject(fault);
    const written = this.puts.submit(puts, takeCount);
    // a transaction that both puts and takes (no built-in component does) records its takes after its puts:
    // a crash in between redelivers the takes, it never loses them
    return takeCount > 0 ? written.then(() => this.takes.commit(tx, takeCount)) : written;
  }

  // ------------------------------------------------------------------------------------------------ helpers

  /** Resolves when the put writer and the reclaimer are idle. */
  private async writersIdle(): Promise<void> {
    const { puts, reclaimer } = this;
    while (puts.writing || reclaimer.reclaiming) await Promise.all([puts.writing, reclaimer.reclaiming]);
  }

  /** Measures the free space; the floor state (and health) follows at once. Never rejects. */
  private async checkFloor(): Promise<void> {
    try {
      await this.disk.refresh();
    } catch (err) {
      this.log.warn('Cannot measure the free space of the file channel volume', { error: errorMessage(err) });
      return;
    }
    this.puts.noteFloor(this.disk.headroom() >= 0);
  }

  /** checkpoint.json: which store this channel uses and how deep it was; `clean` on a clean stop only. */
  private writeCheckpoint(clean: boolean): void {
    const s = this.state;
    this.checkpoint.write(
      {
        storeId: s.storeId,
        channel: this.name,
        dataDir: this.dataDir,
        size: s.durableSize,
        head: s.head,
        nextIndex: s.nextIndex,
      },
      clean,
    );
  }
}
