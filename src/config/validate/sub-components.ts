/**
 * Sub-component phase: interceptors, the selector and the sink processor are components inside a component
 * (`A.sources.r1.selector.*`, `A.sinkgroups.g1.processor.*`). One planner handles all three: type, options
 * (every key judged on its own) and the checks against the owner's other keys (the source's channels, the
 * group's sinks), run on whatever parsed - so a misspelt key never hides a mapping to an unknown channel.
 */
import type { ComponentSpec } from '../agent-spec.js';
import type { PropEntry } from '../properties.js';
import {
  closest,
  type AnyDef,
  type InterceptorDef,
  type Problem,
  type ProcessorDef,
  type SelectorDef,
} from '../../contract/index.js';
import { firstEntry, signatureOf, sub, words, type Ctx } from './context.js';
import { addToList } from './sections.js';
import { lookupType } from './types.js';
import { reportProblems, resolveOptions, whenParsed, type Resolution } from './options.js';

export interface SubPart<D extends AnyDef> {
  name: string;
  def: D;
  res: Resolution;
  /** Its keys, type included, for hot-reload diffs. */
  signature: string;
}

interface SubSpec<D extends AnyDef> {
  kind: D['kind'];
  owner: ComponentSpec;
  /** Its keys' prefix inside the owner: `selector.`, `processor.`, `interceptors.i1.`. */
  prefix: string;
  /** The planned name, e.g. `r1.selector`. */
  name: string;
  /** Issue label for its options, e.g. `source r1 selector`. */
  component: string;
  fallbackType?: string;
  /** Its keys relative to `prefix`, when the caller has them already (else taken from the owner's). */
  props?: Map<string, PropEntry>;
  /** Where a missing type is reported. */
  typeAnchor?: PropEntry;
  /** Where component-wide option problems point when it has no type key. */
  anchor?: PropEntry;
  /** Checks against the owner's other keys, and where their keyless problems point. */
  related?: { check: (def: D, o: Record<string, any>) => Problem[] | undefined; anchor?: PropEntry };
}

export function planSub<D extends AnyDef>(ctx: Ctx, s: SubSpec<D>): SubPart<D> | undefined {
  const { owner, prefix } = s;
  const props = s.props ?? sub(owner.props, prefix);
  const typeEntry = owner.props.get(`${prefix}type`);
  const def = lookupType(ctx, s.kind, owner, {
    props,
    fullKey: `${prefix}type`,
    fallback: s.fallbackType,
    anchor: s.typeAnchor,
  }) as D | undefined;
  if (!def) return undefined;
  const own = new Map(props);
  own.delete('type');
  const fullKey = (k: string): string => ctx.key(owner.section, owner.name, `${prefix}${k}`);
  const res = resolveOptions(def, own, { component: s.component, fullKey, anchor: typeEntry ?? s.anchor }, ctx.c);
  const related = s.related;
  const problems = related && whenParsed(res, (o) => related.check(def, o));
  if (problems?.length) {
    res.ok = false;
    reportProblems(
      ctx.c,
      problems,
      s.component,
      (p) => (p.key ? owner.props.get(`${prefix}${p.key}`) : typeEntry) ?? related!.anchor,
    );
  }
  return { name: s.name, def, res, signature: signatureOf(props) };
}

/** The source's selector (replicating when `selector.type` is absent), checked against its channel list. */
export function planSelector(ctx: Ctx, source: ComponentSpec, channels: string[], channelsEntry?: PropEntry) {
  return planSub<SelectorDef>(ctx, {
    kind: 'selector',
    owner: source,
    prefix: 'selector.',
    name: `${source.name}.selector`,
    component: `${ctx.label('sources', source.name)} selector`,
    fallbackType: 'replicating',
    anchor: source.props.get('type'),
    related: channels.length ? { check: (d, o) => d.checkChannels?.(o, channels), anchor: channelsEntry } : undefined,
  });
}

/** A sink group's processor (`processor.type` is required), checked against the group's sinks. */
export function planProcessor(ctx: Ctx, group: ComponentSpec, sinks: string[], sinksEntry?: PropEntry) {
  return planSub<ProcessorDef>(ctx, {
    kind: 'processor',
    owner: group,
    prefix: 'processor.',
    name: `${group.name}.processor`,
    component: ctx.label('sinkgroups', group.name),
    typeAnchor: sinksEntry ?? firstEntry(group),
    related: { check: (d, o) => d.checkSinks?.(o, sinks), anchor: sinksEntry },
  });
}

/** The source's interceptors: listed against defined, each through the planner. */
export function planInterceptors(ctx: Ctx, source: ComponentSpec): SubPart<InterceptorDef>[] {
  const c = ctx.c;
  const label = ctx.label('sources', source.name);
  const listKey = ctx.key('sources', source.name, 'interceptors');
  const entry = source.props.get('interceptors');
  const names = words(entry);
  // the keys of each interceptor, in one pass (a source may define thousands)
  const defined = new Map<string, Map<string, PropEntry>>();
  for (const [k, e] of source.props) {
    if (!k.startsWith('interceptors.')) continue;
    const dot = k.indexOf('.', 13);
    if (dot <= 13) continue;
    const ic = k.slice(13, dot);
    let m = defined.get(ic);
    if (!m) defined.set(ic, (m = new Map()));
    m.set(k.slice(dot + 1), e);
  }
  const parts: SubPart<InterceptorDef>[] = [];
  for (const ic of names) {
    const prefix = `interceptors.${ic}.`;
    if (!defined.has(ic)) {
      const guess = c.full ? undefined : closest(ic, defined.keys());
      c.error({
        ...c.at(entry),
        component: `${label} interceptor ${ic}`,
        message: `interceptor '${ic}' is listed but has no properties`,
        hint: guess ? `did you mean '${guess}'?` : `add ${ctx.key('sources', source.name, `${prefix}type`)} = ...`,
      });
      continue;
    }
    const part = planSub<InterceptorDef>(ctx, {
      kind: 'interceptor',
      owner: source,
      prefix,
      props: defined.get(ic),
      name: ic,
      component: `${label} interceptor ${ic}`,
    });
    if (part) parts.push(part);
  }
  const listed = new Set(names);
  for (const [ic, props] of defined) {
    if (listed.has(ic)) continue;
    c.error({
      ...c.at(firstEntry({ props })),
      component: `${label} interceptor ${ic}`,
      message: `interceptor '${ic}' has properties but is not listed in ${listKey}`,
      hint: addToList(listKey, names, ic),
    });
  }
  return parts;
}
