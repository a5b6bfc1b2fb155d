/**
 * Contract every registered sink must honour: start, deliver batches, close idempotently (also without start),
 * destroy idempotently. A sink without a sample here fails the suite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defsOf } from '../../src/registry/lookup.js';
import type { SinkDef } from '../../src/contract/index.js';
import { makeEvent } from '../../src/core/event.js';
import { sinkCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { optionsFor } from '../helpers/agent.js';
import { after } from 'node:test';
import { AvroRpcServer } from '../../src/rpc/avro/server.js';
import { DEFAULT_DECODE_LIMITS } from '../../src/rpc/avro/protocol.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/rpc/avro/framing.js';
import { ThriftServer } from '../../src/rpc/thrift/server.js';
import type { FlumeEvent } from '../../src/core/event.js';
import { startForward } from '../helpers/forward.js';
import { EsDouble } from '../helpers/es-double.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KafkaMock, kcatRead, kcatUnavailable, mockUnavailable } from '../helpers/kafka-mock.js';

// a real avro source-side server for the avro sink sample: records what it was sent
const avroReceived: FlumeEvent[] = [];
const avroServer = new AvroRpcServer(
  {
    host: '127.0.0.1',
    port: 0,
    layers: {},
    frameLimits: DEFAULT_FRAME_LIMITS,
    decodeLimits: DEFAULT_DECODE_LIMITS,
    readTimeoutMs: 5000,
    idleTimeoutMs: 0,
    maxConnections: 10,
    logger: silentLogger(),
  },
  {
    handle: async (events: readonly FlumeEvent[]) => {
      avroReceived.push(...events);
      return 'OK' as const;
    },
  },
);
const avroPort = await avroServer.listen();
after(() => avroServer.close());

// a real thrift source-side server for the thrift sink sample
const thriftReceived: FlumeEvent[] = [];
const thriftServer = new ThriftServer(
  {
    host: '127.0.0.1',
    port: 0,
    protocol: 'compact',
    maxFrameBytes: 1 << 20,
    decodeLimits: { maxEvents: 1000, maxHeaders: 100 },
    readTimeoutMs: 5000,
    idleTimeoutMs: 0,
    maxConnections: 10,
    logger: silentLogger(),
    owner: 'thrift contract server',
  },
  {
    handle: async (events: readonly FlumeEvent[]) => {
      thriftReceived.push(...events);
      return 'OK' as const;
    },
  },
);
const thriftPort = await thriftServer.listen();
after(() => thriftServer.close(100));

// our forward source as the receiving end of the forward sink sample (the real-peer tests use FluentServer)
const forwardServer = await startForward();
after(() => forwardServer.stop());
// a protocol-level double of Elasticsearch's _bulk API for the elasticsearch sink sample
const esDouble = new EsDouble();
await esDouble.listen();
after(() => esDouble.close());

// an HTTP endpoint double for the http sink sample: records request bodies, answers 200
const httpBodies: string[] = [];
const httpEndpoint = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    httpBodies.push(Buffer.concat(chunks).toString());
    res.end();
  });
});
await new Promise<void>((r) => httpEndpoint.listen(0, '127.0.0.1', r));
after(() => {
  httpEndpoint.closeAllConnections();
  httpEndpoint.close();
});
// a real Kafka-protocol broker (librdkafka's mock cluster) for the kafka sink sample, read back with kcat
const kafkaSkip = mockUnavailable ?? kcatUnavailable;
const kafka = kafkaSkip ? undefined : await KafkaMock.start();
after(() => kafka?.stop());

interface Sample {
  props(dir: string): Record<string, string>;
  /** Checks the batch was handed on; undefined when the sink's output is not observable (logger, null). */
  verify?(dir: string, bodies: string[]): void;
  /** Why the sample cannot run on this machine (a peer is missing). */
  skip?: string;
}

const SAMPLES: Record<string, Sample> = {
  hdfs: {
    props: (dir) => ({ 'hdfs.path': `${dir}/out`, 'hdfs.fileType': 'DataStream', 'hdfs.rollCount': '0' }),
    verify: (dir, bodies) => {
      const files = fs.readdirSync(path.join(dir, 'out'));
      assert.equal(files.length, 1);
      assert.match(files[0]!, /^FlumeData\.\d+$/);
      assert.equal(fs.readFileSync(path.join(dir, 'out', files[0]!), 'utf8'), bodies.map((b) => `${b}\n`).join(''));
    },
  },
  avro: {
    props: () => ({ hostname: '127.0.0.1', port: String(avroPort) }),
    verify: (_dir, bodies) => {
      assert.deepEqual(
        avroReceived.map((e) => e.body.toString()),
        bodies,
      );
      avroReceived.length = 0;
    },
  },
  forward: {
    props: () => ({ hostname: '127.0.0.1', port: String(forwardServer.port) }),
    verify: (_dir, bodies) => {
      assert.deepEqual(
        forwardServer.records(),
        bodies.map((message) => ({ message })),
      );
      forwardServer.events.length = 0;
    },
  },
  elasticsearch: {
    props: () => ({ hostNames: esDouble.url, indexNameBuilder: 'simple', indexName: 'contract' }),
    verify: (_dir, bodies) => {
      assert.deepEqual(
        esDouble.docs('contract').map((d) => d['@message']),
        bodies,
      );
    },
  },
  http: {
    props: () => ({ endpoint: `http://127.0.0.1:${(httpEndpoint.address() as AddressInfo).port}/` }),
    verify: (_dir, bodies) => assert.deepEqual(httpBodies, bodies),
  },
  thrift: {
    props: () => ({ hostname: '127.0.0.1', port: String(thriftPort) }),
    verify: (_dir, bodies) => {
      assert.deepEqual(
        thriftReceived.map((e) => e.body.toString()),
        bodies,
      );
      thriftReceived.length = 0;
    },
  },
  kafka: {
    props: (dir) => ({
      'kafka.bootstrap.servers': kafka?.bootstrap ?? '127.0.0.1:1',
      'kafka.topic': path.basename(dir),
    }),
    verify: (dir, bodies) =>
      assert.deepEqual(
        kcatRead(kafka!.bootstrap, path.basename(dir))
          .map((r) => r.payload)
          .sort(),
        [...bodies].sort(),
      ),
    skip: kafkaSkip,
  },
  logger: { props: () => ({}) },
  null: { props: () => ({}) },
  file_roll: {
    props: (dir) => ({ 'sink.directory': dir, 'sink.rollInterval': '0' }),
    verify: (dir, bodies) => {
      const files = fs.readdirSync(dir);
      assert.equal(files.length, 1);
      assert.equal(fs.readFileSync(path.join(dir, files[0]!), 'utf8'), bodies.map((b) => `${b}\n`).join(''));
    },
  },
};

for (const def of defsOf('sink') as SinkDef[]) {
  const s = SAMPLES[def.type];
  test(`sink ${def.type}: has a contract sample`, () => {
    assert.ok(s, `add a sample for sink type '${def.type}' to test/contract/sinks.test.ts`);
  });
  if (!s) continue;

  test(`sink ${def.type}: delivers batches and closes idempotently`, { skip: s.skip ?? false }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sink-contract-'));
    try {
      const o = optionsFor(def, s.props(dir));
      assert.ok(def.batchSize(o) >= 1);
      const sink = def.create(o, {
        name: 'k1',
        logger: silentLogger(),
        clock: systemClock,
        counters: sinkCounters('k1'),
        agentDir: dir,
      });
      await sink.start();
      const bodies = ['one', 'two', 'three', 'four'];
      await sink.deliver(
        bodies.slice(0, 2).map((b) => makeEvent(b)),
        new AbortController().signal,
      );
      await sink.deliver(
        bodies.slice(2).map((b) => makeEvent(b)),
        new AbortController().signal,
      );
      await sink.close();
      await sink.close();
      sink.destroy?.();
      s.verify?.(dir, bodies);
      const never = def.create(o, {
        name: 'k2',
        logger: silentLogger(),
        clock: systemClock,
        counters: sinkCounters('k2'),
        agentDir: dir,
      });
      await never.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
}
