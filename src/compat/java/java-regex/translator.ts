/**
 * The translator: a recursive descent over the Java pattern (sequences, alternations, quantifiers, groups and
 * inline flags, anchors, escapes outside classes) that emits JavaScript v-mode source as Parts. Possessive
 * quantifiers and atomic groups become `(?=(X))\N` with hidden groups; (?i) must cover the whole pattern.
 */
import { BOUND_WORD, TERMINATORS, U_WORD } from './classes.js';
import { parseClass } from './char-class.js';
import { countGroups, Lexer, type Flags } from './lexer.js';
import { litOut } from './literals.js';
import { render, type Part } from './parts.js';
import { PARTIAL_CASE_INSENSITIVITY, REFUSED } from './refusals.js';

export interface JavaRegexTranslation {
  /** JavaScript source, for `new RegExp(source, flags)`. */
  source: string;
  /** `v`, plus `i` when (?i) covers the whole pattern. */
  flags: string;
  /** Number of capturing groups as Java counts them. */
  groupCount: number;
  /** `jsIndex[javaGroup]` = index in a JavaScript match array (identity unless atomic constructs added groups). */
  jsIndex: readonly number[];
  /** Named groups, name -> Java group number. */
  names: ReadonlyMap<string, number>;
}

export class Translator extends Lexer {
  private readonly parts: Part[] = [];
  /** Java capturing groups opened so far. */
  private groups = 0;
  private synth = 0;
  private readonly names = new Map<string, number>();
  private readonly totalGroups: number;
  private iMode: 'undecided' | 'on' | 'off' = 'undecided';

  constructor(src: string) {
    super(src);
    this.totalGroups = countGroups(src);
  }

  run(): JavaRegexTranslation {
    this.alternation(0);
    if (this.pos < this.src.length) throw this.err(`unmatched ')' at position ${this.pos}`);
    const { source, jsIndex } = render(this.parts, this.groups);
    return { source, flags: this.iMode === 'on' ? 'iv' : 'v', groupCount: this.groups, jsIndex, names: this.names };
  }

  /** Emits a part; `cased` parts (letters, classes, backreferences) must all agree on (?i). */
  private emit(p: Part, cased = false): void {
    if (cased) this.decideCase();
    this.parts.push(p);
  }

  private decideCase(): void {
    if (this.iMode === 'undecided') this.iMode = this.flags.i ? 'on' : 'off';
    else if ((this.iMode === 'on') !== this.flags.i) {
      throw this.err(PARTIAL_CASE_INSENSITIVITY.message, PARTIAL_CASE_INSENSITIVITY.hint);
    }
  }

  private emitLiteral(cp: number): void {
    const ch = String.fromCodePoint(cp);
    this.emit(litOut(cp), ch.toLowerCase() !== ch.toUpperCase());
  }

  // --- sequence level

  private alternation(depth: number): void {
    let atomStart = -1;
    for (;;) {
      this.skipWs();
      if (this.eof()) {
        if (depth > 0) throw this.err('unclosed group');
        return;
      }
      const c = this.peek()!;
      if (c === ')') {
        if (depth === 0) throw this.err(`unmatched ')' at position ${this.pos}`);
        return;
      }
      if (c === '|') {
        this.pos++;
        this.emit('|');
        atomStart = -1;
        continue;
      }
      if (c === '*' || c === '+' || c === '?' || c === '{') {
        if (atomStart < 0) throw this.err(`dangling quantifier '${c}' at position ${this.pos} (nothing to repeat)`);
        this.quantifier(atomStart);
        atomStart = -1;
        continue;
      }
      const before = this.parts.length;
      const quantifiable = this.atom(depth);
      atomStart = quantifiable ? before : -1;
      if (quantifiable === 'multi') atomStart = this.parts.length - 1;
    }
  }

  /**
   * Parses one atom; returns whether a quantifier may follow ('multi': only the last emitted part may be quantified).
   */
  private atom(depth: number): boolean | 'multi' {
    const c = this.peek()!;
    switch (c) {
      case '(':
        return this.group(depth);
      case '[': {
        const cls = parseClass(this);
        this.emit(cls, true);
        return true;
      }
      case '.':
        this.pos++;
        this.emit(this.flags.s ? '[\\s\\S]' : this.flags.d ? '[^\\n]' : `[^${TERMINATORS}]`);
        return true;
      case '^':
        this.pos++;
        this.emit(this.caret());
        return false;
      case '$':
        this.pos++;
        this.emit(this.dollar(this.flags.m));
        return false;
      case '\\':
        return this.escapeOut();
      default: {
        const cp = this.cp();
        this.pos += cp > 0xffff ? 2 : 1;
        this.emitLiteral(cp);
        return true;
      }
    }
  }

  private caret(): string {
    if (!this.flags.m) return '^';
    if (this.flags.d) return '(?<![^\\n])(?!$)';
    return `(?<![^${TERMINATORS}])(?<!\\r(?=\\n))(?!$)`;
  }

  private dollar(multiline: boolean): string {
    if (this.flags.d) return multiline ? '(?=\\n|$)' : '(?=\\n?$)';
    if (multiline) return `(?=[${TERMINATORS}]|$)(?<!\\r(?=\\n))`;
    return `(?=(?:\\r\\n|[${TERMINATORS}])?$)(?<!\\r(?=\\n))`;
  }

  private quantifier(atomStart: number): void {
    let q = this.peek()!;
    const at = this.pos;
    this.pos++;
    if (q === '{') {
      const m = /^(\d+)(,(\d*))?\}/.exec(this.src.slice(this.pos));
      if (!m) throw this.err(`illegal repetition at position ${at}`, 'write \\{ for a literal brace');
      if (m[3] && Number(m[3]) < Number(m[1]))
        throw this.err(`illegal repetition range {${m[1]},${m[3]}} at position ${at}`);
      q = `{${m[1]}${m[2] ?? ''}}`;
      this.pos += m[0].length;
    }
    this.skipWs();
    const mod = this.peek();
    if (mod === '?') {
      this.pos++;
      this.parts.push(`${q}?`);
    } else if (mod === '+') {
      // possessive: X*+ == (?>X*) == (?=(X*))\N
      this.pos++;
      const atomParts = this.parts.splice(atomStart);
      const id = -++this.synth;
      this.parts.push('(?:(?=', { open: id }, ...atomParts, q, '))', { ref: id }, ')');
    } else {
      this.parts.push(q);
    }
  }

  // --- groups

  private group(depth: number): boolean {
    const start = this.pos;
    this.pos++; // (
    const saved = { ...this.flags };
    let atomicId: number | undefined;
    if (this.peek() === '?') {
      this.pos++;
      const k = this.peek();
      if (k === ':') {
        this.pos++;
        this.emit('(?:');
      } else if (k === '=' || k === '!') {
        this.pos++;
        this.emit(`(?${k}`);
      } else if (k === '<' && (this.peek(1) === '=' || this.peek(1) === '!')) {
        this.emit(`(?<${this.peek(1)}`);
        this.pos += 2;
      } else if (k === '<') {
        const m = /^<([a-zA-Z][a-zA-Z0-9]*)>/.exec(this.src.slice(this.pos));
        if (!m)
          throw this.err(
            `bad named group at position ${start}`,
            'group names are an ASCII letter followed by letters or digits',
          );
        if (this.names.has(m[1]!)) throw this.err(`named group '${m[1]}' is defined twice`);
        this.pos += m[0].length;
        const g = ++this.groups;
        this.names.set(m[1]!, g);
        this.emit({ open: g, name: m[1] });
      } else if (k === '>') {
        // atomic group (?>X) == (?=(X))\N
        this.pos++;
        atomicId = -++this.synth;
        this.emit('(?:(?=');
        this.parts.push({ open: atomicId });
      } else {
        // inline flags: (?idmsuxU-idmsuxU) or (?idmsuxU-idmsuxU:X)
        let on = true;
        const flagStart = this.pos;
        while (!this.eof() && this.peek() !== ')' && this.peek() !== ':') {
          const f = this.peek()!;
          this.pos++;
          if (f === '-') {
            on = false;
            continue;
          }
          if (f === 'c') throw this.refuse(REFUSED.canonEq);
          if (!'idmsuxU'.includes(f))
            throw this.err(
              `unknown inline flag '${f}' at position ${this.pos - 1}`,
              'Java inline flags are i d m s u x U',
            );
          this.flags[f as keyof Flags] = on;
          if (f === 'U' && on) this.flags.u = true;
        }
        if (this.eof()) throw this.err('unclosed group');
        if (this.pos === flagStart && this.peek() === ')')
          throw this.err(`empty inline flag group '(?)' at position ${start}`);
        if (this.peek() === ')') {
          // (?flags): applies until the end of the enclosing group
          this.pos++;
          return false;
        }
        this.pos++; // ':'
        this.emit('(?:');
      }
    } else {
      const g = ++this.groups;
      this.emit({ open: g });
    }
    this.alternation(depth + 1);
    this.pos++; // )
    this.flags = saved;
    if (atomicId === undefined) this.parts.push(')');
    else this.parts.push('))', { ref: atomicId }, ')');
    return true;
  }

  // --- escapes outside classes

  private escapeOut(): boolean | 'multi' {
    const at = this.pos;
    this.pos++; // backslash
    if (this.eof()) throw this.err('pattern ends with a lone backslash');
    const c = this.peek()!;
    const U = this.flags.U;
    switch (c) {
      case 'Q': {
        this.pos++;
        const end = this.src.indexOf('\\E', this.pos);
        const text = end < 0 ? this.src.slice(this.pos) : this.src.slice(this.pos, end);
        this.pos = end < 0 ? this.src.length : end + 2;
        if (text.length === 0) return false;
        // every quoted character is its own atom; a following quantifier applies to the last one
        for (const ch of text) this.emitLiteral(ch.codePointAt(0)!);
        return 'multi';
      }
      case 'E':
        this.pos++;
        return false; // a stray \E is ignored by Java
      case 'A':
        this.pos++;
        this.emit('(?<![\\s\\S])');
        return false;
      case 'z':
        this.pos++;
        this.emit('(?![\\s\\S])');
        return false;
      case 'Z':
        this.pos++;
        this.emit(this.dollar(false));
        return false;
      case 'G':
        throw this.refuse(REFUSED.previousMatchEnd);
      case 'X':
        throw this.refuse(REFUSED.graphemeCluster);
      case 'b':
      case 'B': {
        this.pos++;
        if (this.peek() === '{') throw this.refuse(REFUSED.graphemeBoundary);
        const W = U ? U_WORD : BOUND_WORD;
        this.emit(c === 'b' ? `(?:(?<=${W})(?!${W})|(?<!${W})(?=${W}))` : `(?:(?<=${W})(?=${W})|(?<!${W})(?!${W}))`);
        return false;
      }
      case 'R':
        this.pos++;
        this.emit('(?:\\r\\n|(?!\\r\\n)[\\n\\u{b}\\f\\r\\u{85}\\u{2028}\\u{2029}])');
        return true;
      case 'k': {
        const m = /^k<([a-zA-Z][a-zA-Z0-9]*)>/.exec(this.src.slice(this.pos));
        if (!m) throw this.err(`bad named backreference at position ${at}`, 'write \\k<name>');
        const g = this.names.get(m[1]!);
        if (g === undefined) throw this.err(`backreference to group '${m[1]}', which is not defined before it`);
        this.pos += m[0].length;
        this.emit({ ref: g }, true);
        return true;
      }
      default:
        break;
    }
    if (c >= '1' && c <= '9') {
      let g = c.charCodeAt(0) - 48;
      this.pos++;
      while (!this.eof()) {
        const d = this.src.charCodeAt(this.pos) - 48;
        if (d < 0 || d > 9 || g * 10 + d > this.groups) break;
        g = g * 10 + d;
        this.pos++;
      }
      if (g > this.totalGroups)
        throw this.err(
          `backreference \\${g} at position ${at} names a group that does not exist (the pattern has ${this.totalGroups})`,
        );
      this.emit({ ref: g }, true);
      return true;
    }
    const cls = this.classEscape();
    if (cls !== undefined) {
      this.emit(cls, cls.includes('\\p') || cls.includes('\\P'));
      return true;
    }
    this.emitLiteral(this.charEscape(at));
    return true;
  }
}
