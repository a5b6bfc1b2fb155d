/** ProducerPort on kafkajs: one sendBatch per call, bounded by delivery.timeout.ms; metadata from an admin client. */
import kafkajsPkg from 'kafkajs';
import type { Admin, Message, Producer, TopicMessages } from 'kafkajs';
import { AgentError } from '../../core/errors.js';
import type { Logger } from '../../telemetry/logger.js';
import type { ProducerSettings } from '../config/properties.js';
import type { OutRecord, ProducerPort } from '../port.js';
import { COMPRESSION, createKafka } from './client.js';
import { toAgentError } from './errors.js';

const { Partitioners } = kafkajsPkg;

export class KafkajsProducer implements ProducerPort {
  private kafka?: ReturnType<typeof createKafka>;
  private producer?: Producer;
  private admin?: Admin;
  private adminReady?: Promise<Admin>;

  constructor(
    private readonly s: ProducerSettings,
    private readonly logger: Logger,
    private readonly label: string,
  ) {}

  private get brokers(): string {
    return this.s.brokers.join(',');
  }

  async connect(): Promise<void> {
    this.kafka = createKafka(this.s, this.logger, this.label);
    const producer = this.kafka.producer({
      createPartitioner: Partitioners.DefaultPartitioner,
      allowAutoTopicCreation: true,
      idempotent: this.s.idempotent,
      ...(this.s.maxInFlightRequests !== undefined ? { maxInFlightRequests: this.s.maxInFlightRequests } : {}),
      metadataMaxAge: this.s.metadataMaxAgeMs,
      retry: {
        retries: this.s.retries,
        initialRetryTime: this.s.retryBackoffMs,
        maxRetryTime: this.s.retryBackoffMaxMs,
      },
    });
    try {
      await producer.connect();
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw toAgentError(err, 'FLUME_ERR_KAFKA_CONNECT', `${this.label}: cannot connect to Kafka at ${this.brokers}`);
    }
    this.producer = producer;
  }

  async send(records: readonly OutRecord[]): Promise<void> {
    const producer = this.producer;
    if (!producer) throw new AgentError('FLUME_ERR_KAFKA_SEND', `${this.label}: the producer is not connected`);
    const byTopic = new Map<string, Message[]>();
    for (const r of records) {
      let list = byTopic.get(r.topic);
      if (!list) byTopic.set(r.topic, (list = []));
      const m: Message = { key: r.key, value: r.value };
      if (r.partition !== undefined) m.partition = r.partition;
      if (r.timestamp !== undefined) m.timestamp = String(r.timestamp);
      if (r.headers) m.headers = r.headers;
      list.push(m);
    }
    const topicMessages: TopicMessages[] = [];
    for (const [topic, messages] of byTopic) topicMessages.push({ topic, messages });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new AgentError(
              'FLUME_ERR_KAFKA_SEND',
              `${this.label}: no acknowledgement from ${this.brokers} within delivery.timeout.ms ${this.s.deliveryTimeoutMs} ms`,
            ),
          ),
        this.s.deliveryTimeoutMs,
      );
    });
    const sent = producer.sendBatch({
      topicMessages,
      acks: this.s.acks,
      timeout: this.s.requestTimeoutMs,
      compression: COMPRESSION[this.s.compression],
    });
    sent.catch(() => undefined); // a send that loses the race must not become an unhandled rejection
    try {
      await Promise.race([sent, deadline]);
    } catch (err) {
      throw toAgentError(
        err,
        'FLUME_ERR_KAFKA_SEND',
        `${this.label}: Kafka at ${this.brokers} did not take the records`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async partitions(topic: string): Promise<number[]> {
    const admin = await this.connectAdmin();
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      return (topics[0]?.partitions ?? []).map((p) => p.partitionId).sort((a, b) => a - b);
    } catch (err) {
      throw toAgentError(err, 'FLUME_ERR_KAFKA_SEND', `${this.label}: cannot read the partitions of topic ${topic}`);
    }
  }

  private connectAdmin(): Promise<Admin> {
    if (this.admin) return Promise.resolve(this.admin);
    if (!this.kafka) return Promise.reject(new AgentError('FLUME_ERR_KAFKA_SEND', `${this.label}: not connected`));
    const admin = this.kafka.admin({
      retry: {
        retries: this.s.retries,
        initialRetryTime: this.s.retryBackoffMs,
        maxRetryTime: this.s.retryBackoffMaxMs,
      },
    });
    this.adminReady ??= admin.connect().then(
      () => (this.admin = admin),
      (err: unknown) => {
        this.adminReady = undefined;
        throw toAgentError(err, 'FLUME_ERR_KAFKA_CONNECT', `${this.label}: cannot connect to Kafka at ${this.brokers}`);
      },
    );
    return this.adminReady;
  }

  async disconnect(): Promise<void> {
    const p = this.producer;
    const a = this.admin;
    this.producer = undefined;
    this.admin = undefined;
    this.adminReady = undefined;
    await Promise.all([p?.disconnect().catch(() => undefined), a?.disconnect().catch(() => undefined)]);
  }
}
