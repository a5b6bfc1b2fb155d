/** What every validation phase shares: the agent's key tree, the names listed per section, and the issue list. */
import type { AgentSpec, ComponentSpec, SectionKind } from '../agent-spec.js';
import { SECTION_SINGULAR } from '../agent-spec.js';
import { IssueCollector, type ConfigIssue } from '../issues.js';
import type { PropEntry } from '../properties.js';
import type { PluginLookup } from '../plugins/table.js';

/** The issues of one validation (at most ISSUE_LIMIT kept, all counted), with the agent they are about. */
export class Collector extends IssueCollector {
  constructor(
    readonly agent: string,
    limit?: number,
  ) {
    super(limit);
  }
  error(i: Omit<ConfigIssue, 'severity'>): void {
    this.add({ severity: 'error', ...i });
  }
  warn(i: Omit<ConfigIssue, 'severity'>): void {
    this.add({ severity: 'warning', ...i });
  }
  at(e: PropEntry | undefined): { file?: string; line?: number; key?: string } {
    return e ? { file: e.file, line: e.line, key: e.key.trim() } : {};
  }
}

export type Listed = Record<SectionKind, string[]>;
/** The listed names as sets, for membership tests (a list may hold hundreds of thousands of names). */
export type ListedSets = Record<SectionKind, Set<string>>;

export class Ctx {
  readonly agent: string;
  readonly c: Collector;
  /** Names in `A.sources`, `A.channels`, ... (set by the sections phase). */
  listed: Listed = { sources: [], channels: [], sinks: [], sinkgroups: [], configfilters: [] };
  listedSet: ListedSets = {
    sources: new Set(),
    channels: new Set(),
    sinks: new Set(),
    sinkgroups: new Set(),
    configfilters: new Set(),
  };

  constructor(
    readonly spec: AgentSpec,
    /** Plugin types the configuration may name (imported before validation). */
    readonly plugins?: PluginLookup,
    limit?: number,
  ) {
    this.agent = spec.agent;
    this.c = new Collector(spec.agent, limit);
  }

  /** The full key as written: `A.sources.r1.port`. */
  key(section: SectionKind, name: string, k: string): string {
    return `${this.agent}.${section}.${name}.${k}`;
  }

  /** The component as issues name it: `source r1`. */
  label(section: SectionKind, name: string): string {
    return `${SECTION_SINGULAR[section]} ${name}`;
  }
}

/** The entries under `prefix`, keyed relative to it. */
export function sub(props: Map<string, PropEntry>, prefix: string): Map<string, PropEntry> {
  const m = new Map<string, PropEntry>();
  for (const [k, e] of props) if (k.startsWith(prefix)) m.set(k.slice(prefix.length), e);
  return m;
}

/** Canonical text of a set of keys (sorted `key=value` lines), for hot-reload diffs. */
export function signatureOf(props: Map<string, PropEntry>): string {
  return [...props.keys()]
    .sort()
    .map((k) => `${k}=${props.get(k)!.value.trim()}`)
    .join('\n');
}

/**
 * Names for a hint: the first few, then how many more (a hint never grows with the size of the configuration).
 */
export function someNames(names: readonly string[], max = 10): string {
  if (names.length <= max) return names.join(', ');
  return `${names.slice(0, max).join(', ')}, ... (${names.length - max} more)`;
}

/** The whitespace-separated names of a list value. */
export function words(e: PropEntry | undefined): string[] {
  return e ? e.value.trim().split(/\s+/).filter(Boolean) : [];
}

/** The component's first key, where an issue about the whole component points. */
export function firstEntry(comp: ComponentSpec | { props: Map<string, PropEntry> }): PropEntry | undefined {
  return comp.props.values().next().value;
}
