import v8 from 'node:v8';
import { defineChannel, type Channel, type ChannelContext, opt } from '../contract/index.js';
import { AgentError, ChannelFullError } from '../core/errors.js';
import type { FlumeEvent } from '../core/event.js';
import { Deque } from '../core/deque.js';
import { BaseTransaction } from './transaction.js';
import { Waiters } from './waiters.js';
import type { ChannelCounters } from '../telemetry/counters.js';

const options = {
  capacity: opt.int({ default: 100, min: 1, doc: 'Most events the channel holds.' }),
  transactionCapacity: opt.int({ default: 100, min: 1, doc: 'Most events in one put or one take transaction.' }),
  'keep-alive': opt.duration({
    default: 3,
    unit: 's',
    min: 0,
    doc: 'How long a commit waits for free space before failing with ChannelFullError (and how long a take may wait).',
  }),
  byteCapacity: opt.size({
    min: 0,
    doc: 'Most bytes of event bodies the channel holds (headers are not counted). 0 means no limit.',
    defaultText: '80% of the Node.js heap limit',
  }),
  byteCapacityBufferPercentage: opt.int({
    default: 20,
    min: 0,
    max: 99,
    doc: 'Share of byteCapacity kept free as headroom for headers.',
  }),
};

export interface MemoryChannelOptions {
  capacity: number;
  transactionCapacity: number;
  'keep-alive': number;
  byteCapacity: number | undefined;
  byteCapacityBufferPercentage: number;
}

function bodyBytes(events: readonly FlumeEvent[]): number {
  let n = 0;
  for (let i = 0; i < events.length; i++) n += events[i]!.body.length;
  return n;
}

export class MemoryChannel implements Channel {
  readonly name: string;
  readonly counters: ChannelCounters;
  capacity: number;
  transactionCapacity: number;
  private keepAliveMs: number;
  private byteLimit: number;
  private readonly queue = new Deque<FlumeEvent>(1024);
  /** Slots in use: queued events plus events taken by open transactions. */
  private usedSlots = 0;
  private usedBytes = 0;
  private readonly dataWaiters = new Waiters();
  private readonly spaceWaiters = new Waiters();
  private closed = false;
  /** When the takes last committed: pacing applies only while a sink is actively draining. */
  private lastTakeAt = -Infinity;

  constructor(o: MemoryChannelOptions, ctx: ChannelContext) {
    this.name = ctx.name;
    this.counters = ctx.counters;
    this.capacity = o.capacity;
    this.transactionCapacity = o.transactionCapacity;
    this.keepAliveMs = o['keep-alive'];
    this.byteLimit = MemoryChannel.byteLimit(o);
  }

  static byteLimit(o: MemoryChannelOptions): number {
    const total = o.byteCapacity ?? Math.floor(v8.getHeapStatistics().heap_size_limit * 0.8);
    if (total === 0) return Number.POSITIVE_INFINITY;
    return Math.floor(total * (1 - o.byteCapacityBufferPercentage / 100));
  }

  /** Applies new sizes in place (hot reload keeps the queued events). */
  reconfigure(o: MemoryChannelOptions): void {
    this.capacity = o.capacity;
    this.transactionCapacity = o.transactionCapacity;
    this.keepAliveMs = o['keep-alive'];
    this.byteLimit = MemoryChannel.byteLimit(o);
    this.counters.set('ChannelCapacity', this.capacity);
    this.spaceWaiters.wakeAll();
  }

  async start(): Promise<void> {
    this.closed = false;
    this.counters.set('ChannelCapacity', this.capacity);
    this.counters.started();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.counters.stopped();
    this.spaceWaiters.wakeAll();
    this.dataWaiters.wakeAll();
  }

  size(): number {
    return this.queue.length;
  }

  get bytesUsed(): number {
    return this.usedBytes;
  }

  waitForEvents(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.queue.length > 0) return Promise.resolve();
    return this.dataWaiters.wait(ms, signal);
  }

  begin(): MemoryTransaction {
    return new MemoryTransaction(this);
  }

  // --- used by MemoryTransaction -------------------------------------------------------------------------

  /** @internal */
  takeFromQueue(n: number): FlumeEvent[] {
    this.counters.add('EventTakeAttemptCount');
    return this.queue.shiftMany(n);
  }

  /** @internal Commits puts and takes; waits up to keep-alive for room. */
  async commitTx(puts: FlumeEvent[], takes: FlumeEvent[]): Promise<void> {
    if (puts.length > 0) {
      if (this.closed) throw new AgentError('FLUME_ERR_CHANNEL_CLOSED', `Channel ${this.name} is closed`);
      // Pacing: while a sink is draining, a producer that runs far ahead of it waits briefly for the next take
      // instead of filling the whole capacity. A full queue of long-lived events costs far more GC than it
      // buys; when the sink stalls (no takes) the channel still fills up to capacity as configured.
      const soft = Math.min(this.capacity, Math.max(10 * this.transactionCapacity, 1000));
      if (this.usedSlots + puts.length > soft && performance.now() - this.lastTakeAt < 100) {
        await this.spaceWaiters.wait(50);
      }
      const putBytes = bodyBytes(puts);
      const takeBytes = takes.length > 0 ? bodyBytes(takes) : 0;
      const deadline = performance.now() + this.keepAliveMs;
      for (;;) {
        const slotsAfter = this.usedSlots + puts.length - takes.length;
        const bytesAfter = this.usedBytes + putBytes - takeBytes;
        const slotsOk = slotsAfter <= this.capacity;
        const bytesOk = bytesAfter <= this.byteLimit || putBytes <= takeBytes;
        if (slotsOk && bytesOk) break;
        const left = deadline - performance.now();
        if (left <= 0 || this.closed) {
          if (!slotsOk) {
            throw new ChannelFullError(
              `Channel ${this.name} is full: no space for ${puts.length} events within keep-alive ` +
                `${this.keepAliveMs} ms (capacity ${this.capacity}, queued ${this.queue.length}). A sink is too slow or down; consider raising capacity.`,
            );
          }
          throw new ChannelFullError(
            `Channel ${this.name} byteCapacity exhausted: ${putBytes} body bytes do not fit within keep-alive ` +
              `${this.keepAliveMs} ms (limit ${this.byteLimit} bytes, in use ${this.usedBytes}).`,
          );
        }
        await this.spaceWaiters.wait(left);
      }
      this.usedSlots += puts.length - takes.length;
      this.usedBytes += putBytes - takeBytes;
      this.queue.pushAll(puts);
      this.counters.add('EventPutSuccessCount', puts.length);
    } else if (takes.length > 0) {
      this.usedSlots -= takes.length;
      this.usedBytes -= bodyBytes(takes);
    }
    if (takes.length > 0) {
      this.lastTakeAt = performance.now();
      this.counters.add('EventTakeSuccessCount', takes.length);
      this.spaceWaiters.wakeAll();
    }
    this.counters.set('ChannelSize', this.queue.length);
    if (puts.length > 0) this.dataWaiters.wakeAll();
  }

  /** @internal */
  rollbackTx(takes: FlumeEvent[]): void {
    if (takes.length > 0) {
      this.queue.unshiftAll(takes);
      this.counters.set('ChannelSize', this.queue.length);
      this.dataWaiters.wakeAll();
    }
  }
}

export class MemoryTransaction extends BaseTransaction {
  constructor(private readonly ch: MemoryChannel) {
    super(ch.name, ch.transactionCapacity);
  }
  protected override onPut(events: readonly FlumeEvent[]): void {
    this.ch.counters.add('EventPutAttemptCount', events.length);
  }
  protected doTake(n: number): FlumeEvent[] {
    return this.ch.takeFromQueue(n);
  }
  protected doCommit(): Promise<void> {
    return this.ch.commitTx(this.puts, this.takes);
  }
  protected async doRollback(): Promise<void> {
    this.ch.rollbackTx(this.takes);
  }
}

export default defineChannel({
  type: 'memory',
  classNames: ['org.apache.flume.channel.MemoryChannel'],
  summary: 'Bounded in-process queue. Fast; the events it holds are lost if the process dies.',
  options,
  transactionCapacity: (o) => o.transactionCapacity,
  check: (o) =>
    o.transactionCapacity <= o.capacity || {
      key: 'transactionCapacity',
      message: `transactionCapacity ${o.transactionCapacity} exceeds capacity ${o.capacity}`,
      hint: 'raise capacity or lower transactionCapacity',
    },
  create: (o, ctx) => new MemoryChannel(o, ctx),
});
