/**
 * failover sink processor: the highest-priority sink that is not cooling down gets every batch. A sink whose
 * delivery fails (its batch is rolled back into the channel) is put on a penalty and the next sink by priority is
 * tried at once, in the same process() call, so the batch moves on without a pause. The penalty starts at 1 s and
 * doubles per consecutive failure up to `maxpenalty`, measured on the monotonic clock. When the penalty of a
 * higher-priority sink expires it is tried again first; when it delivers, the group fails back to it.
 * An empty channel ('backoff') is not a failure.
 *
 * Differences from Flume: duplicate priorities and priorities naming sinks outside the group are config errors
 * (Flume silently ignores a sink); sinks without a priority rank below all others in the order they are listed
 * (Flume: -1, -2, ... in hash-map order); the first penalty is 1 s (Flume: 2 s) and penalties use the monotonic
 * clock (Flume: wall clock).
 */
import {
  defineProcessor,
  type Problem,
  type ProcessorContext,
  type SinkHandle,
  type SinkProcessor,
  opt,
  didYouMeanHint,
  type Resolved,
} from '../contract/index.js';
import { AgentError, errorMessage } from '../core/errors.js';
import { sleep } from '../core/clock.js';

const options = {
  priority: opt.map({
    of: opt.int({ default: 0, doc: 'priority' }),
    keyText: '<sink>',
    doc: 'Priority of each sink of the group: the higher the number, the more preferred. Priorities must be unique.',
  }),
  maxpenalty: opt.duration({
    default: 30000,
    unit: 'ms',
    min: 0,
    doc: 'Longest cool-down of a failed sink. The cool-down starts at 1 s and doubles per consecutive failure.',
  }),
};

export type FailoverOptions = Resolved<typeof options>;

const FIRST_PENALTY_MS = 1000;

export interface FailoverSinkState {
  readonly name: string;
  readonly priority: number | undefined;
  /** Consecutive failures (0 = healthy). */
  failures: number;
  /** Monotonic time until which the sink is not tried. */
  until: number;
  readonly handle: SinkHandle;
}

/** Orders the group's sinks: explicit priorities high to low, then the others as listed. */
export function failoverOrder(sinks: readonly string[], priorities: Record<string, number>): string[] {
  const withP = sinks.filter((s) => priorities[s] !== undefined).sort((a, b) => priorities[b]! - priorities[a]!);
  return [...withP, ...sinks.filter((s) => priorities[s] === undefined)];
}

export class FailoverSinkProcessor implements SinkProcessor {
  readonly sinks: FailoverSinkState[];
  /** The sink that delivered the last batch. */
  active: string | undefined;
  /** How often the delivering sink changed (failovers and failbacks). */
  switches = 0;

  constructor(
    private readonly o: FailoverOptions,
    private readonly ctx: ProcessorContext,
  ) {
    const byName = new Map(ctx.sinks.map((s) => [s.name, s]));
    this.sinks = failoverOrder(
      ctx.sinks.map((s) => s.name),
      o.priority,
    ).map((name) => ({
      name,
      priority: o.priority[name],
      failures: 0,
      until: 0,
      handle: byName.get(name)!,
    }));
  }

  /** Cool-down after the n-th consecutive failure. */
  penaltyMs(failures: number): number {
    return Math.min(this.o.maxpenalty, FIRST_PENALTY_MS * 2 ** Math.min(failures - 1, 30));
  }

  async process(signal: AbortSignal): Promise<'ready' | 'backoff'> {
    const clock = this.ctx.clock;
    let lastErr: unknown;
    let tried = 0;
    for (const s of this.sinks) {
      if (s.until > clock.monotonicMs()) continue;
      tried++;
      let status: 'ready' | 'backoff';
      try {
        status = await s.handle.process(signal);
      } catch (err) {
        if (signal.aborted) throw err;
        lastErr = err;
        s.failures++;
        const penalty = this.penaltyMs(s.failures);
        s.until = clock.monotonicMs() + penalty;
        this.ctx.logger.warn('Sink failed; its batch was rolled back and goes to the next sink by priority', {
          group: this.ctx.group,
          sink: s.name,
          consecutiveFailures: s.failures,
          retryInMs: penalty,
          error: errorMessage(err),
        });
        continue;
      }
      if (status === 'ready') this.delivered(s);
      return status;
    }
    const next = this.sinks.reduce((a, b) => (b.until < a.until ? b : a));
    const wait = Math.max(0, Math.round(next.until - clock.monotonicMs()));
    throw new AgentError(
      'FLUME_ERR_SINK_DELIVERY',
      tried > 0
        ? `every sink of failover group ${this.ctx.group} failed (last: ${errorMessage(lastErr)}); next retry of ${next.name} in ${wait} ms`
        : `every sink of failover group ${this.ctx.group} is cooling down after failures; next retry of ${next.name} in ${wait} ms`,
      { cause: lastErr },
    );
  }

  private delivered(s: FailoverSinkState): void {
    if (s.failures > 0) {
      this.ctx.logger.info('Sink recovered', { group: this.ctx.group, sink: s.name, afterFailures: s.failures });
      s.failures = 0;
      s.until = 0;
    }
    if (this.active !== s.name) {
      if (this.active !== undefined) {
        this.switches++;
        const back = this.sinks.indexOf(s) < this.sinks.findIndex((x) => x.name === this.active);
        this.ctx.logger.warn(
          back ? 'Failing back to a higher-priority sink' : 'Failing over to a lower-priority sink',
          { group: this.ctx.group, from: this.active, to: s.name },
        );
      }
      this.active = s.name;
    }
  }

  waitForEvents(ms: number, signal?: AbortSignal): Promise<void> {
    const now = this.ctx.clock.monotonicMs();
    const s = this.sinks.find((x) => x.until <= now);
    if (s) return s.handle.waitForEvents(ms, signal);
    const soonest = Math.min(...this.sinks.map((x) => x.until)) - now;
    return sleep(Math.max(1, Math.min(ms, soonest)), signal);
  }
}

export default defineProcessor({
  type: 'failover',
  classNames: ['org.apache.flume.sink.FailoverSinkProcessor'],
  summary: 'Sends every batch to the highest-priority working sink; a failed sink cools down and is retried later.',
  options,
  checkSinks: (o, sinks) => {
    const problems: Problem[] = [];
    const seen = new Map<number, string>();
    for (const [name, p] of Object.entries(o.priority)) {
      if (!sinks.includes(name)) {
        problems.push({
          key: `priority.${name}`,
          message: `priority.${name}: sink '${name}' is not in this group (${sinks.join(', ')})`,
          hint: didYouMeanHint(name, sinks) ?? "add it to the group's sinks or remove the priority",
        });
        continue;
      }
      const other = seen.get(p);
      if (other !== undefined) {
        problems.push({
          key: `priority.${name}`,
          message: `sinks '${other}' and '${name}' both have priority ${p} (Flume silently stops using one of them)`,
          hint: 'give every sink of the group a different priority; the higher number is preferred',
        });
      } else seen.set(p, name);
    }
    return problems;
  },
  create: (o, ctx) => new FailoverSinkProcessor(o, ctx),
});
