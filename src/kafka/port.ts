/**
 * The narrow port between flume-ts and a Kafka client library: what the kafka sink, source and channel need, and
 * nothing of the library's own types. kafkajs implements it (kafkajs/); another client (@platformatic/kafka,
 * a librdkafka binding) can replace it by implementing these two interfaces.
 *
 * Producer: `send` resolves once every record is acknowledged as configured (acks), or rejects with a KafkaError.
 * Consumer: push with flow control. The port joins the group, hands each fetched batch of one partition to the
 * handler and waits on the handler's promise before fetching that partition again, keeping its group membership
 * alive meanwhile (heartbeats). After every (re)assignment the port resumes from the group's committed offsets, so
 * whatever was handed over before and not committed will come again: `assigned` tells the handler to forget it.
 */

/** A record to produce. */
export interface OutRecord {
  topic: string;
  /** Fixed partition; undefined = the client's partitioner (by key hash when a key is set). */
  partition?: number;
  key: Buffer | null;
  value: Buffer;
  /** Record timestamp (epoch ms); undefined = now. */
  timestamp?: number;
  headers?: Record<string, Buffer>;
}

/** A consumed record. */
export interface InRecord {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  /** Record timestamp (epoch ms). */
  timestamp: number;
  /** Record headers; a header sent several times keeps its last value. */
  headers: Record<string, Buffer>;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

/** The next offset to consume (the committed position) of one partition. */
export interface PartitionOffset extends TopicPartition {
  offset: number;
}

export interface ProducerPort {
  /** Connects to the cluster; rejects with a KafkaError (FLUME_ERR_KAFKA_CONNECT) when it cannot. */
  connect(): Promise<void>;
  /** Sends the records (one request per broker); resolves when all are acknowledged. */
  send(records: readonly OutRecord[]): Promise<void>;
  /** The partitions of a topic (metadata; the topic is created when the cluster auto-creates topics). */
  partitions(topic: string): Promise<number[]>;
  disconnect(): Promise<void>;
}

export interface ConsumerHandler {
  /**
   * One fetched batch of one partition, in offset order, from assignment `generation`. The port does not fetch
   * that partition again until the promise settles; it keeps the membership alive while waiting. `highWatermark`
   * (when the client knows it) is the offset after the last record the broker had for that partition.
   */
  records(batch: InRecord[], generation: number, highWatermark?: number): Promise<void>;
  /**
   * A new assignment (the first, or after a rebalance or a restart of the consumer): everything handed over under
   * older generations and not committed will be fetched again from the committed offsets.
   */
  assigned(generation: number, partitions: readonly TopicPartition[]): void;
  /** The consumer failed; the port restarts it when the failure is retriable (a new `assigned` follows). */
  failed(err: Error, restarting: boolean): void;
}

export interface ConsumerPort {
  /**
   * Connects, subscribes and joins the group, then delivers to the handler. Resolves after the first assignment,
   * rejects with a KafkaError when it cannot connect or join within `timeoutMs`.
   */
  start(handler: ConsumerHandler, timeoutMs: number): Promise<void>;
  /** Commits the offsets (the next offset to consume) for the current assignment; rejects with a KafkaError. */
  commit(offsets: readonly PartitionOffset[]): Promise<void>;
  /** Leaves the group and disconnects. */
  stop(): Promise<void>;
}
