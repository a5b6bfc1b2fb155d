/** In-process agent harness for tests: a config text in, a running Agent out. */
import { configFromText } from '../../src/config/load.js';
import { formatIssues } from '../../src/config/issues.js';
import { Agent, type AgentOptions } from '../../src/runtime/agent.js';
import { componentOptions } from '../../src/config/validate.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import type { AnyDef } from '../../src/registry/define.js';

export async function startAgent(text: string, agent = 'a1', opts: AgentOptions & { sys?: Record<string, string> } = {}): Promise<Agent> {
  const res = configFromText(text, { agent, sys: opts.sys ?? {}, env: process.env });
  if (!res.plan) throw new Error(`test config invalid:\n${formatIssues(res.issues)}`);
  const a = new Agent(res.plan, { logger: () => silentLogger(), sinkRunner: { emptyIncrementMs: 50, emptyMaxMs: 200, errorBaseMs: 20, errorMaxMs: 200 }, ...opts });
  await a.start();
  return a;
}

/** Options for one component, parsed through its option table (throws with the issues when invalid). */
export function optionsFor<D extends AnyDef>(def: D, props: Record<string, string> = {}): any {
  const r = componentOptions(def, props);
  if (!r.options) throw new Error(`invalid options for ${def.kind} ${def.type}:\n${formatIssues(r.issues)}`);
  return r.options;
}
