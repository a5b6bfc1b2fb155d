/**
 * load_balancing (Flume 1.10+): each event goes to exactly one of the source's channels, chosen round robin (per
 * event) or at random. No optional channels. A batch is split per channel; each channel's share is one put.
 */
import { defineSelector, type ChannelSelector, type Selection, opt } from '../contract/index.js';
import type { FlumeEvent } from '../core/event.js';

const options = {
  policy: opt.enum({
    values: ['round_robin', 'random'] as const,
    default: 'round_robin',
    doc: 'How the channel of each event is chosen.',
  }),
};

export class LoadBalancingSelector implements ChannelSelector {
  private readonly choices: Selection[];
  private next = 0;

  constructor(
    channels: readonly string[],
    private readonly random: boolean,
    private readonly rnd: () => number = Math.random,
  ) {
    this.choices = channels.map((c) => Object.freeze({ required: Object.freeze([c]), optional: Object.freeze([]) }));
  }

  select(_event: FlumeEvent): Selection {
    const n = this.choices.length;
    if (this.random) return this.choices[Math.floor(this.rnd() * n) % n]!;
    const s = this.choices[this.next]!;
    this.next = (this.next + 1) % n;
    return s;
  }
}

export default defineSelector({
  type: 'load_balancing',
  classNames: ['org.apache.flume.channel.LoadBalancingChannelSelector'],
  summary: "Sends each event to one of the source's channels, round robin or at random.",
  options,
  checkChannels: (_o, channels) =>
    channels.length >= 2
      ? []
      : [
          {
            message: `the load_balancing selector needs at least 2 channels, the source has ${channels.length}`,
            hint: 'list more channels in the source, or drop selector.type',
          },
        ],
  create: (o, ctx) => new LoadBalancingSelector(ctx.channels, o.policy === 'random'),
});
