/**
 * elasticsearch sink against EsDouble, a protocol-level DOUBLE of Elasticsearch's _bulk API (test/helpers/es-double.ts;
 * no real Elasticsearch can run here: the opt-in test against a real server is test/integration/elasticsearch-real).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import def from '../../src/sinks/elasticsearch/index.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';
import { documentSerializer } from '../../src/sinks/elasticsearch/documents.js';
import { IndexNamer } from '../../src/sinks/elasticsearch/index-name.js';
import { SimpleDateFormat } from '../../src/compat/java/simple-date-format.js';
import { componentOptions } from '../../src/config/validate/index.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { AgentError } from '../../src/core/errors.js';
import { sinkCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { optionsFor, startAgent } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import { EsDouble, type EsDoubleOptions } from '../helpers/es-double.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-sink-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
let seq = 0;

async function withDouble<T>(opts: EsDoubleOptions, fn: (es: EsDouble) => Promise<T>): Promise<T> {
  const es = new EsDouble(opts);
  await es.listen();
  try {
    return await fn(es);
  } finally {
    await es.close();
  }
}

function sinkFor(es: EsDouble, props: Record<string, string> = {}) {
  const dir = path.join(tmp, `s${++seq}`);
  fs.mkdirSync(dir);
  const counters = sinkCounters('k1');
  const o = optionsFor(def, { hostNames: es.url, indexNameBuilder: 'simple', ...props });
  const sink = new ElasticsearchSink(o, {
    name: 'k1',
    logger: silentLogger(),
    clock: systemClock,
    counters,
    agentDir: dir,
  });
  const deadFile = path.join(dir, '.flume-ts', 'dead-letter', 'k1.jsonl');
  return { sink, counters, dir, deadFile };
}

const signal = () => new AbortController().signal;
const ev = (body: string, headers?: Record<string, string>): FlumeEvent => makeEvent(body, headers);

// ------------------------------------------------------------------------------------------- documents

test('logstash serializer: Flume 1.9 document shape', () => {
  const doc = JSON.parse(
    documentSerializer('logstash')(
      ev('hello world', { timestamp: '1339501474000', host: 'web1', src_path: '/var/log/a', source: 's', type: 't' }),
      { notJson: () => {} },
    ),
  );
  assert.deepEqual(doc, {
    '@message': 'hello world',
    '@timestamp': '2012-06-12T11:44:34.000Z',
    '@source': 's',
    '@type': 't',
    '@source_host': 'web1',
    '@source_path': '/var/log/a',
    '@fields': { timestamp: '1339501474000', host: 'web1', src_path: '/var/log/a', source: 's', type: 't' },
  });
  // an @-header set by the event wins; JSON values are embedded as objects; a bad timestamp is left out
  const d2 = JSON.parse(
    documentSerializer('logstash')(
      ev('{"a": 1,\n "b": [2]}', { host: 'h', '@source_host': 'x', timestamp: 'soon', meta: '{"k":"v"}' }),
      { notJson: () => {} },
    ),
  );
  assert.deepEqual(d2['@message'], { a: 1, b: [2] });
  assert.equal(d2['@source_host'], undefined);
  assert.equal(d2['@timestamp'], undefined);
  assert.deepEqual(d2['@fields'].meta, { k: 'v' });
  assert.equal(d2['@fields']['@source_host'], 'x');
});

test('dynamic and json serializers', () => {
  let notJson = 0;
  const ctx = { notJson: () => notJson++ };
  assert.deepEqual(JSON.parse(documentSerializer('dynamic')(ev('b', { k: 'v', j: '{"x":1}' }), ctx)), {
    body: 'b',
    k: 'v',
    j: { x: 1 },
  });
  const json = documentSerializer('json');
  const line = json(ev('{"level":"info",\n"msg":"started"}'), ctx);
  assert.ok(!line.includes('\n'), 'one line per document');
  assert.deepEqual(JSON.parse(line), { level: 'info', msg: 'started' });
  assert.deepEqual(JSON.parse(json(ev('plain text'), ctx)), { message: 'plain text' });
  assert.deepEqual(JSON.parse(json(ev('[1,2]'), ctx)), { message: '[1,2]' });
  assert.equal(notJson, 2);
});

test('index names: Flume escapes, the event time in dateFormat and timeZone, the simple builder', async () => {
  const t = Date.UTC(2012, 5, 12, 23, 30);
  const invalid: string[] = [];
  const simple = (indexName: string, h: Record<string, string>, zone?: string) =>
    new IndexNamer('simple', indexName, '', 'UTC', zone).name(ev('x', h), t + 86_400_000, () => invalid.push('x'));
  assert.equal(simple('logs-%{app}-x%{none}', { app: 'web' }), 'logs-web-x');
  const time = new IndexNamer('time', 'flume-%{app}', 'yyyy-MM-dd', 'Etc/UTC');
  const name = (h: Record<string, string>) => time.name(ev('x', h), t + 86_400_000, () => invalid.push('x'));
  assert.equal(name({ timestamp: String(t), app: 'a' }), 'flume-a-2012-06-12');
  assert.equal(name({ '@timestamp': String(t) }), 'flume--2012-06-12');
  assert.equal(name({}), 'flume--2012-06-13', 'no timestamp: now');
  assert.equal(name({ timestamp: 'x' }), 'flume--2012-06-13');
  assert.equal(invalid.length, 1);
  const paris = new IndexNamer('time', 'f', 'yyyy.MM.dd.HH', 'Europe/Paris');
  assert.equal(
    paris.name(ev('x', { timestamp: String(t) }), 0, () => {}),
    'f-2012.06.13.01',
  );
  // the shared BucketPath engine: date letters (in the escape zone: the agent's by default), %t, %%, host names
  assert.equal(simple('logs-%Y.%m.%d-%H', { timestamp: String(t) }, 'UTC'), 'logs-2012.06.12-23');
  assert.equal(simple('logs-%Y.%m.%d-%H', { timestamp: String(t) }, 'Asia/Tokyo'), 'logs-2012.06.13-08');
  assert.equal(simple('logs-%Y%m%d', { '@timestamp': String(t) }, 'UTC'), 'logs-20120612', '@timestamp');
  assert.equal(simple('logs-%Y%m%d', {}, 'UTC'), 'logs-20120613', 'no timestamp: now');
  assert.equal(simple('t%t-%%', { timestamp: String(t) }), `t${t}-%`);
  const host = new IndexNamer('simple', 'h-%[localhost]', '', 'UTC');
  await host.start();
  assert.equal(
    host.name(ev('x', {}), 0, () => {}),
    `h-${os.hostname()}`,
  );
});

test('SimpleDateFormat: Java letters, quotes, offsets', () => {
  const t = Date.UTC(2026, 0, 5, 3, 4, 5, 67);
  assert.equal(new SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss.SSSZ", 'Etc/UTC').format(t), '2026-01-05T03:04:05.067+0000');
  assert.equal(
    new SimpleDateFormat('yy MMM MMMM d D EEE EEEE a h K k', 'UTC').format(t),
    '26 Jan January 5 5 Mon Monday AM 3 3 3',
  );
  assert.equal(new SimpleDateFormat("HH 'o''clock' XXX", 'Asia/Kolkata').format(t), "08 o'clock +05:30");
  assert.throws(() => new SimpleDateFormat('yyyy-ww', 'UTC'), /letter 'w'/);
  assert.throws(() => new SimpleDateFormat('yyyy', 'Mars/Base'), /not a time zone/);
});

// ------------------------------------------------------------------------------------------- configuration

function problems(props: Record<string, string>): string {
  const r = componentOptions(def, { hostNames: 'localhost', ...props });
  return r.issues.map((i) => `${i.key ?? ''}: ${i.message}`).join('\n');
}

test('configuration: Flume 1.9 keys are accepted, mistakes are listed', () => {
  const ok = componentOptions(def, {
    hostNames: 'es1:9200,es2',
    indexName: 'foo_index',
    indexType: 'bar_type',
    clusterName: 'foobar_cluster',
    batchSize: '500',
    serializer: 'org.apache.flume.sink.elasticsearch.ElasticSearchDynamicSerializer',
    indexNameBuilder: 'org.apache.flume.sink.elasticsearch.TimeBasedIndexNameBuilder',
    'indexNameBuilder.dateFormat': 'yyyy.MM.dd',
    'indexNameBuilder.timeZone': 'America/Los_Angeles',
    ttl: '5d',
  });
  assert.ok(ok.options, problems({}));
  assert.equal(ok.options.serializer, 'dynamic');
  assert.ok(ok.issues.some((i) => i.severity === 'warning' && i.key === 'ttl'));
  assert.match(problems({ indexName: 'Logs' }), /indexName: .*upper-case/);
  assert.equal(problems({ indexName: 'logs-%Y.%m-%{app}-%[localhost]' }), '');
  assert.match(problems({ indexName: 'logs-%Q' }), /indexName: unknown escape %Q/);
  assert.match(problems({ indexName: 'logs-%b' }), /indexName: the escape '%b' renders upper-case letters/);
  assert.match(problems({ indexName: 'Logs-%Y' }), /indexName: .*upper-case/);
  assert.match(
    problems({ 'indexNameBuilder.timeZone': 'Nowhere/Land' }),
    /indexNameBuilder.timeZone: .*not a time zone/,
  );
  assert.match(problems({ 'indexNameBuilder.dateFormat': 'yyyy-MMM' }), /upper-case names \(2026-Jan\)/);
  assert.match(problems({ 'indexNameBuilder.dateFormat': 'yyyy-ww' }), /letter 'w'/);
  assert.match(
    problems({ serializer: 'com.example.MySerializer' }),
    /serializer: .*not one of logstash, dynamic, json/,
  );
  assert.match(problems({ hostNames: 'http://a:9200', ssl: 'true' }), /http:\/\/ URL but ssl = true/);
  assert.match(problems({ hostNames: 'ftp://a' }), /only http:\/\/ and https:\/\//);
  assert.match(problems({ username: 'u' }), /username and password go together/);
  assert.match(problems({ apiKey: 'k', username: 'u', password: 'p' }), /either apiKey or username/);
});

// ------------------------------------------------------------------------------------------- delivery

test('a batch becomes one _bulk request: NDJSON, vendored content type, product header checked', async () => {
  await withDouble({}, async (es) => {
    const { sink, counters } = sinkFor(es, { indexName: 'app-%{svc}', serializer: 'logstash' });
    await sink.start();
    await sink.deliver([ev('one', { svc: 'a' }), ev('two', { svc: 'b' }), ev('three', { svc: 'a' })], signal());
    assert.equal(es.requests.length, 1);
    assert.match(
      String(es.requests[0]!['content-type']),
      /application\/vnd\.elasticsearch\+x-ndjson; compatible-with=8/,
    );
    assert.deepEqual(
      es.docs('app-a').map((d) => d['@message']),
      ['one', 'three'],
    );
    assert.deepEqual(
      es.docs('app-b').map((d) => d['@message']),
      ['two'],
    );
    assert.equal(counters.get('DeadLetterCount'), 0);
    // multi-byte text, long enough to outgrow the request buffer's first size
    const long = 'é日本'.repeat(3000);
    await sink.deliver([ev(long, { svc: 'c' }), ev('€', { svc: 'c' })], signal());
    assert.deepEqual(
      es.docs('app-c').map((d) => d['@message']),
      [long, '€'],
    );
    await sink.close();
    await sink.close();
  });
});

test('gzip compression, basic auth from the URL, API key', async () => {
  await withDouble({ auth: { username: 'elastic', password: 'p@ss' } }, async (es) => {
    const url = es.url.replace('http://', 'http://elastic:p%40ss@');
    const { sink } = sinkFor(es, { hostNames: url, compression: 'gzip' });
    await sink.start();
    await sink.deliver([ev('zipped')], signal());
    assert.equal(es.requests[0]!['content-encoding'], 'gzip');
    assert.equal(es.docs()[0]!['@message'], 'zipped');
    await sink.close();
  });
  await withDouble({ auth: { apiKey: 'a2V5OnNlY3JldA==' } }, async (es) => {
    const { sink } = sinkFor(es, { apiKey: 'a2V5OnNlY3JldA==' });
    await sink.start();
    await sink.deliver([ev('keyed')], signal());
    assert.equal(es.count, 1);
    await sink.close();
    const bad = sinkFor(es, { apiKey: 'wrong' }).sink;
    await bad.start();
    await assert.rejects(bad.deliver([ev('x')], signal()), (err: AgentError) => {
      assert.equal(err.code, 'FLUME_ERR_SINK_PERMANENT');
      assert.match(err.message, /HTTP 401 \(security_exception/);
      return true;
    });
    await bad.close();
  });
});

test('429 and 5xx items are sent again alone until stored; nothing is duplicated', async () => {
  await withDouble(
    { itemFault: (a, seen) => (a.doc!.body === 'busy' && seen <= 2 ? { status: seen === 1 ? 429 : 503 } : undefined) },
    async (es) => {
      const { sink, counters } = sinkFor(es, { serializer: 'dynamic' });
      await sink.start();
      const r = await sink.deliver([ev('a'), ev('busy'), ev('c')], signal());
      assert.equal(r, undefined, 'every event counts as drained');
      assert.deepEqual(
        es.docs().map((d) => d.body),
        ['a', 'c', 'busy'],
      );
      assert.equal(es.requests.length, 3);
      assert.equal(counters.get('ItemRetryCount'), 2);
      await sink.close();
    },
  );
});

test('items still refused after itemRetryTimeout fail the batch (retriable); ids keep the retry idempotent', async () => {
  let busy = true;
  await withDouble({ itemFault: (a) => (busy && a.doc!.body === 'b' ? { status: 429 } : undefined) }, async (es) => {
    const { sink } = sinkFor(es, { serializer: 'dynamic', itemRetryTimeout: '300ms', idHash: 'true' });
    await sink.start();
    const batch = [ev('a'), ev('b')];
    await assert.rejects(sink.deliver(batch, signal()), (err: AgentError) => {
      assert.equal(err.code, 'FLUME_ERR_SINK_DELIVERY');
      assert.ok(err.retriable);
      assert.match(err.message, /1 documents still refused .*429 es_rejected_execution_exception.*sent again/);
      return true;
    });
    busy = false;
    await sink.deliver(batch, signal()); // what the runner does after the rollback
    assert.equal(es.count, 2, 'the document indexed by the first attempt was overwritten, not duplicated');
    await sink.close();
  });
});

test('poison items go to the dead-letter file with the reason; the rest is indexed', async () => {
  await withDouble(
    {
      itemFault: (a) =>
        a.doc!.body === 'bad'
          ? { status: 400, error: { type: 'mapper_parsing_exception', reason: 'failed to parse field [n]' } }
          : undefined,
    },
    async (es) => {
      const { sink, counters, deadFile } = sinkFor(es, { serializer: 'dynamic' });
      await sink.start();
      const bin = makeEvent(Buffer.from([0xff, 0xfe, 0x62, 0x61, 0x64]), { k: 'v' });
      const r = await sink.deliver(
        [ev('good'), ev('bad', { k: 'v' }), makeEvent(Buffer.from('bad'), { t: '1' }), bin],
        signal(),
      );
      assert.deepEqual(r, { drained: 2 });
      assert.equal(counters.get('DeadLetterCount'), 2);
      const lines = fs
        .readFileSync(deadFile, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l));
      assert.equal(lines.length, 2);
      assert.equal(lines[0].status, 400);
      assert.equal(lines[0].reason, 'mapper_parsing_exception: failed to parse field [n]');
      assert.equal(lines[0].index, 'flume');
      assert.equal(lines[0].sink, 'k1');
      assert.deepEqual(lines[0].headers, { k: 'v' });
      assert.equal(lines[0].body, 'bad');
      assert.deepEqual(
        es.docs().map((d) => d.body),
        ['good', '\ufffd\ufffdbad'],
      );
      await sink.close();
    },
  );
});

test('an invalid index name from a header is dead-lettered, not retried forever', async () => {
  await withDouble({}, async (es) => {
    const { sink, deadFile } = sinkFor(es, { indexName: 'logs-%{app}' });
    await sink.start();
    assert.deepEqual(await sink.deliver([ev('x', { app: 'Web' }), ev('y', { app: 'web' })], signal()), { drained: 1 });
    const line = JSON.parse(fs.readFileSync(deadFile, 'utf8'));
    assert.equal(line.index, 'logs-Web');
    assert.match(line.reason, /invalid_index_name_exception/);
    await sink.close();
  });
});

test('a 503 answer is retriable; 404 index_not_found items are a configuration error, not dead-lettered', async () => {
  let status: number | undefined = 503;
  await withDouble({ requestFault: () => status }, async (es) => {
    const { sink, deadFile } = sinkFor(es);
    await sink.start();
    await assert.rejects(
      sink.deliver([ev('a')], signal()),
      (err: AgentError) => err.retriable && /HTTP 503/.test(err.message),
    );
    status = undefined;
    await sink.deliver([ev('a')], signal());
    assert.equal(es.count, 1);
    assert.equal(fs.readFileSync(deadFile, 'utf8'), '');
    await sink.close();
  });
  await withDouble(
    {
      itemFault: () => ({
        status: 404,
        error: {
          type: 'index_not_found_exception',
          reason: 'no such index [x] and [require_alias] request flag is [true]',
        },
      }),
    },
    async (es) => {
      const { sink, deadFile } = sinkFor(es);
      await sink.start();
      await assert.rejects(sink.deliver([ev('a')], signal()), (err: AgentError) => {
        assert.equal(err.code, 'FLUME_ERR_SINK_PERMANENT');
        assert.match(err.message, /404 \(index_not_found_exception/);
        return true;
      });
      assert.equal(fs.readFileSync(deadFile, 'utf8'), '', 'a configuration problem is not dead-lettered');
      await sink.close();
    },
  );
});

test('a server without x-elastic-product is refused with a clear reason', async () => {
  await withDouble({ noProductHeader: true }, async (es) => {
    const { sink } = sinkFor(es);
    await sink.start();
    await assert.rejects(sink.deliver([ev('a')], signal()), /did not identify itself as Elasticsearch/);
    await sink.close();
  });
});

test('413: the request is split in halves; a document too large alone is dead-lettered', async () => {
  await withDouble({ maxContentLength: 700 }, async (es) => {
    const { sink, counters, deadFile } = sinkFor(es, { serializer: 'dynamic' });
    await sink.start();
    const batch = Array.from({ length: 8 }, (_, i) => ev(`event-${i}-${'x'.repeat(80)}`));
    batch.push(ev('y'.repeat(1000)));
    assert.deepEqual(await sink.deliver(batch, signal()), { drained: 8 });
    assert.equal(es.count, 8);
    assert.equal(counters.get('DeadLetterCount'), 1);
    assert.match(JSON.parse(fs.readFileSync(deadFile, 'utf8')).reason, /request_too_large/);
    await sink.close();
  });
});

test('action = create with idHeader: a 409 on a resent document counts as stored', async () => {
  await withDouble({}, async (es) => {
    const { sink, counters } = sinkFor(es, { action: 'create', idHeader: 'eventId' });
    await sink.start();
    await sink.deliver([ev('a', { eventId: '1' }), ev('b', { eventId: '2' })], signal());
    const r = await sink.deliver([ev('a', { eventId: '1' }), ev('c', { eventId: '3' }), ev('n')], signal());
    assert.equal(r, undefined);
    assert.equal(es.count, 4);
    assert.equal(counters.get('DeadLetterCount'), 0);
    await sink.close();
  });
});

test('stopping aborts the item-retry backoff at once', async () => {
  await withDouble({ itemFault: () => ({ status: 429 }) }, async (es) => {
    const { sink } = sinkFor(es);
    await sink.start();
    const ac = new AbortController();
    const p = sink.deliver([ev('a')], ac.signal);
    await waitFor(() => es.requests.length >= 1);
    const t0 = Date.now();
    ac.abort();
    await assert.rejects(p, /stopping/);
    assert.ok(Date.now() - t0 < 2000);
    await sink.close();
  });
});

test('a dead-letter file that cannot be opened fails the start', async () => {
  await withDouble({}, async (es) => {
    const { sink, dir } = sinkFor(es, { deadLetterFile: 'blocked/dead.jsonl' });
    fs.writeFileSync(path.join(dir, 'blocked'), 'a file, not a directory');
    await assert.rejects(sink.start(), (err: AgentError) => err.code === 'FLUME_ERR_SINK_START');
    await sink.close();
  });
});

test('an agent: seq -> memory channel -> elasticsearch; drained and dead-lettered counters', async () => {
  await withDouble({ itemFault: (a) => (a.doc!['@message'] === '1' ? { status: 400 } : undefined) }, async (es) => {
    const dir = path.join(tmp, `agent${++seq}`);
    fs.mkdirSync(dir);
    const agent = await startAgent(
      [
        'a1.sources = r1',
        'a1.channels = c1',
        'a1.sinks = k1',
        'a1.sources.r1.type = seq',
        'a1.sources.r1.totalEvents = 3',
        'a1.sources.r1.batchSize = 3',
        'a1.sources.r1.channels = c1',
        'a1.channels.c1.type = memory',
        'a1.sinks.k1.type = elasticsearch',
        `a1.sinks.k1.hostNames = ${es.url}`,
        'a1.sinks.k1.indexNameBuilder = simple',
        'a1.sinks.k1.channel = c1',
        `a1.sinks.k1.deadLetterFile = ${path.join(dir, 'dead.jsonl')}`,
      ].join('\n'),
      'a1',
      { agentDir: dir },
    );
    try {
      const m = () => agent.counterGroups().find((g) => g.name === 'k1')!;
      await waitFor(() => m().get('DeadLetterCount') === 1 && m().get('EventDrainSuccessCount') === 2);
      // a body that parses as JSON (here a number) stays a string: only objects are embedded
      assert.deepEqual(
        es.docs('flume').map((d) => d['@message']),
        ['0', '2'],
      );
      assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'dead.jsonl'), 'utf8')).body, '1');
    } finally {
      await agent.stop();
    }
  });
});
