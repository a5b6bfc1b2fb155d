/**
 * Charset names: Java's (and Flume's) names and aliases, and the WHATWG labels Node's TextDecoder knows, resolved
 * to one canonical lower-case name. Java's meaning wins where the two disagree (ISO-8859-1 and US-ASCII are not
 * windows-1252; UTF-16 is Java's byte-order-detecting UTF-16, not little-endian).
 */
import { didYouMeanHint, OptionError } from '../contract/index.js';

function decodable(label: string): boolean {
  try {
    return new TextDecoder(label).encoding === label;
  } catch {
    return false;
  }
}

/** Normalized name (lower case, `_` as `-`) -> canonical name. Checked before the WHATWG labels. */
const ALIASES: Record<string, string> = {};

function alias(target: string, names: string): void {
  ALIASES[target] = target;
  for (const n of names.split(/\s+/)) if (n) ALIASES[n] = target;
}

// the names Java defines for the charsets every JVM has (and Flume configs use), plus the UTF-32 family
alias('utf-8', 'utf8 unicode-1-1-utf-8');
alias(
  'iso-8859-1',
  `iso8859-1 iso-8859-1:1987 latin1 iso-latin-1 l1 8859-1 cp819 ibm819 ibm-819 819 iso-ir-100
  csisolatin1`,
);
alias(
  'us-ascii',
  `ascii ascii7 iso646-us 646 cp367 ibm367 csascii iso-ir-6 default us ansi-x3.4-1968 ansi-x3.4-1986
  iso-646.irv:1983 iso-646.irv:1991`,
);
alias('utf-16', 'utf16 unicode unicodebig');
alias('utf-16le', 'utf16le x-utf-16le unicodelittleunmarked');
alias('utf-16be', 'utf16be x-utf-16be unicodebigunmarked iso-10646-ucs-2');
alias('utf-32', 'utf32');
alias('utf-32le', 'utf32le x-utf-32le');
alias('utf-32be', 'utf32be x-utf-32be');
// Java aliases that are not WHATWG labels (or that `_` -> `-` normalization hides from TextDecoder)
alias('iso-8859-2', '912 ibm912 ibm-912 cp912 8859-2 iso-8859-2:1987');
alias('iso-8859-3', '913 ibm913 ibm-913 cp913 8859-3 iso-8859-3:1988');
alias('iso-8859-4', '914 ibm914 ibm-914 cp914 8859-4 iso-8859-4:1988');
alias('iso-8859-5', '915 ibm915 ibm-915 cp915 8859-5 iso-8859-5:1988');
alias('iso-8859-6', '1089 ibm1089 ibm-1089 cp1089 8859-6 iso-8859-6:1987');
alias('iso-8859-7', '813 ibm813 ibm-813 cp813 8859-7 iso-8859-7:1987 elot-928 sun-eu-greek');
alias('iso-8859-8', '916 ibm916 ibm-916 cp916 8859-8 iso-8859-8:1988');
alias('iso-8859-13', '8859-13');
// TextDecoder knows ISO-8859-16 from Node 24 on (not on Node 20 builds with small ICU)
if (decodable('iso-8859-16'))
  alias('iso-8859-16', 'iso-8859-16:2001 8859-16 iso8859-16 latin10 l10 iso-ir-226 csiso885916');
alias('iso-8859-15', '923 ibm923 ibm-923 cp923 8859-15 latin-9 latin9 latin0 csiso885915 csisolatin0 iso8859-15-fdis');
// WHATWG reads every ISO-8859-9 label as windows-1254 (its superset); Java's aliases follow suit
alias('windows-1254', '920 ibm920 ibm-920 cp920 8859-9 iso-8859-9:1989 cp5350');
alias('windows-1250', 'cp5346');
alias('windows-1251', 'cp5347 ansi-1251');
alias('windows-1252', 'ibm1252 ibm-1252 cp5348');
alias('windows-1253', 'cp5349');
alias('windows-1257', 'cp5353');
alias('windows-874', 'x-windows-874 ms-874 ms874 tis620 tis620.2533 x-iso-8859-11');
alias('ibm866', 'ibm-866');
alias('shift_jis', 'ms-kanji windows-932 cswindows31j');
alias('euc-jp', 'eucjp x-eucjp eucjis extended-unix-code-packed-format-for-japanese');
alias('iso-2022-jp', 'iso2022jp jis jis-encoding csjisencoding');
alias('euc-kr', 'euckr ksc-5601 ks-c-5601-1987 ksc5601-1987 5601 x-windows-949 windows949 ms949 ms-949');
alias('gbk', 'cp936 windows-936 euc-cn x-euc-cn euccn gb2312-80 gb2312-1980');
alias('gb18030', 'gb18030-2022');
alias('big5', 'big5hk big5hkscs');

/** Names offered by "did you mean" and in hints (Java's spelling). */
export const COMMON_CHARSETS = [
  'UTF-8',
  'ISO-8859-1',
  'US-ASCII',
  'UTF-16',
  'UTF-16LE',
  'UTF-16BE',
  'UTF-32',
  'UTF-32LE',
  'UTF-32BE',
  'windows-1252',
  'windows-1251',
  'windows-1250',
  'ISO-8859-15',
  'ISO-8859-2',
  'Shift_JIS',
  'EUC-JP',
  'ISO-2022-JP',
  'EUC-KR',
  'GBK',
  'GB18030',
  'Big5',
  'KOI8-R',
];

function normalize(raw: string): string {
  return raw.trim().toLowerCase().replace(/_/g, '-');
}

/** The canonical name for a charset name, or undefined when Node cannot decode it. */
export function charsetName(raw: string): string | undefined {
  let k = normalize(raw);
  const hit = ALIASES[k];
  if (hit) return hit;
  const cp = /^(?:cp|ms-?)(125\d)$/.exec(k);
  if (cp) k = `windows-${cp[1]}`;
  for (const label of k === raw.trim().toLowerCase() ? [k] : [k, raw.trim().toLowerCase()]) {
    try {
      const enc = new TextDecoder(label).encoding;
      if (enc !== 'replacement') return enc;
    } catch {
      // not a WHATWG label
    }
  }
  return undefined;
}

/**
 * Resolves a charset name (Java spellings and aliases such as UTF-8, ISO8859_1, Cp1252, UTF-16, and any WHATWG label
 * TextDecoder knows, e.g. shift_jis) to its canonical name. Throws OptionError with a "did you mean" for anything
 * else.
 */
export function resolveCharset(raw: string): string {
  let r = resolved.get(raw);
  if (r === undefined) {
    r = charsetName(raw) ?? {
      hint:
        didYouMeanHint(raw.trim(), [...COMMON_CHARSETS, ...Object.keys(ALIASES)]) ??
        `use a Java charset name such as ${COMMON_CHARSETS.slice(0, 5).join(', ')}, windows-1252 or Shift_JIS`,
    };
    if (resolved.size >= 1024) resolved.clear();
    resolved.set(raw, r);
  }
  if (typeof r === 'string') return r;
  throw new OptionError(`'${raw}' is not a supported charset`, r.hint);
}

/** Names already resolved (a generated configuration repeats the same one, right or wrong, many times). */
const resolved = new Map<string, string | { hint: string }>();
