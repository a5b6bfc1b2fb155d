/**
 * A resolved charset: what a component may rely on (line feeds, statelessness, width), and its decoders and
 * encoder. Obtain one with `charsetFor(name)`; instances are cached and immutable.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { AgentError } from '../core/errors.js';
import { OptionError } from '../contract/index.js';
import { charsetName, resolveCharset } from './names.js';
import {
  decodeUtf16,
  decodeUtf16be,
  decodeUtf16le,
  decodeUtf32,
  decodeUtf32Bom,
  encodeUtf16,
  encodeUtf16be,
  encodeUtf32,
  hasBom16,
  hasBom32,
  textStream,
  utf16BomStream,
  utf32BomStream,
  utf32Stream,
  type StreamDecoder,
} from './utf.js';
import { decodeWindows1252, singleByteEncoder } from './single-byte.js';

/** What to do with bytes that are not valid in the charset (Flume's decodeErrorPolicy). */
export type DecodeErrorPolicy = 'FAIL' | 'REPLACE' | 'IGNORE';

/** Thrown by `decode(b, 'FAIL')` on bytes that are not valid in the charset. */
export class UndecodableError extends AgentError {
  constructor(
    readonly charset: string,
    message = `undecodable ${charset} input`,
  ) {
    super('FLUME_ERR_TEXT_UNDECODABLE', message);
    this.name = 'UndecodableError';
  }
}

export interface Charset {
  /** Canonical lower-case name: utf-8, iso-8859-1, us-ascii, utf-16, utf-16le, utf-32, windows-1252, shift_jis ... */
  readonly name: string;
  /** A 0x0A or 0x0D byte is always a line feed / carriage return (not so in UTF-16 and UTF-32). */
  readonly lfSafe: boolean;
  /** The bytes of a line decode on their own (not so in ISO-2022-JP, whose escape sequences switch modes). */
  readonly stateless: boolean;
  /** One byte is one character (ISO-8859-x, US-ASCII, windows-125x, KOI8 ...). */
  readonly singleByte: boolean;
  /** Upper bound of bytes per UTF-16 unit (Java char). */
  readonly maxBytesPerUnit: number;
  /** `encode` works (UTF-8, UTF-16, UTF-32 and the single-byte charsets). */
  readonly encodable: boolean;
  /** Written once before an encoded stream (Java's UTF-16 encoder starts with a big-endian BOM). */
  readonly streamBom?: Buffer;
  /**
   * Whole-buffer decode. REPLACE (default): malformed input becomes U+FFFD; FAIL: throws UndecodableError;
   * IGNORE: malformed input is dropped. UTF-16/UTF-32 honour a BOM (Java).
   */
  decode(b: Buffer, policy?: DecodeErrorPolicy): string;
  /** True when `b` decodes without replacement. */
  valid(b: Buffer): boolean;
  /** UTF-16 units (Java chars) that b[s, e) decodes to (lfSafe, stateless charsets). */
  units(b: Buffer, s: number, e: number): number;
  /** The UTF-8 bytes of `b` (the same Buffer for UTF-8, and for ASCII bytes in an ASCII-compatible charset). */
  toUtf8(b: Buffer): Buffer;
  /** A decoder for a byte stream that never splits a character across chunks. */
  stream(): StreamDecoder;
  /** Bytes of `s`, as Java's String.getBytes (unmappable characters become `?`). Throws when !encodable. */
  encode(s: string): Buffer;
  /** Bytes of `s` inside a stream (after `streamBom`): UTF-16 without its BOM, otherwise `encode`. */
  encodeChunk(s: string): Buffer;
}

const SINGLE_BYTE = /^(ibm866|iso-8859-\d+|koi8-[ru]|macintosh|windows-\d+|x-mac-cyrillic)$/;
const REPLACEMENT = /\ufffd/g;

interface Parts {
  lfSafe?: boolean;
  stateless?: boolean;
  singleByte?: boolean;
  maxBytesPerUnit: number;
  plain(b: Buffer): string;
  /** The text when b is valid, else undefined. */
  strict(b: Buffer): string | undefined;
  valid?(b: Buffer): boolean;
  units?(b: Buffer, s: number, e: number): number;
  toUtf8?(b: Buffer): Buffer;
  stream(): StreamDecoder;
  encode?(s: string): Buffer;
  encodeChunk?(s: string): Buffer;
  streamBom?: Buffer;
}

function make(name: string, p: Parts): Charset {
  const { plain, strict } = p;
  const encode =
    p.encode ??
    ((): Buffer => {
      throw new OptionError(
        `flume-ts cannot encode text in ${name}`,
        'use UTF-8, UTF-16, UTF-32 or a single-byte charset',
      );
    });
  const lfSafe = p.lfSafe ?? true;
  const stateless = p.stateless ?? true;
  // ASCII bytes are ASCII text only where line feeds are single bytes and bytes decode on their own
  const asciiShortcut = lfSafe && stateless;
  const cs: Charset = {
    name,
    lfSafe,
    stateless,
    singleByte: p.singleByte ?? false,
    maxBytesPerUnit: p.maxBytesPerUnit,
    encodable: p.encode !== undefined,
    streamBom: p.streamBom,
    decode(b, policy = 'REPLACE') {
      if (policy === 'REPLACE') return plain(b);
      const s = strict(b);
      if (s !== undefined) return s;
      if (policy === 'FAIL') throw new UndecodableError(name);
      return plain(b).replace(REPLACEMENT, '');
    },
    valid: p.valid ?? ((b) => strict(b) !== undefined),
    units: p.units ?? ((b, s, e) => plain(b.subarray(s, e)).length),
    toUtf8: p.toUtf8 ?? ((b) => (asciiShortcut && isAscii(b) ? b : Buffer.from(plain(b), 'utf8'))),
    stream: p.stream,
    encode,
    encodeChunk: p.encodeChunk ?? encode,
  };
  return Object.freeze(cs);
}

function fatalDecoder(enc: string, ignoreBOM = true): (b: Buffer) => string | undefined {
  const td = new TextDecoder(enc, { fatal: true, ignoreBOM });
  return (b) => {
    try {
      return td.decode(b);
    } catch {
      return undefined;
    }
  };
}

function utf8Units(b: Buffer, s: number, e: number): number {
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if ((c & 0xc0) !== 0x80) n += c >= 0xf0 ? 2 : 1;
  }
  return n;
}

const latin1Text = (b: Buffer): string => b.toString('latin1');
const asciiText = (b: Buffer): string => b.toString('latin1').replace(/[\x80-\xff]/g, '\ufffd');
const byteCount = (_b: Buffer, s: number, e: number): number => e - s;

function build(name: string): Charset {
  switch (name) {
    case 'utf-8':
      return make(name, {
        maxBytesPerUnit: 3,
        plain: (b) => b.toString('utf8'),
        strict: (b) => (isUtf8(b) ? b.toString('utf8') : undefined),
        valid: (b) => isUtf8(b),
        units: utf8Units,
        toUtf8: (b) => b,
        stream: () => textStream('utf-8', true),
        encode: (s) => Buffer.from(s, 'utf8'),
      });
    case 'iso-8859-1':
      return make(name, {
        singleByte: true,
        maxBytesPerUnit: 1,
        plain: latin1Text,
        strict: latin1Text,
        valid: () => true,
        units: byteCount,
        toUtf8: (b) => (isAscii(b) ? b : Buffer.from(b.toString('latin1'), 'utf8')),
        stream: () => ({ write: latin1Text, end: () => '' }),
        encode: (s) => Buffer.from(s.replace(/[\u0100-\u{10ffff}]/gu, '?'), 'latin1'),
      });
    case 'us-ascii':
      return make(name, {
        singleByte: true,
        maxBytesPerUnit: 1,
        plain: asciiText,
        strict: (b) => (isAscii(b) ? b.toString('latin1') : undefined),
        valid: (b) => isAscii(b),
        units: byteCount,
        toUtf8: (b) => (isAscii(b) ? b : Buffer.from(asciiText(b), 'utf8')),
        stream: () => ({ write: asciiText, end: () => '' }),
        encode: (s) => Buffer.from(s.replace(/[\u0080-\u{10ffff}]/gu, '?'), 'latin1'),
      });
    case 'utf-16': {
      const fatalLe = fatalDecoder('utf-16le');
      const fatalBe = fatalDecoder('utf-16be');
      return make(name, {
        lfSafe: false,
        maxBytesPerUnit: 2,
        units: (_b, s, e) => (e - s) / 2,
        plain: decodeUtf16,
        strict: (b) => {
          const bom = hasBom16(b);
          return (bom === 'le' ? fatalLe : fatalBe)(bom ? b.subarray(2) : b);
        },
        stream: utf16BomStream,
        encode: encodeUtf16,
        encodeChunk: encodeUtf16be,
        streamBom: Buffer.from([0xfe, 0xff]),
      });
    }
    case 'utf-16le':
    case 'utf-16be': {
      const le = name === 'utf-16le';
      return make(name, {
        lfSafe: false,
        maxBytesPerUnit: 2,
        units: (_b, s, e) => (e - s) / 2,
        plain: le ? decodeUtf16le : decodeUtf16be,
        strict: fatalDecoder(name),
        stream: () => textStream(name, true),
        encode: le ? (s) => Buffer.from(s, 'utf16le') : encodeUtf16be,
      });
    }
    case 'utf-32':
    case 'utf-32le':
    case 'utf-32be': {
      const le = name === 'utf-32le';
      const plain = name === 'utf-32' ? decodeUtf32Bom : (b: Buffer) => decodeUtf32(b, 0, le);
      return make(name, {
        lfSafe: false,
        maxBytesPerUnit: 4,
        plain,
        strict: (b) => (validUtf32(b, name) ? plain(b) : undefined),
        stream: name === 'utf-32' ? utf32BomStream : () => utf32Stream(le),
        encode: (s) => encodeUtf32(s, le),
      });
    }
    case 'iso-2022-jp': {
      // escape sequences are ASCII bytes: a line's bytes cannot be decoded on their own
      const td = new TextDecoder(name);
      return make(name, {
        stateless: false,
        maxBytesPerUnit: 4,
        units: byteCount,
        plain: (b) => td.decode(b),
        strict: fatalDecoder(name, false),
        stream: () => textStream(name, false),
      });
    }
    case 'windows-1252':
      return make(name, {
        singleByte: true,
        maxBytesPerUnit: 1,
        units: byteCount,
        plain: decodeWindows1252,
        strict: decodeWindows1252,
        valid: () => true,
        stream: () => ({ write: decodeWindows1252, end: () => '' }),
        encode: singleByteEncoder(decodeWindows1252),
      });
    case 'koi8-u': {
      // Java's KOI8-U is RFC 2319's; WHATWG's koi8-u (TextDecoder from Node 24 on) is KOI8-RU, which decodes 0xAE and
      // 0xBE as ў and Ў instead of ╝ and ╬ (the only two bytes where they differ)
      const td = new TextDecoder(name);
      const ru = td.decode(Buffer.of(0xae)) === '\u045e';
      const plain = ru
        ? (b: Buffer): string => td.decode(b).replace(/[\u045e\u040e]/g, (c) => (c === '\u045e' ? '\u255d' : '\u256c'))
        : (b: Buffer): string => td.decode(b);
      return make(name, {
        singleByte: true,
        maxBytesPerUnit: 1,
        units: byteCount,
        plain,
        strict: plain,
        valid: () => true,
        stream: () => ({ write: plain, end: () => '' }),
        encode: singleByteEncoder(plain),
      });
    }
    default: {
      // ASCII-compatible WHATWG encodings (windows-125x, iso-8859-x, koi8, gbk, gb18030, big5, euc-*, shift_jis):
      // 0x0A never occurs inside a multi-byte character
      const td = new TextDecoder(name);
      const plain = (b: Buffer): string => td.decode(b);
      const single = SINGLE_BYTE.test(name);
      return make(name, {
        singleByte: single,
        maxBytesPerUnit: single ? 1 : 4,
        units: single ? byteCount : undefined,
        plain,
        strict: fatalDecoder(name),
        stream: () => textStream(name, false),
        ...(single ? { encode: singleByteEncoder(plain) } : {}),
      });
    }
  }
}

/** Whether the UTF-32 bytes are well-formed (whole units, code points in range, no surrogates). */
function validUtf32(b: Buffer, name: string): boolean {
  const bom = name === 'utf-32' ? hasBom32(b) : undefined;
  const start = bom ? 4 : 0;
  const le = bom === 'le' || name === 'utf-32le';
  if ((b.length - start) % 4 !== 0) return false;
  for (let i = start; i < b.length; i += 4) {
    const cp = le ? b.readUInt32LE(i) : b.readUInt32BE(i);
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
  }
  return true;
}

const cache = new Map<string, Charset>();

function byCanonicalName(name: string): Charset {
  let cs = cache.get(name);
  if (!cs) cache.set(name, (cs = build(name)));
  return cs;
}

/** The charset for a name (any spelling resolveCharset accepts). Throws OptionError for an unknown name. */
export function charsetFor(raw: string): Charset {
  return byCanonicalName(resolveCharset(raw));
}

/** The charset for a name, or undefined when it is unknown (no error: for names from the wire). */
export function findCharset(raw: string): Charset | undefined {
  const name = charsetName(raw);
  return name === undefined ? undefined : byCanonicalName(name);
}

export function hasUtf8Bom(b: Buffer): boolean {
  return b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
}
