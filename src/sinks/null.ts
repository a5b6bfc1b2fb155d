/**
 * `null` sink (Flume's NullSink): takes events and discards them. Logs at INFO every `logEveryNEvents` events:
 * `Null sink <name> successful processed <n> events.` (Flume's wording). Flume also counts the empty take that
 * ends a short batch; this sink counts only real events.
 */
import { defineSink, type Sink, type SinkContext, opt } from '../contract/index.js';
import type { FlumeEvent } from '../core/event.js';
import type { Logger } from '../telemetry/logger.js';

const options = {
  batchSize: opt.int({ default: 100, min: 1, doc: 'Most events per transaction.' }),
  logEveryNEvents: opt.int({ default: 10000, min: 1, doc: 'Log an INFO line every this many discarded events.' }),
};

export class NullSink implements Sink {
  readonly batchSize: number;
  private readonly every: number;
  private readonly name: string;
  private readonly log: Logger;
  /** Events discarded since start. */
  count = 0;

  constructor(o: { batchSize: number; logEveryNEvents: number }, ctx: SinkContext) {
    this.batchSize = o.batchSize;
    this.every = o.logEveryNEvents;
    this.name = ctx.name;
    this.log = ctx.logger;
  }

  async start(): Promise<void> {
    this.count = 0;
  }

  async deliver(batch: FlumeEvent[]): Promise<void> {
    const before = this.count;
    const after = before + batch.length;
    this.count = after;
    // one line per multiple of N crossed, as Flume logs when its per-event counter hits a multiple
    for (let m = (Math.floor(before / this.every) + 1) * this.every; m <= after; m += this.every) {
      this.log.info(`Null sink ${this.name} successful processed ${m} events.`);
    }
  }

  async close(): Promise<void> {}

  destroy(): void {}
}

export default defineSink({
  type: 'null',
  classNames: ['org.apache.flume.sink.NullSink'],
  summary: 'Discards every event it takes. For testing and benchmarks.',
  options,
  batchSize: (o) => o.batchSize,
  batchSizeKey: 'batchSize',
  create: (o, ctx) => new NullSink(o, ctx),
});
