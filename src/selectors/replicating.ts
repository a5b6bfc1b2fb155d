/**
 * replicating (the default selector): every event goes to every channel of the source. `selector.optional` channels
 * are written after the required ones; their failures are logged and counted, never fail the put.
 * Differences from Flume: an optional channel that is not one of the source's channels is a config error (Flume
 * ignores it); a channel listed twice in `optional` is written once.
 */
import { defineSelector, type Problem, opt, didYouMeanHint } from '../contract/index.js';

const options = {
  optional: opt.list({
    doc: "Channels (of the source's channels) whose failures are logged and counted but never fail the put.",
  }),
};

export default defineSelector({
  type: 'replicating',
  classNames: ['org.apache.flume.channel.ReplicatingChannelSelector'],
  summary: 'Copies every event to every channel of the source (the default selector).',
  options,
  checkChannels: (o, channels) => {
    const problems: Problem[] = [];
    for (const ch of o.optional ?? []) {
      if (!channels.includes(ch)) {
        problems.push({
          key: 'optional',
          message: `optional channel '${ch}' is not one of the source's channels (${channels.join(', ')})`,
          hint: didYouMeanHint(ch, channels) ?? "list it in the source's channels too",
        });
      }
    }
    return problems;
  },
  create: (o, ctx) => {
    const optional = [...new Set(o.optional ?? [])].filter((c) => ctx.channels.includes(c));
    const required = ctx.channels.filter((c) => !optional.includes(c));
    const fixed = Object.freeze({ required: Object.freeze(required), optional: Object.freeze(optional) });
    return { fixed, select: () => fixed };
  },
});
