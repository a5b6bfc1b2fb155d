/**
 * The consumed-set of a file channel: every index below `head`, plus a few ranges above it (takes committed out of
 * order by concurrent transactions). Ranges are flat arrays of [start, end) pairs, sorted and disjoint.
 */

export interface Consumed {
  head: number;
  done: number[];
}

/** Adds `ranges` (flat [start, end) pairs, any order) and advances `head` over whatever became contiguous. */
export function addConsumed(c: Consumed, ranges: readonly number[]): Consumed {
  if (ranges.length === 0) return c;
  const pairs: [number, number][] = [];
  for (let i = 0; i < c.done.length; i += 2) pairs.push([c.done[i]!, c.done[i + 1]!]);
  for (let i = 0; i < ranges.length; i += 2) {
    const s = Math.max(ranges[i]!, c.head);
    const e = ranges[i + 1]!;
    if (e > s) pairs.push([s, e]);
  }
  pairs.sort((a, b) => a[0] - b[0]);
  let head = c.head;
  const done: number[] = [];
  for (const [s, e] of pairs) {
    if (s <= head) {
      if (e > head) head = e;
      continue;
    }
    const last = done.length - 1;
    if (last > 0 && s <= done[last]!) {
      if (e > done[last]!) done[last] = e;
    } else {
      done.push(s, e);
    }
  }
  // a merged range may now touch head
  while (done.length > 0 && done[0]! <= head) {
    if (done[1]! > head) head = done[1]!;
    done.splice(0, 2);
  }
  return { head, done };
}

/** Sum of the lengths of flat [start, end) pairs. */
export function rangesLength(r: readonly number[]): number {
  let n = 0;
  for (let i = 0; i < r.length; i += 2) n += r[i + 1]! - r[i]!;
  return n;
}

/**
 * The parts of [base, end) that are not consumed and not in `skip` (flat pairs, sorted or not): flat pairs in
 * ascending order.
 */
export function liveParts(base: number, end: number, c: Consumed, skip: readonly number[]): number[] {
  const start = Math.max(base, c.head);
  if (start >= end) return [];
  const holes: [number, number][] = [];
  for (let i = 0; i < c.done.length; i += 2)
    if (c.done[i + 1]! > start && c.done[i]! < end) holes.push([c.done[i]!, c.done[i + 1]!]);
  for (let i = 0; i < skip.length; i += 2)
    if (skip[i + 1]! > start && skip[i]! < end) holes.push([skip[i]!, skip[i + 1]!]);
  if (holes.length === 0) return [start, end];
  holes.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  let pos = start;
  for (const [s, e] of holes) {
    if (s > pos) out.push(pos, Math.min(s, end));
    if (e > pos) pos = e;
    if (pos >= end) break;
  }
  if (pos < end) out.push(pos, end);
  return out;
}

/** The parts of flat [start, end) pairs that are not consumed. */
export function liveRanges(ranges: readonly number[], c: Consumed): number[] {
  const out: number[] = [];
  for (let i = 0; i < ranges.length; i += 2) out.push(...liveParts(ranges[i]!, ranges[i + 1]!, c, []));
  return out;
}
