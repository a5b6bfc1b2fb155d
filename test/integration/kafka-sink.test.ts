/**
 * The kafka sink against a real Kafka-protocol broker (librdkafka's mock cluster), read back by independent clients:
 * kcat (librdkafka) for records, keys, headers and partitions; python3-avro for useFlumeEventFormat. One mock cluster
 * for the file. Broker outages use the mock's own down/up (the broker keeps its data and its address).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { AgentError } from '../../src/core/errors.js';
import { sinkCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { componentOptions } from '../../src/config/validate/index.js';
import kafkaSinkDef from '../../src/sinks/kafka/index.js';
import type { KafkaSink } from '../../src/sinks/kafka/sink.js';
import { optionsFor } from '../helpers/agent.js';
import { tmpDir } from '../helpers/cli.js';
import {
  KafkaApi,
  KafkaErr,
  KafkaMock,
  kcatRead,
  kcatUnavailable,
  mockUnavailable,
  python,
} from '../helpers/kafka-mock.js';

const skip = mockUnavailable ?? kcatUnavailable;
let mock: KafkaMock;
let n = 0;
const NEVER = new AbortController().signal;

function sink(props: Record<string, string>, dir = tmpDir('kafka-sink-')): KafkaSink {
  const o = optionsFor(kafkaSinkDef, { 'kafka.bootstrap.servers': mock.bootstrap, ...props });
  return kafkaSinkDef.create(o, {
    name: 'k1',
    logger: silentLogger(),
    clock: systemClock,
    counters: sinkCounters('k1'),
    agentDir: dir,
  }) as KafkaSink;
}
const topic = () => `sink-t${++n}`;
const ev = (body: string, headers?: Record<string, string>): FlumeEvent => makeEvent(body, headers);

describe('kafka sink against the mock broker', { skip }, () => {
  before(async () => {
    mock = await KafkaMock.start();
  });
  after(async () => {
    await mock?.stop();
  });

  test('records carry the body, the key header as key, mapped headers; one partition per key', async () => {
    const t = topic();
    const k = sink({ 'kafka.topic': t, 'header.app': 'x-app', 'header.missing': 'nope' });
    await k.start();
    const batch: FlumeEvent[] = [];
    for (let i = 0; i < 40; i++) batch.push(ev(`e${i}`, { key: `k${i % 5}`, app: 'web' }));
    batch.push(ev('no-key'));
    await k.deliver(batch, NEVER);
    await k.close();
    const got = kcatRead(mock.bootstrap, t);
    assert.equal(got.length, 41);
    assert.deepEqual(got.map((r) => r.payload).sort(), batch.map((e) => e.body.toString()).sort());
    const partitionOfKey = new Map<string, Set<number>>();
    for (const r of got) {
      if (r.key === null) continue;
      if (!partitionOfKey.has(r.key)) partitionOfKey.set(r.key, new Set());
      partitionOfKey.get(r.key)!.add(r.partition);
      assert.deepEqual(r.headers, ['x-app', 'web']);
    }
    assert.equal(partitionOfKey.size, 5);
    for (const [key, parts] of partitionOfKey) assert.equal(parts.size, 1, `key ${key} in one partition`);
    assert.equal(got.find((r) => r.payload === 'no-key')!.key, null);
  });
});

describe('kafka sink: formats, partitions, topics', { skip }, () => {
  before(async () => {
    mock = await KafkaMock.start();
  });
  after(async () => {
    await mock?.stop();
  });

  test('useFlumeEventFormat writes AvroFlumeEvent datums that Apache Avro (python3-avro) decodes', async () => {
    const t = topic();
    const k = sink({ 'kafka.topic': t, useFlumeEventFormat: 'true' });
    await k.start();
    const events = [
      ev('plain', { a: '1', ключ: 'значение' }),
      makeEvent(Buffer.from([0, 0xff, 0x0a, 0xc3]), { '': 'empty key' }),
      ev(''),
    ];
    await k.deliver(events, NEVER);
    await k.close();
    const out = python(`
import io, json, sys, avro.io, avro.schema
from kafka import KafkaConsumer, TopicPartition
schema = avro.schema.parse(json.dumps({"type": "record", "name": "AvroFlumeEvent", "namespace": "org.apache.flume.source.avro",
  "fields": [{"name": "headers", "type": {"type": "map", "values": "string"}}, {"name": "body", "type": "bytes"}]}))
c = KafkaConsumer(bootstrap_servers="${mock.bootstrap}", auto_offset_reset="earliest", consumer_timeout_ms=5000,
                  api_version=(2, 0, 0))
parts = [TopicPartition("${t}", p) for p in c.partitions_for_topic("${t}")]
c.assign(parts)
c.seek_to_beginning()
out = []
for m in c:
    d = avro.io.DatumReader(schema).read(avro.io.BinaryDecoder(io.BytesIO(m.value)))
    out.append({"headers": d["headers"], "body": d["body"].hex()})
    if len(out) == 3: break
print(json.dumps(out))
`);
    const got = JSON.parse(out) as { headers: Record<string, string>; body: string }[];
    const want = events.map((e) => ({ headers: { ...e.headers }, body: e.body.toString('hex') }));
    const key = (x: { body: string }) => x.body;
    assert.deepEqual(
      got.sort((a, b) => key(a).localeCompare(key(b))),
      want.sort((a, b) => key(a).localeCompare(key(b))),
    );
  });

  test('defaultPartitionId, partitionIdHeader, timestampHeader, topic header and %{header} escapes', async () => {
    const t = topic();
    await mock.createTopic(`${t}-esc-web`, 2);
    const k = sink({
      'kafka.topic': `${t}-esc-%{app}`,
      defaultPartitionId: '1',
      partitionIdHeader: 'p',
      timestampHeader: 'ts',
    });
    await k.start();
    await k.deliver(
      [
        ev('default', { app: 'web' }),
        ev('header', { app: 'web', p: '0', ts: '1700000000123' }),
        ev('override', { topic: `${t}-other`, p: '2' }),
      ],
      NEVER,
    );
    await k.close();
    const web = kcatRead(mock.bootstrap, `${t}-esc-web`);
    assert.deepEqual(
      web.map((r) => [r.payload, r.partition]).sort(),
      [
        ['default', 1],
        ['header', 0],
      ].sort(),
    );
    assert.equal(web.find((r) => r.payload === 'header')!.ts, 1700000000123);
    const other = kcatRead(mock.bootstrap, `${t}-other`);
    assert.deepEqual(
      other.map((r) => [r.payload, r.partition]),
      [['override', 2]],
    );
  });

  test('allowTopicOverride = false ignores the topic header', async () => {
    const t = topic();
    const k = sink({ 'kafka.topic': t, allowTopicOverride: 'false' });
    await k.start();
    await k.deliver([ev('x', { topic: `${t}-not-this` })], NEVER);
    await k.close();
    assert.deepEqual(
      kcatRead(mock.bootstrap, t).map((r) => r.payload),
      ['x'],
    );
  });
});

describe('kafka sink: events it can never send, outages, codecs', { skip }, () => {
  before(async () => {
    mock = await KafkaMock.start();
  });
  after(async () => {
    await mock?.stop();
  });

  test('badEventPolicy = drop: bad partition headers, illegal topics and oversize records are dead-lettered, the rest is sent', async () => {
    const t = topic();
    await mock.createTopic(t, 2);
    const dir = tmpDir('kafka-dl-');
    const k = sink(
      {
        'kafka.topic': t,
        partitionIdHeader: 'p',
        'kafka.producer.max.request.size': '2000',
        deadLetterFile: 'dl/k1.jsonl',
      },
      dir,
    );
    await k.start();
    await k.deliver(
      [
        ev('ok1'),
        ev('nan', { p: 'first' }),
        ev('out-of-range', { p: '7' }),
        ev('bad-topic', { topic: 'no spaces allowed' }),
        ev('x'.repeat(5000)),
        ev('ok2', { p: '1' }),
      ],
      NEVER,
    );
    const c = (k as unknown as { ctx: { counters: ReturnType<typeof sinkCounters> } }).ctx.counters;
    assert.equal(c.get('EventRejectedCount'), 4);
    await k.close();
    assert.deepEqual(
      kcatRead(mock.bootstrap, t)
        .map((r) => r.payload)
        .sort(),
      ['ok1', 'ok2'],
    );
    const lines = fs
      .readFileSync(path.join(dir, 'dl', 'k1.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      lines.map((l: { body: string }) => l.body.slice(0, 12)),
      ['nan', 'out-of-range', 'bad-topic', 'xxxxxxxxxxxx'],
    );
    assert.match(lines[0].reason, /not a partition number/);
    assert.match(lines[1].reason, /no partition 7/);
    assert.match(lines[2].reason, /Kafka allows only/);
    assert.match(lines[3].reason, /max\.request\.size/);
  });

  test('a batch the broker refuses as too large is resent record by record; only the refused record is dropped', async () => {
    const t = topic();
    await mock.createTopic(t, 1);
    const k = sink({ 'kafka.topic': t });
    await k.start();
    await k.deliver([ev('warm-up')], NEVER);
    // the batch request fails, then the first single-record resend fails too: that record is the culprit
    await mock.injectErrors(KafkaApi.Produce, KafkaErr.MESSAGE_TOO_LARGE, 2);
    await k.deliver([ev('a'), ev('b'), ev('c')], NEVER);
    await k.close();
    assert.deepEqual(
      kcatRead(mock.bootstrap, t).map((r) => r.payload),
      ['warm-up', 'b', 'c'],
    );
  });

  test('badEventPolicy = block fails the batch (permanent) and sends nothing of it', async () => {
    const t = topic();
    const k = sink({ 'kafka.topic': t, partitionIdHeader: 'p', badEventPolicy: 'block' });
    await k.start();
    await assert.rejects(k.deliver([ev('good'), ev('bad', { p: 'x' })], NEVER), (e: unknown) => {
      assert.ok(e instanceof AgentError);
      assert.equal(e.code, 'FLUME_ERR_SINK_PERMANENT');
      assert.match(e.message, /not a partition number/);
      return true;
    });
    await k.deliver([ev('after')], NEVER);
    await k.close();
    assert.deepEqual(
      kcatRead(mock.bootstrap, t).map((r) => r.payload),
      ['after'],
    );
  });

  test('a broker outage fails the batch as retriable; once the broker is back the same batch goes through', async () => {
    const t = topic();
    await mock.createTopic(t, 1);
    const k = sink({
      'kafka.topic': t,
      'kafka.producer.retries': '1',
      'kafka.producer.retry.backoff.ms': '50',
      'kafka.producer.request.timeout.ms': '2000',
      'kafka.producer.delivery.timeout.ms': '5000',
    });
    await k.start();
    await k.deliver([ev('before')], NEVER);
    await mock.down();
    try {
      await assert.rejects(k.deliver([ev('during')], NEVER), (e: unknown) => {
        assert.ok(e instanceof AgentError);
        assert.equal(e.code, 'FLUME_ERR_SINK_DELIVERY');
        assert.equal(e.retriable, true);
        return true;
      });
    } finally {
      await mock.up();
    }
    let delivered = false;
    for (let i = 0; i < 50 && !delivered; i++) {
      delivered = await k.deliver([ev('during')], NEVER).then(
        () => true,
        () => false,
      );
    }
    assert.ok(delivered, 'delivered after the broker came back');
    await k.close();
    assert.deepEqual(
      kcatRead(mock.bootstrap, t).map((r) => r.payload),
      ['before', 'during'],
    );
  });

  test('unreachable bootstrap servers: start fails with a retriable error naming them', async () => {
    const o = optionsFor(kafkaSinkDef, {
      'kafka.bootstrap.servers': '127.0.0.1:1',
      'kafka.producer.retries': '0',
      'kafka.producer.socket.connection.setup.timeout.ms': '500',
    });
    const k = kafkaSinkDef.create(o, {
      name: 'k9',
      logger: silentLogger(),
      clock: systemClock,
      counters: sinkCounters('k9'),
      agentDir: tmpDir(),
    });
    await assert.rejects(k.start(), (e: unknown) => {
      assert.ok(e instanceof AgentError);
      assert.equal(e.code, 'FLUME_ERR_KAFKA_CONNECT');
      assert.equal(e.retriable, true);
      assert.match(e.message, /127\.0\.0\.1:1/);
      return true;
    });
    await k.close();
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd']) {
    test(`compression.type = ${codec}: kcat (librdkafka) reads the records`, async () => {
      const t = topic();
      const k = sink({ 'kafka.topic': t, 'kafka.producer.compression.type': codec });
      await k.start();
      const bodies = Array.from({ length: 200 }, (_, i) => `${codec} record ${i} `.repeat(5));
      await k.deliver(
        bodies.map((b) => ev(b)),
        NEVER,
      );
      await k.close();
      assert.deepEqual(
        kcatRead(mock.bootstrap, t)
          .map((r) => r.payload)
          .sort(),
        [...bodies].sort(),
      );
    });
  }
});

test('kafka sink options: mistakes are refused with the key, old spellings and no-effect properties warn', () => {
  const r = componentOptions(kafkaSinkDef, {
    'kafka.bootstrap.servers': 'localhost:9092,nohostport',
    'kafka.topic': 'bad topic',
    'kafka.producer.acks': 'some',
    'kafka.producer.compression.type': 'brotli',
    'kafka.producer.linger.ms': '5',
    'kafka.producer.frobnicate': '1',
    'kafka.producer.security.protocol': 'SASL_SSL',
    'kafka.producer.sasl.mechanism': 'GSSAPI',
    requiredAcks: '1',
  });
  const errors = r.issues.filter((i) => i.severity === 'error').map((i) => `${i.key}: ${i.message}`);
  const warnings = r.issues.filter((i) => i.severity === 'warning').map((i) => `${i.key}: ${i.message}`);
  assert.equal(r.options, undefined);
  const has = (list: string[], re: RegExp) =>
    assert.ok(
      list.some((l) => re.test(l)),
      `${re} in\n${list.join('\n')}`,
    );
  has(errors, /kafka\.bootstrap\.servers: 'nohostport' is not host:port/);
  has(errors, /kafka\.topic: topic name 'bad topic' has ' '/);
  has(errors, /kafka\.producer\.acks: acks: 'some' is not one of all, -1, 0, 1/);
  has(errors, /kafka\.producer\.compression\.type: .*'brotli'/);
  has(errors, /kafka\.producer\.sasl\.mechanism: sasl\.mechanism GSSAPI \(Kerberos\) is not supported/);
  has(warnings, /requiredAcks: 'requiredAcks' is an old spelling of 'kafka\.producer\.acks'/);
  has(warnings, /kafka\.producer\.linger\.ms: linger\.ms has no effect/);
  has(warnings, /kafka\.producer\.frobnicate: unknown producer property 'frobnicate' is ignored/);
  const ok = componentOptions(kafkaSinkDef, {
    'kafka.bootstrap.servers': 'localhost:9092',
    'kafka.topic': 'logs-%{app}',
    allowTopicOverride: 'false',
  });
  assert.match(
    ok.issues.map((i) => i.message).join('\n'),
    /applies only when allowTopicOverride = true|only when allowTopicOverride = true/,
  );
  const sasl = componentOptions(kafkaSinkDef, {
    'kafka.bootstrap.servers': 'localhost:9092',
    'kafka.producer.security.protocol': 'SASL_PLAINTEXT',
    'kafka.producer.sasl.mechanism': 'SCRAM-SHA-512',
    'kafka.producer.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="s3\\"cret";',
  });
  assert.deepEqual(sasl.issues, []);
  assert.ok(sasl.options);
});
