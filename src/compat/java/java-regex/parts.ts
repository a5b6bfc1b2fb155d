/**
 * The translator's output before rendering: JavaScript source text, and capture groups and backreferences kept
 * symbolic, because the atomic-group idiom `(?=(X))\N` adds groups (numbered below zero) that Java does not count.
 */

/** Text, a capture group opening (Java number, or < 0 for an added group), or a backreference to one. */
export type Part = string | { open: number; name?: string } | { ref: number };

/**
 * Numbers the capture groups as JavaScript will (order of opening parens) and renders the source; `jsIndex[g]` is
 * the JavaScript group of Java group g (1..groups).
 */
export function render(parts: readonly Part[], groups: number): { source: string; jsIndex: number[] } {
  const jsOf = new Map<number, number>();
  let n = 0;
  for (const p of parts) if (typeof p === 'object' && 'open' in p) jsOf.set(p.open, ++n);
  let source = '';
  for (const p of parts) {
    if (typeof p === 'string') source += p;
    else if ('open' in p) source += p.name ? `(?<${p.name}>` : '(';
    else {
      const js = jsOf.get(p.ref);
      source += js === undefined ? '(?!)' : `(?:\\${js})`;
    }
  }
  const jsIndex = [0];
  for (let g = 1; g <= groups; g++) jsIndex.push(jsOf.get(g)!);
  return { source, jsIndex };
}
