/**
 * The runtime with a channel that cannot know its size or capacity (the remote test double, as a Kafka channel):
 * an agent starts, delivers and shuts down without a drain waiting on a size it cannot know; a reload removing the
 * channel drains it the same way; puts to several required channels commit the one with unknown room last;
 * telemetry reports what it cannot know as unknown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFrom, startPlan, withChannelDef, optionsFor } from '../helpers/agent.js';
import { remoteBroker, remoteChannelDef, RemoteChannel } from '../helpers/remote-channel.js';
import { waitFor } from '../helpers/wait.js';
import { makeEvent } from '../../src/core/event.js';
import { ChannelProcessor } from '../../src/runtime/channel-processor.js';
import { ChannelCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { AgentError } from '../../src/core/errors.js';
import { prometheusText } from '../../src/monitor/prometheus.js';
import { flumeMetricsJson } from '../../src/monitor/http-server.js';
import memoryDef from '../../src/channels/memory.js';
import replicating from '../../src/selectors/replicating.js';
import type { Channel } from '../../src/contract/index.js';
import type { Agent } from '../../src/runtime/agent.js';

const accepted = (a: Agent) => a.sources.get('r1')!.counters.get('EventAcceptedCount');
let brokers = 0;
const brokerName = () => `runtime-remote-${process.pid}-${brokers++}`;

function config(extra = ''): string {
  return `
a1.sources = r1
a1.channels = c1 c2
a1.sinks = k1 k2
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = 200
a1.sources.r1.batchSize = 20
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c2.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.batchSize = 50
a1.sinks.k1.channel = c1
a1.sinks.k2.type = null
a1.sinks.k2.channel = c2
${extra}`;
}

test('an agent on a remote channel starts, delivers, and stops at once when a take finds nothing', async () => {
  const broker = brokerName();
  remoteBroker(broker).append(Array.from({ length: 1000 }, (_, i) => makeEvent(`old${i}`)));
  const plan = withChannelDef(planFrom(config()), 'c1', remoteChannelDef, { broker, transactionCapacity: '100' });
  const agent = await startPlan(plan, { shutdownTimeoutMs: 60_000 });
  try {
    assert.ok(agent.channels.get('c1')!.sup.instance instanceof RemoteChannel);
    await waitFor(() => accepted(agent) === 200, 10_000, 'seq accepted 200');
    const t0 = performance.now();
    const left = await agent.stop();
    const ms = performance.now() - t0;
    assert.ok(ms < 10_000, `stop() took ${Math.round(ms)} ms: the drain waited on a size the channel cannot know`);
    assert.equal(left, 0);
    assert.equal(remoteBroker(broker).queue.length, 0, 'the drain delivered everything before stopping');
    assert.equal(agent.sinks.get('k1')!.counters.get('EventDrainSuccessCount'), 1200);
  } finally {
    await agent.stop();
  }
});

test('a reload that removes a remote channel drains it without waiting on its size', async () => {
  const broker = brokerName();
  remoteBroker(broker).append(Array.from({ length: 300 }, (_, i) => makeEvent(`e${i}`)));
  const plan = withChannelDef(planFrom(config()), 'c1', remoteChannelDef, { broker, transactionCapacity: '100' });
  const agent = await startPlan(plan, { shutdownTimeoutMs: 60_000 });
  try {
    const next = planFrom(`
a1.channels = c2
a1.sinks = k2
a1.channels.c2.type = memory
a1.sinks.k2.type = null
a1.sinks.k2.channel = c2
`);
    const t0 = performance.now();
    const report = await agent.apply(next);
    const ms = performance.now() - t0;
    assert.ok(report.stopped.includes('channel.c1'));
    assert.ok(ms < 10_000, `the reload took ${Math.round(ms)} ms: the drain waited on a size the channel cannot know`);
    assert.equal(remoteBroker(broker).queue.length, 0);
  } finally {
    await agent.stop();
  }
});

test('several required channels: the one whose room is unknown commits after a full one refused the put', async () => {
  const ctx = (name: string) => ({
    name,
    logger: silentLogger(),
    clock: systemClock,
    agentDir: '.',
    counters: new ChannelCounters(name),
  });
  const broker = brokerName();
  const remote = remoteChannelDef.create(optionsFor(remoteChannelDef, { broker }), ctx('c2'));
  const small = { capacity: '2', transactionCapacity: '2', 'keep-alive': '0' };
  const full = memoryDef.create(optionsFor(memoryDef, small), ctx('c1'));
  await remote.start();
  await full.start();
  const tx = full.begin();
  tx.put([makeEvent('a'), makeEvent('b')]);
  await tx.commit();
  // the remote channel is listed first: without ordering by room it would commit before the full one fails
  const channels = new Map<string, Channel>([
    ['c2', remote],
    ['c1', full],
  ]);
  const selCtx = { source: 'r1', channels: ['c2', 'c1'], logger: silentLogger() };
  const selector = replicating.create(optionsFor(replicating, {}), selCtx);
  const cp = new ChannelProcessor([], selector, channels, silentLogger());
  const isFull = (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_CHANNEL_FULL';
  await assert.rejects(cp.emit([makeEvent('x')]), isFull);
  assert.deepEqual(remoteBroker(broker).bodies(), [], 'nothing was committed to the remote channel');
  assert.equal(cp.partialCommits, 0);
  await full.close();
  await remote.close();
});

test('telemetry: size and capacity of a remote channel are unknown (status API: null; Prometheus: none)', async () => {
  const broker = brokerName();
  const plan = withChannelDef(planFrom(config()), 'c1', remoteChannelDef, { broker });
  const agent = await startPlan(plan);
  try {
    await waitFor(() => accepted(agent) === 200, 10_000, 'seq accepted 200');
    const snap = agent.snapshot().channels;
    const c1 = snap.find((c) => c.name === 'c1')!;
    const c2 = snap.find((c) => c.name === 'c2')!;
    assert.equal(c1.size, null);
    assert.equal(c1.capacity, null);
    assert.equal(c2.size, 0);
    assert.equal(c2.capacity, 100);
    assert.equal(JSON.parse(JSON.stringify(agent.snapshot())).channels[0].size, null, 'null survives JSON');

    const prom = prometheusText(agent, { rssBytes: 0, heapUsedBytes: 0, eventLoopLagP99Ms: 0, uptimeSeconds: 0 });
    const lines = prom.split('\n');
    const series = (name: string, ch: string) =>
      lines.some((l) => l.startsWith(`${name}{`) && l.includes(`component="${ch}"`));
    for (const name of ['Flume_ChannelSize', 'Flume_ChannelCapacity', 'Flume_ChannelFillPercentage']) {
      assert.equal(series(name, 'c1'), false, `${name} is absent for the remote channel`);
      assert.equal(series(name, 'c2'), true, `${name} is present for the memory channel`);
    }
    assert.equal(series('Flume_EventPutSuccessCount', 'c1'), true);

    // Flume's JSON keeps Flume's shape for such a channel (its Kafka channel reports the same)
    const json = flumeMetricsJson(agent)['CHANNEL.c1']!;
    assert.equal(json.ChannelSize, '0');
    assert.equal(json.ChannelCapacity, '0');
    assert.equal(json.ChannelFillPercentage, '1.7976931348623157E308');
    assert.equal(json.EventPutSuccessCount, '200');
  } finally {
    await agent.stop();
  }
});
