/**
 * load_balance sink processor: each process() call picks an order of the group's sinks (round robin: the start
 * rotates by one sink per call; random: a random permutation) and tries them in that order until one delivers.
 * A failing sink's batch is rolled back and the next sink is tried in the same call. With `backoff`, a failed
 * sink is skipped for 1 s, doubling per consecutive failure up to `selector.maxTimeOut` (monotonic clock).
 *
 * Differences from Flume: a sink whose channel is empty ('backoff') does not end the call: the next sink is tried
 * (Flume returns BACKOFF and sleeps even when another sink's channel has events); the consecutive-failure count
 * resets when the sink delivers (Flume keeps it for an hour, so one failure after a recovery can exclude a sink
 * for the full maxTimeOut); the first exclusion is 1 s (Flume: 2 s); custom selector classes cannot be loaded.
 */
import {
  defineProcessor,
  type ProcessorContext,
  type SinkHandle,
  type SinkProcessor,
  opt,
  type Resolved,
} from '../contract/index.js';
import { AgentError, errorMessage } from '../core/errors.js';
import { sleep } from '../core/clock.js';

const options = {
  selector: opt.enum({
    values: ['round_robin', 'random'] as const,
    default: 'round_robin',
    doc: 'Order in which sinks are tried: rotate by one sink per batch, or a random permutation per batch.',
  }),
  backoff: opt.bool({
    default: false,
    doc: 'Skip a failed sink for a while (1 s, doubling per consecutive failure, up to selector.maxTimeOut).',
  }),
  'selector.maxTimeOut': opt.duration({
    default: 30000,
    unit: 'ms',
    min: 0,
    doc: 'Longest time a failed sink is skipped when backoff is on.',
  }),
};

export type LoadBalanceOptions = Resolved<typeof options>;

export interface BalancedSinkState {
  readonly name: string;
  readonly handle: SinkHandle;
  failures: number;
  until: number;
}

export class LoadBalancingSinkProcessor implements SinkProcessor {
  readonly sinks: BalancedSinkState[];
  private next = 0;

  constructor(
    private readonly o: LoadBalanceOptions,
    private readonly ctx: ProcessorContext,
    private readonly rnd: () => number = Math.random,
  ) {
    this.sinks = ctx.sinks.map((h) => ({ name: h.name, handle: h, failures: 0, until: 0 }));
  }

  exclusionMs(failures: number): number {
    return Math.min(this.o['selector.maxTimeOut'], 1000 * 2 ** Math.min(failures - 1, 30));
  }

  /** The order of sinks for one call. */
  order(): BalancedSinkState[] {
    const n = this.sinks.length;
    let order: BalancedSinkState[];
    if (this.o.selector === 'random') {
      order = [...this.sinks];
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(this.rnd() * (i + 1));
        [order[i], order[j]] = [order[j]!, order[i]!];
      }
    } else {
      // the rotation advances past the sink that last delivered (see process()), not per call: advancing on
      // empty polls would hand every trickled batch to the same sink
      const start = this.next;
      order = [];
      for (let i = 0; i < n; i++) order.push(this.sinks[(start + i) % n]!);
    }
    if (!this.o.backoff) return order;
    const now = this.ctx.clock.monotonicMs();
    return order.filter((s) => s.until <= now);
  }

  async process(signal: AbortSignal): Promise<'ready' | 'backoff'> {
    const order = this.order();
    if (order.length === 0) {
      const next = this.sinks.reduce((a, b) => (b.until < a.until ? b : a));
      throw new AgentError(
        'FLUME_ERR_SINK_DELIVERY',
        `every sink of load_balance group ${this.ctx.group} is backed off after failures; next retry of ${next.name} in ${Math.max(0, Math.round(next.until - this.ctx.clock.monotonicMs()))} ms`,
      );
    }
    let lastErr: unknown;
    let failed = 0;
    for (const s of order) {
      let status: 'ready' | 'backoff';
      try {
        status = await s.handle.process(signal);
      } catch (err) {
        if (signal.aborted) throw err;
        lastErr = err;
        failed++;
        s.failures++;
        const wait = this.o.backoff ? this.exclusionMs(s.failures) : 0;
        if (this.o.backoff) s.until = this.ctx.clock.monotonicMs() + wait;
        this.ctx.logger.warn('Sink failed; its batch was rolled back and goes to the next sink', {
          group: this.ctx.group,
          sink: s.name,
          consecutiveFailures: s.failures,
          ...(this.o.backoff ? { excludedForMs: wait } : {}),
          error: errorMessage(err),
        });
        continue;
      }
      if (status === 'ready') {
        s.failures = 0;
        s.until = 0;
        this.next = (this.sinks.indexOf(s) + 1) % this.sinks.length;
        return 'ready';
      }
    }
    if (failed > 0) {
      throw new AgentError(
        'FLUME_ERR_SINK_DELIVERY',
        `${failed} of ${order.length} sinks of load_balance group ${this.ctx.group} failed and none delivered (last: ${errorMessage(lastErr)})`,
        { cause: lastErr },
      );
    }
    return 'backoff';
  }

  /** Resolves as soon as any sink's channel may have events. */
  async waitForEvents(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return;
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await Promise.race([...this.sinks.map((s) => s.handle.waitForEvents(ms, ac.signal)), sleep(ms, ac.signal)]);
    } finally {
      ac.abort();
      signal?.removeEventListener('abort', onAbort);
    }
  }
}

export default defineProcessor({
  type: 'load_balance',
  classNames: ['org.apache.flume.sink.LoadBalancingSinkProcessor'],
  summary: "Spreads batches over the group's sinks (round robin or random), skipping failed sinks.",
  options,
  checkSinks: (_o, sinks) =>
    sinks.length >= 2
      ? []
      : [
          {
            message: `load_balance needs at least 2 sinks, this group has ${sinks.length} (Flume drops the group)`,
            hint: 'add sinks to the group, or leave the sink out of any group',
          },
        ],
  create: (o, ctx) => new LoadBalancingSinkProcessor(o, ctx),
});
