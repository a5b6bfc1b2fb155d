/**
 * Opt-in: the kafka sink, source and channel against a real Kafka cluster, when KAFKA_BROKERS names one
 * (host:port,...; topics auto-created, PLAINTEXT). Skipped otherwise: no Kafka server can run on the test machines
 * (the other kafka tests use librdkafka's mock cluster).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { Agent } from '../../src/runtime/agent.js';
import { startAgent } from '../helpers/agent.js';
import { freePort, tcpExchange, tmpDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const brokers = process.env.KAFKA_BROKERS;
const skip = brokers ? false : 'set KAFKA_BROKERS=host:port to run against a real Kafka cluster';
const agents: Agent[] = [];
const dirs: string[] = [];
after(async () => {
  for (const a of agents) await a.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test(
  'real cluster: netcat -> kafka channel -> kafka sink -> topic -> kafka source -> file_roll',
  { skip },
  async () => {
    const run = `flume-ts-${Date.now()}`;
    const dir = tmpDir('kafka-real-');
    dirs.push(dir);
    const port = await freePort();
    const text = `
a1.sources = r1 r2
a1.channels = c1 c2
a1.sinks = k1 k2
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${port}
a1.sources.r1.channels = c1
a1.channels.c1.type = kafka
a1.channels.c1.kafka.bootstrap.servers = ${brokers}
a1.channels.c1.kafka.topic = ${run}-channel
a1.channels.c1.kafka.consumer.group.id = ${run}-channel
a1.sinks.k1.type = kafka
a1.sinks.k1.channel = c1
a1.sinks.k1.kafka.bootstrap.servers = ${brokers}
a1.sinks.k1.kafka.topic = ${run}-topic
a1.sinks.k1.useFlumeEventFormat = true
a1.sources.r2.type = kafka
a1.sources.r2.channels = c2
a1.sources.r2.kafka.bootstrap.servers = ${brokers}
a1.sources.r2.kafka.topics = ${run}-topic
a1.sources.r2.kafka.consumer.group.id = ${run}-source
a1.sources.r2.kafka.consumer.auto.offset.reset = earliest
a1.sources.r2.useFlumeEventFormat = true
a1.channels.c2.type = memory
a1.sinks.k2.type = file_roll
a1.sinks.k2.channel = c2
a1.sinks.k2.sink.directory = ${path.join(dir, 'out')}
a1.sinks.k2.sink.rollInterval = 0
`;
    fs.mkdirSync(path.join(dir, 'out'));
    agents.push(await startAgent(text, 'a1'));
    const lines = Array.from({ length: 100 }, (_, i) => `real ${i}`);
    await tcpExchange(port, lines.join('\n') + '\n', { until: (r) => r.split('OK\n').length > lines.length });
    const out = () =>
      fs.readdirSync(path.join(dir, 'out')).flatMap((f) =>
        fs
          .readFileSync(path.join(dir, 'out', f), 'utf8')
          .split('\n')
          .filter(Boolean),
      );
    await waitFor(() => out().length >= lines.length, 60_000, 'every line through the cluster');
    assert.deepEqual(out().sort(), [...lines].sort());
  },
);
