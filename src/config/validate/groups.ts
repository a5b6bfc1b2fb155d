/** Sink groups phase: each group's own keys, its sinks list and its processor. Membership is checked in graph. */
import type { ComponentSpec } from '../agent-spec.js';
import type { PropEntry } from '../properties.js';
import { closest, type ProcessorDef } from '../../contract/index.js';
import { firstEntry, words, type Ctx } from './context.js';
import { planProcessor, type SubPart } from './sub-components.js';

export interface GroupPart {
  name: string;
  comp: ComponentSpec;
  sinks: string[];
  sinksEntry?: PropEntry;
  processor?: SubPart<ProcessorDef>;
}

export function planGroups(ctx: Ctx): GroupPart[] {
  return ctx.listed.sinkgroups.flatMap((name) => {
    const comp = ctx.spec.components.sinkgroups.get(name);
    return comp ? [planGroup(ctx, comp)] : [];
  });
}

function planGroup(ctx: Ctx, comp: ComponentSpec): GroupPart {
  const { c } = ctx;
  const label = ctx.label('sinkgroups', comp.name);
  for (const [k, e] of comp.props) {
    if (k === 'sinks' || k.startsWith('processor.')) continue;
    const guess = k.startsWith('policy.') ? `processor.${k.slice(7)}` : closest(k, ['sinks', 'processor.type']);
    c.error({
      ...c.at(e),
      component: label,
      message: `unknown sink group property '${k}'`,
      hint: guess ? `did you mean '${guess}'?` : 'sink groups take sinks and processor.*',
    });
  }
  const sinksEntry = comp.props.get('sinks');
  const sinks = words(sinksEntry);
  if (sinks.length === 0) {
    const key = ctx.key('sinkgroups', comp.name, 'sinks');
    c.error({
      ...c.at(sinksEntry ?? firstEntry(comp)),
      key,
      component: label,
      message: 'the sink group has no sinks',
      hint: `add ${key} = k1 k2`,
    });
  }
  const processor = planProcessor(ctx, comp, sinks, sinksEntry);
  return { name: comp.name, comp, sinks, sinksEntry, processor };
}
