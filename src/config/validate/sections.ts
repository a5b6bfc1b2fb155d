/**
 * Sections phase: the names listed in `A.sources`, `A.channels`, `A.sinks`, `A.sinkgroups` against the components
 * that have keys (listed but undefined, defined but unlisted), config filters, and an agent with nothing in it.
 */
import { SECTION_SINGULAR } from '../agent-spec.js';
import { closest } from '../../contract/index.js';
import { firstEntry, type Ctx } from './context.js';

const LISTED_SECTIONS = ['sources', 'channels', 'sinks', 'sinkgroups'] as const;

export function checkSections(ctx: Ctx): void {
  const { spec, c, agent: A, listed } = ctx;
  for (const section of LISTED_SECTIONS) {
    const list = spec.lists[section];
    listed[section] = list?.names ?? [];
    const set = (ctx.listedSet[section] = new Set(listed[section]));
    const word = SECTION_SINGULAR[section];
    for (const name of listed[section]) {
      if (spec.components[section].has(name)) continue;
      const guess = c.full ? undefined : closest(name, spec.components[section].keys());
      c.error({
        ...c.at(list?.entry),
        component: ctx.label(section, name),
        message: `${word} '${name}' is listed but has no properties`,
        hint: guess
          ? `did you mean '${guess}' (which has properties but is not listed)?`
          : `add ${ctx.key(section, name, 'type')} = ...`,
      });
    }
    for (const [name, comp] of spec.components[section]) {
      if (set.has(name)) continue;
      const guess = c.full ? undefined : closest(name, listed[section]);
      c.error({
        ...c.at(firstEntry(comp)),
        component: ctx.label(section, name),
        message: `${word} '${name}' has properties but is not listed in ${A}.${section} (Flume ignores it silently)`,
        hint: guess ? `did you mean '${guess}'?` : addToList(`${A}.${section}`, listed[section], name),
      });
    }
  }
  checkAgentShape(ctx);
}

/** How to list `name` too: the whole list when it is short, else just where to add it. */
export function addToList(key: string, names: readonly string[], name: string): string {
  return names.length < 20 ? `add it: ${key} = ${[...names, name].join(' ')}` : `add '${name}' to ${key}`;
}

function checkAgentShape(ctx: Ctx): void {
  const { spec, c, agent: A, listed } = ctx;
  if (spec.lists.configfilters || spec.components.configfilters.size) {
    const filter = spec.components.configfilters.values().next().value;
    c.error({
      ...c.at(spec.lists.configfilters?.entry ?? (filter && firstEntry(filter))),
      component: `agent ${A}`,
      message: 'config filters are not supported by flume-ts yet',
      hint: 'use ${env:NAME} or ${sys:name} substitution instead of an env config filter',
    });
  }
  if (listed.channels.length === 0) {
    c.error({
      ...c.at(spec.lists.channels?.entry),
      key: `${A}.channels`,
      component: `agent ${A}`,
      message: 'the agent has no channels (Flume discards the whole agent)',
      hint: `add ${A}.channels = c1 and ${A}.channels.c1.type = memory`,
    });
  }
  if (listed.sources.length === 0 && listed.sinks.length === 0) {
    c.error({
      key: `${A}.sources`,
      component: `agent ${A}`,
      message: 'the agent has neither sources nor sinks',
      hint: `list them with ${A}.sources = ... and ${A}.sinks = ...`,
    });
  }
}
