/**
 * Components phase: every listed channel, source and sink through type lookup and its options; a source's
 * `channels`, selector and interceptors, a sink's `channel`. References between components are the graph
 * phase's business; here each component is judged on its own keys.
 */
import type { ComponentSpec, SectionKind } from '../agent-spec.js';
import type { PropEntry } from '../properties.js';
import type { AnyDef, ChannelDef, InterceptorDef, SelectorDef, SinkDef, SourceDef } from '../../contract/index.js';
import { words, type Ctx } from './context.js';
import { lookupType } from './types.js';
import { resolveOptions, type Resolution, type Where } from './options.js';
import { planInterceptors, planSelector, type SubPart } from './sub-components.js';

/** A component as far as it could be resolved: no `def` when its type is missing or unknown. */
export interface Part<D extends AnyDef> {
  name: string;
  comp: ComponentSpec;
  def?: D;
  res?: Resolution;
}
export interface SourcePart extends Part<SourceDef> {
  /** Its `channels` list, deduplicated. */
  channels: string[];
  selector?: SubPart<SelectorDef>;
  interceptors: SubPart<InterceptorDef>[];
}
export interface SinkPart extends Part<SinkDef> {
  /** Its one `channel`, when it names exactly one. */
  channel?: string;
}
export interface Parts {
  channels: Part<ChannelDef>[];
  sources: SourcePart[];
  sinks: SinkPart[];
}

/** Keys the framework reads, not the component's option table. */
const FRAMEWORK_KEYS: Record<SectionKind, (k: string) => boolean> = {
  sources: (k) =>
    k === 'type' ||
    k === 'channels' ||
    k === 'interceptors' ||
    k.startsWith('selector.') ||
    k.startsWith('interceptors.'),
  channels: (k) => k === 'type',
  sinks: (k) => k === 'type' || k === 'channel' || k === 'channels',
  sinkgroups: (k) => k === 'sinks' || k.startsWith('processor.'),
  configfilters: () => true,
};

function ownKeys(comp: ComponentSpec): Map<string, PropEntry> {
  const m = new Map<string, PropEntry>();
  const isFw = FRAMEWORK_KEYS[comp.section];
  for (const [k, e] of comp.props) if (!isFw(k)) m.set(k, e);
  return m;
}

function options(ctx: Ctx, comp: ComponentSpec, def: AnyDef, extraHint?: Where['extraHint']): Resolution {
  const { section, name } = comp;
  return resolveOptions(
    def,
    ownKeys(comp),
    {
      component: ctx.label(section, name),
      fullKey: (k) => ctx.key(section, name, k),
      anchor: comp.props.get('type'),
      extraHint,
    },
    ctx.c,
  );
}

function listedComponents(ctx: Ctx, section: 'channels' | 'sources' | 'sinks'): ComponentSpec[] {
  return ctx.listed[section].flatMap((n) => ctx.spec.components[section].get(n) ?? []);
}

export function planComponents(ctx: Ctx): Parts {
  return {
    channels: listedComponents(ctx, 'channels').map((comp) => {
      const def = lookupType(ctx, 'channel', comp) as ChannelDef | undefined;
      return { name: comp.name, comp, def, res: def && options(ctx, comp, def) };
    }),
    sources: listedComponents(ctx, 'sources').map((comp) => planSource(ctx, comp)),
    sinks: listedComponents(ctx, 'sinks').map((comp) => planSink(ctx, comp)),
  };
}

function planSource(ctx: Ctx, comp: ComponentSpec): SourcePart {
  const { c } = ctx;
  const def = lookupType(ctx, 'source', comp) as SourceDef | undefined;
  const entry = comp.props.get('channels');
  const channels = [...new Set(words(entry))];
  if (channels.length === 0) {
    const singular = comp.props.get('channel');
    const key = ctx.key('sources', comp.name, 'channels');
    c.error({
      ...c.at(singular ?? comp.props.get('type')),
      key,
      component: ctx.label('sources', comp.name),
      message: 'the source is not connected to any channel',
      hint: singular ? `sources use the plural key: ${key} = ${singular.value.trim()}` : `add ${key} = <channel names>`,
    });
  }
  const selector = planSelector(ctx, comp, channels, entry);
  const interceptors = planInterceptors(ctx, comp);
  const selOptions = selector?.def.options;
  const selectorKey = (k: string): string | undefined =>
    selOptions && (k in selOptions || Object.keys(selOptions).some((o) => k.startsWith(`${o}.`)))
      ? `selector keys need the prefix: ${ctx.key('sources', comp.name, `selector.${k}`)}`
      : undefined;
  const res = def && options(ctx, comp, def, selectorKey);
  return { name: comp.name, comp, def, res, channels, selector, interceptors };
}

function planSink(ctx: Ctx, comp: ComponentSpec): SinkPart {
  const { c } = ctx;
  const label = ctx.label('sinks', comp.name);
  const key = ctx.key('sinks', comp.name, 'channel');
  const def = lookupType(ctx, 'sink', comp) as SinkDef | undefined;
  const entry = comp.props.get('channel');
  const plural = comp.props.get('channels');
  const names = words(entry);
  if (names.length === 0) {
    c.error({
      ...c.at(plural ?? comp.props.get('type')),
      key,
      component: label,
      message: 'the sink has no channel',
      hint: plural ? `sinks use the singular key: ${key} = ${words(plural)[0] ?? ''}` : `add ${key} = <channel>`,
    });
  } else if (names.length > 1) {
    c.error({
      ...c.at(entry),
      component: label,
      message: 'a sink reads from exactly one channel',
      hint: 'use one sink per channel (a sink group can combine them)',
    });
  }
  const channel = names.length === 1 ? names[0] : undefined;
  if (!def) return { name: comp.name, comp, channel };
  if (plural && entry) {
    c.error({ ...c.at(plural), component: label, message: "sinks have no 'channels' key", hint: `use ${key}` });
  }
  return { name: comp.name, comp, def, res: options(ctx, comp, def), channel };
}
