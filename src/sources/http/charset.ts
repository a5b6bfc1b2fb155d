/**
 * The request charset of the JSON handler: the `charset` parameter of Content-Type, limited to what Flume's
 * JSONHandler reads (UTF-8, UTF-16, UTF-32 and their -LE/-BE variants, any spelling src/text accepts). Decoding and
 * encoding are src/text's, as Java's charsets behave (UTF-16/UTF-32 byte order from a BOM, big-endian without one;
 * UTF-16 bodies start with a big-endian BOM; malformed input becomes U+FFFD).
 */
import { findCharset } from '../../text/index.js';

const JSON_CHARSETS = new Set(['utf-8', 'utf-16', 'utf-16le', 'utf-16be', 'utf-32', 'utf-32le', 'utf-32be']);

/** The charset parameter of a Content-Type header (lower-case, unquoted), or undefined. */
export function contentTypeCharset(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const m = /;\s*charset\s*=\s*("([^"]*)"|[^;\s]*)/i.exec(contentType);
  if (!m) return undefined;
  return (m[2] ?? m[1]!).trim().toLowerCase();
}

/** The canonical name of a charset the JSON handler reads (utf-8, utf-16, utf-32le ...), or undefined. */
export function jsonCharset(name: string): string | undefined {
  const cs = findCharset(name);
  return cs && JSON_CHARSETS.has(cs.name) ? cs.name : undefined;
}
