/** Prometheus exposition: each series has the type of what it measures (gauges go up and down). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prometheusText } from '../../src/monitor/prometheus.js';
import type { Agent } from '../../src/runtime/agent.js';
import {
  ChannelCounters,
  COUNTER_DOCS,
  GAUGES,
  metricKind,
  sinkCounters,
  sourceCounters,
} from '../../src/telemetry/counters.js';

test('gauges are typed gauge, counters counter, in the exposition', () => {
  const src = sourceCounters('r1');
  src.set('OpenConnectionCount', 3);
  const ch = new ChannelCounters('c1');
  ch.set('Unhealthy', 0);
  const agent = {
    name: 'a1',
    snapshot: () => ({ channels: [{ name: 'c1', size: 0, capacity: 100 }] }),
    counterGroups: () => [src, ch, sinkCounters('k1')],
    health: () => [],
  } as unknown as Agent;
  const text = prometheusText(agent, { rssBytes: 1, heapUsedBytes: 1, eventLoopLagP99Ms: 1, uptimeSeconds: 1 }, {
    status: 'ok',
    count: 2,
    at: 1,
    config: { store: 'file', location: '/etc/flume/a1.properties' },
  } as never);
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
  const expect: Record<string, string> = {
    Flume_OpenConnectionCount: 'gauge',
    Flume_ChannelSize: 'gauge',
    Flume_ChannelCapacity: 'gauge',
    Flume_ChannelFillPercentage: 'gauge',
    Flume_Unhealthy: 'gauge',
    Flume_StartTime: 'gauge',
    Flume_StopTime: 'gauge',
    Flume_EventReceivedCount: 'counter',
    Flume_EventTakeSuccessCount: 'counter',
    Flume_ChannelWriteFail: 'counter',
    Flume_EventWriteFail: 'counter',
    flume_ts_up: 'gauge',
    flume_ts_event_loop_lag_p99_seconds: 'gauge',
    flume_ts_config_reloads_total: 'counter',
    flume_ts_config_last_reload_timestamp_seconds: 'gauge',
  };
  for (const [name, kind] of Object.entries(expect)) assert.equal(types.get(name), kind, name);
  assert.match(text, /^Flume_OpenConnectionCount\{agent="a1",component="r1",type="SOURCE"\} 3$/m);
});

test('every documented Flume value has a deliberate type', () => {
  for (const name of Object.keys(COUNTER_DOCS)) {
    if (name === 'Type') continue;
    const kind = metricKind(name);
    // a value named ...Count that is a gauge must be listed as one; every gauge is documented
    if (kind === 'gauge') assert.ok(GAUGES.has(name), name);
    // Flume's Kafka timers (KafkaEventSendTimer...) are cumulative milliseconds: counters
    else assert.match(name, /Count$|Fail$|Timer$/, name);
  }
  for (const g of GAUGES) assert.ok(g in COUNTER_DOCS, g);
});
