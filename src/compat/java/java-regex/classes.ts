/**
 * Java's predefined and named character classes as v-mode class expressions: line terminators, \s \h \v \w \b words,
 * POSIX classes (ASCII, and Unicode under (?U)), java* classes, general categories, binary properties and scripts.
 */
import { litIn } from './literals.js';
import { unicodeBlock, type Refusal } from './refusals.js';

export const TERMINATORS = '\\n\\r\\u{85}\\u{2028}\\u{2029}';
export const JAVA_SPACE = '[\\t\\n\\u{b}\\f\\r ]';
export const JAVA_NOT_SPACE = '[^\\t\\n\\u{b}\\f\\r ]';
export const HSPACE = '[ \\t\\u{a0}\\u{1680}\\u{180e}\\u{2000}-\\u{200a}\\u{202f}\\u{205f}\\u{3000}]';
export const VSPACE = '[\\n\\u{b}\\f\\r\\u{85}\\u{2028}\\u{2029}]';
export const U_WORD = '[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]';
export const U_NOT_WORD = '[^\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]';
/** Java 8-17 `\b` word character: Character.isLetterOrDigit or '_'. */
export const BOUND_WORD = '[\\p{L}\\p{Nd}_]';

const PUNCT = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
const POSIX_ASCII: Record<string, string> = {
  Lower: '[a-z]',
  Upper: '[A-Z]',
  ASCII: '[\\u{0}-\\u{7f}]',
  Alpha: '[a-zA-Z]',
  Digit: '[0-9]',
  Alnum: '[a-zA-Z0-9]',
  Punct: `[${[...PUNCT].map((c) => litIn(c.codePointAt(0)!)).join('')}]`,
  Graph: `[${litIn(0x21)}-${litIn(0x7e)}]`,
  Print: `[ -${litIn(0x7e)}]`,
  Blank: '[ \\t]',
  Cntrl: '[\\u{0}-\\u{1f}\\u{7f}]',
  XDigit: '[0-9a-fA-F]',
  Space: JAVA_SPACE,
  all: '[\\s\\S]',
  L1: '[\\u{0}-\\u{ff}]',
};
const POSIX_UNICODE: Record<string, string> = {
  Lower: '\\p{Lowercase}',
  Upper: '\\p{Uppercase}',
  ASCII: '[\\u{0}-\\u{7f}]',
  Alpha: '\\p{Alphabetic}',
  Digit: '\\p{Nd}',
  Alnum: '[\\p{Alphabetic}\\p{Nd}]',
  Punct: '\\p{P}',
  Graph: '[^\\p{White_Space}\\p{Cc}\\p{Cs}\\p{Cn}]',
  Print: '[[^\\p{White_Space}\\p{Cc}\\p{Cs}\\p{Cn}][\\p{Zs}\\t]--\\p{Cc}]',
  Blank: '[\\p{Zs}\\t]',
  Cntrl: '\\p{Cc}',
  XDigit: '[\\p{Nd}\\p{Hex_Digit}]',
  Space: '\\p{White_Space}',
};
const JAVA_CHAR_CLASSES: Record<string, string> = {
  javaLowerCase: '\\p{Lowercase}',
  javaUpperCase: '\\p{Uppercase}',
  javaTitleCase: '\\p{Lt}',
  javaDigit: '\\p{Nd}',
  javaDefined: '\\P{Cn}',
  javaLetter: '\\p{L}',
  javaLetterOrDigit: '[\\p{L}\\p{Nd}]',
  javaAlphabetic: '\\p{Alphabetic}',
  javaIdeographic: '\\p{Ideographic}',
  javaSpaceChar: '[\\p{Zs}\\p{Zl}\\p{Zp}]',
  javaWhitespace: '[[\\p{Zs}\\p{Zl}\\p{Zp}--[\\u{a0}\\u{2007}\\u{202f}]][\\t\\n\\u{b}\\f\\r\\u{1c}-\\u{1f}]]',
  javaISOControl: '[\\u{0}-\\u{1f}\\u{7f}-\\u{9f}]',
  javaMirrored: '\\p{Bidi_Mirrored}',
};
const CATEGORIES = new Set([
  'L',
  'Lu',
  'Ll',
  'Lt',
  'Lm',
  'Lo',
  'LC',
  'M',
  'Mn',
  'Mc',
  'Me',
  'N',
  'Nd',
  'Nl',
  'No',
  'P',
  'Pc',
  'Pd',
  'Ps',
  'Pe',
  'Pi',
  'Pf',
  'Po',
  'S',
  'Sm',
  'Sc',
  'Sk',
  'So',
  'Z',
  'Zs',
  'Zl',
  'Zp',
  'C',
  'Cc',
  'Cf',
  'Cs',
  'Co',
  'Cn',
]);
const BINARY: Record<string, string> = {
  ALPHABETIC: '\\p{Alphabetic}',
  LETTER: '\\p{L}',
  IDEOGRAPHIC: '\\p{Ideographic}',
  LOWERCASE: '\\p{Lowercase}',
  UPPERCASE: '\\p{Uppercase}',
  TITLECASE: '\\p{Lt}',
  WHITESPACE: '\\p{White_Space}',
  WHITE_SPACE: '\\p{White_Space}',
  CONTROL: '\\p{Cc}',
  PUNCTUATION: '\\p{P}',
  HEXDIGIT: '\\p{Hex_Digit}',
  HEX_DIGIT: '\\p{Hex_Digit}',
  JOINCONTROL: '\\p{Join_Control}',
  JOIN_CONTROL: '\\p{Join_Control}',
  NONCHARACTERCODEPOINT: '\\p{Noncharacter_Code_Point}',
  NONCHARACTER_CODE_POINT: '\\p{Noncharacter_Code_Point}',
  ASSIGNED: '\\P{Cn}',
  DIGIT: '\\p{Nd}',
  EMOJI: '\\p{Emoji}',
  EMOJI_PRESENTATION: '\\p{Emoji_Presentation}',
  EMOJI_MODIFIER: '\\p{Emoji_Modifier}',
  EMOJI_MODIFIER_BASE: '\\p{Emoji_Modifier_Base}',
  EMOJI_COMPONENT: '\\p{Emoji_Component}',
  EXTENDED_PICTOGRAPHIC: '\\p{Extended_Pictographic}',
  ALNUM: '[\\p{Alphabetic}\\p{Nd}]',
  BLANK: '[\\p{Zs}\\t]',
  GRAPH: POSIX_UNICODE.Graph!,
  PRINT: POSIX_UNICODE.Print!,
  WORD: U_WORD,
};

export function negate(cls: string): string {
  // cls is `\p{..}`, `\P{..}` or `[...]`
  if (cls.startsWith('\\p{')) return `\\P${cls.slice(2)}`;
  if (cls.startsWith('\\P{')) return `\\p${cls.slice(2)}`;
  return `[^${cls}]`;
}

function scriptClass(name: string): string | undefined {
  const variants = new Set([
    name,
    name.charAt(0).toUpperCase() + name.slice(1).toLowerCase(),
    name
      .toLowerCase()
      .split(/[_ ]/)
      .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
      .join('_'),
  ]);
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

/**
 * The class for Java's `\p{raw}` (POSIX names follow (?U) when `unicode`): a v-mode class expression, a Refusal for
 * a construct JavaScript cannot express (Unicode blocks), or undefined for a name neither side knows.
 */
export function propertyClass(raw: string, unicode: boolean): string | Refusal | undefined {
  let name = raw;
  const eq = name.indexOf('=');
  if (eq > 0) {
    const key = name.slice(0, eq).toLowerCase();
    const val = name.slice(eq + 1);
    if (key === 'gc' || key === 'general_category') return CATEGORIES.has(val) ? `\\p{${val}}` : undefined;
    if (key === 'sc' || key === 'script') return scriptClass(val);
    if (key === 'blk' || key === 'block') return unicodeBlock(raw);
    return undefined;
  }
  if (name.startsWith('In')) return unicodeBlock(raw);
  let isPrefixed = false;
  if (name.startsWith('Is')) {
    name = name.slice(2);
    isPrefixed = true;
    const bin = BINARY[name.toUpperCase()];
    if (bin) return bin;
  }
  if (CATEGORIES.has(name)) return `\\p{${name}}`;
  const posix = (unicode ? POSIX_UNICODE[name] : undefined) ?? POSIX_ASCII[name];
  if (posix) return posix;
  const jc = JAVA_CHAR_CLASSES[name];
  if (jc) return jc;
  return isPrefixed ? scriptClass(name) : undefined;
}
