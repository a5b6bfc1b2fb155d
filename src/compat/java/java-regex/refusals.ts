/**
 * What the translator refuses: Java constructs with no JavaScript equivalent. A regex that silently matches
 * something else would be worse than a config error, so each is an OptionError naming the construct and its
 * position (validation reports it against the key, with the hint):
 *  - (?i) or (?-i) covering only part of a pattern (JavaScript's `i` flag covers a whole regex);
 *  - (?c) CANON_EQ, `\G`, `\X`, `\N{name}`, `\b{g}`;
 *  - Unicode blocks (`\p{InGreek}`, `\p{blk=Greek}`).
 * `\p` names that neither Java nor JavaScript know are refused too, as unknown (see classes.ts).
 */

export interface Refusal {
  /** The construct, as the error message names it. */
  readonly construct: string;
  readonly hint?: string;
}

export const REFUSED = {
  canonEq: { construct: 'the CANON_EQ flag (?c)' },
  previousMatchEnd: { construct: '\\G (end of the previous match)' },
  graphemeCluster: { construct: '\\X (grapheme cluster)' },
  graphemeBoundary: { construct: '\\b{g} (grapheme cluster boundary)' },
  namedCharacter: {
    construct: '\\N{name} (character by Unicode name)',
    hint: 'write the character itself or \\x{hhhh}',
  },
} as const satisfies Record<string, Refusal>;

export function unicodeBlock(raw: string): Refusal {
  return {
    construct: `Unicode block \\p{${raw}}`,
    hint: 'JavaScript has no block property; use a range such as [\\u0370-\\u03ff] or a script such as \\p{IsGreek}',
  };
}

/** (?i) or (?-i) for part of a pattern: the message (no position: it is the pattern as a whole that cannot be). */
export const PARTIAL_CASE_INSENSITIVITY = {
  message: 'case-insensitive matching ((?i) or (?-i)) for only part of the pattern has no JavaScript equivalent',
  hint: 'put (?i) at the very start so it covers the whole pattern, or spell out both cases with a class such as [Aa]',
} as const;
