/**
 * Single-byte charsets: windows-1252 (decoded here: Node 20.18.3+ decodes the WHATWG label as ISO-8859-1,
 * nodejs/node#60888), and encoders for all of them (windows-125x, ISO-8859-x, KOI8, ...): the inverse of the
 * decoding table, built on first use. As Java's String.getBytes: a character the charset cannot hold becomes `?`
 * (a surrogate pair is one character).
 */

const QUESTION = 0x3f;

/** windows-1252 bytes 0x80-0x9F (WHATWG: the five bytes Windows leaves undefined map to the C1 controls). */
const CP1252_HIGH =
  '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f' +
  '\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';
const C1 = /[\u0080-\u009f]/g;
const HAS_C1 = /[\u0080-\u009f]/;

export function decodeWindows1252(b: Buffer): string {
  const s = b.toString('latin1');
  return HAS_C1.test(s) ? s.replace(C1, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!) : s;
}

/** An encoder for the single-byte charset whose bytes `decode` maps to characters. */
export function singleByteEncoder(decode: (b: Buffer) => string): (s: string) => Buffer {
  let table: Int16Array | undefined;
  const build = (): Int16Array => {
    const t = new Int16Array(0x10000).fill(-1);
    const bytes = Buffer.alloc(256);
    for (let i = 0; i < 256; i++) bytes[i] = i;
    // one character per byte; a byte the charset leaves undefined decodes to U+FFFD and maps nothing
    const chars = decode(bytes);
    for (let i = 0; i < 256; i++) {
      const c = chars.charCodeAt(i);
      if (c !== 0xfffd && t[c] === -1) t[c] = i;
    }
    return t;
  };
  return (s) => {
    table ??= build();
    const out = Buffer.allocUnsafe(s.length);
    let o = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      const b = table[c]!;
      if (b >= 0) {
        out[o++] = b;
        continue;
      }
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        const lo = s.charCodeAt(i + 1);
        if (lo >= 0xdc00 && lo <= 0xdfff) i++;
      }
      out[o++] = QUESTION;
    }
    return out.subarray(0, o);
  };
}
