/**
 * Java regular expressions (java.util.regex.Pattern syntax, as written in Flume configs) translated to JavaScript.
 *
 * The translation keeps Java's meaning or refuses: a construct with no JavaScript equivalent is an OptionError
 * naming the construct and its position, never a silently different regex. The result always uses the `v` flag
 * (Unicode sets: code-point semantics like Java, nested classes and `&&` intersections). Translated:
 *  - `\Q...\E` quoting; `\A`, `\z`, `\Z`, `^`, `$` (Java's line-terminator rules, with and without (?m)); `.` (Java's
 *    line terminators, (?s), (?d)); `\s` (ASCII only, unlike JavaScript's Unicode `\s`), `\h`, `\v`, `\R`, `\b`/`\B`
 *    (Java 8-17 word = letter, digit or `_`, Unicode-aware);
 *  - possessive quantifiers (`a*+`) and atomic groups (`(?>...)`) through the atomic lookahead idiom `(?=(X))\N`.
 *    The extra capture groups are hidden: `group(m, i)`, `replaceAll` and backreferences use Java's numbering;
 *  - inline flags: (?s) (?m) (?d) (?x) (?U) (?u) anywhere (scoped as in Java); (?i) only when it covers the whole
 *    pattern (e.g. at the very start), which becomes the JavaScript `i` flag;
 *  - `\p{...}`: POSIX classes (`\p{Alpha}`, `\p{Punct}`...; Unicode versions under (?U)), `java*` classes, general
 *    categories (`\p{L}`, `\p{IsLu}`, `\p{gc=Nd}`), scripts (`\p{IsLatin}`, `\p{sc=Greek}`), binary properties
 *    (`\p{IsAlphabetic}`); classes with nested classes and `&&` intersections;
 *  - escapes `\t \n \r \f \a \e \0oct \xhh \x{h..h} \uhhhh \cX`, backreferences `\N` (Java's multi-digit rule) and
 *    `\k<name>`, named groups, lookarounds.
 * Rejected: (?i) covering only part of a pattern, (?c) CANON_EQ, `\G`, `\X`, `\N{name}`, `\b{g}`, Unicode blocks
 * (`\p{InGreek}`), `\p` names JavaScript does not know.
 * Known differences (documented, rarely observable): under (?i) non-ASCII letters also match case-insensitively
 * (as Java's (?iu)); a backreference to a group that did not participate matches the empty string (Java: fails);
 * a negated class with `&&` negates the whole class (Java 9+ semantics; Java 8 negated only the first operand).
 *
 * Reused by interceptors, taildir (filegroups) and spooldir (includePattern/ignorePattern).
 */
import { opt, OptionError, type OptionSpec } from '../config/options.js';

// ----------------------------------------------------------------------------------------------- public API

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

/** A compiled Java regex. `regex` has no `g` flag, so `test`/`exec` are stateless. */
export class JavaRegex {
  readonly regex: RegExp;
  readonly groupCount: number;
  readonly names: ReadonlyMap<string, number>;
  private readonly jsIndex: readonly number[];
  private readonly identity: boolean;
  private globalRe?: RegExp;
  private fullRe?: RegExp;

  constructor(readonly javaSource: string, readonly translation: JavaRegexTranslation) {
    this.regex = new RegExp(translation.source, translation.flags);
    this.groupCount = translation.groupCount;
    this.names = translation.names;
    this.jsIndex = translation.jsIndex;
    this.identity = translation.jsIndex.every((v, i) => v === i);
  }

  /** Java `Matcher.find()`: is there a match anywhere in `s`. */
  test(s: string): boolean {
    return this.regex.test(s);
  }

  /** Java `Matcher.matches()`: does the whole of `s` match. */
  matches(s: string): boolean {
    this.fullRe ??= new RegExp(`^(?:${this.translation.source})$`, this.translation.flags);
    return this.fullRe.test(s);
  }

  /** First match (Java `find()`); read groups with `group(m, i)` (Java numbering). */
  exec(s: string): RegExpExecArray | null {
    return this.regex.exec(s);
  }

  /** Java group `i` of a match from `exec` (undefined when the group did not participate). */
  group(m: RegExpExecArray, i: number): string | undefined {
    return m[this.identity ? i : this.jsIndex[i]!];
  }

  /** A regex with the `g` flag (shared; String.prototype.replace/matchAll reset its lastIndex). */
  get global(): RegExp {
    this.globalRe ??= new RegExp(this.translation.source, `${this.translation.flags}g`);
    return this.globalRe;
  }

  /** Java `String.replaceAll(regex, replacement)`; `replacement` from `compileJavaReplacement`. */
  replaceAll(s: string, replacement: JavaReplacement): string {
    if (replacement.literal !== undefined) {
      const lit = replacement.literal;
      return s.replace(this.global, () => lit);
    }
    return s.replace(this.global, (...args: unknown[]) => {
      // args: match, p1..pn, offset, string, [groups]
      let out = '';
      for (const part of replacement.parts) {
        if (typeof part === 'string') out += part;
        else {
          const v = args[this.identity ? part : this.jsIndex[part]!];
          if (typeof v === 'string') out += v;
        }
      }
      return out;
    });
  }

  /** Java `String.split(regex)`: trailing empty strings removed, no leading empty string for a zero-width match at 0. */
  split(s: string): string[] {
    const out: string[] = [];
    let last = 0;
    const re = this.global;
    re.lastIndex = 0;
    for (const m of s.matchAll(re)) {
      const at = m.index!;
      const end = at + m[0].length;
      if (end === 0) continue; // zero-width match at the beginning
      if (m[0].length === 0 && at === last && at === s.length) break;
      out.push(s.slice(last, at));
      last = end;
    }
    out.push(s.slice(last));
    while (out.length > 1 && out[out.length - 1] === '') out.pop();
    if (out.length === 1 && out[0] === '' && s.length > 0) return [];
    return out;
  }
}

/** A parsed Java replacement string: literal text and group references (Java numbering). */
export interface JavaReplacement {
  readonly parts: readonly (string | number)[];
  /** Set when the replacement has no group references. */
  readonly literal?: string;
}

/** Translates Java regex syntax; throws OptionError naming the first construct that has no JavaScript equivalent. */
export function translateJavaRegex(src: string): JavaRegexTranslation {
  return new Translator(src).run();
}

/** Translates and compiles; throws OptionError. */
export function compileJavaRegex(src: string): JavaRegex {
  const t = translateJavaRegex(src);
  try {
    return new JavaRegex(src, t);
  } catch (err) {
    throw new OptionError(`regex '${src}' cannot be used: ${(err as Error).message}`, 'check the regular expression syntax (Java syntax)');
  }
}

/**
 * Parses a Java `Matcher.appendReplacement` replacement: `$n` (multi-digit while such a group exists), `${name}`,
 * `\x` for a literal x. Errors Java raises at runtime (missing group, dangling `$` or `\`) are OptionErrors here.
 */
export function compileJavaReplacement(repl: string, re: JavaRegex): JavaReplacement {
  const parts: (string | number)[] = [];
  let lit = '';
  let i = 0;
  while (i < repl.length) {
    const c = repl[i]!;
    if (c === '\\') {
      if (i + 1 >= repl.length) throw new OptionError(`replacement '${repl}' ends with a lone backslash`, 'write \\\\ for a literal backslash');
      lit += repl[i + 1]!;
      i += 2;
    } else if (c === '$') {
      i++;
      if (i >= repl.length) throw new OptionError(`replacement '${repl}' ends with '$' (Java: illegal group reference)`, 'write \\$ for a literal dollar sign');
      let g: number;
      if (repl[i] === '{') {
        const close = repl.indexOf('}', i);
        const name = close < 0 ? '' : repl.slice(i + 1, close);
        if (close < 0 || !/^[a-zA-Z][a-zA-Z0-9]*$/.test(name)) throw new OptionError(`replacement '${repl}' has a malformed named group reference`, 'write ${name} with an ASCII letter followed by letters or digits');
        const n = re.names.get(name);
        if (n === undefined) throw new OptionError(`replacement '${repl}' refers to group '${name}', which the regex does not define`);
        g = n;
        i = close + 1;
      } else {
        const d = repl.charCodeAt(i) - 48;
        if (d < 0 || d > 9) throw new OptionError(`replacement '${repl}' has '$' not followed by a group number or {name} (Java: illegal group reference)`, 'write \\$ for a literal dollar sign');
        if (d > re.groupCount) throw new OptionError(`replacement '${repl}' refers to group ${d}, but the regex has ${re.groupCount} group(s)`);
        g = d;
        i++;
        while (i < repl.length) {
          const e = repl.charCodeAt(i) - 48;
          if (e < 0 || e > 9 || g * 10 + e > re.groupCount) break;
          g = g * 10 + e;
          i++;
        }
      }
      if (lit) parts.push(lit);
      lit = '';
      parts.push(g);
    } else {
      lit += c;
      i++;
    }
  }
  if (lit) parts.push(lit);
  if (parts.every((p) => typeof p === 'string')) return { parts, literal: parts.join('') };
  return { parts };
}

/** A string option holding a Java regex, checked (translated and compiled) when the config is validated. */
export function javaRegexOption(o: { doc: string; default: string; defaultText?: string; nonEmpty?: boolean } | { doc: string; required: true; nonEmpty?: boolean }): OptionSpec<string>;
export function javaRegexOption(o: { doc: string; defaultText?: string; nonEmpty?: boolean }): OptionSpec<string | undefined>;
export function javaRegexOption(o: { doc: string; default?: string; required?: boolean; defaultText?: string; nonEmpty?: boolean }): OptionSpec<any> {
  const base = opt.string(o) as OptionSpec<any>;
  return {
    ...base,
    typeText: 'Java regex',
    parse: (raw: string) => {
      const v = base.parse(raw) as string;
      compileJavaRegex(v);
      return v;
    },
  };
}

// ----------------------------------------------------------------------------------------------- translation

interface Flags {
  i: boolean;
  d: boolean;
  m: boolean;
  s: boolean;
  u: boolean;
  x: boolean;
  U: boolean;
}

type Part = string | { open: number; name?: string } | { ref: number };

const TERMINATORS = '\\n\\r\\u{85}\\u{2028}\\u{2029}';
const JAVA_SPACE = '[\\t\\n\\u{b}\\f\\r ]';
const JAVA_NOT_SPACE = '[^\\t\\n\\u{b}\\f\\r ]';
const HSPACE = '[ \\t\\u{a0}\\u{1680}\\u{180e}\\u{2000}-\\u{200a}\\u{202f}\\u{205f}\\u{3000}]';
const VSPACE = '[\\n\\u{b}\\f\\r\\u{85}\\u{2028}\\u{2029}]';
const U_WORD = '[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]';
const U_NOT_WORD = '[^\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]';
/** Java 8-17 `\b` word character: Character.isLetterOrDigit or '_'. */
const BOUND_WORD = '[\\p{L}\\p{Nd}_]';

const SYNTAX_OUT = new Set('^$\\.*+?()[]{}|/');
const SYNTAX_IN = new Set('()[]{}/-\\|&!#%,:;<=>@`~^$.*+?');

function hex(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

function needsHexEscape(cp: number): boolean {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp === 0x2028 || cp === 0x2029 || (cp >= 0xd800 && cp <= 0xdfff) || cp === 0xfeff;
}

/** A code point as a JavaScript (v-mode) atom outside a class. */
function litOut(cp: number): string {
  if (needsHexEscape(cp)) return hex(cp);
  const ch = String.fromCodePoint(cp);
  return SYNTAX_OUT.has(ch) ? `\\${ch}` : ch;
}

/** A code point inside a v-mode class. */
function litIn(cp: number): string {
  if (needsHexEscape(cp)) return hex(cp);
  const ch = String.fromCodePoint(cp);
  return SYNTAX_IN.has(ch) ? `\\${ch}` : ch;
}

const PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const POSIX_ASCII: Record<string, string> = {
  Lower: '[a-z]', Upper: '[A-Z]', ASCII: '[\\u{0}-\\u{7f}]', Alpha: '[a-zA-Z]', Digit: '[0-9]', Alnum: '[a-zA-Z0-9]',
  Punct: `[${[...PUNCT].map((c) => litIn(c.codePointAt(0)!)).join('')}]`,
  Graph: `[${litIn(0x21)}-${litIn(0x7e)}]`, Print: `[ -${litIn(0x7e)}]`, Blank: '[ \\t]', Cntrl: '[\\u{0}-\\u{1f}\\u{7f}]', XDigit: '[0-9a-fA-F]', Space: JAVA_SPACE,
  all: '[\\s\\S]', L1: '[\\u{0}-\\u{ff}]',
};
const POSIX_UNICODE: Record<string, string> = {
  Lower: '\\p{Lowercase}', Upper: '\\p{Uppercase}', ASCII: '[\\u{0}-\\u{7f}]', Alpha: '\\p{Alphabetic}', Digit: '\\p{Nd}',
  Alnum: '[\\p{Alphabetic}\\p{Nd}]', Punct: '\\p{P}', Graph: '[^\\p{White_Space}\\p{Cc}\\p{Cs}\\p{Cn}]',
  Print: '[[^\\p{White_Space}\\p{Cc}\\p{Cs}\\p{Cn}][\\p{Zs}\\t]--\\p{Cc}]', Blank: '[\\p{Zs}\\t]', Cntrl: '\\p{Cc}',
  XDigit: '[\\p{Nd}\\p{Hex_Digit}]', Space: '\\p{White_Space}',
};
const JAVA_CHAR_CLASSES: Record<string, string> = {
  javaLowerCase: '\\p{Lowercase}', javaUpperCase: '\\p{Uppercase}', javaTitleCase: '\\p{Lt}', javaDigit: '\\p{Nd}',
  javaDefined: '\\P{Cn}', javaLetter: '\\p{L}', javaLetterOrDigit: '[\\p{L}\\p{Nd}]', javaAlphabetic: '\\p{Alphabetic}',
  javaIdeographic: '\\p{Ideographic}', javaSpaceChar: '[\\p{Zs}\\p{Zl}\\p{Zp}]',
  javaWhitespace: '[[\\p{Zs}\\p{Zl}\\p{Zp}--[\\u{a0}\\u{2007}\\u{202f}]][\\t\\n\\u{b}\\f\\r\\u{1c}-\\u{1f}]]',
  javaISOControl: '[\\u{0}-\\u{1f}\\u{7f}-\\u{9f}]', javaMirrored: '\\p{Bidi_Mirrored}',
};
const CATEGORIES = new Set([
  'L', 'Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'LC', 'M', 'Mn', 'Mc', 'Me', 'N', 'Nd', 'Nl', 'No', 'P', 'Pc', 'Pd', 'Ps', 'Pe', 'Pi',
  'Pf', 'Po', 'S', 'Sm', 'Sc', 'Sk', 'So', 'Z', 'Zs', 'Zl', 'Zp', 'C', 'Cc', 'Cf', 'Cs', 'Co', 'Cn',
]);
const BINARY: Record<string, string> = {
  ALPHABETIC: '\\p{Alphabetic}', LETTER: '\\p{L}', IDEOGRAPHIC: '\\p{Ideographic}', LOWERCASE: '\\p{Lowercase}',
  UPPERCASE: '\\p{Uppercase}', TITLECASE: '\\p{Lt}', WHITESPACE: '\\p{White_Space}', WHITE_SPACE: '\\p{White_Space}',
  CONTROL: '\\p{Cc}', PUNCTUATION: '\\p{P}', HEXDIGIT: '\\p{Hex_Digit}', HEX_DIGIT: '\\p{Hex_Digit}',
  JOINCONTROL: '\\p{Join_Control}', JOIN_CONTROL: '\\p{Join_Control}', NONCHARACTERCODEPOINT: '\\p{Noncharacter_Code_Point}',
  NONCHARACTER_CODE_POINT: '\\p{Noncharacter_Code_Point}', ASSIGNED: '\\P{Cn}', DIGIT: '\\p{Nd}', EMOJI: '\\p{Emoji}',
  EMOJI_PRESENTATION: '\\p{Emoji_Presentation}', EMOJI_MODIFIER: '\\p{Emoji_Modifier}', EMOJI_MODIFIER_BASE: '\\p{Emoji_Modifier_Base}',
  EMOJI_COMPONENT: '\\p{Emoji_Component}', EXTENDED_PICTOGRAPHIC: '\\p{Extended_Pictographic}',
  ALNUM: '[\\p{Alphabetic}\\p{Nd}]', BLANK: '[\\p{Zs}\\t]', GRAPH: POSIX_UNICODE.Graph!, PRINT: POSIX_UNICODE.Print!, WORD: U_WORD,
};

function negate(cls: string): string {
  // cls is `\p{..}`, `\P{..}` or `[...]`
  if (cls.startsWith('\\p{')) return `\\P${cls.slice(2)}`;
  if (cls.startsWith('\\P{')) return `\\p${cls.slice(2)}`;
  return `[^${cls}]`;
}

function scriptClass(name: string): string | undefined {
  const variants = new Set([name, name.charAt(0).toUpperCase() + name.slice(1).toLowerCase(),
    name.toLowerCase().split(/[_ ]/).map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join('_')]);
  for (const v of variants) {
    if (!/^[A-Za-z_]+$/.test(v)) continue;
    try {
      new RegExp(`\\p{Script=${v}}`, 'v');
      return `\\p{Script=${v}}`;
    } catch {
      // next spelling
    }
  }
  return undefined;
}

class Translator {
  private pos = 0;
  private readonly parts: Part[] = [];
  /** Java capturing groups opened so far. */
  private groups = 0;
  private synth = 0;
  private readonly names = new Map<string, number>();
  private totalGroups = 0;
  private iMode: 'undecided' | 'on' | 'off' = 'undecided';
  private flags: Flags = { i: false, d: false, m: false, s: false, u: false, x: false, U: false };

  constructor(private readonly src: string) {}

  run(): JavaRegexTranslation {
    this.totalGroups = this.countGroups();
    this.alternation(0);
    if (this.pos < this.src.length) throw this.err(`unmatched ')' at position ${this.pos}`);
    // number the capture groups as JavaScript will (order of opening parens), then render
    const jsOf = new Map<number, number>();
    let n = 0;
    for (const p of this.parts) if (typeof p === 'object' && 'open' in p) jsOf.set(p.open, ++n);
    let source = '';
    for (const p of this.parts) {
      if (typeof p === 'string') source += p;
      else if ('open' in p) source += p.name ? `(?<${p.name}>` : '(';
      else {
        const js = jsOf.get(p.ref);
        source += js === undefined ? '(?!)' : `(?:\\${js})`;
      }
    }
    const jsIndex = [0];
    for (let g = 1; g <= this.groups; g++) jsIndex.push(jsOf.get(g)!);
    return { source, flags: this.iMode === 'on' ? 'iv' : 'v', groupCount: this.groups, jsIndex, names: this.names };
  }

  // --- helpers

  private err(message: string, hint?: string): OptionError {
    return new OptionError(`regex '${this.src}': ${message}`, hint);
  }

  private unsupported(construct: string, hint?: string): OptionError {
    return this.err(`${construct} at position ${this.pos} has no JavaScript equivalent`, hint);
  }

  private peek(off = 0): string | undefined {
    return this.src[this.pos + off];
  }

  private cp(): number {
    return this.src.codePointAt(this.pos)!;
  }

  private eof(): boolean {
    return this.pos >= this.src.length;
  }

  /** In (?x) mode: skips whitespace and `#` comments. */
  private skipWs(): void {
    if (!this.flags.x) return;
    while (!this.eof()) {
      const c = this.peek()!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\u000b') this.pos++;
      else if (c === '#') {
        while (!this.eof() && this.peek() !== '\n' && this.peek() !== '\r') this.pos++;
      } else break;
    }
  }

  /** Emits a part; `cased` parts (letters, classes, backreferences) must all agree on (?i). */
  private emit(p: Part, cased = false): void {
    if (cased) this.decideCase();
    this.parts.push(p);
  }

  private decideCase(): void {
    if (this.iMode === 'undecided') this.iMode = this.flags.i ? 'on' : 'off';
    else if ((this.iMode === 'on') !== this.flags.i) {
      throw this.err('case-insensitive matching ((?i) or (?-i)) for only part of the pattern has no JavaScript equivalent',
        'put (?i) at the very start so it covers the whole pattern, or spell out both cases with a class such as [Aa]');
    }
  }

  private emitLiteral(cp: number): void {
    const ch = String.fromCodePoint(cp);
    this.emit(litOut(cp), ch.toLowerCase() !== ch.toUpperCase());
  }

  /** Counts Java capturing groups (to resolve multi-digit backreferences and reject missing ones). */
  private countGroups(): number {
    let n = 0;
    let inClass = 0;
    const s = this.src;
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

  /** Parses one atom; returns whether a quantifier may follow ('multi': only the last emitted part may be quantified). */
  private atom(depth: number): boolean | 'multi' {
    const c = this.peek()!;
    switch (c) {
      case '(':
        return this.group(depth);
      case '[': {
        const cls = this.clazz();
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
      if (m[3] && Number(m[3]) < Number(m[1])) throw this.err(`illegal repetition range {${m[1]},${m[3]}} at position ${at}`);
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
        if (!m) throw this.err(`bad named group at position ${start}`, 'group names are an ASCII letter followed by letters or digits');
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
          if (f === 'c') throw this.unsupported('the CANON_EQ flag (?c)');
          if (!'idmsuxU'.includes(f)) throw this.err(`unknown inline flag '${f}' at position ${this.pos - 1}`, 'Java inline flags are i d m s u x U');
          this.flags[f as keyof Flags] = on;
          if (f === 'U' && on) this.flags.u = true;
        }
        if (this.eof()) throw this.err('unclosed group');
        if (this.pos === flagStart && this.peek() === ')') throw this.err(`empty inline flag group '(?)' at position ${start}`);
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
        throw this.unsupported('\\G (end of the previous match)');
      case 'X':
        throw this.unsupported('\\X (grapheme cluster)');
      case 'b':
      case 'B': {
        this.pos++;
        if (this.peek() === '{') throw this.unsupported('\\b{g} (grapheme cluster boundary)');
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
      if (g > this.totalGroups) throw this.err(`backreference \\${g} at position ${at} names a group that does not exist (the pattern has ${this.totalGroups})`);
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

  /**
   * Class-like escapes valid inside and outside classes: \d \D \w \W \s \S \h \H \v \V \p{..} \P{..}.
   * Returns a v-mode class expression (`\d`, `\p{..}`, `[...]`), or undefined when the escape is not one of them
   * (pos is left after the backslash).
   */
  private classEscape(): string | undefined {
    const c = this.peek()!;
    const U = this.flags.U;
    let r: string | undefined;
    switch (c) {
      case 'd': r = U ? '\\p{Nd}' : '[0-9]'; break;
      case 'D': r = U ? '\\P{Nd}' : '[^0-9]'; break;
      case 'w': r = U ? U_WORD : '[a-zA-Z0-9_]'; break;
      case 'W': r = U ? U_NOT_WORD : '[^a-zA-Z0-9_]'; break;
      case 's': r = U ? '\\p{White_Space}' : JAVA_SPACE; break;
      case 'S': r = U ? '\\P{White_Space}' : JAVA_NOT_SPACE; break;
      case 'h': r = HSPACE; break;
      case 'H': r = negate(HSPACE); break;
      case 'v': r = VSPACE; break;
      case 'V': r = negate(VSPACE); break;
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
    const bad = (hint?: string) => this.err(`unknown or unsupported character property \\p{${raw}}`, hint ?? 'see java.util.regex.Pattern: POSIX classes (Alpha, Punct...), categories (L, Lu, Nd...), scripts (IsLatin), binary properties (IsAlphabetic)');
    let name = raw;
    const eq = name.indexOf('=');
    if (eq > 0) {
      const key = name.slice(0, eq).toLowerCase();
      const val = name.slice(eq + 1);
      if (key === 'gc' || key === 'general_category') {
        if (CATEGORIES.has(val)) return `\\p{${val}}`;
        throw bad();
      }
      if (key === 'sc' || key === 'script') return scriptClass(val) ?? (() => { throw bad(); })();
      if (key === 'blk' || key === 'block') throw this.unsupported(`Unicode block \\p{${raw}}`, 'JavaScript has no block property; use a range such as [\\u0370-\\u03ff] or a script such as \\p{IsGreek}');
      throw bad();
    }
    if (name.startsWith('In')) throw this.unsupported(`Unicode block \\p{${raw}}`, 'JavaScript has no block property; use a range such as [\\u0370-\\u03ff] or a script such as \\p{IsGreek}');
    let isPrefixed = false;
    if (name.startsWith('Is')) {
      name = name.slice(2);
      isPrefixed = true;
      const bin = BINARY[name.toUpperCase()];
      if (bin) return bin;
    }
    if (CATEGORIES.has(name)) return `\\p{${name}}`;
    const posix = (this.flags.U ? POSIX_UNICODE[name] : undefined) ?? POSIX_ASCII[name];
    if (posix) return posix;
    const jc = JAVA_CHAR_CLASSES[name];
    if (jc) return jc;
    if (isPrefixed) {
      const sc = scriptClass(name);
      if (sc) return sc;
    }
    throw bad();
  }

  /** A single-character escape (after the backslash); returns the code point. */
  private charEscape(at: number): number {
    const c = this.peek()!;
    this.pos++;
    switch (c) {
      case 't': return 9;
      case 'n': return 10;
      case 'r': return 13;
      case 'f': return 12;
      case 'a': return 7;
      case 'e': return 27;
      case '0': {
        const m = /^([0-3][0-7]{2}|[0-7]{1,2})/.exec(this.src.slice(this.pos));
        if (!m) throw this.err(`illegal octal escape at position ${at}`, 'Java octal escapes are \\0n, \\0nn or \\0mnn');
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
        throw this.unsupported('\\N{name} (character by Unicode name)', 'write the character itself or \\x{hhhh}');
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

  // --- character classes

  /** Parses a Java class starting at `[`; returns a v-mode class `[...]`. */
  private clazz(): string {
    const start = this.pos;
    this.pos++; // [
    let neg = false;
    if (this.peek() === '^') {
      neg = true;
      this.pos++;
    }
    const operands: string[][] = [];
    let cur: string[] = [];
    let first = true;
    for (;;) {
      this.skipWs();
      if (this.eof()) throw this.err(`unclosed character class starting at position ${start}`);
      const c = this.peek()!;
      if (c === ']' && !first) {
        this.pos++;
        break;
      }
      first = false;
      if (c === '[') {
        cur.push(this.clazz());
        continue;
      }
      if (c === '&' && this.peek(1) === '&') {
        this.pos += 2;
        if (cur.length === 0) throw this.err(`empty operand before '&&' in the class at position ${start}`);
        operands.push(cur);
        cur = [];
        continue;
      }
      // a single character, possibly the start of a range, or a class escape
      let lo: number;
      if (c === '\\') {
        const at = this.pos;
        this.pos++;
        if (this.eof()) throw this.err('pattern ends with a lone backslash');
        const e = this.peek()!;
        if (e === 'Q') {
          this.pos++;
          const end = this.src.indexOf('\\E', this.pos);
          const text = end < 0 ? this.src.slice(this.pos) : this.src.slice(this.pos, end);
          this.pos = end < 0 ? this.src.length : end + 2;
          for (const ch of text) cur.push(litIn(ch.codePointAt(0)!));
          continue;
        }
        if (e === 'E') {
          this.pos++;
          continue;
        }
        const cls = this.classEscape();
        if (cls !== undefined) {
          cur.push(cls);
          continue;
        }
        if ((e >= '1' && e <= '9') || 'bBAzZGXRk'.includes(e)) {
          throw this.err(`\\${e} is not allowed inside a character class (position ${at})`);
        }
        lo = this.charEscape(at);
      } else {
        lo = this.cp();
        this.pos += lo > 0xffff ? 2 : 1;
      }
      // range?
      if (this.peek() === '-' && this.peek(1) !== ']' && this.peek(1) !== '[' && this.peek(1) !== undefined && !(this.peek(1) === '&' && this.peek(2) === '&')) {
        const save = this.pos;
        this.pos++;
        let hi: number;
        if (this.peek() === '\\') {
          const at = this.pos;
          this.pos++;
          const e = this.peek();
          if (e === undefined || /[dDwWsShHvVpPQE]/.test(e)) {
            this.pos = save;
            throw this.err(`illegal character range at position ${save}`);
          }
          hi = this.charEscape(at);
        } else {
          hi = this.cp();
          this.pos += hi > 0xffff ? 2 : 1;
        }
        if (hi < lo) throw this.err(`illegal character range ${String.fromCodePoint(lo)}-${String.fromCodePoint(hi)} at position ${save - 1}`);
        cur.push(`${litIn(lo)}-${litIn(hi)}`);
        continue;
      }
      cur.push(litIn(lo));
    }
    if (operands.length > 0) {
      if (cur.length === 0) throw this.err(`empty operand after '&&' in the class at position ${start}`);
      operands.push(cur);
      return `[${neg ? '^' : ''}${operands.map((o) => `[${o.join('')}]`).join('&&')}]`;
    }
    return `[${neg ? '^' : ''}${cur.join('')}]`;
  }
}
