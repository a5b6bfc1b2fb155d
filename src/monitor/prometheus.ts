/**
 * Prometheus text exposition with Flume 1.11+'s naming:
 * `Flume_<Counter>{component="<name>",type="<SOURCE|CHANNEL|SINK>"}`,
 * plus process metrics.
 */
import type { Agent } from '../runtime/agent.js';
import type { ReloadStatus } from '../runtime/reload.js';
import { metricKind } from '../telemetry/counters.js';

function esc(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

export function prometheusText(
  agent: Agent,
  proc: { rssBytes: number; heapUsedBytes: number; eventLoopLagP99Ms: number; uptimeSeconds: number },
  reload?: ReloadStatus,
): string {
  const series = new Map<string, string[]>();
  const add = (name: string, labels: string, value: number) => {
    let a = series.get(name);
    if (!a) series.set(name, (a = []));
    a.push(`${name}{${labels}} ${Number.isFinite(value) ? value : 0}`);
  };
  // a channel that cannot know its size or capacity (remote, e.g. Kafka) has no series for them: absent, not 0
  const unknown = new Map<string, readonly string[]>();
  for (const c of agent.snapshot().channels) {
    const skip = [...(c.size === null ? ['ChannelSize'] : []), ...(c.capacity === null ? ['ChannelCapacity'] : [])];
    if (skip.length > 0) unknown.set(c.name, [...skip, 'ChannelFillPercentage']);
  }
  for (const g of agent.counterGroups()) {
    const labels = `agent="${esc(agent.name)}",component="${esc(g.name)}",type="${g.type}"`;
    const j = g.toFlumeJson();
    const skip = g.type === 'CHANNEL' ? unknown.get(g.name) : undefined;
    for (const [k, v] of Object.entries(j)) {
      if (k === 'Type' || skip?.includes(k)) continue;
      add(`Flume_${k}`, labels, Number(v));
    }
  }
  const a = `agent="${esc(agent.name)}"`;
  add('flume_ts_up', a, 1);
  add('flume_ts_healthy', a, agent.health().length === 0 ? 1 : 0);
  add('flume_ts_process_resident_memory_bytes', a, proc.rssBytes);
  add('flume_ts_process_heap_used_bytes', a, proc.heapUsedBytes);
  add('flume_ts_event_loop_lag_p99_seconds', a, proc.eventLoopLagP99Ms / 1000);
  add('flume_ts_process_uptime_seconds', a, proc.uptimeSeconds);
  if (reload) {
    add('flume_ts_config_reloads_total', a, reload.count);
    add('flume_ts_config_last_reload_success', a, reload.status === 'failed' ? 0 : 1);
    add('flume_ts_config_last_reload_timestamp_seconds', a, (reload.at ?? 0) / 1000);
    const c = reload.config;
    add('flume_ts_config_refused', a, c.refused ? 1 : 0);
    add('flume_ts_config_from_cache', a, c.running?.fromCache ? 1 : 0);
    if (c.connection)
      add('flume_ts_config_store_connected', `${a},store="${c.store}"`, c.connection.state === 'connected' ? 1 : 0);
  }
  const out: string[] = [];
  for (const [name, lines] of series) {
    // Flume's values by their table (OpenConnectionCount is a gauge); ours by Prometheus' naming (_total)
    const kind = name.startsWith('Flume_') ? metricKind(name.slice(6)) : name.endsWith('_total') ? 'counter' : 'gauge';
    out.push(`# TYPE ${name} ${kind}`, ...lines);
  }
  return `${out.join('\n')}\n`;
}
