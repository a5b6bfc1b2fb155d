/** Type phase: a component's `type` (or `selector.type`, `processor.type`, ...) to its definition. */
import type { ComponentSpec } from '../agent-spec.js';
import type { PropEntry } from '../properties.js';
import type { AnyDef, Kind } from '../../contract/index.js';
import { explainUnknownType, findDef } from '../../registry/lookup.js';
import { firstEntry, type Ctx } from './context.js';

export interface TypeKey {
  /** The keys holding the type, relative to `props` (default `type`). */
  props?: Map<string, PropEntry>;
  /** The type key as written relative to the component, e.g. `selector.type` (default `type`). */
  fullKey?: string;
  /** The type when the key is absent (selectors: replicating). */
  fallback?: string;
  /** Where a missing type is reported (default: the first key). */
  anchor?: PropEntry;
}

/**
 * Finds the definition by alias (case-insensitive) or Flume class name; reports a missing or unknown type
 * against the owning component (`owner`) and returns undefined.
 */
export function lookupType(ctx: Ctx, kind: Kind, owner: ComponentSpec, t: TypeKey = {}): AnyDef | undefined {
  const props = t.props ?? owner.props;
  const c = ctx.c;
  const e = props.get('type');
  const type = e?.value.trim() || t.fallback;
  const component = ctx.label(owner.section, owner.name);
  if (!type) {
    c.error({
      ...c.at(t.anchor ?? firstEntry({ props })),
      component,
      key: ctx.key(owner.section, owner.name, t.fullKey ?? 'type'),
      message: 'type is missing',
      hint:
        kind === 'processor'
          ? 'set processor.type = failover or load_balance (Flume drops the group and its sinks)'
          : `see: flume-ng describe ${kind}`,
    });
    return undefined;
  }
  let def = findDef(kind, type);
  if (!def && ctx.plugins) {
    const hit = ctx.plugins.lookup(kind, type, e?.file);
    if (hit?.error) {
      c.error({ ...c.at(e), component, message: hit.error, hint: hit.hint });
      return undefined;
    }
    def = hit?.def;
  }
  if (!def) {
    const miss = explainUnknownType(kind, type);
    c.error({ ...c.at(e), component, message: miss.message, hint: miss.hint });
  }
  return def;
}
