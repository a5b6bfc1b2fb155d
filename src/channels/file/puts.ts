/**
 * The put pipeline: FIFO admission and pacing in front of the put writer (put-writer.ts).
 *
 * Puts are admitted strictly in the order they were submitted (the synchronous part of the channel's commit),
 * whatever has to be waited for (room, the disk floor, a reopen), and written in that order. When a put fails with
 * a retriable error, every put submitted after it and not yet written fails too (ChannelFullError, "retry"): a
 * producer with several puts in flight that retries them in order never reorders its events.
 */
import type { FlumeEvent } from '../../core/event.js';
import { AgentError, ChannelFullError, errorMessage, isRetriable } from '../../core/errors.js';
import type { Waiters } from '../waiters.js';
import { CodecError, encodeEvents } from './codec.js';
import { mib } from './disk-space.js';
import { PendingPut, PutWriter, putRefusal, type PutWriterHost } from './put-writer.js';

export interface PutSettings {
  capacity: number;
  keepAliveMs: number;
  /** Backlog above which a producer is paced while a sink drains. */
  paceAbove: number;
  fsyncPerTransaction: boolean;
  fsyncInterval: number;
  minimumRequiredSpace: number;
  dataDir: string;
}

export interface PutHost extends Omit<PutWriterHost, 'failLater' | 'settings'> {
  readonly settings: PutSettings;
  /** Woken when room may have been freed (a take committed, the channel closes). */
  readonly spaceWaiters: Waiters;
  /** When a take last committed. */
  lastTakeAt(): number;
  /** Milliseconds until the store may be reopened again after a failed reopen. */
  nextReopenInMs(): number;
}

export class PutPipeline {
  /** Puts in submission order, waiting to be admitted (room, disk floor, open store). */
  private admitQueue: PendingPut[] = [];
  /** The slow admission of the put at the head of admitQueue, when one is under way. */
  private admitRun: Promise<void> | undefined;
  private readonly writer: PutWriter;

  constructor(private readonly host: PutHost) {
    this.writer = new PutWriter({ ...host, failLater: (err) => this.failLaterPuts(undefined, err) });
  }

  /** The slow admission under way, if any. */
  get admitting(): Promise<void> | undefined {
    return this.admitRun;
  }

  /** The put writer's run, if it runs. */
  get writing(): Promise<void> | undefined {
    return this.writer.writing;
  }

  /** The store write in flight, if any (settles, never rejects). */
  get writeInFlight(): Promise<void> | undefined {
    return this.writer.writeInFlight;
  }

  /** Forgets queued puts (start-up). */
  reset(): void {
    this.writer.reset();
    this.admitQueue = [];
  }

  /** Queues a put of `events` (from a transaction that also took `takeCount`); resolves once it is written. */
  submit(events: FlumeEvent[], takeCount: number): Promise<void> {
    const put = new PendingPut(events, takeCount, performance.now() + this.host.settings.keepAliveMs);
    this.admitQueue.push(put);
    this.pumpAdmission();
    return put.promise;
  }

  /** Admits from the head of the queue synchronously while nothing has to be waited for; else starts the slow path. */
  private pumpAdmission(): void {
    const { status } = this.host;
    if (status.closed && !this.admitRun) {
      for (const put of this.admitQueue.splice(0)) put.reject(this.closedError());
    }
    while (this.admitQueue.length > 0 && !this.admitRun) {
      const put = this.admitQueue[0]!;
      if (!put.settled) {
        let buf: Buffer | undefined;
        try {
          if (this.fits(put) && !status.needsReopen && !status.belowFloor && !this.shouldPace(put)) {
            buf = encodeEvents(put.events);
          }
        } catch (err) {
          this.failPut(put, err);
        }
        if (!put.settled) {
          if (!buf || !this.host.disk.allowsNow(buf.length)) {
            this.admitRun = this.admitSlowly(put, buf).finally(() => {
              this.admitRun = undefined;
              this.pumpAdmission();
            });
            return;
          }
          this.writer.submit(put, buf);
        }
      }
      this.admitQueue.shift();
    }
  }

  private closedError(): AgentError {
    return new AgentError('FLUME_ERR_CHANNEL_CLOSED', `Channel ${this.host.name} is closed`);
  }

  private fits(put: PendingPut): boolean {
    const { state } = this.host;
    return state.durableSize + state.reserved + put.events.length - put.takeCount <= this.host.settings.capacity;
  }

  /**
   * Pacing (as in the memory channel): while a sink is draining, a producer far ahead of it waits briefly for the
   * next take instead of running the backlog past the in-memory window, where every event would be read back and
   * decoded from the store. When the sink stalls (no takes) the channel fills up to capacity as configured.
   */
  private shouldPace(put: PendingPut): boolean {
    const { state, settings } = this.host;
    return (
      state.durableSize + state.reserved + put.events.length > settings.paceAbove &&
      performance.now() - this.host.lastTakeAt() < 100
    );
  }

  /** Waits for room, a reopened store and the disk floor, then submits; always shifts `put` off the queue. */
  private async admitSlowly(put: PendingPut, encoded: Buffer | undefined): Promise<void> {
    const { status, settings, disk, name } = this.host;
    try {
      if (this.shouldPace(put)) {
        await this.host.spaceWaiters.wait(50);
        if (put.settled) return;
      }
      while (!this.fits(put)) {
        if (status.closed) throw this.closedError();
        const left = put.deadline - performance.now();
        if (left <= 0) {
          throw new ChannelFullError(
            `Channel ${name} is full: no space for ${put.events.length} events within keep-alive ` +
              `${settings.keepAliveMs} ms (capacity ${settings.capacity}, queued ${this.host.state.size}). ` +
              'A sink is too slow or down; consider raising capacity.',
          );
        }
        await this.host.spaceWaiters.wait(left);
        if (put.settled) return;
      }
      await this.waitOpen(put);
      if (put.settled) return;
      const buf = encoded ?? encodeEvents(put.events);
      const allowed = await disk.allows(buf.length);
      this.noteFloor(allowed);
      if (!allowed) {
        throw new ChannelFullError(
          `Channel ${name}: ${this.floorProblem(buf.length)}; puts are refused until disk space is freed (the put ` +
            'was rolled back).',
        );
      }
      if (put.settled) return;
      if (status.closed) throw this.closedError();
      this.writer.submit(put, buf);
    } catch (err) {
      this.failPut(put, err);
    } finally {
      if (this.admitQueue[0] === put) this.admitQueue.shift();
    }
  }

  /**
   * Waits while the store is reopened after a failed write (retrying a failed reopen when it is due), until the
   * put's keep-alive runs out: then the put is refused with ChannelFullError, so the source backs off and retries.
   */
  private async waitOpen(put: PendingPut): Promise<void> {
    const { status, name } = this.host;
    while (status.needsReopen && !put.settled) {
      if (status.closed) throw this.closedError();
      try {
        await this.host.ensureOpen();
        return;
      } catch (err) {
        const left = put.deadline - performance.now();
        if (left <= 0) {
          throw new ChannelFullError(
            `Channel ${name}: the store is being reopened after a failed write (${errorMessage(err)}); the put was ` +
              'not written, retry it.',
          );
        }
        await this.host.spaceWaiters.wait(Math.max(1, Math.min(left, this.host.nextReopenInMs())));
      }
    }
  }

  /** Why the disk floor refuses `bytes` more (for messages and health). */
  floorProblem(bytes = 0): string {
    const { disk, settings } = this.host;
    return (
      `${mib(Math.max(0, disk.estimatedFree))} free on the volume of ${settings.dataDir}, below ` +
      `minimumRequiredSpace ${mib(settings.minimumRequiredSpace)} plus ${mib(disk.reserve(bytes))} LevelDB needs ` +
      'for its next table writes'
    );
  }

  /** Records whether the volume is above the floor (puts, and the housekeeping tick: health shows it at once). */
  noteFloor(above: boolean): void {
    const { status, counters, log, settings, disk } = this.host;
    if (!above && !status.belowFloor) {
      status.belowFloor = true;
      counters.set('Unhealthy', 1);
      log.error('File channel is below its free-space floor: puts are refused until space is freed', {
        dir: settings.dataDir,
        free: mib(disk.estimatedFree),
        minimumRequiredSpace: mib(settings.minimumRequiredSpace),
        levelDbReserve: mib(disk.reserve()),
      });
    } else if (above && status.belowFloor) {
      status.belowFloor = false;
      if (!status.needsReopen && !status.fault) counters.set('Unhealthy', 0);
      log.info('File channel is above its free-space floor again; puts resume', {
        dir: settings.dataDir,
        free: mib(disk.estimatedFree),
      });
      this.host.spaceWaiters.wakeAll();
    }
  }

  /** Fails a put that was not written; when the failure is retriable, every put submitted after it fails too. */
  private failPut(put: PendingPut, err: unknown): void {
    err = putRefusal(this.host.name, this.host.settings.dataDir, err);
    put.reject(err);
    if (!(err instanceof CodecError) && isRetriable(err)) this.failLaterPuts(put, err);
  }

  /** Fails every put queued behind `first` (a put that failed with `err`): admitted-but-unwritten and waiting ones. */
  private failLaterPuts(first: PendingPut | undefined, err: unknown): void {
    const why = (n: number) =>
      new ChannelFullError(
        `Channel ${this.host.name} did not write this put of ${n} events ` +
          `because a put submitted before it failed (${errorMessage(err)}); retry it`,
      );
    this.writer.failQueued(why);
    for (const put of this.admitQueue) if (put !== first && !put.settled) put.reject(why(put.events.length));
  }
}
