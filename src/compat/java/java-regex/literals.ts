/** Code points written as JavaScript v-mode regex source, outside and inside a character class. */
const SYNTAX_OUT = new Set('^$\\.*+?()[]{}|/');
const SYNTAX_IN = new Set('()[]{}/-\\|&!#%,:;<=>@`~^$.*+?');

function hex(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

function needsHexEscape(cp: number): boolean {
  return (
    cp < 0x20 ||
    (cp >= 0x7f && cp <= 0x9f) ||
    cp === 0x2028 ||
    cp === 0x2029 ||
    (cp >= 0xd800 && cp <= 0xdfff) ||
    cp === 0xfeff
  );
}

/** A code point as a JavaScript (v-mode) atom outside a class. */
export function litOut(cp: number): string {
  if (needsHexEscape(cp)) return hex(cp);
  const ch = String.fromCodePoint(cp);
  return SYNTAX_OUT.has(ch) ? `\\${ch}` : ch;
}

/** A code point inside a v-mode class. */
export function litIn(cp: number): string {
  if (needsHexEscape(cp)) return hex(cp);
  const ch = String.fromCodePoint(cp);
  return SYNTAX_IN.has(ch) ? `\\${ch}` : ch;
}
