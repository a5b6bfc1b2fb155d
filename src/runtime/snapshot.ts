/** What the running agent reports about itself: health (what is not well, and why) and a JSON snapshot. */
import type { Lifecycle } from '../contract/index.js';
import type {
  ComponentState,
  RunningChannel,
  RunningGroup,
  RunningSink,
  RunningSource,
  Supervised,
} from './supervised.js';

/** The parts of a running agent its reports read. */
export interface RunningGraph {
  readonly name: string;
  readonly state: AgentState;
  readonly startedAt: number;
  readonly channels: ReadonlyMap<string, RunningChannel>;
  readonly sinks: ReadonlyMap<string, RunningSink>;
  readonly groups: ReadonlyMap<string, RunningGroup>;
  readonly sources: ReadonlyMap<string, RunningSource>;
}

export type AgentState = 'new' | 'running' | 'stopping' | 'stopped';

export interface ComponentHealth {
  component: string;
  state: ComponentState | 'failing';
  reason: string;
  since?: number;
  /** The plugins (file or package) the component runs, when it runs any: a failing plugin is named. */
  plugins?: string[];
}

/** Plugin origins of a component's definitions (its own, and its interceptors', selector's or processor's). */
function pluginsOf(...defs: readonly { plugin?: string }[]): { plugins?: string[] } {
  const p = [...new Set(defs.map((d) => d.plugin).filter((x): x is string => !!x))];
  return p.length ? { plugins: p } : {};
}

export function healthOf(agent: RunningGraph, failAfter: number): ComponentHealth[] {
  const out: ComponentHealth[] = [];
  const sup = (prefix: string, s: Supervised<Lifecycle>, plugins: { plugins?: string[] }) => {
    if (s.state !== 'running')
      out.push({
        component: `${prefix}.${s.name}`,
        state: s.state,
        reason: s.error ?? s.state,
        since: s.errorSince,
        ...plugins,
      });
  };
  for (const c of agent.channels.values()) {
    sup('channel', c.sup, pluginsOf(c.planned.def));
    const h = c.sup.instance.health?.();
    if (c.sup.state === 'running' && h && !h.ok)
      out.push({
        component: `channel.${c.sup.name}`,
        state: 'failing',
        reason: h.reason ?? 'unhealthy',
        ...pluginsOf(c.planned.def),
      });
  }
  for (const s of agent.sinks.values()) sup('sink', s.sup, pluginsOf(s.planned.def));
  for (const s of agent.sources.values()) {
    const p = s.planned;
    sup('source', s.sup, pluginsOf(p.def, p.selector.def, ...p.interceptors.map((i) => i.def)));
  }
  for (const g of agent.groups.values()) {
    const f = g.runner.failure;
    if (f && Date.now() - f.since >= failAfter) {
      out.push({
        component: g.planned.implicit ? `sink.${g.planned.name}` : `sinkgroup.${g.planned.name}`,
        state: 'failing',
        reason: `delivery failing for ${Math.round((Date.now() - f.since) / 1000)} s: ${f.message}`,
        since: f.since,
        ...pluginsOf(g.planned.processor.def, ...g.planned.sinks.map((k) => agent.sinks.get(k)?.planned.def ?? {})),
      });
    }
  }
  return out;
}

/** A JSON-friendly picture of the running agent, for the status page and tools. */
export function snapshotOf(agent: RunningGraph & { health(): ComponentHealth[] }): AgentSnapshot {
  const state = (s: Supervised<Lifecycle>) => ({ state: s.state, error: s.error });
  const groupOf = new Map<string, string>();
  for (const g of agent.groups.values()) for (const s of g.planned.sinks) groupOf.set(s, g.planned.name);
  return {
    agent: agent.name,
    state: agent.state,
    startedAt: agent.startedAt,
    sources: [...agent.sources.values()].map((s) => ({
      name: s.planned.name,
      type: s.planned.def.type,
      channels: s.planned.channels,
      selector: s.planned.selector.def.type,
      interceptors: s.planned.interceptors.map((i) => i.def.type),
      ...state(s.sup),
      counters: s.counters.toFlumeJson(),
    })),
    channels: [...agent.channels.values()].map((c) => ({
      name: c.planned.name,
      type: c.planned.def.type,
      size: c.sup.instance.size() ?? null,
      capacity: c.sup.instance.capacity ?? null,
      ...state(c.sup),
      counters: c.counters.toFlumeJson(),
    })),
    sinks: [...agent.sinks.values()].map((s) => ({
      name: s.planned.name,
      type: s.planned.def.type,
      channel: s.planned.channel,
      group: groupOf.get(s.planned.name) ?? s.planned.name,
      ...state(s.sup),
      counters: s.counters.toFlumeJson(),
    })),
    groups: [...agent.groups.values()].map((g) => ({
      name: g.planned.name,
      processor: g.planned.processor.def.type,
      sinks: g.planned.sinks,
      implicit: g.planned.implicit,
      failure: g.runner.failure,
    })),
    health: agent.health(),
  };
}

export interface AgentSnapshot {
  agent: string;
  state: AgentState;
  startedAt: number;
  sources: {
    name: string;
    type: string;
    channels: string[];
    selector: string;
    interceptors: string[];
    state: ComponentState;
    error?: string;
    counters: Record<string, string>;
  }[];
  /** size and capacity are null when the channel cannot know them (remote, e.g. Kafka). */
  channels: {
    name: string;
    type: string;
    size: number | null;
    capacity: number | null;
    state: ComponentState;
    error?: string;
    counters: Record<string, string>;
  }[];
  sinks: {
    name: string;
    type: string;
    channel: string;
    group: string;
    state: ComponentState;
    error?: string;
    counters: Record<string, string>;
  }[];
  groups: {
    name: string;
    processor: string;
    sinks: string[];
    implicit: boolean;
    failure?: { since: number; message: string };
  }[];
  health: ComponentHealth[];
}
