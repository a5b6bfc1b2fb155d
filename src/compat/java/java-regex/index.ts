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
 * Rejected (refusals.ts): (?i) covering only part of a pattern, (?c) CANON_EQ, `\G`, `\X`, `\N{name}`, `\b{g}`,
 * Unicode blocks (`\p{InGreek}`), `\p` names JavaScript does not know.
 * Known differences (documented, rarely observable): under (?i) non-ASCII letters also match case-insensitively
 * (as Java's (?iu)); a backreference to a group that did not participate matches the empty string (Java: fails);
 * a negated class with `&&` negates the whole class (Java 9+ semantics; Java 8 negated only the first operand).
 *
 * Used by interceptors, taildir (filegroups) and spooldir (includePattern/ignorePattern).
 *
 * Inside: lexer.ts (cursor, inline flags, one-token escapes) <- char-class.ts (`[...]`) <- translator.ts (recursive
 * descent emitting parts.ts, rendered with JavaScript group numbers); classes.ts and literals.ts hold what Java's
 * classes and characters are in v-mode; refusals.ts what has no equivalent; regex.ts, replacement.ts and option.ts
 *  are the public API, re-exported here.
 */
export { JavaRegex, compileJavaRegex, translateJavaRegex, type JavaReplacement } from './regex.js';
export type { JavaRegexTranslation } from './translator.js';
export { compileJavaReplacement } from './replacement.js';
export { javaRegexOption } from './option.js';
