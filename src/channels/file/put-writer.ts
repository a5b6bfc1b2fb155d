/**
 * The put writer: writes the admitted puts in order. Whatever queued while its previous write was in flight goes
 * out as one batch (group commit) with the put-side state record, synced per fsyncPerTransaction / fsyncInterval.
 * A failed write rolls back every put in it, and LevelDB is reopened before the next write.
 */
import type { FlumeEvent } from '../../core/event.js';
import { AgentError, ChannelFullError, errorMessage } from '../../core/errors.js';
import type { Waiters } from '../waiters.js';
import { KEY_PUT_STATE, encodePutState, recordKey } from './codec.js';
import type { DiskSpaceGuard } from './disk-space.js';
import { errCode, isDiskFull, type Op } from './store.js';
import type { ChannelCore } from './state.js';
import type { ReadWindow } from './window.js';

/** A put transaction between commit() and the end of its write. */
export class PendingPut {
  settled = false;
  /** The encoded record, once admitted. */
  buf: Buffer | undefined;
  readonly promise: Promise<void>;
  private res!: () => void;
  private rej!: (err: unknown) => void;

  constructor(
    readonly events: FlumeEvent[],
    readonly takeCount: number,
    readonly deadline: number,
  ) {
    this.promise = new Promise<void>((resolve, reject) => {
      this.res = resolve;
      this.rej = reject;
    });
  }

  resolve(): void {
    if (this.settled) return;
    this.settled = true;
    this.res();
  }

  reject(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.rej(err);
  }
}

export interface PutWriterHost extends ChannelCore {
  readonly settings: { fsyncPerTransaction: boolean; fsyncInterval: number; dataDir: string };
  readonly window: ReadWindow;
  readonly disk: DiskSpaceGuard;
  /** Woken when committed events are ready to take. */
  readonly dataWaiters: Waiters;
  /** Reopens the store after a failed write (resolves at once when it is open). */
  ensureOpen(): Promise<void>;
  /** A write failed or could not start with `err`: every later put fails too. */
  failLater(err: unknown): void;
}

export class PutWriter {
  /** Admitted puts (encoded, room reserved) waiting for the writer. */
  private queue: PendingPut[] = [];
  private run: Promise<void> | undefined;
  /** The write in flight (settles, never rejects). */
  private inFlight: Promise<void> | undefined;
  private lastSyncAt = 0;

  constructor(private readonly host: PutWriterHost) {}

  /** The writer's run, if it runs. */
  get writing(): Promise<void> | undefined {
    return this.run;
  }

  /** The store write in flight, if any (settles, never rejects). */
  get writeInFlight(): Promise<void> | undefined {
    return this.inFlight;
  }

  /** Forgets queued puts (start-up). */
  reset(): void {
    this.queue = [];
  }

  /** Queues an admitted put; its room stays reserved until the write settles. */
  submit(put: PendingPut, buf: Buffer): void {
    put.buf = buf;
    this.host.state.reserved += put.events.length;
    this.queue.push(put);
    // the writer clears its slot itself, in the same tick it sees an empty queue
    this.run ??= this.writeLoop();
  }

  /** Fails every queued put that is not written yet, with `why(events)`. */
  failQueued(why: (n: number) => Error): void {
    for (const put of this.queue.splice(0)) this.settle(put, why(put.events.length));
  }

  /** Ends a put that was queued: its reserved room is released, then it settles. */
  private settle(put: PendingPut, err?: unknown): void {
    this.host.state.reserved -= put.events.length;
    if (err === undefined) put.resolve();
    else put.reject(err);
  }

  private async writeLoop(): Promise<void> {
    // the first iteration always awaits, so the caller has stored this promise before the loop can clear it
    for (;;) {
      if (this.queue.length === 0) {
        this.run = undefined;
        return;
      }
      if (this.host.status.needsReopen) {
        try {
          await this.host.ensureOpen();
        } catch (err) {
          this.failGroup(this.queue.splice(0), err, false);
          this.host.failLater(err);
          continue;
        }
      }
      const write = this.flush(this.queue.splice(0));
      this.inFlight = write;
      await write;
    }
  }

  private async flush(group: PendingPut[]): Promise<void> {
    const { state, settings, counters, window } = this.host;
    const ops: Op[] = [];
    let idx = state.nextIndex;
    let putEvents = 0;
    let bytes = 0;
    const appended: { base: number; events: FlumeEvent[]; bpe: number }[] = [];
    for (const put of group) {
      const n = put.events.length;
      const buf = put.buf!;
      ops.push({ type: 'put', key: recordKey(idx, n), value: buf });
      appended.push({ base: idx, events: put.events, bpe: buf.length / n });
      idx += n;
      putEvents += n;
      bytes += buf.length;
    }
    const putState = encodePutState({ nextIndex: idx, puts: state.puts + putEvents });
    ops.push({ type: 'put', key: KEY_PUT_STATE, value: putState });
    const now = performance.now();
    const sync = settings.fsyncPerTransaction || now - this.lastSyncAt >= settings.fsyncInterval;
    try {
      await this.host.store.write(ops, sync);
    } catch (err) {
      this.failGroup(group, err, true);
      this.host.failLater(err);
      return;
    }
    if (sync) this.lastSyncAt = now;
    state.nextIndex = idx;
    state.puts += putEvents;
    this.host.disk.wrote(bytes);
    window.appended(appended);
    counters.add('EventPutSuccessCount', putEvents);
    counters.set('ChannelSize', state.size);
    this.host.dataWaiters.wakeAll();
    window.prefetch();
    for (const put of group) this.settle(put);
  }

  /** A put write failed (`wrote`) or could not start: its transactions are rolled back. */
  private failGroup(group: PendingPut[], err: unknown, wrote: boolean): void {
    const { name, counters, status } = this.host;
    const full = isDiskFull(err);
    let puts = 0;
    for (const put of group) puts += put.events.length;
    if (wrote) {
      counters.add('EventPutErrorCount', puts);
      counters.set('Unhealthy', 1);
      status.needsReopen = true;
      this.host.log.error(
        full
          ? 'File channel write failed: the disk is full. The transactions were rolled back; ' +
              'the store is reopened before the next write.'
          : 'File channel write failed; the transactions were rolled back and the store is reopened before the ' +
              'next write',
        { error: errorMessage(err), puts, code: errCode(err) },
      );
    }
    const refusal = putRefusal(name, this.host.settings.dataDir, err);
    for (const put of group) this.settle(put, refusal);
  }
}

/**
 * What a put that was not written fails with. Anything retrying can fix (a full disk, a failed write, a store
 * being reopened) is a ChannelFullError: sources back off and retry it (back-pressure), they never answer FAILED
 * for it. A closed channel and a put that can never be written (an unencodable event) keep their own error.
 */
export function putRefusal(name: string, dataDir: string, err: unknown): unknown {
  if (err instanceof ChannelFullError) return err;
  if (err instanceof AgentError && (err.code === 'FLUME_ERR_CHANNEL_CLOSED' || !err.retriable)) return err;
  if (isDiskFull(err)) {
    return new ChannelFullError(
      `Channel ${name}: the disk of ${dataDir} is full (${errorMessage(err)}); the put was rolled back.`,
    );
  }
  return new ChannelFullError(
    `Channel ${name}: the put was not written (${errorMessage(err)}); it was rolled back, retry it.`,
  );
}
