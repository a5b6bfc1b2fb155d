/**
 * The memory a forward source may hold in buffered request bytes, over all its connections. Until the shared
 * network cap (issue 17) lands in src/net/, each source has its own budget, made here and nowhere else.
 */
export interface MemoryBudget {
  /** Reserves `n` bytes; false when that would pass the cap. */
  take(n: number): boolean;
  give(n: number): void;
  readonly used: number;
  readonly limit: number;
}

class ByteBudget implements MemoryBudget {
  used = 0;
  constructor(readonly limit: number) {}
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }
  give(n: number): void {
    this.used = Math.max(0, this.used - n);
  }
}

/** The budget of one source (maxBufferedBytes). */
export function sourceMemoryBudget(maxBufferedBytes: number): MemoryBudget {
  return new ByteBudget(maxBufferedBytes);
}
