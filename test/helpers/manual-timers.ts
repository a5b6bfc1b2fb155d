/** Timers driven by hand: `advance(ms)` fires, in time order, every repeating timer that falls due. */
import type { Timers } from '../../src/core/clock.js';

interface Entry {
  ms: number;
  next: number;
  fn: () => void;
  live: boolean;
}

export class ManualTimers implements Timers {
  /** Virtual milliseconds since creation. */
  now = 0;
  private readonly entries: Entry[] = [];

  every(ms: number, fn: () => void): { cancel(): void } {
    const e: Entry = { ms, next: this.now + ms, fn, live: true };
    this.entries.push(e);
    return {
      cancel: () => {
        e.live = false;
      },
    };
  }

  /** Live timers (a stopped component leaves none behind). */
  get live(): number {
    return this.entries.filter((e) => e.live).length;
  }

  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      let due: Entry | undefined;
      for (const e of this.entries) if (e.live && e.next <= end && (!due || e.next < due.next)) due = e;
      if (!due) break;
      this.now = due.next;
      due.next += due.ms;
      due.fn();
    }
    this.now = end;
  }
}
