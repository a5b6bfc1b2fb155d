/**
 * The Kafka channel (Flume KafkaChannel): the events live in a topic, so the channel is as durable and as shared as
 * Kafka makes it. Put = the staged events are produced at commit, and the commit resolves only when every record is
 * acknowledged (a failed send fails the commit: nothing half-committed is reported as done). Take = records from
 * the group's consumer (the shared intake: a bounded local buffer, leases); commit = the offsets move past what the
 * transaction took; rollback = its records return to the head of the local buffer, in order (Flume seeks back).
 * Closing with takes open commits nothing: the group delivers those records again (at-least-once).
 *
 * The consumer joins the group lazily, on the first take or wait, so a channel with no sink (source -> Kafka)
 * never takes partitions away from the agents that do consume the topic. Capacity and size are Kafka's:
 * `capacity` and `size()` are undefined, ChannelCapacity and ChannelSize read 0 as in Flume.
 */
import type { Channel, ChannelContext } from '../../contract/index.js';
import { AgentError, errorMessage } from '../../core/errors.js';
import type { FlumeEvent } from '../../core/event.js';
import { BaseTransaction } from '../../channels/transaction.js';
import type { ChannelCounters } from '../../telemetry/counters.js';
import type { Logger } from '../../telemetry/logger.js';
import type { ConsumerPort, OutRecord, ProducerPort, TopicPartition } from '../port.js';
import { KafkaIntake, type Lease } from '../intake.js';
import { toEvent, toRecord, type InMapping, type OutMapping } from '../records.js';

export interface KafkaChannelConfig {
  topic: string;
  transactionCapacity: number;
  pollTimeoutMs: number;
  /** Records buffered locally at most (bounded memory). */
  maxBuffered: number;
  joinTimeoutMs: number;
  out: OutMapping;
  in: InMapping;
}

const EXTRA_COUNTERS = ['KafkaEventGetTimer', 'KafkaEventSendTimer', 'KafkaCommitTimer', 'RollbackCount'];

export class KafkaChannel implements Channel {
  readonly name: string;
  readonly counters: ChannelCounters;
  readonly transactionCapacity: number;
  /** Remote: the bound is Kafka's. */
  readonly capacity = undefined;
  private readonly logger: Logger;
  private producer?: ProducerPort;
  private connecting?: Promise<ProducerPort>;
  private intake?: KafkaIntake;
  private closed = true;
  private readonly open = new Set<KafkaTransaction>();
  /** The latest consumer start failure (for health), cleared by a successful start. */
  private consumerFailure?: string;

  constructor(
    readonly c: KafkaChannelConfig,
    ctx: ChannelContext,
    private readonly makeProducer: () => ProducerPort,
    private readonly makeConsumer: () => ConsumerPort,
  ) {
    this.name = ctx.name;
    this.counters = ctx.counters;
    this.logger = ctx.logger;
    this.transactionCapacity = c.transactionCapacity;
    for (const n of EXTRA_COUNTERS) ctx.counters.set(n, 0);
  }

  /** Connects the producer: unreachable brokers fail the start (the agent retries it and says why in /health). */
  async start(): Promise<void> {
    this.closed = false;
    await this.producerReady();
    this.counters.started();
  }

  private producerReady(): Promise<ProducerPort> {
    if (this.producer) return Promise.resolve(this.producer);
    this.connecting ??= (async () => {
      const p = this.makeProducer();
      try {
        await p.connect();
      } finally {
        this.connecting = undefined;
      }
      if (this.closed) {
        await p.disconnect().catch(() => undefined);
        throw this.closedError();
      }
      this.producer = p;
      return p;
    })();
    return this.connecting;
  }

  /** The consumer, joined to its group (first use starts it; a failed start is retried by the next call). */
  private async consumer(): Promise<KafkaIntake> {
    if (this.closed) throw this.closedError();
    this.intake ??= new KafkaIntake(this.makeConsumer(), {
      maxBuffered: this.c.maxBuffered,
      joinTimeoutMs: this.c.joinTimeoutMs,
      logger: this.logger,
    });
    try {
      await this.intake.start();
      this.consumerFailure = undefined;
    } catch (err) {
      this.consumerFailure = errorMessage(err);
      throw err;
    }
    return this.intake;
  }

  health(): { ok: boolean; reason?: string } {
    const why = this.consumerFailure ?? this.intake?.failure;
    return why === undefined ? { ok: true } : { ok: false, reason: `Kafka consumer: ${why}` };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // open takes are not committed: the group delivers their records again; staged puts were never sent
    for (const tx of this.open) tx.abandon();
    this.open.clear();
    const intake = this.intake;
    this.intake = undefined;
    const producer = this.producer;
    this.producer = undefined;
    await Promise.all([
      intake?.stop().catch((err: unknown) => this.logger.debug('Kafka consumer stop', { error: errorMessage(err) })),
      producer
        ?.disconnect()
        .catch((err: unknown) => this.logger.debug('Kafka producer stop', { error: errorMessage(err) })),
    ]);
    this.counters.stopped();
  }

  /** The partitions this channel's consumer holds now (none before the first take). */
  get assignment(): readonly TopicPartition[] {
    return this.intake?.assignment ?? [];
  }

  /** Remote: the channel cannot count the events the topic holds. */
  size(): undefined {
    return undefined;
  }

  waitForEvents(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.resolve();
    // joins the group in the background: the wait itself stays bounded by `ms`
    this.consumer().catch((err: unknown) =>
      this.logger.warn('Kafka channel consumer cannot start; retried on the next take', { error: errorMessage(err) }),
    );
    return this.intake!.waitForRecords(ms, signal);
  }

  begin(): KafkaTransaction {
    const tx = new KafkaTransaction(this);
    this.open.add(tx);
    return tx;
  }

  /** @internal */
  closedError(): AgentError {
    return new AgentError('FLUME_ERR_CHANNEL_CLOSED', `Channel ${this.name} is closed`);
  }

  /** @internal */
  async poll(n: number): Promise<Lease> {
    this.counters.add('EventTakeAttemptCount');
    const intake = await this.consumer();
    const t0 = performance.now();
    const lease = await intake.poll(n, this.c.pollTimeoutMs);
    this.counters.add('KafkaEventGetTimer', Math.round(performance.now() - t0));
    return lease;
  }

  /** @internal */
  toEvents(lease: Lease): FlumeEvent[] {
    return lease.records.map((r) => toEvent(r, this.c.in));
  }

  /** @internal Sends the puts, then commits the takes' offsets. */
  async finish(tx: KafkaTransaction, puts: readonly FlumeEvent[], leases: readonly Lease[]): Promise<void> {
    if (this.closed || !this.open.has(tx)) throw this.closedError();
    if (puts.length > 0) {
      const records: OutRecord[] = puts.map((e) => toRecord(e, this.c.topic, this.c.out));
      const producer = await this.producerReady();
      const t0 = performance.now();
      await producer.send(records);
      this.counters.add('KafkaEventSendTimer', Math.round(performance.now() - t0));
    }
    if (leases.length > 0) {
      const t0 = performance.now();
      // a failed offset commit is not a failed take: the events were delivered and may come again (at-least-once)
      await this.intake?.commit(leases).catch((err: unknown) =>
        this.logger.warn('Offset commit failed; the taken events may be delivered again', {
          error: errorMessage(err),
        }),
      );
      this.counters.add('KafkaCommitTimer', Math.round(performance.now() - t0));
    }
    this.open.delete(tx);
    if (puts.length > 0) this.counters.add('EventPutSuccessCount', puts.length);
    let taken = 0;
    for (const l of leases) taken += l.records.length;
    if (taken > 0) this.counters.add('EventTakeSuccessCount', taken);
  }

  /** @internal */
  giveBack(tx: KafkaTransaction, leases: readonly Lease[]): void {
    const wasOpen = this.open.delete(tx);
    if (leases.length > 0 && wasOpen && !this.closed) this.intake?.giveBack(leases);
    this.counters.add('RollbackCount');
  }
}

export class KafkaTransaction extends BaseTransaction {
  private leases: Lease[] = [];

  constructor(private readonly ch: KafkaChannel) {
    super(ch.name, ch.transactionCapacity);
  }

  /** @internal The channel closed: nothing of this transaction may commit; its takes come again from Kafka. */
  abandon(): void {
    this.leases = [];
  }

  protected override onPut(events: readonly FlumeEvent[]): void {
    this.ch.counters.add('EventPutAttemptCount', events.length);
  }
  protected async doTake(n: number): Promise<FlumeEvent[]> {
    const lease = await this.ch.poll(n);
    if (lease.records.length === 0) return [];
    this.leases.push(lease);
    return this.ch.toEvents(lease);
  }
  protected async doCommit(): Promise<void> {
    await this.ch.finish(this, this.puts, this.leases);
    this.leases = [];
  }
  protected async doRollback(): Promise<void> {
    const l = this.leases;
    this.leases = [];
    this.ch.giveBack(this, l);
  }
}
