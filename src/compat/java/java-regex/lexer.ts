/**
 * The lexer: a cursor over the Java pattern with its inline flags, whitespace and comments under (?x), and the
 * escapes that read as one token: class escapes (\d \w \s \h \v \p{..} and their negations, as v-mode class
 * expressions) and single-character escapes (as code points). The translator and the class parser build on it.
 */
import { OptionError } from '../../../contract/index.js';
import { HSPACE, JAVA_NOT_SPACE, JAVA_SPACE, U_NOT_WORD, U_WORD, VSPACE, negate, propertyClass } from './classes.js';
import { REFUSED, type Refusal } from './refusals.js';

export interface Flags {
  i: boolean;
  d: boolean;
  m: boolean;
  s: boolean;
  u: boolean;
  x: boolean;
  U: boolean;
}

export class Lexer {
  pos = 0;
  flags: Flags = { i: false, d: false, m: false, s: false, u: false, x: false, U: false };

  constructor(readonly src: string) {}

  err(message: string, hint?: string): OptionError {
    return new OptionError(`regex '${this.src}': ${message}`, hint);
  }

  /** The error for a construct with no JavaScript equivalent, at the current position. */
  refuse(r: Refusal): OptionError {
    return this.err(`${r.construct} at position ${this.pos} has no JavaScript equivalent`, r.hint);
  }

  peek(off = 0): string | undefined {
    return this.src[this.pos + off];
  }

  cp(): number {
    return this.src.codePointAt(this.pos)!;
  }

  eof(): boolean {
    return this.pos >= this.src.length;
  }

  /** In (?x) mode: skips whitespace and `#` comments. */
  skipWs(): void {
    if (!this.flags.x) return;
    while (!this.eof()) {
      const c = this.peek()!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\u000b') this.pos++;
      else if (c === '#') {
        while (!this.eof() && this.peek() !== '\n' && this.peek() !== '\r') this.pos++;
      } else break;
    }
  }

  /**
   * Class-like escapes valid inside and outside classes: \d \D \w \W \s \S \h \H \v \V \p{..} \P{..}.
   * Returns a v-mode class expression (`\d`, `\p{..}`, `[...]`), or undefined when the escape is not one of them
   * (pos is left after the backslash).
   */
  classEscape(): string | undefined {
    const c = this.peek()!;
    const U = this.flags.U;
    let r: string | undefined;
    switch (c) {
      case 'd':
        r = U ? '\\p{Nd}' : '[0-9]';
        break;
      case 'D':
        r = U ? '\\P{Nd}' : '[^0-9]';
        break;
      case 'w':
        r = U ? U_WORD : '[a-zA-Z0-9_]';
        break;
      case 'W':
        r = U ? U_NOT_WORD : '[^a-zA-Z0-9_]';
        break;
      case 's':
        r = U ? '\\p{White_Space}' : JAVA_SPACE;
        break;
      case 'S':
        r = U ? '\\P{White_Space}' : JAVA_NOT_SPACE;
        break;
      case 'h':
        r = HSPACE;
        break;
      case 'H':
        r = negate(HSPACE);
        break;
      case 'v':
        r = VSPACE;
        break;
      case 'V':
        r = negate(VSPACE);
        break;
      case 'p':
      case 'P': {
        this.pos++;
        let name: string;
        if (this.peek() === '{') {
          const end = this.src.indexOf('}', this.pos);
          if (end < 0) throw this.err(`unclosed \\${c}{ at position ${this.pos - 2}`);
          name = this.src.slice(this.pos + 1, end);
          this.pos = end + 1;
        } else {
          if (this.eof()) throw this.err(`\\${c} needs a property name`);
          name = this.peek()!;
          this.pos++;
        }
        const cls = this.property(name);
        return c === 'P' ? negate(cls) : cls;
      }
      default:
        return undefined;
    }
    this.pos++;
    return r;
  }

  private property(raw: string): string {
    const cls = propertyClass(raw, this.flags.U);
    if (typeof cls === 'string') return cls;
    if (cls !== undefined) throw this.refuse(cls);
    throw this.err(
      `unknown or unsupported character property \\p{${raw}}`,
      'see java.util.regex.Pattern: POSIX ' +
        'classes (Alpha, Punct...), categories (L, Lu, Nd...), scripts (IsLatin), binary properties (IsAlphabetic)',
    );
  }

  /** A single-character escape (after the backslash); returns the code point. */
  charEscape(at: number): number {
    const c = this.peek()!;
    this.pos++;
    switch (c) {
      case 't':
        return 9;
      case 'n':
        return 10;
      case 'r':
        return 13;
      case 'f':
        return 12;
      case 'a':
        return 7;
      case 'e':
        return 27;
      case '0': {
        const m = /^([0-3][0-7]{2}|[0-7]{1,2})/.exec(this.src.slice(this.pos));
        if (!m)
          throw this.err(`illegal octal escape at position ${at}`, 'Java octal escapes are \\0n, \\0nn or \\0mnn');
        this.pos += m[0].length;
        return parseInt(m[0], 8);
      }
      case 'x': {
        if (this.peek() === '{') {
          const m = /^\{([0-9a-fA-F]{1,6})\}/.exec(this.src.slice(this.pos));
          if (!m || parseInt(m[1]!, 16) > 0x10ffff) throw this.err(`illegal hexadecimal escape at position ${at}`);
          this.pos += m[0].length;
          return parseInt(m[1]!, 16);
        }
        const m = /^[0-9a-fA-F]{2}/.exec(this.src.slice(this.pos));
        if (!m) throw this.err(`illegal hexadecimal escape at position ${at}`, 'write \\xhh or \\x{h...h}');
        this.pos += 2;
        return parseInt(m[0], 16);
      }
      case 'u': {
        const m = /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.pos));
        if (!m) throw this.err(`illegal unicode escape at position ${at}`, 'write \\uhhhh');
        this.pos += 4;
        const v = parseInt(m[0], 16);
        if (v >= 0xd800 && v <= 0xdbff) {
          const lo = /^\\u(d[c-f][0-9a-f]{2})/i.exec(this.src.slice(this.pos));
          if (lo) {
            this.pos += 6;
            return 0x10000 + ((v - 0xd800) << 10) + (parseInt(lo[1]!, 16) - 0xdc00);
          }
        }
        return v;
      }
      case 'c': {
        if (this.eof()) throw this.err(`illegal control escape at position ${at}`);
        const v = this.src.charCodeAt(this.pos) ^ 64;
        this.pos++;
        return v;
      }
      case 'N':
        this.pos = at + 1;
        throw this.refuse(REFUSED.namedCharacter);
      default:
        if (/[a-zA-Z0-9]/.test(c)) {
          this.pos = at;
          throw this.err(`illegal or unsupported escape sequence \\${c} at position ${at}`);
        }
        // an escaped non-alphanumeric character is that character
        this.pos = at + 1;
        {
          const cp = this.cp();
          this.pos += cp > 0xffff ? 2 : 1;
          return cp;
        }
    }
  }
}

/** Counts Java capturing groups (to resolve multi-digit backreferences and reject missing ones). */
export function countGroups(s: string): number {
  let n = 0;
  let inClass = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') {
      if (s[i + 1] === 'Q') {
        const e = s.indexOf('\\E', i + 2);
        i = e < 0 ? s.length : e + 1;
      } else i++;
    } else if (c === '[') inClass++;
    else if (c === ']' && inClass > 0) inClass--;
    else if (c === '(' && inClass === 0) {
      if (s[i + 1] !== '?') n++;
      else if (s[i + 2] === '<' && s[i + 3] !== '=' && s[i + 3] !== '!') n++;
    }
  }
  return n;
}
