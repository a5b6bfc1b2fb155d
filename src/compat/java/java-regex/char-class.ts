/**
 * Java character classes (`[...]`, nested classes, ranges, `&&` intersections, `\Q..\E` inside) as v-mode classes.
 */
import { litIn } from './literals.js';
import type { Lexer } from './lexer.js';

/** Parses a Java class starting at `[`; returns a v-mode class `[...]`. */
export function parseClass(lx: Lexer): string {
  const start = lx.pos;
  lx.pos++; // [
  let neg = false;
  if (lx.peek() === '^') {
    neg = true;
    lx.pos++;
  }
  const operands: string[][] = [];
  let cur: string[] = [];
  let first = true;
  for (;;) {
    lx.skipWs();
    if (lx.eof()) throw lx.err(`unclosed character class starting at position ${start}`);
    const c = lx.peek()!;
    if (c === ']' && !first) {
      lx.pos++;
      break;
    }
    first = false;
    if (c === '[') {
      cur.push(parseClass(lx));
      continue;
    }
    if (c === '&' && lx.peek(1) === '&') {
      lx.pos += 2;
      if (cur.length === 0) throw lx.err(`empty operand before '&&' in the class at position ${start}`);
      operands.push(cur);
      cur = [];
      continue;
    }
    // a single character, possibly the start of a range, or a class escape
    let lo: number;
    if (c === '\\') {
      const at = lx.pos;
      lx.pos++;
      if (lx.eof()) throw lx.err('pattern ends with a lone backslash');
      const e = lx.peek()!;
      if (e === 'Q') {
        lx.pos++;
        const end = lx.src.indexOf('\\E', lx.pos);
        const text = end < 0 ? lx.src.slice(lx.pos) : lx.src.slice(lx.pos, end);
        lx.pos = end < 0 ? lx.src.length : end + 2;
        for (const ch of text) cur.push(litIn(ch.codePointAt(0)!));
        continue;
      }
      if (e === 'E') {
        lx.pos++;
        continue;
      }
      const cls = lx.classEscape();
      if (cls !== undefined) {
        cur.push(cls);
        continue;
      }
      if ((e >= '1' && e <= '9') || 'bBAzZGXRk'.includes(e)) {
        throw lx.err(`\\${e} is not allowed inside a character class (position ${at})`);
      }
      lo = lx.charEscape(at);
    } else {
      lo = lx.cp();
      lx.pos += lo > 0xffff ? 2 : 1;
    }
    // range?
    const next = lx.peek(1);
    const intersection = next === '&' && lx.peek(2) === '&';
    if (lx.peek() === '-' && next !== ']' && next !== '[' && next !== undefined && !intersection) {
      const save = lx.pos;
      lx.pos++;
      let hi: number;
      if (lx.peek() === '\\') {
        const at = lx.pos;
        lx.pos++;
        const e = lx.peek();
        if (e === undefined || /[dDwWsShHvVpPQE]/.test(e)) {
          lx.pos = save;
          throw lx.err(`illegal character range at position ${save}`);
        }
        hi = lx.charEscape(at);
      } else {
        hi = lx.cp();
        lx.pos += hi > 0xffff ? 2 : 1;
      }
      if (hi < lo) {
        const range = `${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)}`;
        throw lx.err(`illegal character range ${range} at position ${save - 1}`);
      }
      cur.push(`${litIn(lo)}-${litIn(hi)}`);
      continue;
    }
    cur.push(litIn(lo));
  }
  if (operands.length > 0) {
    if (cur.length === 0) throw lx.err(`empty operand after '&&' in the class at position ${start}`);
    operands.push(cur);
    return `[${neg ? '^' : ''}${operands.map((o) => `[${o.join('')}]`).join('&&')}]`;
  }
  return `[${neg ? '^' : ''}${cur.join('')}]`;
}
