/**
 * The kafka source against a real Kafka-protocol broker (librdkafka's mock cluster), fed by independent clients:
 * kcat (librdkafka, every compression codec, keys) and python3-kafka (record headers). One mock cluster for the file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SourceContext } from '../../src/contract/index.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { ChannelFullError } from '../../src/core/errors.js';
import { systemClock } from '../../src/core/clock.js';
import { sourceCounters, sinkCounters } from '../../src/telemetry/counters.js';
import { countEmits } from '../../src/runtime/channel-processor.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import kafkaSourceDef, { type KafkaSource } from '../../src/sources/kafka.js';
import type { KafkaIntake } from '../../src/kafka/intake.js';
import kafkaSinkDef from '../../src/sinks/kafka/index.js';
import { optionsFor } from '../helpers/agent.js';
import { tmpDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import {
  KafkaMock,
  kcatProduce,
  kcatUnavailable,
  mockUnavailable,
  python,
  pythonKafkaUnavailable,
} from '../helpers/kafka-mock.js';

const skip = mockUnavailable ?? kcatUnavailable ?? pythonKafkaUnavailable;
let mock: KafkaMock;
let n = 0;
const topic = () => `source-t${++n}`;
/** Consumer settings that keep group joins short on the mock (it delays a join by session.timeout.ms - 1 s). */
const quick = {
  'kafka.consumer.group.id': 'source-tests',
  'kafka.consumer.session.timeout.ms': '3000',
  'kafka.consumer.heartbeat.interval.ms': '300',
  'kafka.consumer.auto.offset.reset': 'earliest',
  batchDurationMillis: '50',
  backoffSleepIncrement: '10',
  maxBackoffSleep: '50',
};

function harness(opts: { refuse?: number } = {}) {
  const accepted: FlumeEvent[] = [];
  let refuse = opts.refuse ?? 0;
  const counters = sourceCounters('r1');
  const ctx: SourceContext = {
    name: 'r1',
    logger: silentLogger(),
    clock: systemClock,
    counters,
    maxBatchSize: 1000,
    emit: countEmits(async (batch) => {
      if (refuse > 0) {
        refuse--;
        throw new ChannelFullError('test: full');
      }
      accepted.push(...batch);
    }, counters),
  };
  return { ctx, accepted, counters };
}

function source(props: Record<string, string>, ctx: SourceContext): KafkaSource {
  const o = optionsFor(kafkaSourceDef, { 'kafka.bootstrap.servers': mock.bootstrap, ...quick, ...props });
  return kafkaSourceDef.create(o, ctx) as KafkaSource;
}

describe('kafka source against the mock broker', { skip }, () => {
  before(async () => {
    mock = await KafkaMock.start();
  });
  after(async () => {
    await mock?.stop();
  });

  test('events carry the value as body and the timestamp, topic, partition, offset and key headers', async () => {
    const t = topic();
    await mock.createTopic(t, 2);
    kcatProduce(mock.bootstrap, t, ['k1\tv1', 'k2\tv2', 'k1\tv3'], 'none', true);
    const h = harness();
    const src = source({ 'kafka.topics': t, topicHeader: 'kt' }, h.ctx);
    await src.start();
    try {
      await waitFor(() => h.accepted.length >= 3, 15_000, '3 events');
    } finally {
      await src.close();
    }
    const byBody = new Map(h.accepted.map((e) => [e.body.toString(), e.headers]));
    assert.deepEqual([...byBody.keys()].sort(), ['v1', 'v2', 'v3']);
    const v1 = byBody.get('v1')!;
    const v3 = byBody.get('v3')!;
    assert.equal(v1.key, 'k1');
    assert.equal(v1.kt, t);
    assert.equal(v1.topic, undefined, 'topicHeader renames the header');
    assert.equal(v1.partition, v3.partition, 'same key, same partition');
    assert.ok(Number(v3.offset) > Number(v1.offset), 'offsets in order');
    assert.ok(Math.abs(Number(v1.timestamp) - Date.now()) < 60_000, 'record timestamp');
    assert.equal(h.counters.get('EventAcceptedCount'), 3);
  });

  test('header.<flume> = <kafka> copies record headers written by python3-kafka', async () => {
    const t = topic();
    python(`
from kafka import KafkaProducer
p = KafkaProducer(bootstrap_servers="${mock.bootstrap}", api_version=(2, 0, 0))
p.send("${t}", value=b"with-headers", headers=[("trace-id", b"abc123"), ("other", b"x")])
p.flush()
`);
    const h = harness();
    const src = source({ 'kafka.topics': t, 'header.trace': 'trace-id' }, h.ctx);
    await src.start();
    try {
      await waitFor(() => h.accepted.length >= 1, 15_000, 'the event');
    } finally {
      await src.close();
    }
    assert.equal(h.accepted[0]!.headers.trace, 'abc123');
    assert.equal(h.accepted[0]!.headers.other, undefined);
  });

  test('records compressed by kcat (librdkafka) with gzip, snappy, lz4 and zstd are read', async () => {
    const codecs = ['gzip', 'snappy', 'lz4', 'zstd'];
    const topics = codecs.map(() => topic());
    const want: string[] = [];
    codecs.forEach((codec, i) => {
      const lines = Array.from({ length: 300 }, (_, j) => `${codec}-line-${j} `.repeat(4));
      kcatProduce(mock.bootstrap, topics[i]!, lines, codec);
      want.push(...lines);
    });
    const h = harness();
    const src = source({ 'kafka.topics': topics.join(','), batchSize: '100' }, h.ctx);
    await src.start();
    try {
      await waitFor(() => h.accepted.length >= want.length, 15_000, `${want.length} events`);
    } finally {
      await src.close();
    }
    assert.deepEqual(h.accepted.map((e) => e.body.toString()).sort(), want.sort());
  });

  test('useFlumeEventFormat restores what a kafka sink wrote; a foreign value is delivered as the body and counted', async () => {
    const t = topic();
    await mock.createTopic(t, 1);
    const sink = kafkaSinkDef.create(
      optionsFor(kafkaSinkDef, {
        'kafka.bootstrap.servers': mock.bootstrap,
        'kafka.topic': t,
        useFlumeEventFormat: 'true',
      }),
      { name: 'k1', logger: silentLogger(), clock: systemClock, counters: sinkCounters('k1'), agentDir: tmpDir() },
    );
    await sink.start();
    await sink.deliver([makeEvent('avro-body', { h1: 'v1', key: 'kk' })], new AbortController().signal);
    await sink.close();
    kcatProduce(mock.bootstrap, t, ['\u0001\u0002not avro']);
    const h = harness();
    const src = source({ 'kafka.topics': t, useFlumeEventFormat: 'true' }, h.ctx);
    await src.start();
    try {
      await waitFor(() => h.accepted.length >= 2, 15_000, '2 events');
    } finally {
      await src.close();
    }
    const [a, b] = h.accepted;
    assert.equal(a!.body.toString(), 'avro-body');
    assert.equal(a!.headers.h1, 'v1');
    assert.equal(a!.headers.key, 'kk');
    assert.equal(a!.headers.topic, t);
    assert.equal(b!.body.toString(), '\u0001\u0002not avro');
    assert.equal(h.counters.get('EventReadFail'), 1);
  });

  test('a restart resumes from the committed offsets: nothing lost, duplicates within one batch', async () => {
    const t = topic();
    await mock.createTopic(t, 2);
    const first = Array.from({ length: 200 }, (_, i) => `a${i}`);
    kcatProduce(mock.bootstrap, t, first);
    const props = { 'kafka.topics': t, batchSize: '10' };
    const h1 = harness({ refuse: 2 });
    const s1 = source(props, h1.ctx);
    await s1.start();
    await waitFor(() => h1.accepted.length >= 50, 15_000, 'some events');
    await s1.close();
    const second = Array.from({ length: 100 }, (_, i) => `b${i}`);
    kcatProduce(mock.bootstrap, t, second);
    const h2 = harness();
    const s2 = source(props, h2.ctx);
    await s2.start();
    const all = new Set([...first, ...second]);
    const seen = () => new Set([...h1.accepted, ...h2.accepted].map((e) => e.body.toString()));
    try {
      await waitFor(() => seen().size >= all.size, 20_000, 'every event');
    } finally {
      await s2.close();
    }
    assert.deepEqual([...seen()].sort(), [...all].sort(), 'nothing lost');
    const total = h1.accepted.length + h2.accepted.length;
    assert.ok(total - all.size <= 10, `duplicates within one batch (${total - all.size})`);
  });

  test('while an offset commit is slow, at most a batchSize of delivered events waits for it (bounded memory)', async () => {
    const t = topic();
    await mock.createTopic(t, 2);
    const all = Array.from({ length: 300 }, (_, i) => `c${i}`);
    kcatProduce(mock.bootstrap, t, all);
    const h = harness();
    const src = source({ 'kafka.topics': t, batchSize: '10' }, h.ctx);
    const intake = (src as unknown as { intake: KafkaIntake }).intake;
    const commit = intake.commit.bind(intake);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const requests: number[] = [];
    intake.commit = async (leases) => {
      requests.push(leases.reduce((n, l) => n + l.records.length, 0));
      await gate;
      return commit(leases);
    };
    await src.start();
    try {
      await waitFor(() => h.accepted.length >= 20, 15_000, 'two batches');
      // an absence: give the source time it would use to run ahead of the stuck commit
      await new Promise((r) => setTimeout(r, 300));
      // the first batch is in the stuck request; a batchSize more waits for the next one; then the source waits
      assert.ok(h.accepted.length <= 30, `${h.accepted.length} events delivered past a stuck commit`);
      assert.equal(requests.length, 1);
      release();
      await waitFor(() => h.accepted.length >= all.length, 15_000, 'every event');
    } finally {
      release();
      await src.close();
    }
    assert.deepEqual(h.accepted.map((e) => e.body.toString()).sort(), [...all].sort());
  });
});
