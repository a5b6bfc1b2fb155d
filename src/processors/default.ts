import { defineProcessor } from '../contract/index.js';

export default defineProcessor({
  type: 'default',
  classNames: ['org.apache.flume.sink.DefaultSinkProcessor'],
  summary: 'Drives exactly one sink (every sink outside a sink group gets one).',
  options: {},
  checkSinks: (_o, sinks) =>
    sinks.length === 1
      ? []
      : [
          {
            message: `the default processor drives exactly one sink, this group has ${sinks.length}`,
            hint: 'use processor.type = failover or load_balance',
          },
        ],
  create: (_o, ctx) => {
    const sink = ctx.sinks[0]!;
    return {
      process: (signal) => sink.process(signal),
      waitForEvents: (ms, signal) => sink.waitForEvents(ms, signal),
    };
  },
});
