/**
 * Validates one agent's configuration completely before anything starts, and turns it into a frozen plan.
 * Every problem is reported at once (file:line, component, key, message, hint); a plan exists only when there
 * are no errors. Flume drops broken components silently and runs the rest; we refuse the whole config.
 */
import type { AgentSpec, ComponentSpec, SectionKind } from './agent-spec.js';
import { SECTION_SINGULAR } from './agent-spec.js';
import type { ConfigIssue } from './issues.js';
import type { PropEntry } from './properties.js';
import { closest, OptionError, type OptionSpec } from './options.js';
import type {
  AnyDef, ChannelDef, Claim, InterceptorDef, Kind, Problem, ProcessorDef, SelectorDef, SinkDef, SourceDef,
} from '../registry/define.js';
import { explainUnknownType, findDef } from '../registry/lookup.js';

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
  issues: ConfigIssue[];
}

const FRAMEWORK_KEYS: Record<SectionKind, (k: string) => boolean> = {
  sources: (k) => k === 'type' || k === 'channels' || k === 'interceptors' || k.startsWith('selector.') || k.startsWith('interceptors.'),
  channels: (k) => k === 'type',
  sinks: (k) => k === 'type' || k === 'channel',
  sinkgroups: (k) => k === 'sinks' || k.startsWith('processor.'),
  configfilters: () => true,
};

class Collector {
  readonly issues: ConfigIssue[] = [];
  constructor(readonly agent: string) {}
  error(i: Omit<ConfigIssue, 'severity'>): void {
    this.issues.push({ severity: 'error', ...i });
  }
  warn(i: Omit<ConfigIssue, 'severity'>): void {
    this.issues.push({ severity: 'warning', ...i });
  }
  at(e: PropEntry | undefined): { file?: string; line?: number; key?: string } {
    return e ? { file: e.file, line: e.line, key: e.key.trim() } : {};
  }
  get hasErrors(): boolean {
    return this.issues.some((i) => i.severity === 'error');
  }
}

/**
 * Resolves a component's options from its option table.
 * `props` maps relative keys (as the table spells them) to entries; `fullKey(k)` renders the key as written.
 */
export function resolveOptions(
  def: AnyDef,
  props: Map<string, PropEntry>,
  where: { component: string; fullKey: (k: string) => string; anchor?: PropEntry; extraHint?: (k: string) => string | undefined },
  c: Collector,
): Record<string, any> | undefined {
  const table = def.options as Record<string, OptionSpec<unknown>>;
  const out: Record<string, any> = {};
  let ok = true;
  const seen = new Set<string>();
  const mapKeys = Object.keys(table).filter((k) => table[k]!.prefix);
  for (const [rel0, e] of props) {
    const raw = e.value.trim();
    let rel = rel0;
    const renamedTo = table[rel0]?.renamedTo;
    if (renamedTo !== undefined) {
      const both = props.has(renamedTo);
      c.warn({
        ...c.at(e), component: where.component,
        message: `'${rel0}' is an old spelling of '${renamedTo}'${both ? `; '${renamedTo}' is set too and wins` : ''}`,
        hint: `write ${where.fullKey(renamedTo)}`,
      });
      if (both) continue;
      rel = renamedTo;
    }
    let key = rel;
    let spec: OptionSpec<unknown> | undefined = table[rel];
    let mapName: string | undefined;
    if (!spec || spec.prefix) {
      const mk = mapKeys.find((m) => rel.startsWith(`${m.endsWith('.') ? m : `${m}.`}`));
      if (mk) {
        key = mk;
        spec = table[mk];
        mapName = rel.slice(mk.endsWith('.') ? mk.length : mk.length + 1);
      } else {
        spec = undefined;
      }
    }
    if (!spec) {
      const guess = closest(rel, Object.keys(table).map((k) => (table[k]!.prefix ? `${k.replace(/\.$/, '')}.<name>` : k)))
        ?? Object.keys(table).find((k) => k.endsWith(`.${rel}`)); // e.g. batchSize -> sink.batchSize
      c.error({
        ...c.at(e), component: where.component,
        message: `unknown property '${rel}' for ${def.kind} type '${def.type}'`,
        hint: (guess ? `did you mean '${guess}'?` : undefined) ?? where.extraHint?.(rel) ?? `see: flume-ng describe ${def.kind} ${def.type}`,
      });
      ok = false;
      continue;
    }
    if (raw === '' && spec.kind !== 'string') {
      c.warn({ ...c.at(e), component: where.component, message: 'empty value is ignored (as Flume does)' });
      continue;
    }
    if (spec.ignored) {
      c.warn({ ...c.at(e), component: where.component, message: `'${rel}' is accepted for Flume compatibility but has no effect in flume-ts`, hint: spec.doc });
      continue;
    }
    try {
      const v = spec.parse(raw);
      if (mapName !== undefined) {
        if (mapName === '') throw new OptionError(`expected ${key}.<name>`);
        (out[key] ??= {})[mapName] = v;
      } else {
        out[key] = v;
      }
      seen.add(key);
    } catch (err) {
      ok = false;
      seen.add(key);
      const oe = err instanceof OptionError ? err : new OptionError(String(err));
      c.error({ ...c.at(e), component: where.component, message: oe.message, hint: oe.hint ?? `${spec.typeText}: ${spec.doc}` });
    }
  }
  for (const k of Object.keys(table)) {
    const spec = table[k]!;
    if (seen.has(k) || spec.renamedTo !== undefined) continue;
    if (spec.prefix) {
      out[k] ??= {};
      continue;
    }
    if (spec.required) {
      ok = false;
      c.error({
        ...c.at(where.anchor), key: where.fullKey(k), component: where.component,
        message: `required property '${k}' is missing`, hint: spec.doc,
      });
      continue;
    }
    out[k] = spec.default;
  }
  if (!ok) return undefined;
  if (def.check) {
    const res = (def.check as (o: unknown) => true | undefined | string | Problem | Problem[])(out);
    const problems: Problem[] = res === true || res === undefined ? [] : typeof res === 'string' ? [{ message: res }] : Array.isArray(res) ? res : [res];
    for (const p of problems) {
      const e = p.key ? props.get(p.key) : undefined;
      c.error({ ...c.at(e ?? where.anchor), key: p.key ? where.fullKey(p.key) : where.anchor?.key.trim(), component: where.component, message: p.message, hint: p.hint });
    }
    if (problems.length) return undefined;
  }
  return out;
}

function signatureOf(parts: Record<string, string>): string {
  return Object.keys(parts).sort().map((k) => `${k}=${parts[k]}`).join('\n');
}

function propsSignature(props: Map<string, PropEntry>): Record<string, string> {
  const o: Record<string, string> = {};
  for (const [k, e] of props) o[k] = e.value.trim();
  return o;
}

function sub(props: Map<string, PropEntry>, prefix: string): Map<string, PropEntry> {
  const m = new Map<string, PropEntry>();
  for (const [k, e] of props) if (k.startsWith(prefix)) m.set(k.slice(prefix.length), e);
  return m;
}

export function validateAgent(spec: AgentSpec): ValidationResult {
  const A = spec.agent;
  const c = new Collector(A);
  c.issues.push(...spec.issues);

  if (!spec.agentsSeen.has(A)) {
    const guess = closest(A, spec.agentsSeen);
    c.error({
      component: `agent ${A}`,
      message: `no configuration found for agent '${A}' (Flume would start and do nothing)`,
      hint: guess ? `did you mean -n ${guess}?` : spec.agentsSeen.size ? `agents in this file: ${[...spec.agentsSeen].join(', ')}` : 'the file has no agent keys (A.sources, A.channels, ...)',
    });
    return { issues: c.issues };
  }

  const key = (section: SectionKind, name: string, k: string) => `${A}.${section}.${name}.${k}`;
  const label = (section: SectionKind, name: string) => `${SECTION_SINGULAR[section]} ${name}`;

  // --- lists vs defined components
  const listed: Record<SectionKind, string[]> = { sources: [], channels: [], sinks: [], sinkgroups: [], configfilters: [] };
  for (const section of ['sources', 'channels', 'sinks', 'sinkgroups'] as const) {
    const list = spec.lists[section];
    listed[section] = list?.names ?? [];
    for (const name of listed[section]) {
      if (!spec.components[section].has(name)) {
        const guess = closest(name, spec.components[section].keys());
        c.error({
          ...c.at(list?.entry), component: label(section, name),
          message: `${SECTION_SINGULAR[section]} '${name}' is listed but has no properties`,
          hint: guess ? `did you mean '${guess}' (which has properties but is not listed)?` : `add ${key(section, name, 'type')} = ...`,
        });
      }
    }
    for (const [name, comp] of spec.components[section]) {
      if (!listed[section].includes(name)) {
        const first = [...comp.props.values()][0];
        const guess = closest(name, listed[section]);
        c.error({
          ...c.at(first), component: label(section, name),
          message: `${SECTION_SINGULAR[section]} '${name}' has properties but is not listed in ${A}.${section} (Flume ignores it silently)`,
          hint: guess ? `did you mean '${guess}'?` : `add it: ${A}.${section} = ${[...listed[section], name].join(' ')}`,
        });
      }
    }
  }
  if (spec.lists.configfilters || spec.components.configfilters.size) {
    const e = spec.lists.configfilters?.entry ?? [...([...spec.components.configfilters.values()][0]?.props.values() ?? [])][0];
    c.error({ ...c.at(e), component: `agent ${A}`, message: 'config filters are not supported by flume-ts yet', hint: 'use ${env:NAME} or ${sys:name} substitution instead of an env config filter' });
  }
  if (listed.channels.length === 0) {
    c.error({ ...c.at(spec.lists.channels?.entry), key: `${A}.channels`, component: `agent ${A}`, message: 'the agent has no channels (Flume discards the whole agent)', hint: `add ${A}.channels = c1 and ${A}.channels.c1.type = memory` });
  }
  if (listed.sources.length === 0 && listed.sinks.length === 0) {
    c.error({ key: `${A}.sources`, component: `agent ${A}`, message: 'the agent has neither sources nor sinks', hint: `list them with ${A}.sources = ... and ${A}.sinks = ...` });
  }

  const typeOf = (kind: Kind, comp: ComponentSpec, typeKey = 'type', fallback?: string, anchor?: PropEntry, fullTypeKey = typeKey): AnyDef | undefined => {
    const e = comp.props.get(typeKey);
    const t = e?.value.trim() || fallback;
    if (!t) {
      const first = anchor ?? [...comp.props.values()][0];
      c.error({ ...c.at(first), key: key(comp.section, comp.name, fullTypeKey), component: label(comp.section, comp.name), message: `${typeKey} is missing`, hint: kind === 'processor' ? 'set processor.type = failover or load_balance (Flume drops the group and its sinks)' : `see: flume-ng describe ${kind}` });
      return undefined;
    }
    const def = findDef(kind, t);
    if (!def) {
      const miss = explainUnknownType(kind, t);
      c.error({ ...c.at(e), component: label(comp.section, comp.name), message: miss.message, hint: miss.hint });
    }
    return def;
  };

  // --- channels
  const channels = new Map<string, PlannedChannel>();
  for (const name of listed.channels) {
    const comp = spec.components.channels.get(name);
    if (!comp) continue;
    const def = typeOf('channel', comp) as ChannelDef | undefined;
    if (!def) continue;
    const options = resolveOptions(def, withoutFramework(comp), { component: label('channels', name), fullKey: (k) => key('channels', name, k), anchor: comp.props.get('type') }, c);
    if (options) channels.set(name, { name, def, options, signature: signatureOf(propsSignature(comp.props)) });
  }

  const channelRef = (comp: ComponentSpec, ref: string, e: PropEntry | undefined): boolean => {
    if (listed.channels.includes(ref)) return true;
    const guess = closest(ref, listed.channels);
    c.error({ ...c.at(e), component: label(comp.section, comp.name), message: `channel '${ref}' is not defined (Flume drops the ${SECTION_SINGULAR[comp.section]})`, hint: guess ? `did you mean '${guess}'?` : `defined channels: ${listed.channels.join(', ') || '(none)'}` });
    return false;
  };

  // --- sources
  const sources: PlannedSource[] = [];
  for (const name of listed.sources) {
    const comp = spec.components.sources.get(name);
    if (!comp) continue;
    const def = typeOf('source', comp) as SourceDef | undefined;
    const chEntry = comp.props.get('channels');
    const chNames = chEntry ? [...new Set(chEntry.value.trim().split(/\s+/).filter(Boolean))] : [];
    if (!chEntry || chNames.length === 0) {
      const singular = comp.props.get('channel');
      c.error({
        ...c.at(singular ?? comp.props.get('type')), key: key('sources', name, 'channels'), component: label('sources', name),
        message: 'the source is not connected to any channel',
        hint: singular ? `sources use the plural key: ${key('sources', name, 'channels')} = ${singular.value.trim()}` : `add ${key('sources', name, 'channels')} = <channel names>`,
      });
    }
    let chOk = true;
    for (const ch of chNames) chOk = channelRef(comp, ch, chEntry) && chOk;
    // selector
    const selComp: ComponentSpec = { section: 'sources', name, props: sub(comp.props, 'selector.') };
    const selDef = typeOf('selector', selComp, 'type', 'replicating', undefined, 'selector.type') as SelectorDef | undefined;
    let selector: Planned<SelectorDef> | undefined;
    if (selDef) {
      const selProps = new Map(selComp.props);
      selProps.delete('type');
      const opts = resolveOptions(selDef, selProps, { component: `${label('sources', name)} selector`, fullKey: (k) => key('sources', name, `selector.${k}`), anchor: comp.props.get('selector.type') ?? comp.props.get('type') }, c);
      if (opts) {
        selector = { name: `${name}.selector`, def: selDef, options: opts, signature: signatureOf(propsSignature(selComp.props)) };
        if (chOk && selDef.checkChannels) {
          for (const p of selDef.checkChannels(opts, chNames)) {
            const e = p.key ? comp.props.get(`selector.${p.key}`) : comp.props.get('selector.type');
            c.error({ ...c.at(e ?? chEntry), component: `${label('sources', name)} selector`, message: p.message, hint: p.hint });
          }
        }
      }
    }
    // interceptors
    const interceptors: Planned<InterceptorDef>[] = [];
    const icEntry = comp.props.get('interceptors');
    const icNames = icEntry ? icEntry.value.trim().split(/\s+/).filter(Boolean) : [];
    const icDefined = new Set<string>();
    for (const k of comp.props.keys()) {
      if (k.startsWith('interceptors.')) {
        const rest = k.slice('interceptors.'.length);
        const d = rest.indexOf('.');
        if (d > 0) icDefined.add(rest.slice(0, d));
      }
    }
    let icOk = true;
    for (const ic of icNames) {
      const icComp: ComponentSpec = { section: 'sources', name, props: sub(comp.props, `interceptors.${ic}.`) };
      if (icComp.props.size === 0) {
        icOk = false;
        const guess = closest(ic, icDefined);
        c.error({ ...c.at(icEntry), component: `${label('sources', name)} interceptor ${ic}`, message: `interceptor '${ic}' is listed but has no properties`, hint: guess ? `did you mean '${guess}'?` : `add ${key('sources', name, `interceptors.${ic}.type`)} = ...` });
        continue;
      }
      const icDef = typeOf('interceptor', icComp, 'type', undefined, undefined, `interceptors.${ic}.type`) as InterceptorDef | undefined;
      if (!icDef) {
        icOk = false;
        continue;
      }
      const icProps = new Map(icComp.props);
      icProps.delete('type');
      const opts = resolveOptions(icDef, icProps, { component: `${label('sources', name)} interceptor ${ic}`, fullKey: (k) => key('sources', name, `interceptors.${ic}.${k}`), anchor: icComp.props.get('type') }, c);
      if (opts) interceptors.push({ name: ic, def: icDef, options: opts, signature: signatureOf(propsSignature(icComp.props)) });
      else icOk = false;
    }
    for (const ic of icDefined) {
      if (!icNames.includes(ic)) {
        const e = [...sub(comp.props, `interceptors.${ic}.`).values()][0];
        c.error({ ...c.at(e), component: `${label('sources', name)} interceptor ${ic}`, message: `interceptor '${ic}' has properties but is not listed in ${key('sources', name, 'interceptors')}`, hint: `add it: ${key('sources', name, 'interceptors')} = ${[...icNames, ic].join(' ')}` });
        icOk = false;
      }
    }
    if (!def) continue;
    const options = resolveOptions(def, withoutFramework(comp), {
      component: label('sources', name), fullKey: (k) => key('sources', name, k), anchor: comp.props.get('type'),
      extraHint: (k) => (selDef && (k in selDef.options || Object.keys(selDef.options).some((o) => k.startsWith(`${o}.`))) ? `selector keys need the prefix: ${key('sources', name, `selector.${k}`)}` : undefined),
    }, c);
    if (!options || !selector || !icOk || !chOk || chNames.length === 0) continue;
    sources.push({ name, def, options, channels: chNames, selector, interceptors, signature: signatureOf(propsSignature(comp.props)) });
  }

  // --- sinks
  const sinks = new Map<string, PlannedSink>();
  for (const name of listed.sinks) {
    const comp = spec.components.sinks.get(name);
    if (!comp) continue;
    const def = typeOf('sink', comp) as SinkDef | undefined;
    const chEntry = comp.props.get('channel');
    const ch = chEntry?.value.trim() ?? '';
    let chOk = false;
    if (!ch) {
      const plural = comp.props.get('channels');
      c.error({
        ...c.at(plural ?? comp.props.get('type')), key: key('sinks', name, 'channel'), component: label('sinks', name),
        message: 'the sink has no channel',
        hint: plural ? `sinks use the singular key: ${key('sinks', name, 'channel')} = ${plural.value.trim().split(/\s+/)[0]}` : `add ${key('sinks', name, 'channel')} = <channel>`,
      });
    } else if (/\s/.test(ch)) {
      c.error({ ...c.at(chEntry), component: label('sinks', name), message: 'a sink reads from exactly one channel', hint: 'use one sink per channel (a sink group can combine them)' });
    } else {
      chOk = channelRef(comp, ch, chEntry);
    }
    if (!def) continue;
    const props = withoutFramework(comp);
    props.delete('channels');
    if (comp.props.has('channels') && comp.props.has('channel')) {
      c.error({ ...c.at(comp.props.get('channels')), component: label('sinks', name), message: "sinks have no 'channels' key", hint: `use ${key('sinks', name, 'channel')}` });
    }
    const options = resolveOptions(def, props, { component: label('sinks', name), fullKey: (k) => key('sinks', name, k), anchor: comp.props.get('type') }, c);
    if (options && chOk) sinks.set(name, { name, def, options, channel: ch, signature: signatureOf(propsSignature(comp.props)) });
  }

  // --- sink groups
  const groups: PlannedGroup[] = [];
  const groupOf = new Map<string, { group: string; entry: PropEntry }>();
  for (const name of listed.sinkgroups) {
    const comp = spec.components.sinkgroups.get(name);
    if (!comp) continue;
    for (const k of comp.props.keys()) {
      if (!FRAMEWORK_KEYS.sinkgroups(k)) {
        const e = comp.props.get(k)!;
        const guess = k.startsWith('policy.') ? `processor.${k.slice(7)}` : closest(k, ['sinks', 'processor.type']);
        c.error({ ...c.at(e), component: label('sinkgroups', name), message: `unknown sink group property '${k}'`, hint: guess ? `did you mean '${guess}'?` : 'sink groups take sinks and processor.*' });
      }
    }
    const sEntry = comp.props.get('sinks');
    const members = sEntry ? sEntry.value.trim().split(/\s+/).filter(Boolean) : [];
    if (members.length === 0) c.error({ ...c.at(sEntry ?? [...comp.props.values()][0]), key: key('sinkgroups', name, 'sinks'), component: label('sinkgroups', name), message: 'the sink group has no sinks', hint: `add ${key('sinkgroups', name, 'sinks')} = k1 k2` });
    let ok = members.length > 0;
    for (const s of members) {
      if (!listed.sinks.includes(s)) {
        ok = false;
        const guess = closest(s, listed.sinks);
        c.error({ ...c.at(sEntry), component: label('sinkgroups', name), message: `sink '${s}' is not defined (Flume empties the whole configuration in this case)`, hint: guess ? `did you mean '${guess}'?` : `defined sinks: ${listed.sinks.join(', ') || '(none)'}` });
        continue;
      }
      const prev = groupOf.get(s);
      if (prev) {
        ok = false;
        c.error({ ...c.at(sEntry), component: label('sinkgroups', name), message: `sink '${s}' is already in sink group '${prev.group}' (${prev.entry.file}:${prev.entry.line}); a sink can belong to one group only`, hint: 'remove it from one of the groups' });
        continue;
      }
      groupOf.set(s, { group: name, entry: sEntry! });
    }
    const pComp: ComponentSpec = { section: 'sinkgroups', name, props: sub(comp.props, 'processor.') };
    const pDef = typeOf('processor', pComp, 'type', undefined, sEntry ?? [...comp.props.values()][0], 'processor.type') as ProcessorDef | undefined;
    if (!pDef) continue;
    const pProps = new Map(pComp.props);
    pProps.delete('type');
    const opts = resolveOptions(pDef, pProps, { component: label('sinkgroups', name), fullKey: (k) => key('sinkgroups', name, `processor.${k}`), anchor: comp.props.get('processor.type') }, c);
    if (!opts) continue;
    if (pDef.checkSinks) {
      for (const p of pDef.checkSinks(opts, members)) {
        const e = p.key ? comp.props.get(`processor.${p.key}`) : comp.props.get('processor.type');
        c.error({ ...c.at(e), component: label('sinkgroups', name), message: p.message, hint: p.hint });
      }
    }
    if (ok) groups.push({ name, sinks: members, processor: { name: `${name}.processor`, def: pDef, options: opts, signature: '' }, implicit: false, signature: signatureOf(propsSignature(comp.props)) });
  }
  const defaultProc = findDef('processor', 'default') as ProcessorDef | undefined;
  for (const s of sinks.keys()) {
    if (groupOf.has(s) || !defaultProc) continue;
    groups.push({ name: s, sinks: [s], processor: { name: `${s}.processor`, def: defaultProc, options: {}, signature: '' }, implicit: true, signature: `sink=${s}` });
  }

  // --- batch sizes vs transactionCapacity
  for (const src of sources) {
    const bs = src.def.batchSize?.(src.options);
    if (bs === undefined) continue;
    for (const ch of src.channels) {
      const pc = channels.get(ch);
      if (!pc) continue;
      const tc = pc.def.transactionCapacity(pc.options);
      if (bs > tc) {
        const bk = src.def.batchSizeKey ?? 'batchSize';
        const e = spec.components.sources.get(src.name)?.props.get(bk);
        c.error({ ...c.at(e), key: key('sources', src.name, bk), component: label('sources', src.name), message: `${bk} ${bs} exceeds transactionCapacity ${tc} of channel ${ch} (Flume drops the source)`, hint: `lower ${bk} or raise ${key('channels', ch, 'transactionCapacity')}` });
      }
    }
  }
  for (const sk of sinks.values()) {
    const pc = channels.get(sk.channel);
    if (!pc) continue;
    const bs = sk.def.batchSize(sk.options);
    const tc = pc.def.transactionCapacity(pc.options);
    if (bs > tc) {
      const bk = sk.def.batchSizeKey ?? 'batchSize';
      const e = spec.components.sinks.get(sk.name)?.props.get(bk);
      c.error({ ...c.at(e), key: key('sinks', sk.name, bk), component: label('sinks', sk.name), message: `${bk} ${bs} exceeds transactionCapacity ${tc} of channel ${sk.channel} (Flume drops the sink)`, hint: `lower ${bk} or raise ${key('channels', sk.channel, 'transactionCapacity')}` });
    }
  }

  // --- exclusive resources (ports, directories)
  const claims: { claim: Claim; comp: string; entry?: PropEntry }[] = [];
  const addClaims = (section: SectionKind, p: Planned<AnyDef>) => {
    const fn = p.def.claims as ((o: unknown) => Claim[]) | undefined;
    for (const claim of fn?.(p.options) ?? []) claims.push({ claim, comp: label(section, p.name), entry: spec.components[section].get(p.name)?.props.get(claim.key) });
  };
  for (const p of channels.values()) addClaims('channels', p);
  for (const p of sources) addClaims('sources', p);
  for (const p of sinks.values()) addClaims('sinks', p);
  for (let i = 0; i < claims.length; i++) {
    for (let j = 0; j < i; j++) {
      if (conflicts(claims[i]!.claim, claims[j]!.claim)) {
        const a = claims[j]!;
        const b = claims[i]!;
        c.error({ ...c.at(b.entry), component: b.comp, message: `${describeClaim(b.claim)} is also claimed by ${a.comp}${a.entry ? ` (${a.entry.file}:${a.entry.line})` : ''}`, hint: b.claim.resource === 'dir' ? 'give each component its own directory' : 'give each component its own port' });
      }
    }
  }

  // --- unused channels
  for (const name of channels.keys()) {
    const used = sources.some((s) => s.channels.includes(name)) || [...sinks.values()].some((s) => s.channel === name);
    if (!used && !c.hasErrors) {
      c.warn({ ...c.at(spec.components.channels.get(name)?.props.get('type')), component: label('channels', name), message: 'no source or sink uses this channel (Flume removes it)' });
    }
  }

  if (c.hasErrors) return { issues: c.issues };
  return {
    issues: c.issues,
    plan: Object.freeze({ agent: A, channels: [...channels.values()], sources, sinks: [...sinks.values()], groups }),
  };
}

function withoutFramework(comp: ComponentSpec): Map<string, PropEntry> {
  const m = new Map<string, PropEntry>();
  const isFw = FRAMEWORK_KEYS[comp.section];
  for (const [k, e] of comp.props) if (!isFw(k)) m.set(k, e);
  return m;
}

const ANY_HOST = new Set(['0.0.0.0', '::', '', '*']);
function conflicts(a: Claim, b: Claim): boolean {
  if (a.resource !== b.resource) return false;
  if (a.resource === 'dir') return a.id === b.id;
  const [ha, pa] = splitHostPort(a.id);
  const [hb, pb] = splitHostPort(b.id);
  if (pa !== pb || pa === '0') return false;
  return ha === hb || ANY_HOST.has(ha) || ANY_HOST.has(hb) || (isLocal(ha) && isLocal(hb));
}
function isLocal(h: string): boolean {
  return h === 'localhost' || h === '127.0.0.1' || h === '::1';
}
function splitHostPort(id: string): [string, string] {
  const i = id.lastIndexOf(':');
  return [id.slice(0, i), id.slice(i + 1)];
}
function describeClaim(c: Claim): string {
  return c.resource === 'dir' ? `directory ${c.id}` : `${c.resource.toUpperCase()} port ${c.id}`;
}

/**
 * Resolves one component's options from plain `key -> value` pairs (keys relative to the component, as the
 * option table spells them). For tests and tools; the agent goes through validateAgent.
 */
export function componentOptions(def: AnyDef, props: Record<string, string>): { options?: Record<string, any>; issues: ConfigIssue[] } {
  const c = new Collector('test');
  const m = new Map<string, PropEntry>();
  let line = 1;
  for (const [k, v] of Object.entries(props)) m.set(k, { key: k, value: v, file: '<test>', line: line++ });
  const options = resolveOptions(def, m, { component: `${def.kind} ${def.type}`, fullKey: (k) => k }, c);
  return { options, issues: c.issues };
}
