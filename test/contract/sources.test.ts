/**
 * Contract every registered source must honour: a ChannelFullError from emit is retried (or counted, where Flume's
 * semantics say so) without duplicates, close() stops intake, and the counters come out right. The source context
 * here counts emits exactly as the agent's does (countEmits): a source that counts by hand counts twice, one that
 * rebuilds a refused batch instead of retrying it counts its events received twice. A source without a driver
 * here fails the suite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { defsOf } from '../../src/registry/lookup.js';
import type { SourceDef, SourceContext } from '../../src/contract/index.js';
import { ChannelFullError } from '../../src/core/errors.js';
import type { FlumeEvent } from '../../src/core/event.js';
import { sourceCounters } from '../../src/telemetry/counters.js';
import { countEmits } from '../../src/runtime/channel-processor.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { optionsFor } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import { AvroRpcClient } from '../../src/rpc/avro/client.js';
import { ThriftClient } from '../../src/rpc/thrift/client.js';
import { makeEvent } from '../../src/core/event.js';
import { ForwardClient } from '../../src/rpc/forward/client.js';
import { encodeBatch } from '../../src/rpc/forward/encode.js';
import type { KafkaSource } from '../../src/sources/kafka.js';
import { KafkaMock, kcatProduce, kcatUnavailable, mockUnavailable } from '../helpers/kafka-mock.js';

interface Driver {
  props: Record<string, string>;
  /** Makes the source produce `n` events, identified by body text. */
  produce(instance: unknown, n: number): Promise<void>;
  /** True when no accepted-by-the-source event may be lost on a full channel. */
  lossless: boolean;
  /**
   * What a refused emit becomes: `retried` - the source emits the same batch again (received once, one
   * ChannelWriteFail per refusal); `answered` - the client is told and sends the request again (received again);
   * `counted` - the batch is given up (stress); `queued` - retried, and ChannelWriteFail counts only what is lost
   * (the UDP sources: datagrams dropped, none here).
   */
  refusal: 'retried' | 'answered' | 'counted' | 'queued';
  /** Why the driver cannot run on this machine (a peer is missing). */
  skip?: string;
}

const tcpSend = (port: number, data: string) =>
  new Promise<void>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(data));
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });

const udpSend = async (port: number, lines: string[]) => {
  const sock = dgram.createSocket('udp4');
  for (const l of lines)
    await new Promise<void>((resolve, reject) =>
      sock.send(l, port, '127.0.0.1', (err) => (err ? reject(err) : resolve())),
    );
  sock.close();
};
const syslogLines = (n: number) => Array.from({ length: n }, (_, i) => `<13>Jan  1 00:00:00 host app: e${i}`);
/** POSTs the events, retrying on 503 as Flume's HTTP clients must. */
const httpPost = async (port: number, n: number) => {
  const body = JSON.stringify(Array.from({ length: n }, (_, i) => ({ headers: { i: String(i) }, body: `e${i}` })));
  for (let attempt = 0; attempt < 50; attempt++) {
    const r = await fetch(`http://127.0.0.1:${port}/`, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/json' },
    });
    await r.arrayBuffer();
    if (r.status === 200) return;
    if (r.status !== 503) throw new Error(`http source answered ${r.status}`);
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error('http source kept answering 503');
};

/** Sends the events with appendBatch on an RPC client (avro, thrift), re-sending on FAILED as Flume's clients do. */
async function rpcSend(
  client: { appendBatch(e: FlumeEvent[]): Promise<string>; close(): Promise<void> },
  n: number,
): Promise<void> {
  try {
    const events = Array.from({ length: n }, (_, i) => makeEvent(`e${i}`, { i: String(i) }));
    for (let attempt = 0; attempt < 50; attempt++) {
      if ((await client.appendBatch(events)) === 'OK') return;
      await new Promise((res) => setTimeout(res, 20));
    }
    throw new Error('the source kept answering FAILED');
  } finally {
    await client.close();
  }
}

const rpcAt = (port: number) => ({ host: '127.0.0.1', port, connectTimeoutMs: 5000, requestTimeoutMs: 5000 });
const avroSend = async (port: number, n: number) => rpcSend(await AvroRpcClient.connect(rpcAt(port)), n);
const thriftSend = async (port: number, n: number) =>
  rpcSend(await ThriftClient.connect({ ...rpcAt(port), protocol: 'compact' }), n);

/** Sends the events as one PackedForward request and waits for its ack (given only once committed). */
const forwardSend = async (port: number, n: number) => {
  const signal = new AbortController().signal;
  const client = await ForwardClient.connect({ host: '127.0.0.1', port, connectTimeoutMs: 5000, layers: {} }, signal);
  try {
    const events = Array.from({ length: n }, (_, i) => makeEvent(`e${i}`));
    const mapping = {
      tagHeader: 'tag',
      defaultTag: 't',
      messageKey: 'message',
      includeHeaders: false,
      timestampHeader: 'timestamp',
    };
    await client.send(encodeBatch(events, mapping, { ack: true, gzip: false, now: Date.now() }), 5000, 10_000, signal);
  } finally {
    await client.close();
  }
};

// file sources read from this directory; every produce() writes new, uniquely named content
const CT_DIR = fs.mkdtempSync(path.join(os.tmpdir(), 'source-contract-'));
fs.mkdirSync(path.join(CT_DIR, 'tail'));
fs.mkdirSync(path.join(CT_DIR, 'spool'));
after(() => fs.rmSync(CT_DIR, { recursive: true, force: true }));
let fileRun = 0;
const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}-e${i}\n`).join('');

// a real Kafka-protocol broker (librdkafka's mock cluster) for the kafka source, fed by kcat; a topic per test
const kafkaSkip = mockUnavailable ?? kcatUnavailable;
const kafka = kafkaSkip ? undefined : await KafkaMock.start();
after(() => kafka?.stop());
let kafkaRun = 0;

const DRIVERS: Record<string, Driver> = {
  kafka: {
    get props() {
      return {
        'kafka.bootstrap.servers': kafka?.bootstrap ?? '127.0.0.1:1',
        'kafka.topics': `source-contract-${++kafkaRun}`,
        'kafka.consumer.group.id': 'contract',
        'kafka.consumer.auto.offset.reset': 'earliest',
        'kafka.consumer.session.timeout.ms': '3000',
        'kafka.consumer.heartbeat.interval.ms': '300',
        batchSize: '20',
        batchDurationMillis: '50',
        backoffSleepIncrement: '10',
        maxBackoffSleep: '20',
      };
    },
    lossless: true,
    refusal: 'retried',
    produce: async (src, n) =>
      kcatProduce(
        kafka!.bootstrap,
        (src as KafkaSource).topics[0]!,
        Array.from({ length: n }, (_, i) => `e${i}`),
      ),
    skip: kafkaSkip,
  },
  taildir: {
    props: {
      filegroups: 'g',
      'filegroups.g': `${CT_DIR}/tail/.*\\.log`,
      positionFile: `${CT_DIR}/pos.json`,
      backoffSleepIncrement: '10',
      maxBackoffSleep: '20',
    },
    lossless: true,
    refusal: 'retried',
    produce: async (_s, n) => fs.appendFileSync(path.join(CT_DIR, 'tail', 'a.log'), lines(n, `t${fileRun++}`)),
  },
  spooldir: {
    props: { spoolDir: `${CT_DIR}/spool`, pollDelay: '10', maxBackoff: '20' },
    lossless: true,
    refusal: 'retried',
    produce: async (_s, n) => {
      const tag = `s${fileRun++}`;
      const tmp = path.join(CT_DIR, `${tag}.tmp`);
      fs.writeFileSync(tmp, lines(n, tag));
      const t = Date.now() / 1000 - 60; // complete for a minute: past fileStableTime
      fs.utimesSync(tmp, t, t);
      fs.renameSync(tmp, path.join(CT_DIR, 'spool', `${tag}.log`));
    },
  },
  exec: {
    props: { command: 'seq 0 49', batchSize: '10', batchTimeout: '20' },
    lossless: true,
    refusal: 'retried',
    produce: async () => {},
  },
  avro: {
    props: { bind: '127.0.0.1', port: '0' },
    lossless: true,
    refusal: 'answered',
    produce: (src, n) => avroSend((src as { port: number }).port, n),
  },
  forward: {
    props: { bind: '127.0.0.1', port: '0', messageKey: 'message' },
    lossless: true,
    refusal: 'retried',
    produce: (src, n) => forwardSend((src as { port: number }).port, n),
  },
  thrift: {
    props: { bind: '127.0.0.1', port: '0' },
    lossless: true,
    refusal: 'answered',
    produce: (src, n) => thriftSend((src as { port: number }).port, n),
  },
  http: {
    props: { bind: '127.0.0.1', port: '0' },
    lossless: true,
    refusal: 'answered',
    produce: (src, n) => httpPost((src as { port: number }).port, n),
  },
  syslogtcp: {
    props: { host: '127.0.0.1', port: '0' },
    lossless: true,
    refusal: 'retried',
    produce: (src, n) =>
      tcpSend(
        (src as { ports: number[] }).ports[0]!,
        syslogLines(n)
          .map((l) => `${l}\n`)
          .join(''),
      ),
  },
  multiport_syslogtcp: {
    props: { host: '127.0.0.1', ports: '0' },
    lossless: true,
    refusal: 'retried',
    produce: (src, n) =>
      tcpSend(
        (src as { ports: number[] }).ports[0]!,
        syslogLines(n)
          .map((l) => `${l}\n`)
          .join(''),
      ),
  },
  syslogudp: {
    props: { host: '127.0.0.1', port: '0' },
    lossless: true,
    refusal: 'queued',
    produce: (src, n) => udpSend((src as { port: number }).port, syslogLines(n)),
  },
  netcatudp: {
    props: { bind: '127.0.0.1', port: '0' },
    lossless: true,
    refusal: 'queued',
    produce: (src, n) =>
      udpSend(
        (src as { port: number }).port,
        Array.from({ length: n }, (_, i) => `e${i}\n`),
      ),
  },
  netcat: {
    props: { bind: '127.0.0.1', port: '0', 'ack-every-event': 'false' },
    lossless: true,
    refusal: 'retried',
    produce: (src, n) =>
      tcpSend((src as { port: number }).port, Array.from({ length: n }, (_, i) => `e${i}\n`).join('')),
  },
  seq: {
    props: { batchSize: '10', backoffSleepIncrement: '10', maxBackoffSleep: '20' },
    lossless: true,
    refusal: 'retried',
    produce: async () => {},
  },
  stress: {
    props: { batchSize: '10', size: '8', backoffSleepIncrement: '10', maxBackoffSleep: '20' },
    lossless: false,
    refusal: 'counted',
    produce: async () => {},
  },
};

function harness(failFirst: number) {
  const accepted: FlumeEvent[] = [];
  let calls = 0;
  let rejected = 0;
  const counters = sourceCounters('r1');
  const ctx: SourceContext = {
    name: 'r1',
    logger: silentLogger(),
    clock: systemClock,
    counters,
    maxBatchSize: 100,
    emit: countEmits(async (batch) => {
      calls++;
      if (rejected < failFirst) {
        rejected++;
        throw new ChannelFullError('test: channel full');
      }
      accepted.push(...batch);
    }, counters),
  };
  return { ctx, counters, accepted, calls: () => calls, rejected: () => rejected };
}

for (const def of defsOf('source') as SourceDef[]) {
  const d = DRIVERS[def.type];
  test(`source ${def.type}: has a contract driver`, () => {
    assert.ok(d, `add a driver for source type '${def.type}' to test/contract/sources.test.ts`);
  });
  if (!d) continue;
  const bounded: Record<string, string> =
    def.type === 'seq' ? { totalEvents: '50' } : def.type === 'stress' ? { maxTotalEvents: '50' } : {};

  test(
    `source ${def.type}: a full channel is retried and nothing is accepted twice`,
    { skip: d.skip ?? false },
    async () => {
      const h = harness(3);
      const src = def.create(optionsFor(def, { ...d.props, ...bounded }), h.ctx);
      await src.start();
      try {
        await d.produce(src, 50);
        const expected = d.lossless ? 50 : 50 - 3 * 10;
        await waitFor(() => h.accepted.length >= expected, 10_000, `${expected} events accepted`);
        assert.equal(h.rejected(), 3);
        const bodies = h.accepted.map((e) => e.body.toString());
        if (d.lossless) {
          assert.equal(bodies.length, 50);
          assert.equal(new Set(bodies).size, 50, 'no duplicates');
        } else {
          assert.ok(bodies.length <= 50);
        }
      } finally {
        await src.close();
      }
      // counted once each, by the context: nothing accepted twice, every refusal a ChannelWriteFail
      const c = h.counters;
      assert.equal(c.get('EventAcceptedCount'), h.accepted.length, 'EventAcceptedCount = events committed');
      const received = { retried: 50, queued: 50, counted: 50, answered: 50 + 3 * 50 }[d.refusal];
      assert.equal(c.get('EventReceivedCount'), received, `EventReceivedCount (${d.refusal})`);
      assert.equal(c.get('ChannelWriteFail'), d.refusal === 'queued' ? 0 : 3, `ChannelWriteFail (${d.refusal})`);
    },
  );

  test(
    `source ${def.type}: with room every event is counted received and accepted once`,
    { skip: d.skip ?? false },
    async () => {
      const h = harness(0);
      const src = def.create(optionsFor(def, { ...d.props, ...bounded }), h.ctx);
      await src.start();
      try {
        await d.produce(src, 50);
        await waitFor(() => h.accepted.length >= 50, 10_000, '50 events accepted');
      } finally {
        await src.close();
      }
      assert.equal(h.accepted.length, 50);
      assert.equal(h.counters.get('EventReceivedCount'), 50);
      assert.equal(h.counters.get('EventAcceptedCount'), 50);
      assert.equal(h.counters.get('ChannelWriteFail'), 0);
    },
  );

  test(`source ${def.type}: close() stops intake and is idempotent`, { skip: d.skip ?? false }, async () => {
    const h = harness(0);
    const src = def.create(optionsFor(def, d.props), h.ctx);
    await src.start();
    await d.produce(src, 5);
    await waitFor(() => h.accepted.length >= 5, 5000, 'first events');
    await src.close();
    const after = h.calls();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(h.calls(), after, 'no emit after close() resolved');
    await src.close();
  });
}
