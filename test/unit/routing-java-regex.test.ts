import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compileJavaRegex,
  compileJavaReplacement,
  translateJavaRegex,
  JavaRegex,
} from '../../src/compat/java/java-regex/index.js';
import { OptionError } from '../../src/contract/index.js';

function rejects(src: string, re: RegExp): void {
  assert.throws(
    () => compileJavaRegex(src),
    (e: unknown) => e instanceof OptionError && re.test(e.message),
    `expected '${src}' to be rejected with ${re}`,
  );
}
const find = (src: string, s: string) => compileJavaRegex(src).test(s);

test('plain patterns keep their meaning and always use the v flag', () => {
  const t = translateJavaRegex('^(\\d+) (\\w+)');
  assert.equal(t.flags, 'v');
  assert.equal(t.groupCount, 2);
  const r = compileJavaRegex('^(\\d+) (\\w+)');
  const m = r.exec('42 apples')!;
  assert.equal(r.group(m, 1), '42');
  assert.equal(r.group(m, 2), 'apples');
  assert.ok(r instanceof JavaRegex);
});

test('(?i) at the start becomes the i flag; (?i) for part of a pattern is rejected', () => {
  assert.equal(translateJavaRegex('(?i)error').flags, 'iv');
  assert.ok(find('(?i)error', 'An ERROR here'));
  assert.ok(find('(?i)^abc$', 'ABC'));
  rejects('a(?i)b', /case-insensitive matching .* only part of the pattern/);
  rejects('(?i:a)b', /only part of the pattern/);
  rejects('(?i)a(?-i)b', /only part of the pattern/);
  // case-neutral content does not force a decision
  assert.equal(translateJavaRegex('1(?i)abc').flags, 'iv');
});

test('possessive quantifiers and atomic groups are translated exactly, with Java group numbering', () => {
  assert.equal(find('a*+a', 'aaaa'), false, 'possessive never gives back');
  assert.equal(find('a*a', 'aaaa'), true);
  assert.equal(find('"[^"]*+"', '"abc"'), true);
  assert.equal(find('(?>a|ab)c', 'abc'), false, 'atomic group does not backtrack into alternatives');
  assert.equal(find('(?>a|ab)c', 'ac'), true);
  assert.equal(find('x{2,3}+x', 'xxx'), false);
  const r = compileJavaRegex('(a)(?>(b)+)(c)');
  const m = r.exec('abbc')!;
  assert.deepEqual([r.group(m, 1), r.group(m, 2), r.group(m, 3)], ['a', 'b', 'c']);
  assert.equal(r.groupCount, 3);
  assert.equal(r.replaceAll('abbc', compileJavaReplacement('$3$2$1', r)), 'cba');
  // backreferences keep Java numbering too
  assert.ok(find('(?>(x))(y)\\2', 'xyy'));
});

test('\\Q...\\E quotes literally, outside and inside classes', () => {
  assert.ok(find('\\Qa.b*c\\E', 'xa.b*cx'));
  assert.equal(find('\\Qa.b\\E', 'axb'), false);
  assert.ok(find('^\\Qab\\E+$', 'abbb'), 'a quantifier after \\E applies to the last quoted character');
  assert.ok(find('[\\Q]-[\\E]+', ']-['));
  assert.ok(find('\\Qno end', 'x no end'));
});

test('anchors follow Java: $ before a final line terminator, \\A \\z \\Z, (?m)', () => {
  assert.ok(find('c$', 'abc\n'));
  assert.ok(find('c$', 'abc\r\n'));
  assert.equal(find('c$', 'abc\nd'), false);
  assert.equal(find('c\\z', 'abc\n'), false);
  assert.ok(find('c\\z', 'abc'));
  assert.ok(find('c\\Z', 'abc\n'));
  assert.ok(find('\\Aab', 'abc'));
  assert.equal(find('\\Abc', 'abc'), false);
  assert.ok(find('(?m)^b$', 'a\nb\nc'));
  assert.equal(find('^b', 'a\nb'), false);
  assert.equal(find('(?m)^', ''), false, 'Java: (?m)^ never matches at the end of input');
  assert.ok(find('(?d)c$', 'abc\n'));
  assert.equal(find('(?d)c$', 'abc\r'), false, 'UNIX_LINES: only \\n is a line terminator');
});

test(". and \\s use Java's definitions", () => {
  assert.equal(find('a.c', 'a\rc'), false);
  assert.equal(find('a.c', 'a\u0085c'), false);
  assert.ok(find('(?s)a.c', 'a\nc'));
  assert.ok(find('(?d)a.c', 'a\rc'));
  assert.equal(find('\\s', '\u00a0'), false, 'Java \\s is ASCII only');
  assert.ok(find('\\s', '\u000b'));
  assert.ok(find('(?U)\\s', '\u00a0'));
  assert.ok(find('\\h', '\u00a0'));
  assert.ok(find('\\v', '\u2028'));
  assert.ok(find('^\\R$', '\r\n'));
  assert.equal(find('^\\R\\n$', '\r\n'), false, '\\R does not split \\r\\n');
});

test('\\b is the Java 8-17 word boundary (Unicode letters and digits)', () => {
  assert.ok(find('\\bfoo\\b', 'a foo.'));
  assert.equal(find('\\bfoo\\b', 'éfoo'), false);
  assert.ok(find('\\Bfoo', 'xfoo'));
});

test('POSIX, java.lang.Character, category, script and binary properties', () => {
  assert.ok(find('^\\p{Alpha}+$', 'abcXYZ'));
  assert.equal(find('^\\p{Alpha}+$', 'é'), false, 'POSIX classes are ASCII by default');
  assert.ok(find('(?U)^\\p{Alpha}+$', 'é'));
  assert.ok(find('^\\p{Punct}+$', '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~'));
  assert.ok(find('^\\p{XDigit}+$', 'deadBEEF09'));
  assert.ok(find('\\P{Digit}', 'a'));
  assert.ok(find('^\\p{Lu}\\p{Ll}+$', 'Émile'));
  assert.ok(find('^\\p{IsLu}$', 'A'));
  assert.ok(find('^\\pL+$', 'abc'));
  assert.ok(find('^\\p{IsLatin}+$', 'abc'));
  assert.ok(find('^\\p{IsGreek}+$', 'αβγ'));
  assert.ok(find('^\\p{sc=Greek}$', 'α'));
  assert.ok(find('^\\p{IsAlphabetic}$', 'ß'));
  assert.ok(find('^\\p{javaLowerCase}$', 'ß'));
  assert.ok(find('^\\p{gc=Nd}$', '٣'));
  rejects('\\p{InGreek}', /Unicode block .* no JavaScript equivalent/);
  rejects('\\p{Nope}', /unknown or unsupported character property/);
  rejects('\\p{blk=Greek}', /Unicode block \\p\{blk=Greek\} at position 13 has no JavaScript equivalent/);
  rejects('[a\\P{InGreek}]', /Unicode block \\p\{InGreek\} at position 13 has no JavaScript equivalent/);
  rejects('\\p{sc=Nope}', /unknown or unsupported character property \\p\{sc=Nope\}/);
  rejects('\\p{gc=Zz}', /unknown or unsupported character property/);
});

test('classes: ranges, negation, nested unions, intersections, escapes', () => {
  assert.ok(find('^[a-z&&[^aeiou]]+$', 'bcd'));
  assert.equal(find('^[a-z&&[^aeiou]]+$', 'bad'), false);
  assert.ok(find('^[a-c[x-z]]+$', 'abxz'));
  assert.ok(find('^[\\w.-]+$', 'a-b.c_d'));
  assert.ok(find('^[]a]+$', ']a'), 'a leading ] is literal');
  assert.ok(find('^[^]a]+$', 'bc'));
  assert.ok(find('^[\\x41-\\x43]+$', 'ABC'));
  assert.ok(find('^[\\s\\d]+$', ' 1\t2'));
  assert.ok(find('^[\\p{L}&&[^\\p{Lu}]]+$', 'abc'));
  assert.ok(find('^[|&~]+$', '|&~'));
});

test('escapes, backreferences, named groups, inline flags and comments mode', () => {
  assert.ok(find('^\\t\\x41\\u0042\\0103\\cA\\e$', '\tABC\u0001\u001b'));
  assert.ok(find('^\\x{1F600}$', '😀'));
  assert.ok(find('^\\uD83D\\uDE00$', '😀'));
  assert.ok(find('^(a)(b)\\2\\1$', 'abba'));
  assert.ok(find('^(a)\\11$', 'aa1'), 'Java reads \\11 as \\1 then 1 when there is no group 11');
  assert.ok(find('^(?<y>\\d{4})-\\k<y>$', '2024-2024'));
  assert.ok(find('(?x) a \\  b # comment\n c', 'a bc'));
  assert.ok(find('(?s:a.)b', 'a\nb'));
  assert.ok(find('^\\.\\$\\{$', '.${'));
  assert.ok(find('a{2}', 'aa'));
});

test('constructs without a JavaScript equivalent are rejected by name', () => {
  rejects('\\Gabc', /\\G .* no JavaScript equivalent/);
  rejects('\\X', /\\X \(grapheme cluster\)/);
  rejects('\\b{g}', /grapheme cluster boundary/);
  rejects('\\N{LATIN SMALL LETTER A}', /\\N\{name\}/);
  rejects('(?c)a', /CANON_EQ/);
  rejects('(a)\\2', /backreference \\2 .* does not exist/);
  rejects('\\k<x>(?<x>a)', /not defined before/);
  rejects('a{', /illegal repetition/);
  rejects('a{3,2}', /illegal repetition range/);
  rejects('*a', /dangling quantifier/);
  rejects('(a', /unclosed group/);
  rejects('a)', /unmatched '\)'/);
  rejects('[a', /unclosed character class/);
  rejects('\\i', /illegal or unsupported escape sequence \\i/);
  rejects('[z-a]', /illegal character range/);
  rejects('(?q)a', /unknown inline flag 'q'/);
});

test('Java replacement strings: $n, ${name}, \\$, and errors Java raises at runtime', () => {
  const r = compileJavaRegex('(?<word>[a-z]+)(\\d)');
  assert.equal(r.replaceAll('ab1 cd2', compileJavaReplacement('${word}=$2\\$', r)), 'ab=1$ cd=2$');
  assert.equal(
    r.replaceAll('ab1', compileJavaReplacement('$21', r)),
    '11',
    '$21 is group 2 then "1" when there is no group 21',
  );
  assert.equal(r.replaceAll('ab1', compileJavaReplacement('', r)), '');
  assert.deepEqual(compileJavaReplacement('plain', r).literal, 'plain');
  assert.throws(() => compileJavaReplacement('$3', r), /refers to group 3, but the regex has 2/);
  assert.throws(() => compileJavaReplacement('${nope}', r), /refers to group 'nope'/);
  assert.throws(() => compileJavaReplacement('cost $', r), /ends with '\$'/);
  assert.throws(() => compileJavaReplacement('a\\', r), /lone backslash/);
  // empty matches advance like Java
  const e = compileJavaRegex('x*');
  assert.equal(e.replaceAll('ab', compileJavaReplacement('-', e)), '-a-b-');
});

test('split and matches follow String.split / Matcher.matches', () => {
  const sep = compileJavaRegex('\\s*,\\s*');
  assert.deepEqual(sep.split('a , b,c,,'), ['a', 'b', 'c']);
  assert.deepEqual(sep.split(''), ['']);
  assert.deepEqual(compileJavaRegex('').split('ab'), ['a', 'b']);
  assert.ok(compileJavaRegex('tmp_.*').matches('tmp_x'));
  assert.equal(compileJavaRegex('tmp_.*').matches('xtmp_x'), false);
  assert.equal(compileJavaRegex('a|ab').matches('ab'), true, 'the whole alternation is anchored');
});
