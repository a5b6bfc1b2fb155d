/** A forward source running in-process with a recording (or scripted) emit, for the forward tests. */
import forward, { ForwardSource } from '../../src/sources/forward.js';
import type { SourceContext } from '../../src/contract/index.js';
import type { FlumeEvent } from '../../src/core/event.js';
import { sourceCounters, type SourceCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { countEmits } from '../../src/runtime/channel-processor.js';
import { optionsFor } from './agent.js';

export interface RunningForward {
  source: ForwardSource;
  port: number;
  counters: SourceCounters;
  events: FlumeEvent[];
  records(): unknown[];
  stop(): Promise<void>;
}

export async function startForward(
  props: Record<string, string> = {},
  opts: { emit?: (b: FlumeEvent[]) => Promise<void>; maxBatchSize?: number } = {},
): Promise<RunningForward> {
  const events: FlumeEvent[] = [];
  const counters = sourceCounters('r1');
  const ctx: SourceContext = {
    name: 'r1',
    logger: silentLogger(),
    clock: systemClock,
    counters,
    maxBatchSize: opts.maxBatchSize ?? 1000,
    emit: countEmits(
      opts.emit ??
        (async (b) => {
          events.push(...b);
        }),
      counters,
    ),
  };
  const source = forward.create(optionsFor(forward, { bind: '127.0.0.1', port: '0', ...props }), ctx) as ForwardSource;
  await source.start();
  return {
    source,
    port: source.port,
    counters,
    events,
    records: () => events.map((e) => JSON.parse(e.body.toString('utf8')) as unknown),
    stop: () => source.close(),
  };
}
