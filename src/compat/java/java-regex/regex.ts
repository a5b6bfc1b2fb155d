/** The compiled Java regex and its Java-flavoured matching API (find, matches, groups, replaceAll, split). */
import { OptionError } from '../../../contract/index.js';
import { Translator, type JavaRegexTranslation } from './translator.js';

/** A compiled Java regex. `regex` has no `g` flag, so `test`/`exec` are stateless. */
export class JavaRegex {
  readonly regex: RegExp;
  readonly groupCount: number;
  readonly names: ReadonlyMap<string, number>;
  private readonly jsIndex: readonly number[];
  private readonly identity: boolean;
  private globalRe?: RegExp;
  private fullRe?: RegExp;

  constructor(
    readonly javaSource: string,
    readonly translation: JavaRegexTranslation,
  ) {
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

  /**
   * Java `String.split(regex)`: trailing empty strings removed, no leading empty string for a zero-width match at 0.
   */
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
    throw new OptionError(
      `regex '${src}' cannot be used: ${(err as Error).message}`,
      'check the regular expression syntax (Java syntax)',
    );
  }
}
