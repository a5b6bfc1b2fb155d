/**
 * Option-table fragments the kafka sink, source and channel share: the same key means the same thing on all three,
 * and one check turns kafka.bootstrap.servers + kafka.producer.* / kafka.consumer.* into client settings (or the
 * problems found in them).
 */
import { opt, type Problem } from '../contract/index.js';
import {
  consumerSettings,
  parseBrokers,
  producerSettings,
  type ConsumerSettings,
  type ProducerSettings,
} from './config/properties.js';

export const bootstrapOption = {
  'kafka.bootstrap.servers': opt.string({
    required: true,
    nonEmpty: true,
    doc: 'Kafka brokers to start from, host:port separated by commas (e.g. kafka1:9092,kafka2:9092).',
  }),
  brokerList: opt.renamed({ to: 'kafka.bootstrap.servers', doc: 'Flume 1.6 spelling of kafka.bootstrap.servers.' }),
};

export const producerPropertiesOption = {
  'kafka.producer': opt.map({
    keyText: 'kafka.producer.<property>',
    doc:
      'Kafka producer properties (Java client names): acks, compression.type (none, gzip, snappy, lz4, zstd), ' +
      'max.request.size, request.timeout.ms, delivery.timeout.ms, retries, enable.idempotence, client.id, ' +
      'security.protocol, sasl.mechanism, sasl.jaas.config, ssl.truststore.location, ssl.keystore.location, ... ' +
      'See docs/kafka.md for the full mapping; an unknown property is a warning that names it.',
  }),
};

export const consumerPropertiesOption = {
  'kafka.consumer': opt.map({
    keyText: 'kafka.consumer.<property>',
    doc:
      'Kafka consumer properties (Java client names): group.id, auto.offset.reset, session.timeout.ms, ' +
      'heartbeat.interval.ms, fetch.max.wait.ms, max.partition.fetch.bytes, isolation.level, client.id, ' +
      'security.protocol, sasl.*, ssl.* ... See docs/kafka.md for the full mapping; an unknown property is a ' +
      'warning that names it.',
  }),
};

export const partitionOptions = {
  defaultPartitionId: opt.int({
    min: 0,
    doc: 'Send every event to this partition (unless partitionIdHeader names another); unset: by key hash.',
  }),
  partitionIdHeader: opt.string({
    nonEmpty: true,
    doc: 'Header whose value is the partition to send the event to (overrides defaultPartitionId).',
  }),
};

/** The producer side of resolved options: settings and the problems of kafka.producer.*. */
export function producerFrom(
  o: { 'kafka.bootstrap.servers': string; 'kafka.producer': Record<string, string> },
  defaults: Partial<ProducerSettings> = {},
): { settings: ProducerSettings; problems: Problem[] } {
  const b = parseBrokers(o['kafka.bootstrap.servers']);
  const p = producerSettings(b.brokers, o['kafka.producer'], defaults);
  return { settings: p.settings, problems: [...b.problems, ...p.problems] };
}

/** The consumer side of resolved options: settings and the problems of kafka.consumer.*. */
export function consumerFrom(
  o: { 'kafka.bootstrap.servers': string; 'kafka.consumer': Record<string, string> },
  defaults: Partial<ConsumerSettings> = {},
): { settings: ConsumerSettings; problems: Problem[] } {
  const b = parseBrokers(o['kafka.bootstrap.servers']);
  const c = consumerSettings(b.brokers, o['kafka.consumer'], defaults);
  return { settings: c.settings, problems: [...b.problems, ...c.problems] };
}
