/**
 * kafka sink (Flume KafkaSink): publishes events to Kafka topics; the take commits only after every record of the
 * batch is acknowledged (acks = all by default). Keys, partitions, timestamps and headers as Flume maps them
 * (src/kafka/records.ts); delivery and the bad-event policy in sink.ts; the client behind src/kafka's port.
 * Differences from Flume, on purpose: acks defaults to all (Flume: 1, which loses acknowledged events when a
 * leader dies before replicating); an event that can never be sent does not block the sink (badEventPolicy).
 */
import path from 'node:path';
import { defineSink, opt, type Problem, type Resolved } from '../../contract/index.js';
import { KafkajsProducer } from '../../kafka/kafkajs/producer.js';
import { bootstrapOption, partitionOptions, producerFrom, producerPropertiesOption } from '../../kafka/options.js';
import { compileTopic, type TopicTemplate } from '../../kafka/topic.js';
import { topicProblem } from '../../kafka/records.js';
import { KafkaSink } from './sink.js';

const options = {
  ...bootstrapOption,
  'kafka.topic': opt.string({
    default: 'default-flume-topic',
    nonEmpty: true,
    doc:
      'Topic to publish to. `%{header}` escapes take the value of an event header ("" when absent); they and the ' +
      'topic header apply only when allowTopicOverride is true, as in Flume.',
  }),
  topic: opt.renamed({ to: 'kafka.topic', doc: 'Flume 1.6 spelling of kafka.topic.' }),
  flumeBatchSize: opt.int({ default: 100, min: 1, doc: 'Events per take transaction (and per send).' }),
  batchSize: opt.renamed({ to: 'flumeBatchSize', doc: 'Flume 1.6 spelling of flumeBatchSize.' }),
  'kafka.flumeBatchSize': opt.renamed({ to: 'flumeBatchSize', doc: "The Flume User Guide's spelling." }),
  ...producerPropertiesOption,
  requiredAcks: opt.renamed({ to: 'kafka.producer.acks', doc: 'Flume 1.6 spelling of kafka.producer.acks.' }),
  useFlumeEventFormat: opt.bool({
    default: false,
    doc: 'Send each event as an Avro-binary AvroFlumeEvent (headers and body; read by a kafka source or channel).',
  }),
  ...partitionOptions,
  allowTopicOverride: opt.bool({
    default: true,
    doc: 'An event whose topicHeader header is set goes to that topic instead of kafka.topic.',
  }),
  topicHeader: opt.string({ default: 'topic', nonEmpty: true, doc: 'Header naming the topic of an event.' }),
  timestampHeader: opt.string({
    nonEmpty: true,
    doc: 'Header whose value (epoch milliseconds) becomes the record timestamp; unset: the send time.',
  }),
  header: opt.map({
    keyText: 'header.<flumeHeader>',
    doc: 'header.<flumeHeader> = <kafkaHeader>: copy that event header into a Kafka record header of that name.',
  }),
  badEventPolicy: opt.enum({
    values: ['drop', 'block'] as const,
    default: 'drop',
    doc:
      'An event that can never be sent (bad partition header, topic name Kafka refuses, record too large): ' +
      '`drop` logs and counts it (EventRejectedCount), writes it to deadLetterFile if set, and delivers the rest; ' +
      "`block` fails the whole batch until the event is removed (Flume's behaviour).",
  }),
  deadLetterFile: opt.string({
    nonEmpty: true,
    doc: 'File (relative to the agent directory) where dropped events are appended as JSON lines with the reason.',
  }),
};

type Options = Resolved<typeof options>;

function problems(o: Options): Problem[] {
  const out = producerFrom(o).problems;
  const t = compileTopic(o['kafka.topic']);
  if (typeof t === 'string') out.push({ key: 'kafka.topic', message: `kafka.topic: ${t}` });
  else if (t.dynamic && !o.allowTopicOverride) {
    out.push({
      key: 'kafka.topic',
      message: 'kafka.topic has %{header} escapes, which Flume applies only when allowTopicOverride = true',
      hint: 'set allowTopicOverride = true, or write a fixed topic name',
    });
  } else if (!t.dynamic) {
    const why = topicProblem(o['kafka.topic']);
    if (why) out.push({ key: 'kafka.topic', message: why });
  }
  return out;
}

export default defineSink({
  type: 'kafka',
  classNames: ['org.apache.flume.sink.kafka.KafkaSink'],
  summary: 'Publishes events to Kafka; the take commits only after every record is acknowledged.',
  options,
  batchSize: (o) => o.flumeBatchSize,
  batchSizeKey: 'flumeBatchSize',
  check: (o) => problems(o),
  create: (o, ctx) => {
    const { settings } = producerFrom(o);
    const topic = compileTopic(o['kafka.topic']) as TopicTemplate;
    const dl = o.deadLetterFile;
    return new KafkaSink(
      {
        batchSize: o.flumeBatchSize,
        topic,
        allowTopicOverride: o.allowTopicOverride,
        topicHeader: o.topicHeader,
        mapping: {
          useFlumeEventFormat: o.useFlumeEventFormat,
          partitionIdHeader: o.partitionIdHeader,
          defaultPartitionId: o.defaultPartitionId,
          timestampHeader: o.timestampHeader,
          headerMap: o.header,
        },
        policy: o.badEventPolicy as 'drop' | 'block',
        deadLetterFile: dl === undefined ? undefined : path.resolve(ctx.agentDir, dl),
        producer: settings,
      },
      ctx,
      () => new KafkajsProducer(settings, ctx.logger, `kafka sink ${ctx.name}`),
    );
  },
});
