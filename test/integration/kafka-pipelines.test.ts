/**
 * Kafka topologies end to end, from the examples (bootstrap servers, ports, directories and topics rewritten for the
 * test), as in-process agents against a real Kafka-protocol broker (librdkafka's mock cluster, one for the file):
 *  - two tiers: edge (netcat -> memory -> kafka sink) -> broker -> collector (kafka source -> file -> file_roll):
 *    every event once, headers and keys preserved, one partition per key;
 *  - the kafka channel between netcat and file_roll, and two agents sharing one kafka channel (topic + group):
 *    each event written once, by one of them;
 *  - the gateway pipeline: a tailed JSON access log -> replicating -> Elasticsearch (a protocol-level double of
 *    `_bulk`, test/helpers/es-double.ts) and a Kafka topic (read back by kcat): every line in both.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { formatIssues } from '../../src/config/issues.js';
import type { Agent } from '../../src/runtime/agent.js';
import type { KafkaChannel } from '../../src/kafka/channel/channel.js';
import { startAgent } from '../helpers/agent.js';
import { freePort, ROOT, tcpExchange, tmpDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { KafkaMock, kcatRead, kcatUnavailable, mockUnavailable } from '../helpers/kafka-mock.js';
import { EsDouble } from '../helpers/es-double.js';

const dirs: string[] = [];
const agents: Agent[] = [];
let mock: KafkaMock;

after(async () => {
  for (const a of agents.splice(0)) await a.stop();
  await mock?.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function example(name: string, replace: [string, string][]): string {
  let text = fs.readFileSync(path.join(ROOT, 'examples', name), 'utf8');
  for (const [from, to] of replace) text = text.split(from).join(to);
  return text;
}

/** Quick group joins on the mock (it delays a join by session.timeout.ms - 1 s). */
const quickConsumer = (agent: string, kind: 'sources.r1' | 'channels.c1') =>
  `\n${agent}.${kind}.kafka.consumer.session.timeout.ms = 3000\n` +
  `${agent}.${kind}.kafka.consumer.heartbeat.interval.ms = 300\n`;

/** file_roll output lines `{k=v, ...} body` -> [headers, body]. */
function outputOf(dir: string): { headers: Record<string, string>; body: string }[] {
  const out: { headers: Record<string, string>; body: string }[] = [];
  if (!fs.existsSync(dir)) return out;
  for (const n of fs.readdirSync(dir))
    for (const line of fs.readFileSync(path.join(dir, n), 'utf8').split('\n')) {
      const m = /^\{(.*?)\} (.*)$/.exec(line);
      if (!m) continue;
      const headers: Record<string, string> = {};
      for (const kv of m[1]!.split(', ').filter(Boolean)) {
        const i = kv.indexOf('=');
        headers[kv.slice(0, i)] = kv.slice(i + 1);
      }
      out.push({ headers, body: m[2]! });
    }
  return out;
}

async function sendLines(port: number, lines: string[]): Promise<void> {
  const reply = await tcpExchange(port, `${lines.join('\n')}\n`, {
    until: (r) => r.split('OK\n').length - 1 >= lines.length,
    timeoutMs: 30_000,
  });
  assert.equal(reply, 'OK\n'.repeat(lines.length));
}

async function start(text: string, name: string): Promise<Agent> {
  const a = await startAgent(text, name);
  agents.push(a);
  return a;
}

test('every agent of the kafka examples validates, with no warnings', () => {
  const files: Record<string, string[]> = {
    'kafka-two-tier.properties': ['edge', 'collector'],
    'kafka-channel.properties': ['a1'],
    'gateway-pipeline.properties': ['gw'],
  };
  for (const [file, names] of Object.entries(files)) {
    for (const n of names) {
      const r = loadConfig({ files: [path.join(ROOT, 'examples', file)], agent: n, sys: {} });
      assert.ok(r.plan, `${file} -n ${n}: ${formatIssues(r.issues)}`);
      assert.deepEqual(
        r.issues.filter((i) => i.severity === 'warning'),
        [],
        `${file} -n ${n}: no warnings`,
      );
    }
  }
});

test('unreachable bootstrap servers: the agent keeps running, retries, and /health names the brokers', async () => {
  const port = await freePort(); // nothing listens there
  const dir = tmpDir('kafka-unreachable-');
  dirs.push(dir);
  const text = [
    'a1.sources = r1',
    'a1.channels = c1 c2',
    'a1.sinks = k1',
    'a1.sources.r1.type = seq',
    'a1.sources.r1.totalEvents = 10',
    'a1.sources.r1.channels = c1',
    'a1.channels.c1.type = memory',
    'a1.channels.c2.type = kafka',
    `a1.channels.c2.kafka.bootstrap.servers = 127.0.0.1:${port}`,
    'a1.channels.c2.kafka.producer.retries = 0',
    'a1.sinks.k1.type = kafka',
    'a1.sinks.k1.channel = c1',
    `a1.sinks.k1.kafka.bootstrap.servers = 127.0.0.1:${port}`,
    'a1.sinks.k1.kafka.producer.retries = 0',
    '',
  ].join('\n');
  const a = await start(text, 'a1');
  await waitFor(
    () => ['channel.c2', 'sink.k1'].every((c) => a.health().some((h) => h.component === c)),
    20_000,
    'the kafka channel and sink reported unhealthy',
  );
  for (const c of ['channel.c2', 'sink.k1']) {
    const h = a.health().find((x) => x.component === c)!;
    assert.match(h.reason, new RegExp(`127\\.0\\.0\\.1:${port}`), `${c}: ${h.reason}`);
  }
  assert.equal(a.sources.get('r1')!.sup.state, 'running', 'the rest of the agent runs');
  await a.stop(2000);
  agents.splice(agents.indexOf(a), 1);
});

describe('kafka topologies against the mock broker', { skip: mockUnavailable }, () => {
  before(async () => {
    mock = await KafkaMock.start();
  });

  test(
    'gateway pipeline: every line of the access log reaches the Elasticsearch double and the Kafka topic',
    {
      skip: kcatUnavailable,
    },
    async () => {
      const dir = tmpDir('kafka-gateway-');
      dirs.push(dir);
      const logs = path.join(dir, 'logs');
      fs.mkdirSync(logs);
      const es = new EsDouble();
      await es.listen();
      try {
        const text =
          example('gateway-pipeline.properties', [
            ['/var/log/nginx', logs],
            ['/var/lib/flume-ts/gateway', path.join(dir, 'state')],
            ['http://127.0.0.1:9200', es.url],
            ['127.0.0.1:9092', mock.bootstrap],
          ]) + '\ngw.channels.es.minimumRequiredSpace = 1m\ngw.channels.kafka.minimumRequiredSpace = 1m\n';
        const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ status: 200, path: `/item/${i}` }));
        fs.writeFileSync(path.join(logs, 'access.json'), `${lines.join('\n')}\n`);
        await start(text, 'gw');
        await waitFor(() => es.docs('gateway').length >= 50, 30_000, '50 documents indexed');
        assert.deepEqual(
          es
            .docs('gateway')
            .map((d) => d.path)
            .sort(),
          lines.map((l) => (JSON.parse(l) as { path: string }).path).sort(),
          'each line once, its JSON fields as the document',
        );
        let records: ReturnType<typeof kcatRead> = [];
        await waitFor(
          () => (records = kcatRead(mock.bootstrap, 'nginx-access')).length >= 50,
          30_000,
          '50 records in nginx-access',
        );
        assert.deepEqual(records.map((r) => r.payload).sort(), [...lines].sort());
        for (const a of agents.splice(0)) await a.stop();
      } finally {
        await es.close();
      }
    },
  );

  test('two tiers through Kafka: every event once, headers and keys preserved, one partition per key', async () => {
    const dir = tmpDir('kafka-two-tier-');
    dirs.push(dir);
    const port = await freePort();
    const text = example('kafka-two-tier.properties', [
      ['127.0.0.1:9092', mock.bootstrap],
      ['44444', String(port)],
      ['/tmp/flume-collector-channel', path.join(dir, 'channel')],
      ['/tmp/flume-collector', path.join(dir, 'out')],
      ['flume-events', 'two-tier'],
    ]);
    // the record key: the edge copies `k<n>` from the body into the key header
    const edge =
      text.replace('edge.sources.r1.interceptors = i1 i2', 'edge.sources.r1.interceptors = i1 i2 i3') +
      '\nedge.sources.r1.interceptors.i3.type = regex_extractor\n' +
      'edge.sources.r1.interceptors.i3.regex = ^(k\\\\d)\n' +
      'edge.sources.r1.interceptors.i3.serializers = s1\n' +
      'edge.sources.r1.interceptors.i3.serializers.s1.name = key\n';
    const collector = text + quickConsumer('collector', 'sources.r1');
    fs.mkdirSync(path.join(dir, 'out'), { recursive: true });
    await start(edge, 'edge');
    await start(collector, 'collector');
    const lines = Array.from({ length: 300 }, (_, i) => `k${i % 6} line ${i}`);
    await sendLines(port, lines.slice(0, 150));
    await sendLines(port, lines.slice(150));
    const out = path.join(dir, 'out');
    await waitFor(() => outputOf(out).length >= 300, 30_000, '300 events at the collector');
    const got = outputOf(out);
    assert.equal(got.length, 300, 'every event once');
    assert.deepEqual(got.map((e) => e.body).sort(), [...lines].sort());
    const partitionOfKey = new Map<string, Set<string>>();
    for (const e of got) {
      assert.ok(e.headers.host, 'the edge host header travelled (useFlumeEventFormat)');
      assert.match(e.headers.timestamp ?? '', /^\d{13}$/);
      assert.equal(e.headers.key, e.body.slice(0, 2), 'the key header');
      const parts = partitionOfKey.get(e.headers.key!) ?? new Set<string>();
      parts.add(e.headers.partition!);
      partitionOfKey.set(e.headers.key!, parts);
    }
    assert.equal(partitionOfKey.size, 6);
    for (const [k, parts] of partitionOfKey) assert.equal(parts.size, 1, `key ${k} in one partition`);
    for (const a of agents.splice(0)) await a.stop();
  });

  test('the kafka channel between netcat and file_roll: every line once, headers kept', async () => {
    const dir = tmpDir('kafka-channel-');
    dirs.push(dir);
    const port = await freePort();
    const text =
      example('kafka-channel.properties', [
        ['127.0.0.1:9092', mock.bootstrap],
        ['44444', String(port)],
        ['/tmp/flume-kafka-channel', path.join(dir, 'out')],
        ['flume-channel', 'channel-one'],
        ['flume-drain', 'one-group'],
      ]) + quickConsumer('a1', 'channels.c1');
    fs.mkdirSync(path.join(dir, 'out'), { recursive: true });
    await start(text, 'a1');
    const lines = Array.from({ length: 200 }, (_, i) => `line ${i}`);
    await sendLines(port, lines);
    await waitFor(() => outputOf(path.join(dir, 'out')).length >= 200, 30_000, '200 lines written');
    const got = outputOf(path.join(dir, 'out'));
    // Kafka orders records within a partition; events without a key are spread over the topic's 4 partitions
    assert.deepEqual(got.map((e) => e.body).sort(), [...lines].sort(), 'every line once');
    assert.ok(
      got.every((e) => e.headers.host),
      'headers survive the topic (parseAsFlumeEvent)',
    );
    for (const a of agents.splice(0)) await a.stop();
  });

  test('two agents sharing one kafka channel (topic + group): each event written once, by one of them', async () => {
    const runs = await Promise.all(
      [1, 2].map(async (i) => {
        const dir = tmpDir(`kafka-shared-${i}-`);
        dirs.push(dir);
        const port = await freePort();
        const text =
          example('kafka-channel.properties', [
            ['127.0.0.1:9092', mock.bootstrap],
            ['44444', String(port)],
            ['/tmp/flume-kafka-channel', path.join(dir, 'out')],
            ['flume-channel', 'channel-shared'],
            ['flume-drain', 'shared-group'],
          ]) + quickConsumer('a1', 'channels.c1');
        fs.mkdirSync(path.join(dir, 'out'), { recursive: true });
        return { dir, port, agent: await start(text, 'a1') };
      }),
    );
    // both consumers in the group, the 4 partitions split between them, before anything flows (a group of its own:
    // the mock broker is slow to assign partitions in a group a member just left)
    const channelOf = (a: Agent) => a.channels.get('c1')!.sup.instance as KafkaChannel;
    await waitFor(
      () => runs.every((r) => channelOf(r.agent).assignment.length > 0),
      // the mock broker takes 12-14 s per rebalance, longer on a loaded machine
      90_000,
      'both agents hold partitions',
    );
    const lines = (tag: string) => Array.from({ length: 200 }, (_, i) => `${tag} ${i}`);
    await Promise.all([sendLines(runs[0]!.port, lines('a')), sendLines(runs[1]!.port, lines('b'))]);
    const all = () => runs.flatMap((r) => outputOf(path.join(r.dir, 'out')).map((e) => e.body));
    await waitFor(() => all().length >= 400, 30_000, '400 lines written');
    const got = all();
    assert.equal(got.length, 400, 'each event once');
    assert.deepEqual([...got].sort(), [...lines('a'), ...lines('b')].sort());
    for (const r of runs) assert.ok(outputOf(path.join(r.dir, 'out')).length > 0, 'both agents wrote some');
    for (const a of agents.splice(0)) await a.stop();
  });
});
