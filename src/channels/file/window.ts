/**
 * The read window: events decoded in memory ahead of the takers.
 *
 * A reader fills it from the store, seeking from the last record it read (`gt: lastKey`), never from the start,
 * and holds at most `maxEvents` / `maxBytes`. Puts just committed join it directly while it has reached the tail
 * of the store. It also lists the records read or appended and not yet deleted, in index order, which tells the
 * take path where the first live record starts and the reclaimer which records are wholly consumed.
 */
import type { FlumeEvent } from '../../core/event.js';
import { Deque } from '../../core/deque.js';
import { errorMessage } from '../../core/errors.js';
import { CodecError, KEY_RECORDS_END, decodeEvents, parseRecordKey, recordKey } from './codec.js';
import { liveParts, rangesLength } from './ranges.js';
import { FileChannelError, isCorruption } from './store.js';
import type { ChannelCore } from './state.js';

/** Events with indices [base, base + to - from) are events[from .. to). */
interface Run {
  base: number;
  events: FlumeEvent[];
  from: number;
  to: number;
  /** Record bytes per event, for the memory budget. */
  bpe: number;
}

/** What a take transaction keeps of the events it took (FileTransaction). */
export interface TakenRanges {
  /** Indices taken, as flat [start, end) pairs in take order. */
  readonly ranges: number[];
  /** Record bytes per event of each range. */
  readonly bpes: number[];
  /** The window generation the events were taken from (-1: several). */
  readonly gen: number;
  addRange(s: number, e: number, bpe: number, gen: number): void;
}

export interface WindowHost extends ChannelCore {
  /** recover = true: unreadable or missing events are dropped (and counted lost) instead of stopping takes. */
  readonly recover: boolean;
  /** The error a read fails with while the store is being reopened. */
  unavailable(): FileChannelError;
  /** The store is damaged: takes stop. Returns the error to throw. */
  corrupt(detail: string, cause: unknown): FileChannelError;
  /** Index ranges taken by open transactions (flat [start, end) pairs): never served twice. */
  takenRanges(): number[];
  /** Events given up as unreadable or missing (recover mode): count them lost and mark them consumed. */
  lose(ranges: number[], n: number): void;
  /** Events are ready to take. */
  wake(): void;
}

export class ReadWindow {
  private readonly runs = new Deque<Run>(64);
  private memEvents = 0;
  private memBytes = 0;
  /** Records read or appended and not yet deleted, in index order (for deletion once consumed). */
  private readonly records = new Deque<{ base: number; count: number }>(64);
  private lastLoadedKey: Buffer | undefined;
  private loadedEnd = 0;
  private caught = false;
  private loadRun: Promise<void> | undefined;
  private generation = 0;
  private writeSeq = 0;
  /** Events per record seen by the reader (sizes its reads). */
  private avgRecord = 0;

  constructor(
    private readonly host: WindowHost,
    readonly maxEvents: number,
    readonly maxBytes: number,
  ) {}

  /** Events decoded in memory ahead of the takers. */
  get events(): number {
    return this.memEvents;
  }

  /** True when the window holds everything up to the tail of the store. */
  get caughtUp(): boolean {
    return this.caught;
  }

  /** Bumped by every reset: events taken from an older generation are read again from the store. */
  get gen(): number {
    return this.generation;
  }

  /** The read under way, if any. */
  get loading(): Promise<void> | undefined {
    return this.loadRun;
  }

  /** Empties the window; the reader starts again at headBase. */
  reset(): void {
    const s = this.host.state;
    this.generation++;
    this.runs.clear();
    this.memEvents = 0;
    this.memBytes = 0;
    this.records.clear();
    this.lastLoadedKey = undefined;
    this.loadedEnd = s.headBase;
    this.caught = s.headBase >= s.nextIndex && s.durableSize === 0;
  }

  /** Fills the window from the store; single flight. */
  load(): Promise<void> {
    this.loadRun ??= this.doLoad().finally(() => {
      this.loadRun = undefined;
    });
    return this.loadRun;
  }

  /** Reads ahead in the background when the window is half empty and the store has more. */
  prefetch(): void {
    const st = this.host.status;
    if (
      !this.caught &&
      !this.loadRun &&
      !st.fault &&
      !st.needsReopen &&
      !st.closed &&
      this.memEvents < this.maxEvents / 2
    ) {
      this.load().catch((err) =>
        this.host.log.warn('Reading ahead from the file-channel store failed', { error: errorMessage(err) }),
      );
    }
  }

  /** Moves up to `n` events off the head, recording their indices in `tx`. */
  take(tx: TakenRanges, n: number): FlumeEvent[] {
    const out: FlumeEvent[] = [];
    while (out.length < n && this.runs.length > 0) {
      const r = this.runs.peek(0)!;
      const k = Math.min(n - out.length, r.to - r.from);
      for (let i = 0; i < k; i++) out.push(r.events[r.from + i]!);
      tx.addRange(r.base, r.base + k, r.bpe, this.generation);
      this.memBytes -= k * r.bpe;
      r.from += k;
      r.base += k;
      if (r.from >= r.to) this.runs.shiftMany(1);
    }
    this.memEvents -= out.length;
    return out;
  }

  /** Returns the events of a transaction that took them from this generation to the head, in order. */
  giveBack(tx: TakenRanges, events: readonly FlumeEvent[]): void {
    const back: Run[] = [];
    let off = 0;
    for (let i = 0; i < tx.ranges.length; i += 2) {
      const len = tx.ranges[i + 1]! - tx.ranges[i]!;
      back.push({ base: tx.ranges[i]!, events: events.slice(off, off + len), from: 0, to: len, bpe: tx.bpes[i / 2]! });
      this.memBytes += len * tx.bpes[i / 2]!;
      off += len;
    }
    this.runs.unshiftAll(back);
    this.memEvents += events.length;
  }

  /** Records just written: they join the window directly when it reaches the tail of the store. */
  appended(records: readonly { base: number; events: FlumeEvent[]; bpe: number }[]): void {
    this.writeSeq++;
    for (const a of records) this.appendCommitted(a.base, a.events, a.bpe);
  }

  /**
   * With every index below `head` consumed: the base of the first record still live (where the reader would seek
   * to), and how many leading records are wholly consumed.
   */
  headBaseAfter(head: number): { headBase: number; consumedRecords: number } {
    const records = this.records;
    let first = 0;
    while (first < records.length && records.peek(first)!.base + records.peek(first)!.count <= head) first++;
    return { headBase: first < records.length ? records.peek(first)!.base : this.loadedEnd, consumedRecords: first };
  }

  /** Keys of the leading records every event of which is below `head`. */
  consumedRecordKeys(head: number): Buffer[] {
    const keys: Buffer[] = [];
    for (let i = 0; i < this.records.length; i++) {
      const r = this.records.peek(i)!;
      if (r.base + r.count > head) break;
      keys.push(recordKey(r.base, r.count));
    }
    return keys;
  }

  /** The first `n` records were deleted; unless the window was reset since `gen` (which cleared the list). */
  forgetRecords(n: number, gen: number): void {
    if (gen === this.generation) this.records.shiftMany(n);
  }

  private async doLoad(): Promise<void> {
    const { store, state, status } = this.host;
    const g = this.generation;
    while (!this.caught && this.memEvents < this.maxEvents && this.memBytes < this.maxBytes) {
      if (status.fault) throw status.fault;
      if (status.needsReopen) throw this.host.unavailable();
      const writesBefore = this.writeSeq;
      const it = store.iterator(
        this.lastLoadedKey
          ? { gt: this.lastLoadedKey, lt: KEY_RECORDS_END }
          : { gte: recordKey(state.headBase, 0), lt: KEY_RECORDS_END },
      );
      let exhausted = false;
      try {
        while (this.memEvents < this.maxEvents && this.memBytes < this.maxBytes) {
          const want =
            this.avgRecord === 0
              ? 1
              : Math.max(1, Math.min(1000, Math.ceil((this.maxEvents - this.memEvents) / this.avgRecord)));
          const entries = await it.nextv(want);
          if (this.generation !== g) return;
          if (entries.length === 0) {
            exhausted = true;
            break;
          }
          let n = 0;
          let added = 0;
          for (const [k, v] of entries) {
            // past the budget: leave the rest for the next read (it starts after lastLoadedKey)
            if (added > 0 && (this.memEvents >= this.maxEvents || this.memBytes >= this.maxBytes)) break;
            n += this.addLoaded(k, v);
            added++;
          }
          this.avgRecord = Math.max(1, n / added);
        }
      } catch (err) {
        if (this.generation !== g) return;
        if (isCorruption(err) && !(err instanceof FileChannelError)) {
          throw this.host.corrupt(`LevelDB: ${errorMessage(err)}`, err);
        }
        if (!(err instanceof FileChannelError)) {
          this.host.counters.add('EventTakeErrorCount');
          throw new FileChannelError(
            'io',
            `Channel ${this.host.name}: reading the store failed: ${errorMessage(err)}`,
            { cause: err, retriable: true },
          );
        }
        throw err;
      } finally {
        await it.close().catch(() => {});
      }
      if (this.generation !== g) return;
      if (this.loadedEnd >= state.nextIndex) {
        this.caught = true;
      } else if (exhausted && this.writeSeq === writesBefore) {
        this.missing(this.loadedEnd, state.nextIndex);
        this.loadedEnd = state.nextIndex;
        this.caught = true;
      } else if (!exhausted) {
        break;
      }
    }
    if (this.memEvents > 0) this.host.wake();
  }

  /** Adds one record read from the store to the window; returns its event count. */
  private addLoaded(k: Buffer, v: Buffer): number {
    let key: { base: number; count: number };
    try {
      key = parseRecordKey(k);
    } catch (err) {
      throw this.host.corrupt(`a record key is unreadable (${errorMessage(err)})`, err);
    }
    const end = key.base + key.count;
    if (end <= this.loadedEnd && this.lastLoadedKey) return 0;
    if (key.base > this.loadedEnd) this.missing(this.loadedEnd, key.base);
    this.records.pushAll([key]);
    this.lastLoadedKey = k;
    this.loadedEnd = end;
    const { state } = this.host;
    const parts = liveParts(key.base, end, { head: state.head, done: state.done }, this.host.takenRanges());
    if (parts.length === 0) return key.count;
    let events: FlumeEvent[];
    try {
      events = decodeEvents(v, key.count);
    } catch (err) {
      if (!(err instanceof CodecError) || !this.host.recover) {
        throw this.host.corrupt(`record of events ${key.base}..${end - 1}: ${errorMessage(err)}`, err);
      }
      const live = rangesLength(parts);
      this.host.log.error('Dropping an unreadable file-channel record (recover = true)', {
        firstEvent: key.base,
        events: key.count,
        lostEvents: live,
        problem: errorMessage(err),
      });
      this.host.lose(parts, live);
      return key.count;
    }
    const bpe = v.length / key.count;
    for (let i = 0; i < parts.length; i += 2) {
      const s = parts[i]!;
      const e = parts[i + 1]!;
      this.runs.pushAll([{ base: s, events, from: s - key.base, to: e - key.base, bpe }]);
      this.memEvents += e - s;
      this.memBytes += (e - s) * bpe;
    }
    return key.count;
  }

  /** Index range [from, to) has no record: whatever of it is not consumed was lost by the store. */
  private missing(from: number, to: number): void {
    const { state } = this.host;
    const parts = liveParts(from, to, { head: state.head, done: state.done }, []);
    if (parts.length === 0) return;
    const n = rangesLength(parts);
    if (!this.host.recover) {
      throw this.host.corrupt(
        `${n} committed events (indices ${parts[0]}..${parts[parts.length - 1]! - 1}) are missing from it`,
        undefined,
      );
    }
    this.host.log.error('File-channel events are missing from the store; counting them as lost (recover = true)', {
      lostEvents: n,
      from: parts[0],
      to: parts[parts.length - 1],
    });
    this.host.lose(parts, n);
  }

  private appendCommitted(base: number, events: FlumeEvent[], bpe: number): void {
    if (this.caught && this.loadedEnd === base && this.memEvents < this.maxEvents && this.memBytes < this.maxBytes) {
      const n = events.length;
      this.records.pushAll([{ base, count: n }]);
      this.runs.pushAll([{ base, events, from: 0, to: n, bpe }]);
      this.memEvents += n;
      this.memBytes += n * bpe;
      this.loadedEnd = base + n;
      this.lastLoadedKey = recordKey(base, n);
    } else if (this.loadedEnd <= base) {
      this.caught = false;
    }
  }
}
