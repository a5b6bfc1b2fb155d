/**
 * The kafka sink's delivery: each taken batch becomes records (topic, key, partition, timestamp, headers), sent in
 * requests of at most max.request.size, and deliver() resolves only when every record is acknowledged - then the
 * runner commits the take. A failed send throws a retriable error: the runner rolls the batch back and retries it
 * (records acknowledged before the failure are sent again: at-least-once).
 *
 * An event that can never become a record (a partition header that is not a partition of the topic, a topic name
 * Kafka refuses, a record over max.request.size or refused by the broker as too large or invalid) is not allowed to
 * block the sink forever (Flume's poison loop): badEventPolicy = drop logs it, counts it (EventRejectedCount),
 * writes it to deadLetterFile when one is set, and delivers the rest of the batch; badEventPolicy = block keeps
 * Flume's behaviour (the batch fails until the event is removed).
 */
import type { Sink, SinkContext } from '../../contract/index.js';
import { AgentError, errorMessage } from '../../core/errors.js';
import type { FlumeEvent } from '../../core/event.js';
import { WarnLimiter } from '../../net/warn-limiter.js';
import type { ProducerSettings } from '../../kafka/config/properties.js';
import type { OutRecord, ProducerPort } from '../../kafka/port.js';
import { recordError, recordSize, toRecord, topicProblem, type OutMapping } from '../../kafka/records.js';
import type { TopicTemplate } from '../../kafka/topic.js';
import { DeadLetterFile } from '../support/dead-letter.js';

export interface KafkaSinkConfig {
  batchSize: number;
  topic: TopicTemplate;
  allowTopicOverride: boolean;
  topicHeader: string;
  mapping: OutMapping;
  policy: 'drop' | 'block';
  deadLetterFile?: string;
  producer: ProducerSettings;
}

interface Bad {
  event: FlumeEvent;
  reason: string;
}

const EXTRA_COUNTERS = ['KafkaEventSendTimer', 'RollbackCount', 'EventRejectedCount'];

export class KafkaSink implements Sink {
  readonly batchSize: number;
  private producer?: ProducerPort;
  private readonly deadLetter?: DeadLetterFile;
  private readonly warnings = new WarnLimiter(10_000);
  /** Partitions per topic, for partition headers (refreshed when a number is not found). */
  private readonly partitionCache = new Map<string, { parts: Set<number>; at: number }>();

  constructor(
    private readonly c: KafkaSinkConfig,
    private readonly ctx: SinkContext,
    private readonly makeProducer: () => ProducerPort,
  ) {
    this.batchSize = c.batchSize;
    if (c.deadLetterFile) this.deadLetter = new DeadLetterFile(c.deadLetterFile, ctx.name);
    for (const n of EXTRA_COUNTERS) ctx.counters.set(n, 0);
  }

  async start(): Promise<void> {
    const p = this.makeProducer();
    try {
      await p.connect();
    } catch (err) {
      this.ctx.counters.add('ConnectionFailedCount');
      throw err;
    }
    this.ctx.counters.add('ConnectionCreatedCount');
    this.producer = p;
    this.ctx.logger.info('Kafka sink connected', { brokers: this.c.producer.brokers.join(',') });
  }

  private topicOf(e: FlumeEvent): string {
    const override = this.c.allowTopicOverride ? e.headers[this.c.topicHeader] : undefined;
    return override ?? this.c.topic.render(e.headers);
  }

  private async partitionsOf(topic: string, wanted: number): Promise<Set<number>> {
    const cached = this.partitionCache.get(topic);
    const fresh = cached && performance.now() - cached.at < this.c.producer.metadataMaxAgeMs;
    if (cached && fresh && cached.parts.has(wanted)) return cached.parts;
    const parts = new Set(await this.producer!.partitions(topic));
    this.partitionCache.set(topic, { parts, at: performance.now() });
    return parts;
  }

  async deliver(batch: FlumeEvent[], signal: AbortSignal): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new AgentError('FLUME_ERR_SINK_DELIVERY', `kafka sink ${this.ctx.name} is not started`);
    const bad: Bad[] = [];
    const records: OutRecord[] = [];
    const events: FlumeEvent[] = [];
    const max = this.c.producer.maxRequestSize;
    for (const e of batch) {
      try {
        const topic = this.topicOf(e);
        const why = topicProblem(topic);
        if (why) throw recordError(why);
        const rec = toRecord(e, topic, this.c.mapping);
        const size = recordSize(rec);
        if (size > max) throw recordError(`a record of about ${size} bytes is larger than max.request.size ${max}`);
        if (rec.partition !== undefined && !(await this.partitionsOf(topic, rec.partition)).has(rec.partition))
          throw recordError(`topic ${topic} has no partition ${rec.partition}`);
        records.push(rec);
        events.push(e);
      } catch (err) {
        if (!(err instanceof AgentError && err.code === 'FLUME_ERR_KAFKA_RECORD')) throw this.failed(err, batch.length);
        bad.push({ event: e, reason: err.message });
      }
    }
    if (bad.length > 0 && this.c.policy === 'block') throw this.blocked(bad[0]!);
    const t0 = performance.now();
    try {
      await this.sendAll(records, events, bad, signal);
    } catch (err) {
      throw this.failed(err, batch.length);
    } finally {
      this.ctx.counters.add('KafkaEventSendTimer', Math.round(performance.now() - t0));
    }
    if (bad.length > 0) await this.reject(bad);
  }

  /** Sends requests of at most max.request.size; one the broker refuses for good is resent record by record. */
  private async sendAll(records: OutRecord[], events: FlumeEvent[], bad: Bad[], signal: AbortSignal): Promise<void> {
    const max = this.c.producer.maxRequestSize;
    let from = 0;
    while (from < records.length) {
      if (signal.aborted) throw new AgentError('FLUME_ERR_SINK_DELIVERY', 'the sink is stopping');
      let to = from;
      let bytes = 0;
      while (to < records.length && (to === from || bytes + recordSize(records[to]!) <= max))
        bytes += recordSize(records[to++]!);
      const chunk = records.slice(from, to);
      try {
        await this.producer!.send(chunk);
      } catch (err) {
        if (!(err instanceof AgentError && err.code === 'FLUME_ERR_KAFKA_RECORD')) throw err;
        if (this.c.policy === 'block') throw this.blocked({ event: events[from]!, reason: err.message });
        // find the records the broker refuses: one request each
        for (let i = from; i < to; i++) {
          try {
            await this.producer!.send([records[i]!]);
          } catch (one) {
            if (!(one instanceof AgentError && one.code === 'FLUME_ERR_KAFKA_RECORD')) throw one;
            bad.push({ event: events[i]!, reason: one.message });
          }
        }
      }
      from = to;
    }
  }

  private failed(err: unknown, n: number): AgentError {
    this.ctx.counters.add('RollbackCount');
    const retriable = !(err instanceof AgentError) || err.retriable;
    return new AgentError(
      retriable ? 'FLUME_ERR_SINK_DELIVERY' : 'FLUME_ERR_SINK_PERMANENT',
      `kafka sink ${this.ctx.name}: batch of ${n} events not delivered: ${errorMessage(err)}`,
      { cause: err },
    );
  }

  private blocked(b: Bad): AgentError {
    this.ctx.counters.add('RollbackCount');
    return new AgentError(
      'FLUME_ERR_SINK_PERMANENT',
      `kafka sink ${this.ctx.name}: an event cannot be sent (${b.reason}); badEventPolicy = block keeps ` +
        'retrying the batch until that event is removed',
    );
  }

  private async reject(bad: Bad[]): Promise<void> {
    if (this.deadLetter) await this.deadLetter.write(bad);
    this.ctx.counters.add('EventRejectedCount', bad.length);
    for (const b of bad) {
      const suppressed = this.warnings.hit(b.reason.replace(/'[^']*'/g, "'...'"));
      if (suppressed < 0) continue;
      this.ctx.logger.warn('Kafka sink dropped an event it can never send (badEventPolicy = drop)', {
        reason: b.reason,
        headers: { ...b.event.headers },
        ...(this.deadLetter ? { deadLetterFile: this.deadLetter.file } : {}),
        ...(suppressed > 0 ? { suppressed } : {}),
      });
    }
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    if (p) {
      await p.disconnect();
      this.ctx.counters.add('ConnectionClosedCount');
    }
  }

  destroy(): void {
    const p = this.producer;
    this.producer = undefined;
    void p?.disconnect().catch(() => undefined);
  }
}
