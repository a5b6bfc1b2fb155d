/** The plan validation produces: what the runtime builds, in the order it builds it. */
import type {
  AnyDef,
  ChannelDef,
  InterceptorDef,
  ProcessorDef,
  SelectorDef,
  SinkDef,
  SourceDef,
} from '../../contract/index.js';
import { findDef } from '../../registry/lookup.js';
import type { ConfigIssue, OmittedIssues } from '../issues.js';
import { signatureOf } from './context.js';
import type { Part, Parts } from './components.js';
import type { GroupPart } from './groups.js';
import type { SubPart } from './sub-components.js';

export interface Planned<D extends AnyDef> {
  name: string;
  def: D;
  options: Record<string, any>;
  /** Canonical text of the component's configuration, for hot-reload diffs. */
  signature: string;
}
export interface PlannedSource extends Planned<SourceDef> {
  channels: string[];
  selector: Planned<SelectorDef>;
  interceptors: Planned<InterceptorDef>[];
}
export interface PlannedSink extends Planned<SinkDef> {
  channel: string;
}
export type PlannedChannel = Planned<ChannelDef>;
export interface PlannedGroup {
  name: string;
  sinks: string[];
  processor: Planned<ProcessorDef>;
  /** True for the implicit single-sink group of a sink not listed in any sink group. */
  implicit: boolean;
  signature: string;
}
export interface Plan {
  agent: string;
  channels: PlannedChannel[];
  sources: PlannedSource[];
  sinks: PlannedSink[];
  groups: PlannedGroup[];
}

export interface ValidationResult {
  plan?: Plan;
  /** The first ISSUE_LIMIT problems found. */
  issues: ConfigIssue[];
  /** Problems found beyond those, counted. */
  omitted?: OmittedIssues;
}

function planned<D extends AnyDef>(p: Part<D>): Planned<D> {
  return { name: p.name, def: p.def!, options: p.res!.options, signature: signatureOf(p.comp.props) };
}

function plannedSub<D extends AnyDef>(p: SubPart<D>, signature = p.signature): Planned<D> {
  return { name: p.name, def: p.def, options: p.res.options, signature };
}

/**
 * The plan, from complete parts: called only when no error was reported, so every part has its definition and
 * options. Sinks outside any group get an implicit group with the default processor.
 */
export function assemblePlan(agent: string, parts: Parts, groups: GroupPart[], groupOf: Map<string, string>): Plan {
  const defaultProc = findDef('processor', 'default') as ProcessorDef;
  const implicit = parts.sinks
    .filter((k) => !groupOf.has(k.name))
    .map((k): PlannedGroup => ({
      name: k.name,
      sinks: [k.name],
      processor: { name: `${k.name}.processor`, def: defaultProc, options: {}, signature: '' },
      implicit: true,
      signature: `sink=${k.name}`,
    }));
  return {
    agent,
    channels: parts.channels.map(planned),
    sources: parts.sources.map((p) => {
      const { name, def, options, signature } = planned(p);
      const interceptors = p.interceptors.map((i) => plannedSub(i));
      return { name, def, options, channels: p.channels, selector: plannedSub(p.selector!), interceptors, signature };
    }),
    sinks: parts.sinks.map((p) => {
      const { name, def, options, signature } = planned(p);
      return { name, def, options, channel: p.channel!, signature };
    }),
    groups: [
      ...groups.map((g): PlannedGroup => ({
        name: g.name,
        sinks: g.sinks,
        processor: plannedSub(g.processor!, ''),
        implicit: false,
        signature: signatureOf(g.comp.props),
      })),
      ...implicit,
    ],
  };
}
