/**
 * Bytes held in memory by the connections of one network source, against one cap (`maxBufferedBytes`). Every
 * network source counts what it buffers from its clients here - partial and queued messages, request bodies,
 * read-ahead - so many connections can never hold more than the cap together, whatever each one declares.
 *
 * `take` is for bytes not yet accepted (refuse when they do not fit: close the connection, answer busy);
 * `force` for bytes that already arrived (then stop reading while `full`; `onRelease` says when to read again).
 */
export class ByteBudget {
  used = 0;
  private waiters = new Set<() => void>();

  constructor(readonly limit: number) {}

  /** Takes `n` bytes when they fit under the limit. */
  take(n: number): boolean {
    if (this.used + n > this.limit) return false;
    this.used += n;
    return true;
  }

  /** Takes `n` bytes that are already held (may go past the limit: the caller stops reading while `full`). */
  force(n: number): void {
    this.used += n;
  }

  /** Gives back `n` bytes; wakes the waiters once there is room again. */
  give(n: number): void {
    if (n <= 0) return;
    this.used = Math.max(0, this.used - n);
    if (this.waiters.size > 0 && this.used < this.limit) {
      const w = [...this.waiters];
      this.waiters.clear();
      for (const f of w) f();
    }
  }

  get full(): boolean {
    return this.used >= this.limit;
  }

  /** Calls `f` once, the next time bytes are given back below the limit; returns a function that cancels it. */
  onRelease(f: () => void): () => void {
    this.waiters.add(f);
    return () => this.waiters.delete(f);
  }
}
