/**
 * `spillablememory` channel: an in-memory queue that overflows into an embedded file channel when it is full.
 * Events are drained in arrival order across memory and disk (a drain-order list of segments says where the next
 * events are). On a crash only the spilled part survives; on a clean stop too (the memory part is not saved).
 *
 * Differences from Flume (for the migration guide):
 *  - A put transaction goes wholly to memory or wholly to disk (never split).
 *  - avgEventSize is ignored: bytes are counted exactly for the memory part.
 */
import v8 from 'node:v8';
import { defineChannel, type Channel, type ChannelContext, opt, type Resolved } from '../contract/index.js';
import { AgentError, ChannelFullError } from '../core/errors.js';
import type { FlumeEvent } from '../core/event.js';
import { Deque } from '../core/deque.js';
import { ChannelCounters } from '../telemetry/counters.js';
import { BaseTransaction } from './transaction.js';
import { Waiters } from './waiters.js';
import { FileChannel, type FileChannelInternals, type FileTransaction } from './file/channel.js';
import { dirClaims, storeOptions } from './file/options.js';

const options = {
  memoryCapacity: opt.int({
    default: 10000,
    min: 0,
    doc: 'Events held in memory. 0 sends everything to the overflow (a file channel).',
  }),
  overflowCapacity: opt.int({
    default: 100000000,
    min: 0,
    doc: 'Events held in the overflow file channel. 0 disables the overflow (a memory channel).',
  }),
  overflowTimeout: opt.duration({
    default: 3,
    unit: 's',
    min: 0,
    doc: 'How long a put waits for memory space before it spills to the overflow.',
  }),
  overflowDeactivationThreshold: opt.int({
    default: 5,
    min: 0,
    max: 100,
    doc: 'Percent of the memory queue that must be free before new puts go to memory again once spilling started.',
  }),
  byteCapacity: opt.size({
    min: 0,
    defaultText: '80% of the Node.js heap limit',
    doc: 'Most bytes of event bodies held in memory. 0 means no limit.',
  }),
  byteCapacityBufferPercentage: opt.int({
    default: 20,
    min: 0,
    max: 99,
    doc: 'Share of byteCapacity kept free as headroom for headers.',
  }),
  avgEventSize: opt.ignored({ doc: 'Bytes are counted exactly here.' }),
  transactionCapacity: opt.int({ default: 100, min: 1, doc: 'Most events in one put or one take transaction.' }),
  'keep-alive': opt.duration({
    default: 3,
    unit: 's',
    min: 0,
    doc: 'How long a put waits for space when both memory and overflow are full.',
  }),
  ...storeOptions,
};

export type SpillableOptions = Resolved<typeof options>;

interface Segment {
  disk: boolean;
  n: number;
}

function bodyBytes(events: readonly FlumeEvent[]): number {
  let n = 0;
  for (let i = 0; i < events.length; i++) n += events[i]!.body.length;
  return n;
}

export class SpillableMemoryChannel implements Channel {
  readonly name: string;
  readonly counters: ChannelCounters;
  readonly capacity: number;
  readonly transactionCapacity: number;
  private readonly mem = new Deque<FlumeEvent>(1024);
  /** Memory slots in use: queued plus taken by open transactions. */
  private memUsed = 0;
  private memBytesUsed = 0;
  private readonly byteLimit: number;
  private readonly order = new Deque<Segment>(64);
  private readonly overflow: FileChannel | undefined;
  private overflowActive = false;
  private closed = true;
  private readonly dataWaiters = new Waiters();
  private readonly spaceWaiters = new Waiters();

  constructor(
    private readonly o: SpillableOptions,
    private readonly ctx: ChannelContext,
    internals: FileChannelInternals = {},
  ) {
    this.name = ctx.name;
    this.counters = ctx.counters;
    this.capacity = o.memoryCapacity + o.overflowCapacity;
    this.transactionCapacity = o.transactionCapacity;
    const total = o.byteCapacity ?? Math.floor(v8.getHeapStatistics().heap_size_limit * 0.8);
    this.byteLimit =
      total === 0 ? Number.POSITIVE_INFINITY : Math.floor(total * (1 - o.byteCapacityBufferPercentage / 100));
    if (o.overflowCapacity > 0) {
      this.overflow = new FileChannel(
        {
          ...o,
          capacity: o.overflowCapacity,
          transactionCapacity: o.transactionCapacity,
          'keep-alive': o['keep-alive'],
        },
        { ...ctx, counters: new ChannelCounters(`${ctx.name}.overflow`) },
        internals,
      );
    }
  }

  async start(): Promise<void> {
    this.counters.set('ChannelCapacity', this.capacity);
    this.order.clear();
    this.mem.clear();
    this.memUsed = 0;
    this.memBytesUsed = 0;
    this.overflowActive = false;
    if (this.overflow) {
      await this.overflow.start();
      const n = this.overflow.size();
      if (n > 0) {
        this.order.pushAll([{ disk: true, n }]);
        this.overflowActive = true;
      }
    }
    this.closed = false;
    this.counters.set('ChannelSize', this.size());
    this.counters.started();
    this.dataWaiters.wakeAll();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.spaceWaiters.wakeAll();
    this.dataWaiters.wakeAll();
    if (this.mem.length > 0)
      this.ctx.logger.warn(
        'Spillable memory channel closed with events in memory; they are lost (only the overflow is durable)',
        { events: this.mem.length },
      );
    await this.overflow?.close();
    this.counters.stopped();
  }

  destroy(): void {
    void this.close();
  }

  size(): number {
    return this.mem.length + (this.overflow?.size() ?? 0);
  }

  /** The overflow's store held by another process refuses the start or reload (see Channel.preflight). */
  async preflight(): Promise<void> {
    await this.overflow?.preflight();
  }

  health(): { ok: boolean; reason?: string } {
    const h = this.overflow?.health();
    return h && !h.ok ? { ok: false, reason: `overflow: ${h.reason}` } : { ok: true };
  }

  waitForEvents(ms: number, signal?: AbortSignal): Promise<void> {
    // only when a take can make progress (see FileChannel.hasReadyEvents)
    if (!this.closed && (this.mem.length > 0 || this.overflow?.hasReadyEvents())) return Promise.resolve();
    return this.dataWaiters.wait(ms, signal);
  }

  begin(): SpillableTransaction {
    return new SpillableTransaction(this);
  }

  // ------------------------------------------------------------------------------------------------ internals

  private pushOrder(disk: boolean, n: number): void {
    const last = this.order.length > 0 ? this.order.peek(this.order.length - 1)! : undefined;
    if (last && last.disk === disk) last.n += n;
    else this.order.pushAll([{ disk, n }]);
  }

  /** @internal Takes up to n events in arrival order across memory and the overflow. */
  take(tx: SpillableTransaction, n: number): FlumeEvent[] | Promise<FlumeEvent[]> {
    this.counters.add('EventTakeAttemptCount');
    const out: FlumeEvent[] = [];
    while (out.length < n && this.order.length > 0) {
      const seg = this.order.peek(0)!;
      const k = Math.min(n - out.length, seg.n);
      if (seg.disk) {
        // the rest of this take comes from disk: claim the segment part now, read it asynchronously
        seg.n -= k;
        if (seg.n === 0) this.order.shiftMany(1);
        tx.segments.push({ disk: true, n: k });
        const dtx = (tx.diskTx ??= this.overflow!.begin());
        return Promise.resolve(dtx.take(k)).then((got) => {
          if (got.length < k) {
            // should not happen (segments mirror the overflow); give the difference back
            this.order.unshiftAll([{ disk: true, n: k - got.length }]);
            tx.segments[tx.segments.length - 1]!.n = got.length;
          }
          for (let i = 0; i < got.length; i++) out.push(got[i]!);
          return out;
        });
      }
      const evs = this.mem.shiftMany(k);
      for (let i = 0; i < evs.length; i++) out.push(evs[i]!);
      tx.memTaken += evs.length;
      tx.segments.push({ disk: false, n: evs.length });
      seg.n -= k;
      if (seg.n === 0) this.order.shiftMany(1);
    }
    return out;
  }

  /** @internal */
  rollback(tx: SpillableTransaction, taken: readonly FlumeEvent[]): Promise<void> | void {
    if (tx.segments.length === 0) return;
    let memEvents: FlumeEvent[] = [];
    let off = 0;
    for (const s of tx.segments) {
      if (!s.disk) memEvents = memEvents.concat(taken.slice(off, off + s.n));
      off += s.n;
    }
    this.mem.unshiftAll(memEvents);
    this.order.unshiftAll(tx.segments.filter((s) => s.n > 0).map((s) => ({ ...s })));
    tx.segments.length = 0;
    tx.memTaken = 0;
    this.counters.set('ChannelSize', this.size());
    this.dataWaiters.wakeAll();
    return tx.diskTx?.rollback();
  }

  /** Memory slots free for a transaction that itself holds `memTaken` taken events. */
  private memRoom(tx: SpillableTransaction): number {
    return this.o.memoryCapacity - (this.memUsed - tx.memTaken);
  }

  private bytesFit(bytes: number, freedBytes: number): boolean {
    return bytes === 0 || this.memBytesUsed + bytes - freedBytes <= this.byteLimit || bytes <= freedBytes;
  }

  /**
   * How many of the n events go to memory (the rest to the overflow), or -1 when there is no room now.
   * Memory first; once spilling, the overflow first until the memory is overflowDeactivationThreshold % free.
   */
  private split(tx: SpillableTransaction, puts: readonly FlumeEvent[], freedBytes: number, canSpill: boolean): number {
    const n = puts.length;
    const memRoom = this.o.memoryCapacity > 0 ? Math.max(0, this.memRoom(tx)) : 0;
    const diskRoom = canSpill && this.overflow ? Math.max(0, this.overflow.room()) : 0;
    const fitsBytes = (k: number) => this.bytesFit(bodyBytes(puts.slice(0, k)), freedBytes);
    const freeAfter = memRoom - n;
    const relieved = freeAfter * 100 >= this.o.overflowDeactivationThreshold * this.o.memoryCapacity;
    if (memRoom >= n && fitsBytes(n) && (!this.overflowActive || diskRoom < n || relieved)) return n;
    if (!canSpill) return -1;
    const want = this.overflowActive ? Math.max(0, n - diskRoom) : Math.min(n, memRoom);
    for (const k of want > 0 ? [want, 0] : [0]) {
      if (k <= memRoom && n - k <= diskRoom && fitsBytes(k)) return k;
    }
    return -1;
  }

  /** @internal */
  async commit(tx: SpillableTransaction, puts: FlumeEvent[], taken: FlumeEvent[]): Promise<void> {
    let memTakenBytes = 0;
    if (tx.memTaken > 0) {
      let off = 0;
      for (const s of tx.segments) {
        if (!s.disk) memTakenBytes += bodyBytes(taken.slice(off, off + s.n));
        off += s.n;
      }
    }
    if (puts.length === 0) {
      await this.commitDiskTakes(tx);
      this.releaseMem(tx.memTaken, memTakenBytes);
    } else {
      if (this.closed) throw new AgentError('FLUME_ERR_CHANNEL_CLOSED', `Channel ${this.name} is closed`);
      const ov = this.overflow;
      const now = performance.now();
      const spillAt = this.overflowActive || this.o.memoryCapacity === 0 ? now : now + this.o.overflowTimeout;
      const deadline = (ov ? spillAt : now) + this.o['keep-alive'];
      let k: number;
      for (;;) {
        const t = performance.now();
        k = this.split(tx, puts, memTakenBytes, ov !== undefined && t >= spillAt);
        if (k >= 0) break;
        if (t >= deadline || this.closed) {
          throw new ChannelFullError(
            `Channel ${this.name} is full: no space for ${puts.length} events within keep-alive ${this.o['keep-alive']} ms ` +
              `(memoryCapacity ${this.o.memoryCapacity}, overflowCapacity ${this.o.overflowCapacity}, queued ${this.size()}). A sink is too slow or down.`,
          );
        }
        await this.spaceWaiters.wait(Math.max(1, (t < spillAt && ov ? Math.min(spillAt, deadline) : deadline) - t));
      }
      const memPart = k === puts.length ? puts : puts.slice(0, k);
      const memBytes = bodyBytes(memPart);
      // reserve the memory part while the overflow part is written
      this.memUsed += k;
      this.memBytesUsed += memBytes;
      try {
        if (k < puts.length) {
          if (!this.overflowActive) {
            this.overflowActive = true;
            this.ctx.logger.info('Spillable memory channel: memory is full, spilling to the overflow file channel', {
              memoryCapacity: this.o.memoryCapacity,
            });
          }
          const ptx = ov!.begin();
          ptx.put(puts.slice(k));
          try {
            await ptx.commit();
          } catch (err) {
            await ptx.rollback();
            throw err;
          }
        }
        await this.commitDiskTakes(tx);
      } catch (err) {
        this.releaseMem(k, memBytes);
        throw err;
      }
      this.releaseMem(tx.memTaken, memTakenBytes);
      if (k > 0) {
        this.mem.pushAll(memPart);
        this.pushOrder(false, k);
      }
      if (k < puts.length) this.pushOrder(true, puts.length - k);
      this.counters.add('EventPutSuccessCount', puts.length);
      this.dataWaiters.wakeAll();
    }
    if (taken.length > 0) {
      this.counters.add('EventTakeSuccessCount', taken.length);
      if (
        this.overflowActive &&
        this.o.memoryCapacity > 0 &&
        (this.o.memoryCapacity - this.memUsed) * 100 >= this.o.overflowDeactivationThreshold * this.o.memoryCapacity
      ) {
        this.overflowActive = false;
      }
      this.spaceWaiters.wakeAll();
    }
    this.counters.set('ChannelSize', this.size());
  }

  private releaseMem(n: number, bytes: number): void {
    this.memUsed -= n;
    this.memBytesUsed -= bytes;
  }

  private async commitDiskTakes(tx: SpillableTransaction): Promise<void> {
    if (tx.diskTx) {
      await tx.diskTx.commit();
      tx.diskTx = undefined;
    }
  }
}

export class SpillableTransaction extends BaseTransaction {
  segments: Segment[] = [];
  memTaken = 0;
  diskTx: FileTransaction | undefined;

  constructor(private readonly ch: SpillableMemoryChannel) {
    super(ch.name, ch.transactionCapacity);
  }
  protected override onPut(events: readonly FlumeEvent[]): void {
    this.ch.counters.add('EventPutAttemptCount', events.length);
  }
  protected doTake(n: number): FlumeEvent[] | Promise<FlumeEvent[]> {
    return this.ch.take(this, n);
  }
  protected doCommit(): Promise<void> {
    return this.ch.commit(this, this.puts, this.takes);
  }
  protected async doRollback(): Promise<void> {
    await this.ch.rollback(this, this.takes);
  }
  /** A failed commit rolls back: takes return to the head. */
  override async commit(): Promise<void> {
    this.assertOpen('commit');
    try {
      await this.doCommit();
    } catch (err) {
      this.state = 'rolledback';
      await this.doRollback();
      throw err;
    }
    this.state = 'committed';
  }
}

export default defineChannel({
  type: 'spillablememory',
  classNames: ['org.apache.flume.channel.SpillableMemoryChannel'],
  summary: 'Memory queue that spills into an embedded file channel when full; only the spilled part survives a crash.',
  options,
  transactionCapacity: (o) => o.transactionCapacity,
  check: (o) => {
    if (o.memoryCapacity + o.overflowCapacity < 1)
      return {
        key: 'memoryCapacity',
        message: 'memoryCapacity and overflowCapacity are both 0',
        hint: 'give the channel some capacity',
      };
    if (o.transactionCapacity > o.memoryCapacity + o.overflowCapacity)
      return {
        key: 'transactionCapacity',
        message: `transactionCapacity ${o.transactionCapacity} exceeds memoryCapacity + overflowCapacity`,
        hint: 'lower transactionCapacity',
      };
    return true;
  },
  claims: (o) => (o.overflowCapacity > 0 ? dirClaims(o) : []),
  create: (o, ctx) => new SpillableMemoryChannel(o, ctx),
});
