/**
 * UTF-16 and UTF-32 as Java's charsets behave (Node has no UTF-32, and its UTF-16 has no byte-order detection).
 *
 * - `UTF-16` / `UTF-32` decode: a BOM picks the byte order and is dropped; without one, big-endian.
 * - Whole-buffer decoding keeps Node's Buffer semantics (an odd trailing UTF-16 byte is dropped, a lone surrogate is
 *   kept); a UTF-32 code point outside Unicode, a surrogate, or a trailing partial unit becomes U+FFFD.
 * - Streaming decoders hold back the bytes of an incomplete unit until the next chunk, so a character split
 *   across reads decodes whole.
 */

/** A copy of b[start..] (even length) with the bytes of every pair swapped. */
export function swap16(b: Buffer, start = 0): Buffer {
  const len = (b.length - start) & ~1;
  const out = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i += 2) {
    out[i] = b[start + i + 1]!;
    out[i + 1] = b[start + i]!;
  }
  return out;
}

export function hasBom16(b: Buffer): 'le' | 'be' | undefined {
  if (b.length < 2) return undefined;
  if (b[0] === 0xff && b[1] === 0xfe) return 'le';
  if (b[0] === 0xfe && b[1] === 0xff) return 'be';
  return undefined;
}

export function hasBom32(b: Buffer): 'le' | 'be' | undefined {
  if (b.length < 4) return undefined;
  if (b[0] === 0xff && b[1] === 0xfe && b[2] === 0 && b[3] === 0) return 'le';
  if (b[0] === 0 && b[1] === 0 && b[2] === 0xfe && b[3] === 0xff) return 'be';
  return undefined;
}

/** Java `UTF-16`: BOM picks the order, big-endian without one. */
export function decodeUtf16(b: Buffer): string {
  const bom = hasBom16(b);
  if (bom === 'le') return b.toString('utf16le', 2, 2 + ((b.length - 2) & ~1));
  return swap16(b, bom === 'be' ? 2 : 0).toString('utf16le');
}

export function decodeUtf16le(b: Buffer): string {
  return b.toString('utf16le', 0, b.length & ~1);
}

export function decodeUtf16be(b: Buffer): string {
  return swap16(b).toString('utf16le');
}

/** Code points of b[start, start + whole units) as UTF-16 text; `partial` appends U+FFFD for trailing bytes. */
export function decodeUtf32(b: Buffer, start: number, le: boolean, partial = true): string {
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
  if (partial && end < b.length) units.push(0xfffd);
  if (units.length) parts.push(String.fromCharCode(...units));
  return parts.join('');
}

/** Java `UTF-32`: BOM picks the order, big-endian without one. */
export function decodeUtf32Bom(b: Buffer): string {
  const bom = hasBom32(b);
  return decodeUtf32(b, bom ? 4 : 0, bom === 'le');
}

/** UTF-32 bytes of `s`; a lone surrogate becomes U+FFFD. No BOM (Java's UTF-32 encoder writes none). */
export function encodeUtf32(s: string, le: boolean): Buffer {
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

/** Java `UTF-16` getBytes: a big-endian BOM, then big-endian; the empty string is no bytes. */
export function encodeUtf16(s: string): Buffer {
  if (s.length === 0) return Buffer.alloc(0);
  const out = Buffer.allocUnsafe(2 + s.length * 2);
  out[0] = 0xfe;
  out[1] = 0xff;
  out.write(s, 2, 'utf16le');
  out.subarray(2).swap16();
  return out;
}

export function encodeUtf16be(s: string): Buffer {
  return Buffer.from(s, 'utf16le').swap16();
}

// ----------------------------------------------------------------------------------------------- streaming

/** Decodes a byte stream chunk by chunk; `end()` flushes what an incomplete character left (as U+FFFD). */
export interface StreamDecoder {
  write(b: Buffer): string;
  end(): string;
}

export function textStream(enc: string, ignoreBOM: boolean): StreamDecoder {
  const td = new TextDecoder(enc, { ignoreBOM });
  return { write: (b) => td.decode(b, { stream: true }), end: () => td.decode() };
}

/**
 * A stream whose byte order comes from a BOM of `bomLen` bytes at its start (dropped), big-endian without one:
 * waits for `bomLen` bytes before deciding.
 */
function bomStream(bomLen: 2 | 4, pick: (head: Buffer) => { skip: number; inner: StreamDecoder }): StreamDecoder {
  let inner: StreamDecoder | undefined;
  let head: Buffer | undefined;
  return {
    write(b) {
      if (inner) return inner.write(b);
      const h = head ? Buffer.concat([head, b]) : b;
      if (h.length < bomLen) {
        head = h;
        return '';
      }
      head = undefined;
      const p = pick(h);
      inner = p.inner;
      return inner.write(h.subarray(p.skip));
    },
    end() {
      if (inner) return inner.end();
      const had = head !== undefined && head.length > 0;
      head = undefined;
      return had ? '\ufffd' : '';
    },
  };
}

/** Java's `UTF-16` as a stream: a BOM picks the byte order (and is dropped); no BOM means big-endian. */
export function utf16BomStream(): StreamDecoder {
  return bomStream(2, (h) => {
    const bom = hasBom16(h);
    return { skip: bom ? 2 : 0, inner: textStream(bom === 'le' ? 'utf-16le' : 'utf-16be', true) };
  });
}

/** UTF-32 in one byte order: whole 4-byte units are decoded, a partial one waits for the next chunk. */
export function utf32Stream(le: boolean): StreamDecoder {
  let rest: Buffer | undefined;
  return {
    write(b) {
      const h = rest ? Buffer.concat([rest, b]) : b;
      const whole = h.length & ~3;
      rest = whole < h.length ? Buffer.from(h.subarray(whole)) : undefined;
      return whole === 0 ? '' : decodeUtf32(h.subarray(0, whole), 0, le);
    },
    end() {
      const had = rest !== undefined;
      rest = undefined;
      return had ? '\ufffd' : '';
    },
  };
}

/** Java's `UTF-32` as a stream: a BOM picks the byte order (and is dropped); no BOM means big-endian. */
export function utf32BomStream(): StreamDecoder {
  return bomStream(4, (h) => {
    const bom = hasBom32(h);
    return { skip: bom ? 4 : 0, inner: utf32Stream(bom === 'le') };
  });
}
