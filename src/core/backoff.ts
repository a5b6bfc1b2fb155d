/** Linear backoff as Flume's runners use it: min(consecutive x increment, max). */
export class LinearBackoff {
  private n = 0;
  constructor(
    private readonly incrementMs: number,
    private readonly maxMs: number,
  ) {}
  next(): number {
    this.n++;
    return Math.min(this.n * this.incrementMs, this.maxMs);
  }
  reset(): void {
    this.n = 0;
  }
  get consecutive(): number {
    return this.n;
  }
}

/** Exponential backoff: base x 2^(n-1), capped. */
export class ExponentialBackoff {
  private n = 0;
  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
  ) {}
  next(): number {
    this.n++;
    return Math.min(this.baseMs * 2 ** Math.min(this.n - 1, 30), this.maxMs);
  }
  reset(): void {
    this.n = 0;
  }
  get consecutive(): number {
    return this.n;
  }
}
