/**
 * A plugin's create() is called once during validation with stand-in contexts, so that a plugin that throws there is
 * a configuration error (exit 78, nothing started) rather than an agent that starts half-built. create() is pure by
 * contract (no I/O until start()), so the instance is dropped unstarted.
 */
import type { AnyDef, SinkHandle } from '../../contract/index.js';
import { AgentError, errorMessage } from '../../core/errors.js';
import { systemClock } from '../../core/clock.js';
import { ChannelCounters, sinkCounters, sourceCounters } from '../../telemetry/counters.js';
import { silentLogger } from '../../telemetry/logger.js';
import type { Plan, Planned } from '../validate/index.js';
import type { PropEntry } from '../properties.js';
import type { ConfigIssue } from '../issues.js';

function tryCreate(p: Planned<AnyDef>, ctx: unknown): string | undefined {
  try {
    (p.def.create as (o: unknown, c: unknown) => unknown)(p.options, ctx);
    return undefined;
  } catch (err) {
    return errorMessage(err);
  }
}

/** Issues for each plugin component of `plan` whose create() throws, located at its `type` key. */
export function trialCreate(plan: Plan, entries: readonly PropEntry[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const at = new Map(entries.map((e) => [e.key.trim(), e]));
  const logger = silentLogger();
  const clock = systemClock;
  const agentDir = process.cwd();
  const check = (p: Planned<AnyDef>, component: string, typeKey: string, ctx: unknown) => {
    if (!p.def.plugin) return;
    const why = tryCreate(p, ctx);
    if (why === undefined) return;
    const e = at.get(`${plan.agent}.${typeKey}`);
    issues.push({
      severity: 'error',
      file: e?.file,
      line: e?.line,
      key: e?.key.trim(),
      component,
      message: `plugin ${p.def.plugin}: create() threw: ${why}`,
      hint: 'create() must only check and keep its options; see docs/plugins.md',
    });
  };
  for (const c of plan.channels)
    check(c, `channel ${c.name}`, `channels.${c.name}.type`, {
      name: c.name,
      logger,
      clock,
      agentDir,
      counters: new ChannelCounters(c.name),
    });
  for (const s of plan.sinks)
    check(s, `sink ${s.name}`, `sinks.${s.name}.type`, {
      name: s.name,
      logger,
      clock,
      agentDir,
      counters: sinkCounters(s.name),
    });
  for (const s of plan.sources) {
    const emit = () => Promise.reject(new AgentError('FLUME_ERR_RUNTIME', 'validation stand-in: nothing is emitted'));
    check(s, `source ${s.name}`, `sources.${s.name}.type`, {
      name: s.name,
      logger,
      clock,
      counters: sourceCounters(s.name),
      emit,
      maxBatchSize: 100,
    });
    check(s.selector, `source ${s.name}`, `sources.${s.name}.selector.type`, {
      source: s.name,
      channels: s.channels,
      logger,
    });
    for (const i of s.interceptors)
      check(i, `source ${s.name}`, `sources.${s.name}.interceptors.${i.name}.type`, { name: i.name, logger });
  }
  for (const g of plan.groups) {
    const sinks: SinkHandle[] = g.sinks.map((name) => ({
      name,
      process: () => Promise.resolve('backoff' as const),
      waitForEvents: () => Promise.resolve(),
    }));
    check(g.processor, `sinkgroup ${g.name}`, `sinkgroups.${g.name}.processor.type`, {
      group: g.name,
      sinks,
      logger,
      clock,
    });
  }
  return issues;
}
