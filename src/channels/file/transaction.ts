/** A file channel transaction: puts are staged in memory; takes remember the indices they took. */
import type { FlumeEvent } from '../../core/event.js';
import type { ChannelCounters } from '../../telemetry/counters.js';
import { BaseTransaction } from '../transaction.js';

/** What a transaction needs of its channel (the coordinator, channel.ts). */
export interface TransactionChannel {
  readonly name: string;
  readonly transactionCapacity: number;
  readonly counters: ChannelCounters;
  takeFor(tx: FileTransaction, n: number): FlumeEvent[] | Promise<FlumeEvent[]>;
  commitTx(tx: FileTransaction, puts: FlumeEvent[], takeCount: number): Promise<void>;
  rollbackTakes(tx: FileTransaction, events: readonly FlumeEvent[]): void;
}

export class FileTransaction extends BaseTransaction {
  /** Indices taken, as flat [start, end) pairs in take order. */
  readonly ranges: number[] = [];
  readonly bpes: number[] = [];
  gen = -2;

  constructor(private readonly ch: TransactionChannel) {
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
