/**
 * The source side of every put: interceptor chain, then the selector, then one transaction per channel.
 * A put succeeds when every required channel committed; optional-channel failures are logged, never fatal.
 *
 * Several required channels (there is no cross-channel transaction, so this cannot be atomic; docs/delivery.md):
 *  1. the events of every required channel are staged (`put`) before anything commits, so a batch that one
 *     channel refuses outright (transactionCapacity, closed channel) commits nowhere;
 *  2. commits run one after another, the channel with the least free room first (the one most likely to be full
 *     commits before the others, so a full channel usually fails while nothing is committed yet);
 *  3. when a later commit still fails (the channel filled up meanwhile, or its storage failed), the channels that
 *     committed keep the events and the put rejects. The processor remembers the batch: when the source retries
 *     the same batch (same array, same event objects, as every retrying source does), only the channels that did
 *     not commit are written, with the events as first intercepted - no duplicates. A source that rebuilds its
 *     batch instead gets duplicates in the channels that had committed (as in Flume).
 */
import type { FlumeEvent } from '../core/event.js';
import type { Channel, ChannelSelector, ChannelTransaction, EmitOptions, Interceptor } from '../contract/index.js';
import type { Logger } from '../telemetry/logger.js';
import type { SourceCounters } from '../telemetry/counters.js';
import { errorMessage, AgentError } from '../core/errors.js';
import { DebugDigest } from '../telemetry/debug-digest.js';

export type Emit = (batch: FlumeEvent[], opts?: EmitOptions) => Promise<void>;

/**
 * Counts every emit of one source, as Flume's sources count around processEventBatch: EventReceivedCount += the
 * events handed to emit, EventAcceptedCount += them once committed, ChannelWriteFail += 1 per refused emit
 * (unless `countRefusal: false`). A refused batch emitted again (the same array: a retry) is not received twice.
 */
export function countEmits(emit: Emit, counters: SourceCounters): Emit {
  const refused = new WeakSet<FlumeEvent[]>();
  return (batch, opts) => {
    const n = batch.length;
    if (!refused.has(batch)) counters.add('EventReceivedCount', n);
    let put: Promise<void>;
    try {
      put = emit(batch, opts);
    } catch (err) {
      put = Promise.reject(err);
    }
    return put.then(
      () => {
        refused.delete(batch);
        counters.add('EventAcceptedCount', n);
      },
      (err: unknown) => {
        refused.add(batch);
        if (opts?.countRefusal !== false) counters.add('ChannelWriteFail');
        throw err;
      },
    );
  };
}

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

/** Events of one batch per channel, after interceptors and selector. */
interface Routed {
  required: [string, FlumeEvent[]][];
  optional: [string, FlumeEvent[]][];
}

/** A batch whose put committed in some required channels but not all. */
interface Partial {
  /** The source's events (identity-compared with a retried batch). */
  input: FlumeEvent[];
  routed: Routed;
  committed: Set<string>;
}

export class ChannelProcessor {
  readonly maxBatchSize: number;
  /** Emits one producer may keep in flight (SourceContext.pipelineDepth). */
  readonly pipelineDepth: number;
  /** Failures of optional channels, for metrics. */
  optionalFailures = 0;
  /** Puts that committed in some required channels but failed in another (each one a possible duplicate source). */
  partialCommits = 0;
  /** Retried batches that were resumed: written only to the channels that had not committed. */
  resumedBatches = 0;
  private readonly partial = new WeakMap<FlumeEvent[], Partial>();
  /** DEBUG: one line a second with the batches put, refused, dropped by interceptors and routed per channel. */
  private readonly digest?: DebugDigest;
  /** SourceContext.emit: the put, counted in the source's counters when the processor has them. */
  readonly emit: Emit;

  constructor(
    private readonly interceptors: readonly Interceptor[],
    private readonly selector: ChannelSelector,
    private readonly channels: ReadonlyMap<string, Channel>,
    private readonly logger: Logger,
    counters?: SourceCounters,
  ) {
    const digest = new DebugDigest(logger, 'Batches put into channels (sums since the previous line)');
    if (digest.enabled) this.digest = digest;
    const put = this.digest ? this.traced(this.digest) : this.put;
    this.emit = counters ? countEmits(put, counters) : put;
    let m = Number.POSITIVE_INFINITY;
    for (const ch of channels.values()) m = Math.min(m, ch.transactionCapacity);
    this.maxBatchSize = Number.isFinite(m) ? m : 100;
    // only the plain route keeps commit order across concurrent emits: one required channel, nothing optional
    // (emit reaches commit() synchronously, so emits started in order are committed in order by such a channel)
    const fixed = selector.fixed;
    const only =
      fixed && fixed.required.length === 1 && fixed.optional.length === 0
        ? channels.get(fixed.required[0]!)
        : undefined;
    this.pipelineDepth = Math.max(1, only?.putsInFlight ?? 1);
  }

  private readonly put = async (batch: FlumeEvent[]): Promise<void> => {
    const resume = this.partial.get(batch);
    if (resume) {
      this.partial.delete(batch);
      if (sameEvents(resume.input, batch)) {
        this.resumedBatches++;
        return this.deliver(batch, resume.routed, resume.committed);
      }
    }
    let events = batch;
    for (let i = 0; i < this.interceptors.length && events.length > 0; i++)
      events = this.interceptors[i]!.intercept(events);
    if (this.digest && events.length !== batch.length)
      this.digest.add({ droppedByInterceptors: batch.length - events.length });
    if (events.length === 0) return;
    const fixed = this.selector.fixed;
    if (fixed && fixed.required.length <= 1) {
      // the common case: one required channel, no staging or bookkeeping
      if (fixed.required.length === 1) await putAll(this.channel(fixed.required[0]!), events);
      for (const name of fixed.optional) await this.putOptional(name, events);
      return;
    }
    return this.deliver(batch, this.route(events), new Set());
  };

  /** The put, with its outcome added to the DEBUG digest. */
  private traced(d: DebugDigest): Emit {
    return (batch) =>
      this.put(batch).then(
        () => d.add({ batches: 1, events: batch.length }),
        (err: unknown) => {
          d.add({ refusedBatches: 1, refusedEvents: batch.length });
          throw err;
        },
      );
  }

  private route(events: FlumeEvent[]): Routed {
    const fixed = this.selector.fixed;
    if (fixed) {
      return { required: fixed.required.map((n) => [n, events]), optional: fixed.optional.map((n) => [n, events]) };
    }
    const required = new Map<string, FlumeEvent[]>();
    const optional = new Map<string, FlumeEvent[]>();
    for (const e of events) {
      const sel = this.selector.select(e);
      for (const name of sel.required) push(required, name, e);
      for (const name of sel.optional) push(optional, name, e);
    }
    if (this.digest) {
      const routed: Record<string, number> = {};
      for (const [name, evs] of [...required, ...optional]) routed[`to.${name}`] = evs.length;
      this.digest.add(routed);
    }
    return { required: [...required], optional: [...optional] };
  }

  private async deliver(batch: FlumeEvent[], routed: Routed, committed: Set<string>): Promise<void> {
    const todo = routed.required.filter(([name]) => !committed.has(name));
    if (todo.length === 1) {
      const [name, evs] = todo[0]!;
      try {
        await putAll(this.channel(name), evs);
      } catch (err) {
        if (committed.size > 0) this.remember(batch, routed, committed, name, err);
        throw err;
      }
    } else if (todo.length > 1) {
      await this.commitAll(batch, routed, todo, committed);
    }
    for (const [name, evs] of routed.optional) await this.putOptional(name, evs);
  }

  private async commitAll(
    batch: FlumeEvent[],
    routed: Routed,
    todo: [string, FlumeEvent[]][],
    committed: Set<string>,
  ): Promise<void> {
    // 1. stage every put first
    const staged: { name: string; ch: Channel; tx: ChannelTransaction; room: number }[] = [];
    try {
      for (const [name, evs] of todo) {
        const ch = this.channel(name);
        const tx = ch.begin();
        staged.push({ name, ch, tx, room: freeRoom(ch) - evs.length });
        tx.put(evs);
      }
    } catch (err) {
      for (const s of staged) await s.tx.rollback().catch(() => undefined);
      if (committed.size > 0) this.remember(batch, routed, committed, staged[staged.length - 1]?.name ?? '?', err);
      throw err;
    }
    // 2. commit, least room first (stable for equal room)
    staged.sort((a, b) => a.room - b.room);
    for (let i = 0; i < staged.length; i++) {
      const s = staged[i]!;
      try {
        await s.tx.commit();
      } catch (err) {
        for (let j = i; j < staged.length; j++) await staged[j]!.tx.rollback().catch(() => undefined);
        if (committed.size > 0) this.remember(batch, routed, committed, s.name, err);
        throw err;
      }
      committed.add(s.name);
    }
  }

  private remember(batch: FlumeEvent[], routed: Routed, committed: Set<string>, failed: string, err: unknown): void {
    this.partialCommits++;
    this.partial.set(batch, { input: batch.slice(), routed, committed });
    this.logger.warn(
      'Put committed in some required channels but not all; a retry of this batch writes only the missing channels',
      {
        committed: [...committed].join(','),
        failed,
        error: errorMessage(err),
      },
    );
  }

  private channel(name: string): Channel {
    const ch = this.channels.get(name);
    if (!ch)
      throw new AgentError('FLUME_ERR_RUNTIME', `selector chose channel ${name}, which this source does not write to`);
    return ch;
  }

  private async putOptional(name: string, events: FlumeEvent[]): Promise<void> {
    try {
      await putAll(this.channel(name), events);
    } catch (err) {
      this.optionalFailures++;
      this.logger.warn('Put to optional channel failed; events not written to it', {
        channel: name,
        events: events.length,
        error: errorMessage(err),
      });
    }
  }
}

/**
 * Events a put could add now; +Infinity when the channel cannot know (remote capacity or size), so such a channel
 * commits after every channel with a known room (two unknowns compare as equal: Infinity - Infinity is NaN, which
 * sort() treats as 0).
 */
function freeRoom(ch: Channel): number {
  const size = ch.size();
  return ch.capacity === undefined || size === undefined ? Number.POSITIVE_INFINITY : ch.capacity - size;
}

function sameEvents(a: readonly FlumeEvent[], b: readonly FlumeEvent[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function push(m: Map<string, FlumeEvent[]>, k: string, e: FlumeEvent): void {
  const a = m.get(k);
  if (a) a.push(e);
  else m.set(k, [e]);
}
