/**
 * http sink against an HTTP endpoint DOUBLE (a local node:http / node:https server that records requests and answers
 * the status a test sets), and end to end into our http source (Flume's JSONHandler format).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import https from 'node:https';
import { execFileSync, spawnSync } from 'node:child_process';
import type { AddressInfo } from 'node:net';
import def from '../../src/sinks/http/index.js';
import { HttpSink } from '../../src/sinks/http/sink.js';
import { statusRules } from '../../src/sinks/http/options.js';
import { componentOptions } from '../../src/config/validate/index.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import type { AgentError } from '../../src/core/errors.js';
import { sinkCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { optionsFor, startAgent } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'http-sink-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

interface Received {
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** The endpoint double: answers `status()` (or never, when it returns undefined) and records every request. */
async function endpointDouble(
  status: (r: Received) => number | undefined = () => 200,
  tlsOpts?: https.ServerOptions,
): Promise<{ url: string; received: Received[]; close(): Promise<void> }> {
  const received: Received[] = [];
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8') };
      received.push(r);
      const s = status(r);
      if (s !== undefined) res.writeHead(s, { 'content-type': 'text/plain' }).end('answer body');
    });
  };
  const server = tlsOpts ? https.createServer(tlsOpts, handler) : http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tlsOpts ? 'https' : 'http'}://127.0.0.1:${port}/ingest`,
    received,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

function makeSink(props: Record<string, string>) {
  const counters = sinkCounters('k1');
  const o = optionsFor(def, props);
  const sink = new HttpSink(o, { name: 'k1', logger: silentLogger(), clock: systemClock, counters, agentDir: tmp });
  return { sink, counters };
}

const signal = () => new AbortController().signal;
const ev = (body: string, headers?: Record<string, string>): FlumeEvent => makeEvent(body, headers);

test('one event per request, the body as is; 2xx commits and counts (Flume would resend it forever)', async () => {
  const ep = await endpointDouble();
  try {
    const { sink, counters } = makeSink({ endpoint: ep.url });
    await sink.start();
    assert.equal(await sink.deliver([ev('hello', { h: 'v' })], signal()), undefined);
    await sink.deliver([ev('world')], signal());
    assert.deepEqual(
      ep.received.map((r) => r.body),
      ['hello', 'world'],
    );
    assert.equal(ep.received[0]!.headers['content-type'], 'text/plain');
    assert.equal(ep.received[0]!.headers.accept, 'text/plain');
    assert.equal(ep.received[0]!.headers.h, undefined, 'event headers are not sent');
    assert.equal(counters.get('ConnectionCreatedCount'), 1, 'one keep-alive connection');
    await sink.close();
    await sink.close();
  } finally {
    await ep.close();
  }
});

test('status rules: exact code beats class, classes in any case, defaults for the rest', () => {
  const o = optionsFor(def, {
    endpoint: 'http://x',
    'rollback.4xx': 'false',
    'rollback.404': 'true',
    'incrementMetrics.2XX': 'false',
    'backoff.503': 'false',
  });
  const rule = statusRules(o);
  assert.deepEqual(rule(200), { rollback: false, backoff: false, incrementMetrics: false });
  assert.deepEqual(rule(400), { rollback: false, backoff: true, incrementMetrics: false });
  assert.deepEqual(rule(404), { rollback: true, backoff: true, incrementMetrics: false });
  assert.deepEqual(rule(503), { rollback: true, backoff: false, incrementMetrics: false });
  const flumeStyle = statusRules(optionsFor(def, { endpoint: 'http://x', defaultRollback: 'false' }));
  assert.deepEqual(flumeStyle(500), { rollback: false, backoff: true, incrementMetrics: false });
});

test('a rolled-back status throws a retriable error; a committed non-2xx is not counted as drained', async () => {
  let status = 503;
  const ep = await endpointDouble(() => status);
  try {
    const { sink } = makeSink({ endpoint: ep.url, 'rollback.400': 'false' });
    await sink.start();
    await assert.rejects(sink.deliver([ev('a')], signal()), (err: AgentError) => {
      assert.ok(err.retriable);
      assert.match(err.message, /answered 503 for 1 events; rolled back/);
      return true;
    });
    status = 400;
    assert.deepEqual(await sink.deliver([ev('a')], signal()), { drained: 0 });
    await sink.close();
  } finally {
    await ep.close();
  }
});

test('empty bodies are committed without a request and not counted', async () => {
  const ep = await endpointDouble();
  try {
    const { sink } = makeSink({ endpoint: ep.url, batchSize: '3' });
    await sink.start();
    assert.deepEqual(await sink.deliver([ev('')], signal()), { drained: 0 });
    assert.equal(ep.received.length, 0);
    assert.deepEqual(await sink.deliver([ev('a'), ev(''), ev('b')], signal()), { drained: 2 });
    assert.equal(ep.received[0]!.body, 'a\nb\n');
    await sink.close();
  } finally {
    await ep.close();
  }
});

test('batch formats: JSON lines, JSON array, Flume JSON with headers', async () => {
  const ep = await endpointDouble();
  try {
    const batch = [ev('{"n":1}'), ev('plain "text"', { k: 'v' })];
    for (const format of ['body', 'json_array', 'flume_json']) {
      const { sink } = makeSink({ endpoint: ep.url, batchSize: '10', format });
      await sink.start();
      await sink.deliver(batch, signal());
      await sink.close();
    }
    const [lines, array, flume] = ep.received;
    assert.equal(lines!.body, '{"n":1}\nplain "text"\n');
    assert.equal(lines!.headers['content-type'], 'text/plain');
    assert.deepEqual(JSON.parse(array!.body), [{ n: 1 }, 'plain "text"']);
    assert.equal(array!.headers['content-type'], 'application/json; charset=UTF-8');
    assert.deepEqual(JSON.parse(flume!.body), [
      { headers: {}, body: '{"n":1}' },
      { headers: { k: 'v' }, body: 'plain "text"' },
    ]);
  } finally {
    await ep.close();
  }
});

test('basic auth from the endpoint URL, custom content type', async () => {
  const ep = await endpointDouble();
  try {
    const url = ep.url.replace('http://', 'http://user:s%3Acret@');
    const { sink } = makeSink({ endpoint: url, contentTypeHeader: 'application/x-ndjson' });
    await sink.start();
    await sink.deliver([ev('x')], signal());
    assert.equal(ep.received[0]!.headers.authorization, `Basic ${Buffer.from('user:s:cret').toString('base64')}`);
    assert.equal(ep.received[0]!.headers['content-type'], 'application/x-ndjson');
    await sink.close();
  } finally {
    await ep.close();
  }
});

test('no listener, or no answer within requestTimeout: retriable errors, counted', async () => {
  const ep = await endpointDouble(() => undefined);
  const closedPort = await new Promise<number>((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  try {
    const dead = makeSink({ endpoint: `http://127.0.0.1:${closedPort}/` });
    await dead.sink.start();
    await assert.rejects(dead.sink.deliver([ev('a')], signal()), (err: AgentError) => err.retriable);
    assert.equal(dead.counters.get('ConnectionFailedCount'), 1);
    await dead.sink.close();
    const slow = makeSink({ endpoint: ep.url, requestTimeout: '200' });
    await slow.sink.start();
    const t0 = Date.now();
    await assert.rejects(slow.sink.deliver([ev('a')], signal()), /no answer within requestTimeout 200 ms/);
    assert.ok(Date.now() - t0 < 3000);
    await slow.sink.close();
  } finally {
    await ep.close();
  }
});

test('configuration mistakes are listed', () => {
  const problems = (props: Record<string, string>) =>
    componentOptions(def, props)
      .issues.map((i) => `${i.key ?? ''}: ${i.message}`)
      .join('\n');
  assert.match(problems({ endpoint: 'not a url' }), /is not a URL/);
  assert.match(problems({ endpoint: 'ftp://x' }), /only http:\/\/ and https:\/\//);
  assert.match(problems({ endpoint: 'http://x', 'rollback.2YY': 'false' }), /'2YY' is not an HTTP status/);
  assert.match(problems({ endpoint: 'http://x', 'backoff.503': 'yes' }), /not true or false/);
  assert.match(problems({ endpoint: 'http://x', ssl: 'true' }), /ssl = true but the endpoint is an http:\/\/ URL/);
  assert.match(problems({}), /endpoint/);
});

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
test(
  'https: the server certificate is verified (sslCaCertificate), an unknown one refused',
  { skip: !haveOpenssl },
  async () => {
    const key = path.join(tmp, 'key.pem');
    const cert = path.join(tmp, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
      ].concat(['-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1']),
      { stdio: 'ignore' },
    );
    const ep = await endpointDouble(() => 200, { key: fs.readFileSync(key), cert: fs.readFileSync(cert) });
    try {
      const trusted = makeSink({ endpoint: ep.url, sslCaCertificate: cert });
      await trusted.sink.start();
      await trusted.sink.deliver([ev('secret')], signal());
      assert.equal(ep.received[0]!.body, 'secret');
      await trusted.sink.close();
      const untrusted = makeSink({ endpoint: ep.url });
      await untrusted.sink.start();
      await assert.rejects(untrusted.sink.deliver([ev('x')], signal()), /self-signed|certificate/);
      assert.equal(ep.received.length, 1, 'nothing sent to an unverified server');
      await untrusted.sink.close();
    } finally {
      await ep.close();
    }
  },
);

test('HTTP forwarder: an agent http sink (flume_json) -> an agent http source, headers kept', async () => {
  const port = await new Promise<number>((resolve) => {
    const s = http.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
  const collector = await startAgent(
    [
      'c.sources = r1',
      'c.channels = ch',
      'c.sinks = k1',
      'c.sources.r1.type = http',
      'c.sources.r1.bind = 127.0.0.1',
      `c.sources.r1.port = ${port}`,
      'c.sources.r1.channels = ch',
      'c.channels.ch.type = memory',
      'c.sinks.k1.type = file_roll',
      `c.sinks.k1.sink.directory = ${tmp}`,
      'c.sinks.k1.sink.rollInterval = 0',
      'c.sinks.k1.sink.serializer = header_and_text',
      'c.sinks.k1.channel = ch',
    ].join('\n'),
    'c',
  );
  const forwarder = await startAgent(
    [
      'f.sources = r1',
      'f.channels = ch',
      'f.sinks = k1',
      'f.sources.r1.type = seq',
      'f.sources.r1.totalEvents = 250',
      'f.sources.r1.batchSize = 50',
      'f.sources.r1.channels = ch',
      'f.sources.r1.interceptors = st',
      'f.sources.r1.interceptors.st.type = static',
      'f.sources.r1.interceptors.st.key = origin',
      'f.sources.r1.interceptors.st.value = edge1',
      'f.channels.ch.type = memory',
      'f.sinks.k1.type = http',
      `f.sinks.k1.endpoint = http://127.0.0.1:${port}/`,
      'f.sinks.k1.batchSize = 100',
      'f.sinks.k1.format = flume_json',
      'f.sinks.k1.channel = ch',
    ].join('\n'),
    'f',
  );
  try {
    const out = () => fs.readdirSync(tmp).filter((f) => /^\d/.test(f));
    const lines = () => out().flatMap((f) => fs.readFileSync(path.join(tmp, f), 'utf8').split('\n').filter(Boolean));
    await waitFor(() => lines().length === 250, 10000, '250 events at the collector');
    assert.equal(lines()[0], '{origin=edge1} 0');
    assert.equal(lines()[249], '{origin=edge1} 249');
    // the forwarder commits when the answer arrives, just after the collector wrote the events
    const k1 = forwarder.counterGroups().find((g) => g.type === 'SINK')!;
    await waitFor(() => k1.get('EventDrainSuccessCount') === 250, 10000, 'the forwarder counted 250 events');
  } finally {
    await forwarder.stop();
    await collector.stop();
  }
});
