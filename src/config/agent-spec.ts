/**
 * Flume's key grammar: turns the merged properties into one agent's component tree.
 *   A.sources / A.channels / A.sinks / A.sinkgroups / A.configfilters   name lists
 *   A.sources.S.<key>, A.channels.C.<key>, A.sinks.K.<key>, A.sinkgroups.G.<key>, A.configfilters.F.<key>
 * Component names end at the next '.', as in Flume.
 */
import type { PropEntry } from './properties.js';
import { IssueCollector, type ConfigIssue } from './issues.js';
import { closest } from '../contract/index.js';

export type SectionKind = 'sources' | 'channels' | 'sinks' | 'sinkgroups' | 'configfilters';
export const SECTIONS: readonly SectionKind[] = ['sources', 'channels', 'sinks', 'sinkgroups', 'configfilters'];
export const SECTION_SINGULAR: Record<SectionKind, string> = {
  sources: 'source',
  channels: 'channel',
  sinks: 'sink',
  sinkgroups: 'sinkgroup',
  configfilters: 'configfilter',
};

export interface ComponentSpec {
  section: SectionKind;
  name: string;
  /** Relative key (after `A.<section>.<name>.`) -> entry. */
  props: Map<string, PropEntry>;
}

export interface AgentSpec {
  agent: string;
  lists: Partial<Record<SectionKind, { names: string[]; entry: PropEntry }>>;
  components: Record<SectionKind, Map<string, ComponentSpec>>;
  /** Problems with the key grammar: the first ISSUE_LIMIT (`collector.issues`). */
  issues: ConfigIssue[];
  /** Where they are collected, and counted. */
  collector: IssueCollector;
  /** Every agent name that has keys, for "did you mean". */
  agentsSeen: Set<string>;
}

/** One pass over the entries (linear in their number). */
export function buildAgentSpec(
  entries: Iterable<PropEntry>,
  agent: string,
  issues: IssueCollector = new IssueCollector(),
): AgentSpec {
  const spec: AgentSpec = {
    agent,
    lists: {},
    components: {
      sources: new Map(),
      channels: new Map(),
      sinks: new Map(),
      sinkgroups: new Map(),
      configfilters: new Map(),
    },
    issues: issues.issues,
    collector: issues,
    agentsSeen: new Set(),
  };
  for (const e of entries) {
    const key = e.key.trim();
    const dot = key.indexOf('.');
    if (dot < 0) continue; // top-level helper key, usable for ${KEY} substitution
    const a = key.slice(0, dot);
    if (a === '') {
      issues.add({
        severity: 'warning',
        file: e.file,
        line: e.line,
        key,
        message: 'key has an empty agent name and is ignored',
      });
      continue;
    }
    spec.agentsSeen.add(a);
    if (a !== agent) continue;
    const rest = key.slice(dot + 1);
    if ((SECTIONS as readonly string[]).includes(rest)) {
      const section = rest as SectionKind;
      // sinkgroups is split on spaces only in Flume; we accept any whitespace
      const names = [
        ...new Set(
          e.value
            .trim()
            .split(/\s+/)
            .filter((n) => n !== ''),
        ),
      ];
      spec.lists[section] = { names, entry: e };
      continue;
    }
    const sdot = rest.indexOf('.');
    const sectionWord = sdot < 0 ? rest : rest.slice(0, sdot);
    if (!(SECTIONS as readonly string[]).includes(sectionWord) || sdot < 0) {
      const guess = closest(sectionWord, SECTIONS);
      issues.add({
        severity: 'error',
        file: e.file,
        line: e.line,
        component: `agent ${agent}`,
        key,
        message: `'${sectionWord}' is not a section of the agent (Flume ignores this key with "Invalid property specified")`,
        hint: guess
          ? `did you mean '${agent}.${guess}${sdot < 0 ? '' : rest.slice(sdot)}'?`
          : `keys under ${agent} are ${SECTIONS.map((s) => `${agent}.${s}`).join(', ')}`,
      });
      continue;
    }
    const section = sectionWord as SectionKind;
    const after = rest.slice(sdot + 1);
    const ndot = after.indexOf('.');
    if (ndot <= 0 || ndot === after.length - 1) {
      issues.add({
        severity: 'error',
        file: e.file,
        line: e.line,
        component: `agent ${agent}`,
        key,
        message: `expected ${agent}.${section}.<name>.<property>`,
        hint: ndot < 0 ? `to list ${section}, write '${agent}.${section} = ${after}'` : undefined,
      });
      continue;
    }
    const name = after.slice(0, ndot);
    const sub = after.slice(ndot + 1);
    let comp = spec.components[section].get(name);
    if (!comp) {
      comp = { section, name, props: new Map() };
      spec.components[section].set(name, comp);
    }
    comp.props.set(sub, e);
  }
  return spec;
}
