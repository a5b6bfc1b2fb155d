/**
 * The request charsets the JSON handler accepts, as Java's charsets behave (Node has no UTF-32):
 * - decode: UTF-8 (a leading BOM is skipped), UTF-16 and UTF-32 (byte order from a BOM, big-endian without
 *   one), and the explicit -LE/-BE variants; malformed input becomes U+FFFD.
 * - encode (event bodies, as Java's String.getBytes(charset)): UTF-16 writes a big-endian BOM then big-endian;
 *   UTF-32 is big-endian without BOM; -LE/-BE variants have no BOM.
 */

export type JsonCharset = 'utf-8' | 'utf-16' | 'utf-16le' | 'utf-16be' | 'utf-32' | 'utf-32le' | 'utf-32be';
const NAMES = new Set<JsonCharset>(['utf-8', 'utf-16', 'utf-16le', 'utf-16be', 'utf-32', 'utf-32le', 'utf-32be']);

/** The charset parameter of a Content-Type header (lower-case, unquoted), or undefined. */
export function contentTypeCharset(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const m = /;\s*charset\s*=\s*("([^"]*)"|[^;\s]*)/i.exec(contentType);
  if (!m) return undefined;
  return (m[2] ?? m[1]!).trim().toLowerCase();
}

/** A supported charset name, or undefined (utf8 and utf16 spellings without the dash are accepted). */
export function jsonCharset(name: string): JsonCharset | undefined {
  const n = name.toLowerCase().replace(/^utf(?=\d)/, 'utf-');
  return NAMES.has(n as JsonCharset) ? (n as JsonCharset) : undefined;
}

function swap16(b: Buffer, start: number): Buffer {
  const len = (b.length - start) & ~1;
  const out = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i += 2) {
    out[i] = b[start + i + 1]!;
    out[i + 1] = b[start + i]!;
  }
  return out;
}

function decodeUtf32(b: Buffer, start: number, le: boolean): string {
  const parts: string[] = [];
  const units: number[] = [];
  const end = start + ((b.length - start) & ~3);
  for (let i = start; i < end; i += 4) {
    const cp = le ? b.readUInt32LE(i) : b.readUInt32BE(i);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
      units.push(0xfffd);
    } else if (cp > 0xffff) {
      const v = cp - 0x10000;
      units.push(0xd800 + (v >> 10), 0xdc00 + (v & 0x3ff));
    } else {
      units.push(cp);
    }
    if (units.length >= 8192) {
      parts.push(String.fromCharCode(...units));
      units.length = 0;
    }
  }
  if (end < b.length) units.push(0xfffd);
  if (units.length) parts.push(String.fromCharCode(...units));
  return parts.join('');
}

export function decodeText(b: Buffer, cs: JsonCharset): string {
  switch (cs) {
    case 'utf-8': {
      const start = b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0;
      return b.toString('utf8', start);
    }
    case 'utf-16':
      if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return b.toString('utf16le', 2, 2 + ((b.length - 2) & ~1));
      if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return swap16(b, 2).toString('utf16le');
      return swap16(b, 0).toString('utf16le');
    case 'utf-16le':
      return b.toString('utf16le', 0, b.length & ~1);
    case 'utf-16be':
      return swap16(b, 0).toString('utf16le');
    case 'utf-32':
      if (b.length >= 4 && b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return decodeUtf32(b, 4, true);
      if (b.length >= 4 && b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return decodeUtf32(b, 4, false);
      return decodeUtf32(b, 0, false);
    case 'utf-32le':
      return decodeUtf32(b, 0, true);
    case 'utf-32be':
      return decodeUtf32(b, 0, false);
  }
}

function encodeUtf32(s: string, le: boolean): Buffer {
  const out = Buffer.allocUnsafe(s.length * 4);
  let o = 0;
  for (let i = 0; i < s.length; i++) {
    let cp = s.charCodeAt(i);
    if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
      const lo = s.charCodeAt(i + 1);
      if (lo >= 0xdc00 && lo <= 0xdfff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      } else {
        cp = 0xfffd;
      }
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      cp = 0xfffd;
    }
    if (le) out.writeUInt32LE(cp, o);
    else out.writeUInt32BE(cp, o);
    o += 4;
  }
  return out.subarray(0, o);
}

export function encodeText(s: string, cs: JsonCharset): Buffer {
  switch (cs) {
    case 'utf-8':
      return Buffer.from(s, 'utf8');
    case 'utf-16le':
      return Buffer.from(s, 'utf16le');
    case 'utf-16be':
      return Buffer.from(s, 'utf16le').swap16();
    case 'utf-16': {
      if (s.length === 0) return Buffer.alloc(0);
      const out = Buffer.allocUnsafe(2 + s.length * 2);
      out[0] = 0xfe;
      out[1] = 0xff;
      out.write(s, 2, 'utf16le');
      out.subarray(2).swap16();
      return out;
    }
    case 'utf-32':
    case 'utf-32be':
      return encodeUtf32(s, false);
    case 'utf-32le':
      return encodeUtf32(s, true);
  }
}
