/**
 * multiplexing: routes each event by the exact (case-sensitive) value of one header.
 * Required channels = `mapping.<value>`, else `default` (header absent, blank or unmapped); optional channels =
 * `optional.<value>` minus the required ones.
 *
 * Differences from Flume: Flume silently discards an event that matches no mapping when there is no default. Here
 * that configuration is rejected unless the operator confirms it with `selector.unmatched = drop`; dropped events
 * are counted (`dropped`) and logged at WARN (at most once a minute, with the count). Lists split on any
 * whitespace (Flume: single spaces only, two spaces drop the source). Channels not among the source's channels are
 * config errors with a did-you-mean (Flume drops the source).
 */
import {
  defineSelector,
  type ChannelSelector,
  type Problem,
  type Selection,
  type SelectorContext,
  opt,
  didYouMeanHint,
  type Resolved,
} from '../contract/index.js';
import type { FlumeEvent } from '../core/event.js';

const listOf = opt.list({ doc: 'channels', default: [] as string[] });

const options = {
  header: opt.string({
    default: 'flume.selector.header',
    nonEmpty: true,
    doc: 'Header whose value picks the channels.',
  }),
  mapping: opt.map({
    of: listOf,
    keyText: '<value>',
    doc: 'Required channels (space-separated) for events whose header equals <value> exactly (case-sensitive).',
  }),
  default: opt.list({ doc: 'Required channels for events whose header is absent, blank, or matches no mapping.' }),
  optional: opt.map({
    of: listOf,
    keyText: '<value>',
    doc: 'Optional channels for events whose header equals <value>; their failures are logged and counted, never fail the put.',
  }),
  unmatched: opt.enum({
    values: ['default', 'drop'] as const,
    default: 'default',
    doc: 'New key. `default`: events matching no mapping go to selector.default, which must then be set. `drop`: confirms that such events are dropped when there is no default (Flume does this silently); drops are counted and logged.',
  }),
};

export type MultiplexingOptions = Resolved<typeof options>;

const EMPTY: Selection = Object.freeze({ required: Object.freeze([]), optional: Object.freeze([]) });
const WARN_EVERY_MS = 60_000;

function selection(required: readonly string[], optional: readonly string[]): Selection {
  const req = [...new Set(required)];
  const opt = [...new Set(optional)].filter((c) => !req.includes(c));
  if (req.length === 0 && opt.length === 0) return EMPTY;
  return Object.freeze({ required: Object.freeze(req), optional: Object.freeze(opt) });
}

export class MultiplexingSelector implements ChannelSelector {
  /** Events that matched no mapping, had no default and no optional channel: written nowhere (metrics read this). */
  dropped = 0;
  private readonly header: string;
  private readonly byValue = new Map<string, Selection>();
  private readonly fallback: Selection;
  private droppedSinceLog = 0;
  private lastLog = Number.NEGATIVE_INFINITY;

  constructor(
    o: MultiplexingOptions,
    private readonly ctx: SelectorContext,
  ) {
    this.header = o.header;
    const dflt = o.default ?? [];
    for (const [v, chans] of Object.entries(o.mapping)) this.byValue.set(v, selection(chans, o.optional[v] ?? []));
    for (const [v, chans] of Object.entries(o.optional)) {
      if (!this.byValue.has(v)) this.byValue.set(v, selection(dflt, chans));
    }
    this.fallback = selection(dflt, []);
  }

  select(event: FlumeEvent): Selection {
    const v = event.headers[this.header];
    let s: Selection;
    if (v === undefined || v.trim() === '') s = this.fallback;
    else s = this.byValue.get(v) ?? this.fallback;
    if (s === EMPTY) this.drop(v);
    return s;
  }

  private drop(value: string | undefined): void {
    this.dropped++;
    this.droppedSinceLog++;
    const now = performance.now();
    if (now - this.lastLog >= WARN_EVERY_MS) {
      this.ctx.logger.warn('Dropped events whose header matches no mapping (selector.unmatched = drop)', {
        source: this.ctx.source,
        header: this.header,
        lastValue: value ?? '(absent)',
        dropped: this.droppedSinceLog,
        droppedTotal: this.dropped,
      });
      this.lastLog = now;
      this.droppedSinceLog = 0;
    }
  }
}

export default defineSelector({
  type: 'multiplexing',
  classNames: ['org.apache.flume.channel.MultiplexingChannelSelector'],
  summary: 'Routes each event by the exact value of one header to the channels mapped for that value.',
  options,
  // apart from checkChannels, so that a bad selector.unmatched value never hides a mapping to an unknown channel
  check: (o) => {
    const problems: Problem[] = [];
    const hasDefault = (o.default ?? []).length > 0;
    if (o.unmatched === 'default' && !hasDefault) {
      problems.push({
        message: `events whose header '${o.header}' is absent or matches no mapping would be silently dropped (selector.default is not set)`,
        hint: 'set selector.default = <channels>, or confirm the drop with selector.unmatched = drop (drops are counted and logged)',
      });
    }
    if (o.unmatched === 'drop' && hasDefault) {
      problems.push({
        key: 'unmatched',
        message: 'selector.unmatched = drop contradicts selector.default: unmatched events go to the default channels',
        hint: 'remove one of the two keys',
      });
    }
    return problems;
  },
  checkChannels: (o, channels) => {
    const problems: Problem[] = [];
    const known = (ch: string, key: string) => {
      if (channels.includes(ch)) return;
      problems.push({
        key,
        message: `channel '${ch}' in selector.${key} is not one of the source's channels (${channels.join(', ')})`,
        hint: didYouMeanHint(ch, channels) ?? "add it to the source's channels, or fix the name",
      });
    };
    for (const [v, chans] of Object.entries(o.mapping)) for (const ch of chans) known(ch, `mapping.${v}`);
    for (const [v, chans] of Object.entries(o.optional)) for (const ch of chans) known(ch, `optional.${v}`);
    for (const ch of o.default ?? []) known(ch, 'default');
    if (Object.keys(o.mapping).length === 0) {
      problems.push({
        message: 'the multiplexing selector has no selector.mapping.<value> entries',
        hint: `add e.g. selector.mapping.<value> = ${channels[0] ?? 'c1'}, or use the replicating selector`,
      });
    }
    return problems;
  },
  create: (o, ctx) => new MultiplexingSelector(o, ctx),
});
