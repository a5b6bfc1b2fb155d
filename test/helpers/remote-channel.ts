/**
 * A test double of a channel whose events live elsewhere, as a Kafka channel's live in a topic: it declares what it
 * cannot know (`capacity` and `size()` are undefined), takes asynchronously (a poll), sends puts at commit, forgets
 * takes at commit (an offset commit) and returns rolled-back takes to the head. The events are held by a "broker"
 * named by the `broker` option that outlives channel instances, so the channel is durable across a close and a
 * reopen on the same broker; events taken by transactions still open at close() come back (as uncommitted offsets
 * are re-delivered to the next consumer). It must pass the channel contract suite (test/contract/channels.test.ts).
 */
import { defineChannel, type Channel, type ChannelContext, opt } from '../../src/contract/index.js';
import { AgentError } from '../../src/core/errors.js';
import type { FlumeEvent } from '../../src/core/event.js';
import { BaseTransaction } from '../../src/channels/transaction.js';
import { Waiters } from '../../src/channels/waiters.js';
import type { ChannelCounters } from '../../src/telemetry/counters.js';

interface BrokerRecord {
  seq: number;
  event: FlumeEvent;
}

/** What a broker holds: committed records not yet taken, in order, and wake-ups for waiting consumers. */
export class RemoteBroker {
  /** Committed and not taken, ordered by seq. */
  readonly queue: BrokerRecord[] = [];
  readonly waiters = new Waiters();
  private nextSeq = 0;

  append(events: readonly FlumeEvent[]): void {
    for (const event of events) this.queue.push({ seq: this.nextSeq++, event });
    this.waiters.wakeAll();
  }

  /** Puts records back where they were (by sequence), ahead of anything committed after them. */
  giveBack(records: readonly BrokerRecord[]): void {
    if (records.length === 0) return;
    this.queue.push(...records);
    this.queue.sort((a, b) => a.seq - b.seq);
    this.waiters.wakeAll();
  }

  /** The bodies held, for assertions. */
  bodies(): string[] {
    return this.queue.map((r) => r.event.body.toString());
  }
}

const closedError = (name: string) => new AgentError('FLUME_ERR_CHANNEL_CLOSED', `Channel ${name} is closed`);

const brokers = new Map<string, RemoteBroker>();

/** The broker of that name (created on first use); shared by every channel instance configured with it. */
export function remoteBroker(name: string): RemoteBroker {
  let b = brokers.get(name);
  if (!b) brokers.set(name, (b = new RemoteBroker()));
  return b;
}

const options = {
  broker: opt.string({ required: true, nonEmpty: true, doc: 'Name of the in-process broker holding the events.' }),
  transactionCapacity: opt.int({ default: 100, min: 1, doc: 'Most events in one put or one take transaction.' }),
};

export class RemoteChannel implements Channel {
  readonly name: string;
  readonly counters: ChannelCounters;
  readonly transactionCapacity: number;
  /** Remote: the bound is the broker's. */
  readonly capacity = undefined;
  readonly broker: RemoteBroker;
  private closed = true;
  private readonly open = new Set<RemoteTransaction>();

  constructor(o: { broker: string; transactionCapacity: number }, ctx: ChannelContext) {
    this.name = ctx.name;
    this.counters = ctx.counters;
    this.transactionCapacity = o.transactionCapacity;
    this.broker = remoteBroker(o.broker);
  }

  async start(): Promise<void> {
    this.closed = false;
    this.counters.started();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // a consumer leaving: what its open transactions took is delivered again; their puts were never sent
    for (const tx of this.open) this.broker.giveBack(tx.abandon());
    this.open.clear();
    this.counters.stopped();
  }

  /** Remote: the channel cannot count the events the broker holds. */
  size(): undefined {
    return undefined;
  }

  waitForEvents(ms: number, signal?: AbortSignal): Promise<void> {
    if (!this.closed && this.broker.queue.length > 0) return Promise.resolve();
    return this.broker.waiters.wait(ms, signal);
  }

  begin(): RemoteTransaction {
    const tx = new RemoteTransaction(this);
    this.open.add(tx);
    return tx;
  }

  /** @internal */
  poll(n: number): Promise<BrokerRecord[]> {
    this.counters.add('EventTakeAttemptCount');
    if (this.closed) return Promise.reject(closedError(this.name));
    return Promise.resolve(this.broker.queue.splice(0, n));
  }

  /** @internal */
  async finish(tx: RemoteTransaction, puts: readonly FlumeEvent[], taken: number, commit: boolean): Promise<void> {
    // after close() the puts were never sent and the takes were handed back: nothing of it may commit
    if (commit && this.closed) throw closedError(this.name);
    this.open.delete(tx);
    if (!commit) return;
    if (puts.length > 0) {
      this.broker.append(puts);
      this.counters.add('EventPutSuccessCount', puts.length);
    }
    if (taken > 0) this.counters.add('EventTakeSuccessCount', taken);
  }
}

export class RemoteTransaction extends BaseTransaction {
  private records: BrokerRecord[] = [];

  constructor(private readonly ch: RemoteChannel) {
    super(ch.name, ch.transactionCapacity);
  }

  /** @internal The records this transaction took, now owned by the caller (close()). */
  abandon(): BrokerRecord[] {
    const r = this.records;
    this.records = [];
    return r;
  }

  protected override onPut(events: readonly FlumeEvent[]): void {
    this.ch.counters.add('EventPutAttemptCount', events.length);
  }
  protected async doTake(n: number): Promise<FlumeEvent[]> {
    const got = await this.ch.poll(n);
    for (const r of got) this.records.push(r);
    return got.map((r) => r.event);
  }
  protected async doCommit(): Promise<void> {
    await this.ch.finish(this, this.puts, this.records.length, true);
    this.records = [];
  }
  protected async doRollback(): Promise<void> {
    this.ch.broker.giveBack(this.abandon());
    await this.ch.finish(this, this.puts, 0, false);
  }
}

/** Not registered: tests pass it where a registered channel definition goes (contract suite, plans). */
export const remoteChannelDef = defineChannel({
  type: 'remote_test',
  summary: 'Test double: a channel whose events and capacity live in a remote broker (size and capacity unknown).',
  options,
  transactionCapacity: (o) => o.transactionCapacity,
  create: (o, ctx) => new RemoteChannel(o, ctx),
});
