/**
 * Graph phase: references between components - the channels of sources and sinks, the sinks of sink groups
 * (each sink in at most one group), and batch sizes against the transactionCapacity of the channels they use.
 * A check runs whenever the values it needs parsed, even if the component has other mistakes.
 */
import { SECTION_SINGULAR, type ComponentSpec } from '../agent-spec.js';
import type { PropEntry } from '../properties.js';
import { closest, type AnyDef, type ChannelDef } from '../../contract/index.js';
import { someNames, type Ctx } from './context.js';
import { whenParsed } from './options.js';
import type { Part, Parts } from './components.js';
import type { GroupPart } from './groups.js';

export function checkChannelRefs(ctx: Ctx, parts: Parts): void {
  for (const s of parts.sources) {
    for (const ch of s.channels) channelRef(ctx, s.comp, ch, s.comp.props.get('channels'));
  }
  for (const k of parts.sinks) {
    if (k.channel !== undefined) channelRef(ctx, k.comp, k.channel, k.comp.props.get('channel'));
  }
}

function channelRef(ctx: Ctx, comp: ComponentSpec, ref: string, e: PropEntry | undefined): void {
  const listed = ctx.listed.channels;
  if (ctx.listedSet.channels.has(ref)) return;
  const guess = ctx.c.full ? undefined : closest(ref, listed);
  ctx.c.error({
    ...ctx.c.at(e),
    component: ctx.label(comp.section, comp.name),
    message: `channel '${ref}' is not defined (Flume drops the ${SECTION_SINGULAR[comp.section]})`,
    hint: guess ? `did you mean '${guess}'?` : `defined channels: ${someNames(listed) || '(none)'}`,
  });
}

/** Checks that every group's sinks exist and belong to no other group; returns sink -> its group. */
export function checkGroupMembers(ctx: Ctx, groups: GroupPart[]): Map<string, string> {
  const { c } = ctx;
  const groupOf = new Map<string, { group: string; entry: PropEntry }>();
  for (const g of groups) {
    const label = ctx.label('sinkgroups', g.name);
    for (const s of g.sinks) {
      if (!ctx.listedSet.sinks.has(s)) {
        const guess = c.full ? undefined : closest(s, ctx.listed.sinks);
        c.error({
          ...c.at(g.sinksEntry),
          component: label,
          message: `sink '${s}' is not defined (Flume empties the whole configuration in this case)`,
          hint: guess ? `did you mean '${guess}'?` : `defined sinks: ${someNames(ctx.listed.sinks) || '(none)'}`,
        });
        continue;
      }
      const prev = groupOf.get(s);
      if (prev) {
        c.error({
          ...c.at(g.sinksEntry),
          component: label,
          message:
            `sink '${s}' is already in sink group '${prev.group}' (${prev.entry.file}:${prev.entry.line}); ` +
            'a sink can belong to one group only',
          hint: 'remove it from one of the groups',
        });
        continue;
      }
      groupOf.set(s, { group: g.name, entry: g.sinksEntry! });
    }
  }
  return new Map([...groupOf].map(([s, v]) => [s, v.group]));
}

/** A value computed from a component's parsed options; undefined when they do not suffice. */
function parsed<D extends AnyDef, T>(p: Part<D> | undefined, fn: (def: D, o: any) => T): T | undefined {
  const def = p?.def;
  return def && p.res ? whenParsed(p.res, (o) => fn(def, o)) : undefined;
}

export function checkBatchSizes(ctx: Ctx, parts: Parts): void {
  const channels = new Map(parts.channels.map((p) => [p.name, p]));
  const capacity = (ch: string) => parsed<ChannelDef, number>(channels.get(ch), (d, o) => d.transactionCapacity(o));
  const check = (p: Part<AnyDef>, bs: number | undefined, bk: string, ch: string) => {
    const tc = capacity(ch);
    if (bs === undefined || tc === undefined || bs <= tc) return;
    const section = p.comp.section;
    ctx.c.error({
      ...ctx.c.at(p.comp.props.get(bk)),
      key: ctx.key(section, p.name, bk),
      component: ctx.label(section, p.name),
      message:
        `${bk} ${bs} exceeds transactionCapacity ${tc} of channel ${ch}` +
        ` (Flume drops the ${SECTION_SINGULAR[section]})`,
      hint: `lower ${bk} or raise ${ctx.key('channels', ch, 'transactionCapacity')}`,
    });
  };
  for (const s of parts.sources) {
    const bs = parsed(s, (d, o) => d.batchSize?.(o));
    for (const ch of s.channels) check(s, bs, s.def?.batchSizeKey ?? 'batchSize', ch);
  }
  for (const k of parts.sinks) {
    if (k.channel === undefined) continue;
    check(
      k,
      parsed(k, (d, o) => d.batchSize(o)),
      k.def?.batchSizeKey ?? 'batchSize',
      k.channel,
    );
  }
}
