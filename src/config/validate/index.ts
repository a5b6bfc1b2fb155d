/**
 * Validates one agent's configuration completely before anything starts, and turns it into a frozen plan.
 * Every problem is reported at once (file:line, component, key, message, hint); a plan exists only when there
 * are no errors. Flume drops broken components silently and runs the rest; we refuse the whole config.
 *
 * Phases, each judging what it can with what the earlier ones parsed (a mistake never hides an unrelated one):
 *   sections.ts        listed vs defined components, config filters, an empty agent
 *   types.ts           `type` -> definition (aliases, Flume class names)
 *   options.ts         each component's keys through its option table, then its cross-option check
 *   sub-components.ts  interceptors, selector, sink processor: one planner, checks against the owner's keys
 *   components.ts      channels, sources, sinks; groups.ts  sink groups
 *   graph.ts           channel references, group membership, batchSize vs transactionCapacity
 *   claims.ts          ports and directories claimed twice
 */
import type { AgentSpec } from '../agent-spec.js';
import { closest } from '../../contract/index.js';
import { Ctx, type Collector } from './context.js';
import type { PluginLookup } from '../plugins/table.js';
import { checkSections } from './sections.js';
import { planComponents, type Parts } from './components.js';
import { planGroups } from './groups.js';
import { checkBatchSizes, checkChannelRefs, checkGroupMembers } from './graph.js';
import { checkClaims } from './claims.js';
import { assemblePlan, type ValidationResult } from './plan.js';

export type {
  Plan,
  Planned,
  PlannedChannel,
  PlannedGroup,
  PlannedSink,
  PlannedSource,
  ValidationResult,
} from './plan.js';
export { componentOptions } from './options.js';

export function validateAgent(spec: AgentSpec, plugins?: PluginLookup): ValidationResult {
  const ctx = new Ctx(spec, plugins);
  const { c, agent: A } = ctx;
  const before = spec.collector;
  for (const i of before.issues) c.add(i);
  // counted but not kept there: counted here too
  const lost = before.omitted;
  if (lost) {
    c.errors += lost.errors;
    c.warnings += lost.warnings;
  }
  if (!spec.agentsSeen.has(A)) {
    const guess = closest(A, spec.agentsSeen);
    c.error({
      component: `agent ${A}`,
      message: `no configuration found for agent '${A}' (Flume would start and do nothing)`,
      hint: guess
        ? `did you mean -n ${guess}?`
        : spec.agentsSeen.size
          ? `agents in this file: ${[...spec.agentsSeen].join(', ')}`
          : 'the file has no agent keys (A.sources, A.channels, ...)',
    });
    return result(c);
  }
  checkSections(ctx);
  const parts = planComponents(ctx);
  const groups = planGroups(ctx);
  checkChannelRefs(ctx, parts);
  const groupOf = checkGroupMembers(ctx, groups);
  checkBatchSizes(ctx, parts);
  checkClaims(ctx, parts);
  if (c.hasErrors) return result(c);
  warnUnusedChannels(ctx, parts);
  return { ...result(c), plan: Object.freeze(assemblePlan(A, parts, groups, groupOf)) };
}

function result(c: Collector): ValidationResult {
  const omitted = c.omitted;
  return omitted ? { issues: c.issues, omitted } : { issues: c.issues };
}

function warnUnusedChannels(ctx: Ctx, parts: Parts): void {
  const used = new Set<string>();
  for (const s of parts.sources) for (const ch of s.channels) used.add(ch);
  for (const k of parts.sinks) if (k.channel !== undefined) used.add(k.channel);
  for (const ch of parts.channels) {
    if (used.has(ch.name)) continue;
    ctx.c.warn({
      ...ctx.c.at(ch.comp.props.get('type')),
      component: ctx.label('channels', ch.name),
      message: 'no source or sink uses this channel (Flume removes it)',
    });
  }
}
