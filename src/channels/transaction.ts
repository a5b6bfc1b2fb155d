/** Transaction state machine shared by channels: open -> committed | rolledback, nothing after that. */
import { AgentError } from '../core/errors.js';
import type { FlumeEvent } from '../core/event.js';
import type { ChannelTransaction } from '../contract/index.js';

export abstract class BaseTransaction implements ChannelTransaction {
  state: 'open' | 'committed' | 'rolledback' = 'open';
  protected puts: FlumeEvent[] = [];
  protected takes: FlumeEvent[] = [];

  constructor(
    protected readonly channelName: string,
    protected readonly txCapacity: number,
  ) {}

  protected assertOpen(op: string): void {
    if (this.state !== 'open') {
      throw new AgentError(
        'FLUME_ERR_CHANNEL_TX_STATE',
        `Cannot ${op} on channel ${this.channelName}: transaction is already ${this.state}`,
      );
    }
  }

  put(events: readonly FlumeEvent[]): void {
    this.assertOpen('put');
    if (this.puts.length + events.length > this.txCapacity) {
      throw new AgentError(
        'FLUME_ERR_CHANNEL_TX_CAPACITY',
        `Put of ${events.length} events exceeds the transactionCapacity ${this.txCapacity} of channel ${this.channelName} (${this.puts.length} already staged)`,
      );
    }
    for (let i = 0; i < events.length; i++) this.puts.push(events[i]!);
    this.onPut(events);
  }

  take(max: number): FlumeEvent[] | Promise<FlumeEvent[]> {
    this.assertOpen('take');
    const room = this.txCapacity - this.takes.length;
    const n = Math.min(max, room);
    if (n <= 0) {
      if (max > 0)
        throw new AgentError(
          'FLUME_ERR_CHANNEL_TX_CAPACITY',
          `Take exceeds the transactionCapacity ${this.txCapacity} of channel ${this.channelName}`,
        );
      return [];
    }
    const got = this.doTake(n);
    if (got instanceof Promise) {
      return got.then((events) => {
        for (const e of events) this.takes.push(e);
        return events;
      });
    }
    for (let i = 0; i < got.length; i++) this.takes.push(got[i]!);
    return got;
  }

  async commit(): Promise<void> {
    this.assertOpen('commit');
    await this.doCommit();
    this.state = 'committed';
  }

  async rollback(): Promise<void> {
    if (this.state === 'rolledback') return;
    this.assertOpen('rollback');
    this.state = 'rolledback';
    await this.doRollback();
  }

  protected onPut(_events: readonly FlumeEvent[]): void {}
  protected abstract doTake(n: number): FlumeEvent[] | Promise<FlumeEvent[]>;
  protected abstract doCommit(): Promise<void>;
  protected abstract doRollback(): Promise<void>;
}
