/**
 * kafka channel (Flume KafkaChannel): a channel whose events live in a Kafka topic; every agent configured with the
 * same topic and consumer group shares one queue. The behaviour is in channel.ts; this is the option table.
 * Differences from Flume: transactionCapacity bounds one transaction (Flume's Kafka channel has none); the
 * consumer joins its group at the first take, not at start, so a channel with no sink takes no partitions.
 */
import { defineChannel, opt, type Problem, type Resolved } from '../../contract/index.js';
import type { ConsumerSettings, ProducerSettings } from '../config/properties.js';
import { KafkajsConsumer } from '../kafkajs/consumer.js';
import { KafkajsProducer } from '../kafkajs/producer.js';
import {
  bootstrapOption,
  consumerFrom,
  consumerPropertiesOption,
  partitionOptions,
  producerFrom,
  producerPropertiesOption,
} from '../options.js';
import { topicProblem } from '../records.js';
import { KafkaChannel } from './channel.js';

const options = {
  ...bootstrapOption,
  'kafka.topic': opt.string({ default: 'flume-channel', nonEmpty: true, doc: 'Topic holding the events.' }),
  topic: opt.renamed({ to: 'kafka.topic', doc: 'Flume 1.6 spelling of kafka.topic.' }),
  ...producerPropertiesOption,
  ...consumerPropertiesOption,
  groupId: opt.renamed({ to: 'kafka.consumer.group.id', doc: 'Flume 1.6 spelling of kafka.consumer.group.id.' }),
  parseAsFlumeEvent: opt.bool({
    default: true,
    doc:
      'Records are Avro-binary AvroFlumeEvents (headers and body), as this channel writes them; false: the whole ' +
      'value is the body, for topics written by other producers (the channel then writes bodies only).',
  }),
  'kafka.pollTimeout': opt.duration({
    default: 500,
    unit: 'ms',
    min: 1,
    doc: 'Longest a take waits for the first record.',
  }),
  pollTimeout: opt.renamed({ to: 'kafka.pollTimeout', doc: "The Flume User Guide's spelling of kafka.pollTimeout." }),
  ...partitionOptions,
  transactionCapacity: opt.int({
    default: 10000,
    min: 1,
    doc:
      'Most events in one put or take transaction (flume-ts; Flume has no bound here). Also sizes the local ' +
      'buffer of fetched records (twice this, at least 1000).',
  }),
  readSmallestOffset: opt.ignored({
    doc: 'Flume 1.6 setting; set kafka.consumer.auto.offset.reset (earliest is the default, as in Flume).',
  }),
  migrateZookeeperOffsets: opt.ignored({
    doc: 'Flume 1.7-1.9 migrated offsets kept in ZooKeeper by Kafka 0.8 consumers; flume-ts reads Kafka offsets only.',
  }),
  zookeeperConnect: opt.ignored({ doc: 'Flume 1.6 consumer setting; set kafka.bootstrap.servers instead.' }),
};

type Options = Resolved<typeof options>;

/** Flume's Kafka channel: group flume, earliest offsets when the group has none (the code's default), acks all. */
const CONSUMER_DEFAULTS: Partial<ConsumerSettings> = { groupId: 'flume', fromBeginning: true };
const PRODUCER_DEFAULTS: Partial<ProducerSettings> = { acks: -1 };

function problems(o: Options): Problem[] {
  const out = [...producerFrom(o, PRODUCER_DEFAULTS).problems, ...consumerFrom(o, CONSUMER_DEFAULTS).problems];
  const why = topicProblem(o['kafka.topic']);
  if (why) out.push({ key: 'kafka.topic', message: why });
  return out;
}

export default defineChannel({
  type: 'kafka',
  classNames: ['org.apache.flume.channel.kafka.KafkaChannel'],
  summary: 'Events live in a Kafka topic shared by every agent of the consumer group; capacity is Kafka\u2019s.',
  options,
  transactionCapacity: (o) => o.transactionCapacity,
  check: (o) => problems(o),
  create: (o, ctx) => {
    const producer = producerFrom(o, PRODUCER_DEFAULTS).settings;
    const consumer = consumerFrom(o, CONSUMER_DEFAULTS).settings;
    const flume = o.parseAsFlumeEvent;
    return new KafkaChannel(
      {
        topic: o['kafka.topic'],
        transactionCapacity: o.transactionCapacity,
        pollTimeoutMs: o['kafka.pollTimeout'],
        maxBuffered: Math.max(2 * o.transactionCapacity, 1000),
        joinTimeoutMs: 60_000,
        out: {
          useFlumeEventFormat: flume,
          partitionIdHeader: o.partitionIdHeader,
          defaultPartitionId: o.defaultPartitionId,
          headerMap: {},
        },
        in: { useFlumeEventFormat: flume, headerMap: {}, recordHeaders: false },
      },
      ctx,
      () => new KafkajsProducer(producer, ctx.logger, `kafka channel ${ctx.name}`),
      () => new KafkajsConsumer(consumer, { topics: [o['kafka.topic']] }, ctx.logger, `kafka channel ${ctx.name}`),
    );
  },
});
