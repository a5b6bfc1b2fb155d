/**
 * avro sink -> avro source on loopback, in process: batches, statuses and counters, FAILED on a full channel,
 * timeouts, reconnection, ipFilter, deflate (levels, one-sided), TLS (PEM, PKCS12, JKS, trust / no trust), TLS +
 * deflate.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import avroSinkDef, { AvroSink } from '../../src/sinks/avro.js';
import type { AvroSource } from '../../src/sources/avro.js';
import { AvroRpcServer } from '../../src/rpc/avro/server.js';
import { AvroRpcClient } from '../../src/rpc/avro/client.js';
import { DEFAULT_DECODE_LIMITS } from '../../src/rpc/avro/protocol.js';
import { DEFAULT_FRAME_LIMITS } from '../../src/rpc/avro/framing.js';
import { AgentError } from '../../src/core/errors.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { systemClock } from '../../src/core/clock.js';
import { sinkCounters, type SinkCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import type { Agent } from '../../src/runtime/agent.js';
import type { Channel } from '../../src/contract/index.js';
import { startAgent, optionsFor } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'avro-rpc-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function collector(
  extra: Record<string, string> = {},
  channel = 'capacity = 100000\na1.channels.c1.transactionCapacity = 10000',
): string {
  const lines = Object.entries({ bind: '127.0.0.1', port: '0', ...extra }).map(([k, v]) => `a1.sources.r1.${k} = ${v}`);
  return [
    'a1.sources = r1',
    'a1.channels = c1',
    'a1.sources.r1.type = avro',
    'a1.sources.r1.channels = c1',
    ...lines,
    'a1.channels.c1.type = memory',
    `a1.channels.c1.${channel}`,
  ].join('\n');
}

/** The running instance (the agent wraps it in a supervisor). */
const inst = <T>(r: unknown): T => (r as { sup?: { instance: T } }).sup?.instance ?? (r as { instance: T }).instance;
const source = (a: Agent) => inst<AvroSource>(a.sources.get('r1'));
const channel = (a: Agent): Channel => inst<Channel>(a.channels.get('c1'));
const srcCount = (a: Agent, k: string) => a.sources.get('r1')!.counters.get(k);

/** Takes everything queued, in transactions of at most transactionCapacity. */
async function drain(ch: Channel): Promise<FlumeEvent[]> {
  const out: FlumeEvent[] = [];
  for (;;) {
    const tx = ch.begin();
    const evs = await tx.take(ch.transactionCapacity);
    await tx.commit();
    if (evs.length === 0) return out;
    out.push(...evs);
  }
}

/** A sink as the agent makes it; start() is the caller's (the runner always starts a sink before delivering). */
function makeSink(props: Record<string, string>): { sink: AvroSink; counters: SinkCounters } {
  const counters = sinkCounters('k1');
  const sink = avroSinkDef.create(optionsFor(avroSinkDef, props), {
    name: 'k1',
    logger: silentLogger(),
    clock: systemClock,
    counters,
    agentDir: tmp,
  }) as AvroSink;
  return { sink, counters };
}

async function startedSink(props: Record<string, string>): Promise<{ sink: AvroSink; counters: SinkCounters }> {
  const s = makeSink(props);
  await s.sink.start();
  return s;
}

function batch(n: number, from = 0): FlumeEvent[] {
  return Array.from({ length: n }, (_, i) =>
    makeEvent(`event ${from + i} é`, { seq: String(from + i), ключ: 'значение' }),
  );
}

const signal = new AbortController().signal;

test('one appendBatch per deliver, committed before OK, headers and counters as Flume', async () => {
  const b = await startAgent(collector());
  const { sink, counters } = makeSink({ hostname: '127.0.0.1', port: String(source(b).port), 'batch-size': '50' });
  try {
    await sink.start();
    await sink.deliver(batch(50), signal);
    await sink.deliver(batch(7, 50), signal);
    const got = await drain(channel(b));
    assert.equal(got.length, 57);
    assert.deepEqual({ ...got[56]!.headers }, { seq: '56', ключ: 'значение' });
    assert.equal(got[56]!.body.toString(), 'event 56 é');
    assert.equal(srcCount(b, 'AppendBatchReceivedCount'), 2);
    assert.equal(srcCount(b, 'AppendBatchAcceptedCount'), 2);
    assert.equal(srcCount(b, 'EventReceivedCount'), 57);
    assert.equal(srcCount(b, 'EventAcceptedCount'), 57);
    assert.equal(srcCount(b, 'AppendReceivedCount'), 0);
    assert.equal(srcCount(b, 'OpenConnectionCount'), 1);
    assert.equal(counters.get('ConnectionCreatedCount'), 1);
    // append (one event per call) is counted separately
    const c = await AvroRpcClient.connect({
      host: '127.0.0.1',
      port: source(b).port,
      connectTimeoutMs: 2000,
      requestTimeoutMs: 2000,
    });
    assert.equal(await c.append(makeEvent('single')), 'OK');
    await c.close();
    assert.equal(srcCount(b, 'AppendReceivedCount'), 1);
    assert.equal(srcCount(b, 'AppendAcceptedCount'), 1);
    assert.equal((await drain(channel(b)))[0]!.body.toString(), 'single');
  } finally {
    await sink.close();
    await b.stop(1000);
  }
  assert.equal(counters.get('ConnectionClosedCount'), 1);
});

test('a full channel answers FAILED (ChannelWriteFail); the sink throws a retriable error; the retry after draining is OK', async () => {
  const b = await startAgent(
    collector({}, 'capacity = 10\na1.channels.c1.transactionCapacity = 10\na1.channels.c1.keep-alive = 0'),
  );
  const { sink } = makeSink({ hostname: '127.0.0.1', port: String(source(b).port), 'batch-size': '10' });
  try {
    await sink.start();
    await sink.deliver(batch(10), signal);
    const err = await sink.deliver(batch(10, 10), signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof AgentError, String(err));
    assert.equal(err.retriable, true);
    assert.match(err.message, /answered FAILED/);
    assert.equal(srcCount(b, 'ChannelWriteFail'), 1);
    assert.equal(srcCount(b, 'AppendBatchAcceptedCount'), 1);
    assert.equal((await drain(channel(b))).length, 10);
    await sink.deliver(batch(10, 10), signal);
    const got = await drain(channel(b));
    assert.deepEqual(
      got.map((e) => e.headers.seq),
      Array.from({ length: 10 }, (_, i) => String(10 + i)),
    );
  } finally {
    await sink.close();
    await b.stop(1000);
  }
});

test('a batch larger than the channel transactionCapacity is put in several transactions (Flume always fails it)', async () => {
  const b = await startAgent(collector({}, 'capacity = 1000\na1.channels.c1.transactionCapacity = 7'));
  const { sink } = await startedSink({ hostname: '127.0.0.1', port: String(source(b).port), 'batch-size': '30' });
  try {
    await sink.deliver(batch(30), signal);
    assert.equal((await drain(channel(b))).length, 30);
  } finally {
    await sink.close();
    await b.stop(1000);
  }
});

test('request-timeout: no answer fails the batch and drops the connection; downstream absent then present delivers', async () => {
  let hang = true;
  const server = new AvroRpcServer(
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
    { handle: () => (hang ? new Promise(() => {}) : Promise.resolve('OK')) },
  );
  const port = await server.listen();
  const { sink, counters } = makeSink({
    hostname: '127.0.0.1',
    port: String(port),
    'request-timeout': '300',
    'connect-timeout': '1000',
  });
  try {
    await sink.start();
    await assert.rejects(sink.deliver(batch(3), signal), /within request-timeout 300 ms/);
    await waitFor(() => counters.get('ConnectionClosedCount') === 1, 2000, 'connection closed after the timeout');
    hang = false;
    await sink.deliver(batch(3), signal);
    assert.equal(counters.get('ConnectionCreatedCount'), 2);
  } finally {
    await sink.close();
    server.destroy();
  }
  // next hop absent: fast failure counted, then it appears on the same port and delivery resumes
  const { sink: s2, counters: c2 } = makeSink({ hostname: '127.0.0.1', port: String(port), 'connect-timeout': '1000' });
  const b = await startAgent(collector({ port: '0' }));
  try {
    await s2.start();
    await assert.rejects(s2.deliver(batch(2), signal), /not delivered/);
    assert.ok(c2.get('ConnectionFailedCount') >= 1);
    const again = new AvroRpcServer(
      {
        host: '127.0.0.1',
        port,
        layers: {},
        frameLimits: DEFAULT_FRAME_LIMITS,
        decodeLimits: DEFAULT_DECODE_LIMITS,
        readTimeoutMs: 5000,
        idleTimeoutMs: 0,
        maxConnections: 10,
        logger: silentLogger(),
      },
      { handle: async () => 'OK' },
    );
    await again.listen();
    await s2.deliver(batch(2), signal);
    await s2.close();
    await again.close();
  } finally {
    await b.stop(1000);
  }
});

test('reset-connection-interval reconnects between batches', async () => {
  const b = await startAgent(collector());
  const { sink, counters } = await startedSink({
    hostname: '127.0.0.1',
    port: String(source(b).port),
    'reset-connection-interval': '100ms',
  });
  try {
    await sink.deliver(batch(1), signal);
    const t0 = performance.now();
    await waitFor(() => performance.now() - t0 > 150, 2000);
    await sink.deliver(batch(1), signal);
    assert.equal(counters.get('ConnectionCreatedCount'), 2);
    assert.equal((await drain(channel(b))).length, 2);
  } finally {
    await sink.close();
    await b.stop(1000);
  }
});

test('ipFilter: first matching rule wins; a denied client is disconnected before any byte is read', async () => {
  const denied = await startAgent(
    collector({ ipFilter: 'true', ipFilterRules: 'allow:ip:10.*,deny:ip:127.*,allow:ip:*' }),
  );
  const allowed = await startAgent(collector({ ipFilter: 'true', ipFilterRules: 'allow:name:localhost,deny:ip:*' }));
  try {
    await assert.rejects(
      AvroRpcClient.connect({
        host: '127.0.0.1',
        port: source(denied).port,
        connectTimeoutMs: 2000,
        requestTimeoutMs: 2000,
      }),
    );
    const c = await AvroRpcClient.connect({
      host: '127.0.0.1',
      port: source(allowed).port,
      connectTimeoutMs: 2000,
      requestTimeoutMs: 2000,
    });
    assert.equal(await c.appendBatch(batch(1)), 'OK');
    await c.close();
    assert.equal(srcCount(denied, 'EventReceivedCount'), 0);
  } finally {
    await denied.stop(1000);
    await allowed.stop(1000);
  }
});

test('deflate: levels 0, 1, 9 against a deflate source; a one-sided setting fails without crashing the source', async () => {
  const b = await startAgent(collector({ 'compression-type': 'deflate' }));
  const port = String(source(b).port);
  try {
    for (const level of ['0', '1', '9']) {
      const { sink } = await startedSink({
        hostname: '127.0.0.1',
        port,
        'compression-type': 'deflate',
        'compression-level': level,
      });
      await sink.deliver(batch(200), signal);
      await sink.close();
    }
    const got = await drain(channel(b));
    assert.equal(got.length, 600);
    assert.equal(got[599]!.headers['ключ'], 'значение');
    // sink without compression against the deflate source: the handshake never completes -> failure, source survives
    const { sink: plain } = await startedSink({ hostname: '127.0.0.1', port, 'connect-timeout': '500' });
    await assert.rejects(plain.deliver(batch(1), signal));
    await plain.close();
    await waitFor(() => srcCount(b, 'EventReadFail') >= 1, 2000, 'EventReadFail after a non-deflate client');
    // deflate sink against a plain source: fails, the source counts it
    const p = await startAgent(collector());
    const { sink: def } = await startedSink({
      hostname: '127.0.0.1',
      port: String(source(p).port),
      'compression-type': 'deflate',
      'connect-timeout': '500',
    });
    await assert.rejects(def.deliver(batch(1), signal));
    await def.close();
    await p.stop(1000);
    // the deflate source still works
    const { sink: ok } = await startedSink({ hostname: '127.0.0.1', port, 'compression-type': 'deflate' });
    await ok.deliver(batch(1), signal);
    await ok.close();
  } finally {
    await b.stop(1000);
  }
});

// ------------------------------------------------------------------------------------------------- TLS

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
const haveKeytool = spawnSync('keytool', ['-help']).status === 0;

describe(
  'TLS',
  { skip: haveOpenssl ? false : 'openssl not found: cannot generate the throwaway test certificate' },
  () => {
    const d = path.join(tmp, 'tls');
    const f = (n: string) => path.join(d, n);
    before(() => {
      fs.mkdirSync(d);
      // throwaway self-signed test certificate for localhost / 127.0.0.1, generated per run
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-keyout',
          f('key.pem'),
          '-out',
          f('cert.pem'),
          '-days',
          '2',
          '-subj',
          '/CN=localhost',
          '-addext',
          'subjectAltName=DNS:localhost,IP:127.0.0.1',
        ],
        { stdio: 'ignore' },
      );
      execFileSync(
        'openssl',
        [
          'pkcs12',
          '-export',
          '-in',
          f('cert.pem'),
          '-inkey',
          f('key.pem'),
          '-out',
          f('ks.p12'),
          '-passout',
          'pass:secret',
        ],
        { stdio: 'ignore' },
      );
      execFileSync(
        'openssl',
        ['pkcs12', '-export', '-nokeys', '-in', f('cert.pem'), '-out', f('ts.p12'), '-passout', 'pass:secret'],
        { stdio: 'ignore' },
      );
    });

    test('PKCS12 keystore source; sink trusting a PEM file, a cert-only PKCS12 truststore, or all certs; untrusted refused', async () => {
      const b = await startAgent(
        collector({ ssl: 'true', keystore: f('ks.p12'), 'keystore-password': 'secret', 'keystore-type': 'PKCS12' }),
      );
      const port = String(source(b).port);
      try {
        const cases: Record<string, string>[] = [
          { 'ssl-ca': f('cert.pem') },
          { truststore: f('ts.p12'), 'truststore-password': 'secret', 'truststore-type': 'PKCS12' },
          { truststore: f('cert.pem') },
          { 'trust-all-certs': 'true', hostname: 'localhost' },
        ];
        for (const extra of cases) {
          const { sink } = makeSink({ hostname: '127.0.0.1', port, ssl: 'true', ...extra });
          await sink.start();
          await sink.deliver(batch(5), signal);
          await sink.close();
        }
        assert.equal((await drain(channel(b))).length, 20);
        // no trust anchor: the self-signed certificate is refused, nothing is sent
        const { sink: untrusted, counters } = makeSink({
          hostname: '127.0.0.1',
          port,
          ssl: 'true',
          'connect-timeout': '2000',
        });
        await untrusted.start();
        await assert.rejects(untrusted.deliver(batch(1), signal), /self[- ]signed|unable to verify|certificate/i);
        await untrusted.close();
        assert.ok(counters.get('ConnectionFailedCount') >= 1);
        // host name checked by default: the certificate names localhost/127.0.0.1, not 127.0.0.2
        const { sink: wrongName } = await startedSink({
          hostname: '127.0.0.2',
          port,
          ssl: 'true',
          'ssl-ca': f('cert.pem'),
          'connect-timeout': '2000',
        });
        await assert.rejects(wrongName.deliver(batch(1), signal));
        await wrongName.close();
        // a plaintext client against the TLS port: closed, counted, source keeps serving
        await assert.rejects(
          AvroRpcClient.connect({
            host: '127.0.0.1',
            port: Number(port),
            connectTimeoutMs: 1000,
            requestTimeoutMs: 1000,
          }),
        );
        await waitFor(() => srcCount(b, 'EventReadFail') >= 1, 3000, 'EventReadFail after a plaintext client');
        assert.equal((await drain(channel(b))).length, 0);
      } finally {
        await b.stop(1000);
      }
    });

    test('PEM ssl-cert/ssl-key source with TLS and deflate together', async () => {
      const b = await startAgent(
        collector({ ssl: 'true', 'ssl-cert': f('cert.pem'), 'ssl-key': f('key.pem'), 'compression-type': 'deflate' }),
      );
      try {
        const { sink } = await startedSink({
          hostname: 'localhost',
          port: String(source(b).port),
          ssl: 'true',
          'ssl-ca': f('cert.pem'),
          'compression-type': 'deflate',
          'compression-level': '9',
        });
        await sink.deliver(batch(300), signal);
        await sink.close();
        assert.equal((await drain(channel(b))).length, 300);
      } finally {
        await b.stop(1000);
      }
    });

    test(
      'JKS keystore and JKS truststore (made with keytool)',
      { skip: haveKeytool ? false : 'keytool not found' },
      async () => {
        execFileSync(
          'keytool',
          [
            '-importkeystore',
            '-noprompt',
            '-srckeystore',
            f('ks.p12'),
            '-srcstoretype',
            'PKCS12',
            '-srcstorepass',
            'secret',
            '-destkeystore',
            f('ks.jks'),
            '-deststoretype',
            'JKS',
            '-deststorepass',
            'secret',
            '-destkeypass',
            'secret',
          ],
          { stdio: 'ignore' },
        );
        execFileSync(
          'keytool',
          [
            '-importcert',
            '-noprompt',
            '-alias',
            'ca',
            '-file',
            f('cert.pem'),
            '-keystore',
            f('ts.jks'),
            '-storetype',
            'JKS',
            '-storepass',
            'secret',
          ],
          { stdio: 'ignore' },
        );
        const b = await startAgent(collector({ ssl: 'true', keystore: f('ks.jks'), 'keystore-password': 'secret' }));
        try {
          const { sink } = await startedSink({
            hostname: '127.0.0.1',
            port: String(source(b).port),
            ssl: 'true',
            truststore: f('ts.jks'),
            'truststore-password': 'secret',
          });
          await sink.deliver(batch(3), signal);
          await sink.close();
          assert.equal((await drain(channel(b))).length, 3);
          // a wrong truststore password fails the JKS integrity check at start
          const { sink: bad } = makeSink({
            hostname: '127.0.0.1',
            port: String(source(b).port),
            ssl: 'true',
            truststore: f('ts.jks'),
            'truststore-password': 'wrong',
          });
          await assert.rejects(bad.start(), /integrity check failed/);
        } finally {
          await b.stop(1000);
        }
      },
    );
  },
);
