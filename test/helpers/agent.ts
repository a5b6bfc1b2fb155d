/** In-process agent harness for tests: a config text in, a running Agent out. */
import { configFromText } from '../../src/config/load.js';
import { formatIssues } from '../../src/config/issues.js';
import { Agent, type AgentOptions } from '../../src/runtime/agent.js';
import { componentOptions } from '../../src/config/validate/index.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import type { AnyDef, ChannelDef } from '../../src/contract/index.js';
import type { Plan } from '../../src/config/validate/index.js';

export async function startAgent(
  text: string,
  agent = 'a1',
  opts: AgentOptions & { sys?: Record<string, string> } = {},
): Promise<Agent> {
  return startPlan(planFrom(text, agent, opts.sys), opts);
}

/** The plan of a config text (throws with the issues when invalid). */
export function planFrom(text: string, agent = 'a1', sys: Record<string, string> = {}): Plan {
  const res = configFromText(text, { agent, sys, env: process.env });
  if (!res.plan) throw new Error(`test config invalid:\n${formatIssues(res.issues)}`);
  return res.plan;
}

/** Starts an agent on a plan, with quick sink-runner backoffs and silent logs. */
export async function startPlan(plan: Plan, opts: AgentOptions = {}): Promise<Agent> {
  const sinkRunner = { emptyIncrementMs: 50, emptyMaxMs: 200, errorBaseMs: 20, errorMaxMs: 200 };
  const a = new Agent(plan, { logger: () => silentLogger(), sinkRunner, ...opts });
  await a.start();
  return a;
}

/** The plan with channel `name` built by another definition, e.g. a test double the registry does not list. */
export function withChannelDef(plan: Plan, name: string, def: ChannelDef<any>, props: Record<string, string>): Plan {
  const options = optionsFor(def, props);
  const channels = plan.channels.map((c) => (c.name === name ? { ...c, def, options } : c));
  if (!channels.some((c) => c.def === def)) throw new Error(`the plan has no channel ${name}`);
  return { ...plan, channels };
}

/** Options for one component, parsed through its option table (throws with the issues when invalid). */
export function optionsFor<D extends AnyDef>(def: D, props: Record<string, string> = {}): any {
  const r = componentOptions(def, props);
  if (!r.options) throw new Error(`invalid options for ${def.kind} ${def.type}:\n${formatIssues(r.issues)}`);
  return r.options;
}
