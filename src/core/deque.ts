/** A growable ring-buffer deque: O(1) push/pop at both ends, batch operations without per-item allocation. */
export class Deque<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private len = 0;

  constructor(initialCapacity = 16) {
    let cap = 16;
    while (cap < initialCapacity) cap *= 2;
    this.buf = new Array(cap);
  }

  get length(): number {
    return this.len;
  }

  private grow(min: number): void {
    if (min <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < min) cap *= 2;
    const nb: (T | undefined)[] = new Array(cap);
    for (let i = 0; i < this.len; i++) nb[i] = this.buf[(this.head + i) & (this.buf.length - 1)];
    this.buf = nb;
    this.head = 0;
  }

  pushAll(items: readonly T[]): void {
    this.grow(this.len + items.length);
    const mask = this.buf.length - 1;
    let idx = (this.head + this.len) & mask;
    for (let i = 0; i < items.length; i++) {
      this.buf[idx] = items[i];
      idx = (idx + 1) & mask;
    }
    this.len += items.length;
  }

  /** Removes and returns up to n items from the front, in order. */
  shiftMany(n: number): T[] {
    const k = Math.min(n, this.len);
    const out: T[] = new Array(k);
    const mask = this.buf.length - 1;
    for (let i = 0; i < k; i++) {
      out[i] = this.buf[this.head] as T;
      this.buf[this.head] = undefined;
      this.head = (this.head + 1) & mask;
    }
    this.len -= k;
    return out;
  }

  /** Puts items back at the front so that items[0] is the new head. */
  unshiftAll(items: readonly T[]): void {
    this.grow(this.len + items.length);
    const mask = this.buf.length - 1;
    for (let i = items.length - 1; i >= 0; i--) {
      this.head = (this.head - 1) & mask;
      this.buf[this.head] = items[i];
    }
    this.len += items.length;
  }

  peek(i = 0): T | undefined {
    return i < this.len ? this.buf[(this.head + i) & (this.buf.length - 1)] : undefined;
  }

  clear(): void {
    this.buf = new Array(16);
    this.head = 0;
    this.len = 0;
  }
}
