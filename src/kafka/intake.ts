/**
 * The consuming side shared by the kafka source and the kafka channel, over any ConsumerPort: a bounded local
 * buffer of fetched records, taken in leases; a lease is committed (offsets move) or given back (its records return
 * to the head, in their order, without a seek). Several leases may be open at once (two sink runners on one kafka
 * channel, or two takes in one transaction) and finish in any order, so the offset committed for a partition is
 * never past a record that is buffered or held by an open lease: min(first record not yet taken, lowest offset of
 * the open leases). At-least-once: after a crash or a rebalance, everything from the committed offset on comes
 * again, which bounds the duplicates by what was in flight.
 *
 * A (re)assignment starts a new generation: the buffer is dropped (the port fetches again from the committed
 * offsets), and leases from older generations commit no offsets and give nothing back.
 */
import type { Logger } from '../telemetry/logger.js';
import { Waiters } from '../channels/waiters.js';
import { errorMessage } from '../core/errors.js';
import type { ConsumerHandler, ConsumerPort, InRecord, PartitionOffset, TopicPartition } from './port.js';

interface Held {
  rec: InRecord;
  seq: number;
}

interface PartitionState {
  tp: TopicPartition;
  /** Records of this partition in the buffer. */
  buffered: number;
  /** Offset of the first record of this partition not taken yet (meaningful while buffered > 0). */
  nextUntaken: number;
  /** The fetch position: one past the last record handed over. */
  next: number;
  /** The offset last committed (or -1). */
  committed: number;
  /** The broker's high watermark at the last fetch (0 when unknown): records up to it exist. */
  end: number;
}

/** Records taken together; commit or give back. */
export class Lease {
  /** @internal lowest offset per partition key */
  readonly low = new Map<string, number>();
  constructor(
    readonly records: readonly InRecord[],
    /** @internal */ readonly held: readonly Held[],
    /** @internal */ readonly generation: number,
  ) {}
}

const key = (topic: string, partition: number) => `${partition}\u0000${topic}`;

export interface IntakeOptions {
  /** Most records held in the buffer before the port is made to wait (bounded memory). */
  maxBuffered: number;
  /** Longest wait for the group to give the first assignment. */
  joinTimeoutMs: number;
  logger: Logger;
}

export class KafkaIntake implements ConsumerHandler {
  private buf: Held[] = [];
  private head = 0;
  private seq = 0;
  private parts = new Map<string, PartitionState>();
  private generation = 0;
  private readonly open = new Set<Lease>();
  private readonly arrivals = new Waiters();
  private roomWaiters: (() => void)[] = [];
  private starting?: Promise<void>;
  private started = false;
  private closed = false;
  /** The latest consumer failure not yet followed by an assignment (for health). */
  failure?: string;
  assignment: readonly TopicPartition[] = [];

  constructor(
    private readonly port: ConsumerPort,
    private readonly o: IntakeOptions,
  ) {}

  /** Records buffered now. */
  get size(): number {
    return this.buf.length - this.head;
  }

  /** Starts the consumer once (concurrent callers share the attempt); a failed attempt is retried by the next call. */
  start(): Promise<void> {
    if (this.started) return Promise.resolve();
    this.closed = false;
    this.starting ??= this.port.start(this, this.o.joinTimeoutMs).then(
      () => {
        this.started = true;
        this.starting = undefined;
      },
      (err: unknown) => {
        this.starting = undefined;
        throw err;
      },
    );
    return this.starting;
  }

  get isStarted(): boolean {
    return this.started;
  }

  async stop(): Promise<void> {
    this.closed = true;
    this.releaseRoom();
    this.arrivals.wakeAll();
    const pending = this.starting;
    if (pending) await pending.catch(() => undefined);
    this.started = false;
    await this.port.stop();
    this.buf = [];
    this.head = 0;
    this.parts.clear();
    this.open.clear();
  }

  // ------------------------------------------------------------------------------------------- ConsumerHandler

  records(batch: InRecord[], generation: number, highWatermark?: number): Promise<void> {
    if (generation !== this.generation || this.closed || batch.length === 0) return Promise.resolve();
    const first = batch[0]!;
    const k = key(first.topic, first.partition);
    let p = this.parts.get(k);
    if (!p) {
      p = {
        tp: { topic: first.topic, partition: first.partition },
        buffered: 0,
        nextUntaken: 0,
        next: 0,
        committed: -1,
        end: 0,
      };
      this.parts.set(k, p);
    }
    if (p.buffered === 0) p.nextUntaken = first.offset;
    for (const rec of batch) this.buf.push({ rec, seq: this.seq++ });
    p.buffered += batch.length;
    p.next = batch[batch.length - 1]!.offset + 1;
    if (highWatermark !== undefined) p.end = highWatermark;
    this.arrivals.wakeAll();
    if (this.size < this.o.maxBuffered) return Promise.resolve();
    return new Promise<void>((resolve) => this.roomWaiters.push(resolve));
  }

  assigned(generation: number, partitions: readonly TopicPartition[]): void {
    const dropped = this.size;
    this.generation = generation;
    this.assignment = partitions;
    this.failure = undefined;
    this.buf = [];
    this.head = 0;
    this.parts.clear();
    this.releaseRoom();
    this.o.logger.info('Kafka consumer assigned partitions', {
      partitions: partitions.map((p) => `${p.topic}-${p.partition}`).join(' ') || '(none)',
      generation,
      ...(dropped > 0 ? { refetched: dropped } : {}),
    });
  }

  failed(err: Error, restarting: boolean): void {
    this.failure = errorMessage(err);
    this.o.logger.warn(
      restarting ? 'Kafka consumer failed; restarting from the committed offsets' : 'Kafka consumer failed',
      { error: this.failure },
    );
  }

  // ------------------------------------------------------------------------------------------- leases

  /** Waits up to `ms` for records (at once when some are buffered). Never rejects. */
  waitForRecords(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.size > 0 || this.closed) return Promise.resolve();
    return this.arrivals.wait(ms, signal);
  }

  /**
   * Up to `max` buffered records, oldest first, waiting up to `waitMs` for the first; and, while fewer than `max`
   * are buffered, for the rest of what the broker had at the last fetch (its high watermark) within the same time.
   */
  async poll(max: number, waitMs: number, signal?: AbortSignal): Promise<Lease> {
    const deadline = performance.now() + waitMs;
    for (;;) {
      if (this.closed || signal?.aborted) break;
      if (this.size >= max || (this.size > 0 && !this.behind())) break;
      const left = deadline - performance.now();
      if (left <= 0) break;
      await this.arrivals.wait(left, signal);
    }
    return this.take(max);
  }

  /** Whether the broker had records of an assigned partition that were not fetched yet. */
  private behind(): boolean {
    for (const p of this.parts.values()) if (p.end > p.next) return true;
    return false;
  }

  /** Up to `max` buffered records now. */
  take(max: number): Lease {
    const n = Math.max(0, Math.min(max, this.size));
    const held = this.buf.slice(this.head, this.head + n);
    this.head += n;
    if (this.head > 4096 && this.head * 2 > this.buf.length) {
      this.buf = this.buf.slice(this.head);
      this.head = 0;
    }
    const records = new Array<InRecord>(n);
    const lease = new Lease(records, held, this.generation);
    for (let i = 0; i < n; i++) {
      const rec = held[i]!.rec;
      records[i] = rec;
      const k = key(rec.topic, rec.partition);
      const p = this.parts.get(k)!;
      p.buffered--;
      p.nextUntaken = rec.offset + 1;
      const low = lease.low.get(k);
      if (low === undefined || rec.offset < low) lease.low.set(k, rec.offset);
    }
    if (n > 0) {
      this.open.add(lease);
      if (this.size < this.o.maxBuffered) this.releaseRoom();
    }
    return lease;
  }

  /**
   * The leases are done: commits the offsets they let move (one request). Rejects with FLUME_ERR_KAFKA_COMMIT when
   * the commit fails; the leases are finished either way (their records are not given back: they were delivered).
   */
  async commit(leases: readonly Lease[]): Promise<void> {
    const touched = new Set<string>();
    for (const l of leases) {
      if (!this.open.delete(l)) continue;
      if (l.generation === this.generation) for (const k of l.low.keys()) touched.add(k);
    }
    const offsets: PartitionOffset[] = [];
    const states: [PartitionState, number][] = [];
    for (const k of touched) {
      const p = this.parts.get(k);
      if (!p) continue;
      let at = p.buffered > 0 ? p.nextUntaken : p.next;
      for (const l of this.open) {
        const low = l.generation === this.generation ? l.low.get(k) : undefined;
        if (low !== undefined && low < at) at = low;
      }
      if (at > p.committed) {
        offsets.push({ ...p.tp, offset: at });
        states.push([p, at]);
      }
    }
    if (offsets.length === 0) return;
    await this.port.commit(offsets);
    for (const [p, at] of states) if (at > p.committed) p.committed = at;
  }

  /** The leases' records go back to the head of the buffer, in their original order. */
  giveBack(leases: readonly Lease[]): void {
    const back: Held[] = [];
    for (const l of leases) {
      if (!this.open.delete(l) || l.generation !== this.generation) continue;
      for (const h of l.held) back.push(h);
    }
    if (back.length === 0) return;
    back.sort((a, b) => a.seq - b.seq);
    for (const h of back) {
      const p = this.parts.get(key(h.rec.topic, h.rec.partition));
      if (!p) continue;
      if (p.buffered === 0 || h.rec.offset < p.nextUntaken) p.nextUntaken = h.rec.offset;
      p.buffered++;
    }
    // merge the two seq-ordered runs
    const rest = this.buf.slice(this.head);
    const merged: Held[] = [];
    let i = 0;
    let j = 0;
    while (i < back.length || j < rest.length) {
      if (j >= rest.length || (i < back.length && back[i]!.seq < rest[j]!.seq)) merged.push(back[i++]!);
      else merged.push(rest[j++]!);
    }
    this.buf = merged;
    this.head = 0;
    this.arrivals.wakeAll();
  }

  private releaseRoom(): void {
    const w = this.roomWaiters;
    this.roomWaiters = [];
    for (const r of w) r();
  }
}
