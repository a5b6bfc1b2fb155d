/**
 * The source side of every put: interceptor chain, then the selector, then one transaction per channel.
 * A put succeeds when every required channel committed; optional-channel failures are logged, never fatal.
 */
import type { FlumeEvent } from '../core/event.js';
import type { Channel, ChannelSelector, Interceptor } from '../registry/define.js';
import type { Logger } from '../telemetry/logger.js';
import { errorMessage } from '../core/errors.js';

export async function putAll(channel: Channel, events: FlumeEvent[]): Promise<void> {
  const tx = channel.begin();
  try {
    tx.put(events);
    await tx.commit();
  } catch (err) {
    await tx.rollback();
    throw err;
  }
}

export class ChannelProcessor {
  readonly maxBatchSize: number;
  /** Failures of optional channels, for metrics. */
  optionalFailures = 0;

  constructor(
    private readonly interceptors: readonly Interceptor[],
    private readonly selector: ChannelSelector,
    private readonly channels: ReadonlyMap<string, Channel>,
    private readonly logger: Logger,
  ) {
    let m = Number.POSITIVE_INFINITY;
    for (const ch of channels.values()) m = Math.min(m, ch.transactionCapacity);
    this.maxBatchSize = Number.isFinite(m) ? m : 100;
  }

  readonly emit = async (batch: FlumeEvent[]): Promise<void> => {
    let events = batch;
    for (let i = 0; i < this.interceptors.length && events.length > 0; i++) events = this.interceptors[i]!.intercept(events);
    if (events.length === 0) return;
    const fixed = this.selector.fixed;
    if (fixed) {
      for (const name of fixed.required) await putAll(this.channel(name), events);
      for (const name of fixed.optional) await this.putOptional(name, events);
      return;
    }
    const required = new Map<string, FlumeEvent[]>();
    const optional = new Map<string, FlumeEvent[]>();
    for (const e of events) {
      const sel = this.selector.select(e);
      for (const name of sel.required) push(required, name, e);
      for (const name of sel.optional) push(optional, name, e);
    }
    for (const [name, evs] of required) await putAll(this.channel(name), evs);
    for (const [name, evs] of optional) await this.putOptional(name, evs);
  };

  private channel(name: string): Channel {
    const ch = this.channels.get(name);
    if (!ch) throw new Error(`selector chose channel ${name}, which this source does not write to`);
    return ch;
  }

  private async putOptional(name: string, events: FlumeEvent[]): Promise<void> {
    try {
      await putAll(this.channel(name), events);
    } catch (err) {
      this.optionalFailures++;
      this.logger.warn('Put to optional channel failed; events not written to it', { channel: name, events: events.length, error: errorMessage(err) });
    }
  }
}

function push(m: Map<string, FlumeEvent[]>, k: string, e: FlumeEvent): void {
  const a = m.get(k);
  if (a) a.push(e);
  else m.set(k, [e]);
}
