/**
 * ConsumerPort on kafkajs: a group member with autoCommit off. Each fetched batch goes to the handler with the
 * assignment generation it was fetched under; while the handler holds the batch back (its buffer is full), the
 * member keeps heartbeating, and stops waiting when the group rebalances (kafkajs then rejoins and fetches again
 * from the committed offsets, which is why every GROUP_JOIN starts a new generation).
 */
import type { Consumer, ConsumerCrashEvent, ConsumerGroupJoinEvent, KafkaMessage } from 'kafkajs';
import { AgentError, errorMessage } from '../../core/errors.js';
import { sleep } from '../../core/clock.js';
import type { Logger } from '../../telemetry/logger.js';
import type { ConsumerSettings } from '../config/properties.js';
import type { ConsumerHandler, ConsumerPort, InRecord, PartitionOffset, TopicPartition } from '../port.js';
import { createKafka } from './client.js';
import { reason, toAgentError } from './errors.js';

/** What to subscribe to: topic names, or one pattern matched against the topics the cluster has at subscription. */
export interface Subscription {
  topics?: readonly string[];
  pattern?: RegExp;
}

/**
 * kafkajs decodes keys, values and headers as views into the whole fetch response (or decompressed batch), which
 * may hold megabytes of other partitions' records: one small event kept in a channel would keep all of it alive.
 * A view that is less than half its backing memory (beyond Node's own 8 KiB pool slabs) is copied; the copies of
 * small values share pool slabs, so what is retained is about what the records themselves take.
 */
export function ownBytes(b: Buffer): Buffer {
  const backing = b.buffer.byteLength;
  if (backing <= Buffer.poolSize || b.byteLength * 2 >= backing) return b;
  return Buffer.from(b);
}

function toBuffer(v: unknown): Buffer | undefined {
  if (Array.isArray(v)) return toBuffer(v[v.length - 1]);
  if (Buffer.isBuffer(v)) return ownBytes(v);
  if (typeof v === 'string') return Buffer.from(v, 'utf8');
  return undefined;
}

function toRecord(topic: string, partition: number, m: KafkaMessage): InRecord {
  const headers: Record<string, Buffer> = Object.create(null);
  if (m.headers) {
    for (const k of Object.keys(m.headers)) {
      const b = toBuffer(m.headers[k]);
      if (b !== undefined) headers[k] = b;
    }
  }
  return {
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key ? ownBytes(m.key) : null,
    value: m.value ? ownBytes(m.value) : null,
    timestamp: Number(m.timestamp),
    headers,
  };
}

export class KafkajsConsumer implements ConsumerPort {
  private consumer?: Consumer;
  private generation = 0;
  /** Between a crash and the next assignment: a commit would be dropped by kafkajs, so it is refused. */
  private crashed = false;
  private stopping = false;

  constructor(
    private readonly s: ConsumerSettings,
    private readonly sub: Subscription,
    private readonly logger: Logger,
    private readonly label: string,
  ) {}

  private get brokers(): string {
    return this.s.brokers.join(',');
  }

  async start(handler: ConsumerHandler, timeoutMs: number): Promise<void> {
    this.stopping = false;
    const kafka = createKafka(this.s, this.logger, this.label);
    const s = this.s;
    const consumer = kafka.consumer({
      groupId: s.groupId,
      sessionTimeout: s.sessionTimeoutMs,
      heartbeatInterval: s.heartbeatIntervalMs,
      rebalanceTimeout: s.rebalanceTimeoutMs,
      maxWaitTimeInMs: s.fetchMaxWaitMs,
      minBytes: s.fetchMinBytes,
      maxBytes: s.fetchMaxBytes,
      maxBytesPerPartition: s.maxPartitionFetchBytes,
      readUncommitted: s.readUncommitted,
      allowAutoTopicCreation: s.allowAutoTopicCreation,
      metadataMaxAge: s.metadataMaxAgeMs,
      retry: {
        retries: s.retries,
        initialRetryTime: s.retryBackoffMs,
        maxRetryTime: s.retryBackoffMaxMs,
        restartOnFailure: async () => !this.stopping,
      },
    });
    this.consumer = consumer;
    let joined!: () => void;
    const firstJoin = new Promise<void>((r) => (joined = r));
    let crashedBeforeJoin: Error | undefined;
    let wakeStart: (() => void) | undefined;
    consumer.on(consumer.events.GROUP_JOIN, (e: ConsumerGroupJoinEvent) => {
      this.generation++;
      this.crashed = false;
      const parts: TopicPartition[] = [];
      for (const [topic, ps] of Object.entries(e.payload.memberAssignment))
        for (const partition of ps) parts.push({ topic, partition });
      handler.assigned(this.generation, parts);
      joined();
    });
    consumer.on(consumer.events.CRASH, (e: ConsumerCrashEvent) => {
      this.crashed = true;
      const err = e.payload.error;
      crashedBeforeJoin = err;
      wakeStart?.();
      if (!this.stopping) handler.failed(err, e.payload.restart);
    });
    const fail = async (err: unknown, what: string): Promise<never> => {
      this.stopping = true;
      await consumer.disconnect().catch(() => undefined);
      this.consumer = undefined;
      throw toAgentError(err, 'FLUME_ERR_KAFKA_CONNECT', `${this.label}: ${what}`);
    };
    try {
      await consumer.connect();
      await consumer.subscribe({
        topics: this.sub.pattern ? [this.sub.pattern] : [...(this.sub.topics ?? [])],
        fromBeginning: s.fromBeginning,
      });
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        partitionsConsumedConcurrently: 1,
        eachBatch: async ({ batch, heartbeat, isRunning }) => {
          const gen = this.generation;
          if (batch.messages.length === 0) return;
          const records = batch.messages.map((m) => toRecord(batch.topic, batch.partition, m));
          const hw = Number(batch.highWatermark);
          const done = handler.records(records, gen, Number.isSafeInteger(hw) ? hw : undefined);
          let settled = false;
          void done.then(
            () => (settled = true),
            () => (settled = true),
          );
          while (!settled) {
            await Promise.race([done.catch(() => undefined), sleep(s.heartbeatIntervalMs)]);
            if (settled || !isRunning() || gen !== this.generation) break;
            await heartbeat(); // rejects when the group rebalances: kafkajs rejoins, a new generation starts
          }
        },
      });
    } catch (err) {
      return fail(err, `cannot connect to Kafka at ${this.brokers}`);
    }
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const crashed = new Promise<'crash'>((r) => (wakeStart = () => r('crash')));
    const first = await Promise.race([firstJoin.then(() => 'joined' as const), timedOut, crashed]);
    clearTimeout(timer);
    if (first === 'timeout')
      return fail(
        new AgentError(
          'FLUME_ERR_KAFKA_CONNECT',
          `no partition assignment from group ${s.groupId} within ${timeoutMs} ms`,
        ),
        `cannot join the consumer group at ${this.brokers}`,
      );
    if (first === 'crash') return fail(crashedBeforeJoin, `the consumer failed at ${this.brokers}`);
  }

  async commit(offsets: readonly PartitionOffset[]): Promise<void> {
    const consumer = this.consumer;
    if (offsets.length === 0) return;
    if (!consumer || this.crashed || this.stopping)
      throw new AgentError('FLUME_ERR_KAFKA_COMMIT', `${this.label}: the consumer is not in its group now`);
    try {
      await consumer.commitOffsets(
        offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })),
      );
    } catch (err) {
      throw new AgentError('FLUME_ERR_KAFKA_COMMIT', `${this.label}: offset commit failed: ${reason(err)}`, {
        cause: err,
      });
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const c = this.consumer;
    this.consumer = undefined;
    if (!c) return;
    try {
      await c.disconnect();
    } catch (err) {
      this.logger.debug('Kafka consumer did not disconnect cleanly', { error: errorMessage(err) });
    }
  }
}
