/** Body charsets for interceptors that decode and re-encode bodies (Java names: UTF-8, ISO-8859-1, US-ASCII, UTF-16*). */
import { OptionError } from '../config/options.js';

export interface BodyCharset {
  readonly name: string;
  decode(b: Buffer): string;
  encode(s: string): Buffer;
}

function swap16(b: Buffer): Buffer {
  const c = Buffer.from(b.subarray(0, b.length & ~1));
  return c.swap16();
}

const utf8: BodyCharset = { name: 'UTF-8', decode: (b) => b.toString('utf8'), encode: (s) => Buffer.from(s, 'utf8') };
const latin1: BodyCharset = {
  name: 'ISO-8859-1',
  decode: (b) => b.toString('latin1'),
  // Java replaces characters ISO-8859-1 cannot hold with '?'
  encode: (s) => Buffer.from(s.replace(/[^\u0000-\u00ff]/gu, '?'), 'latin1'),
};
const ascii: BodyCharset = {
  name: 'US-ASCII',
  decode: (b) => b.toString('latin1').replace(/[\u0080-\u00ff]/g, '\ufffd'),
  encode: (s) => Buffer.from(s.replace(/[^\u0000-\u007f]/gu, '?'), 'latin1'),
};
const utf16le: BodyCharset = { name: 'UTF-16LE', decode: (b) => b.toString('utf16le'), encode: (s) => Buffer.from(s, 'utf16le') };
const utf16be: BodyCharset = { name: 'UTF-16BE', decode: (b) => swap16(b).toString('utf16le'), encode: (s) => Buffer.from(s, 'utf16le').swap16() };
const utf16: BodyCharset = {
  name: 'UTF-16',
  // Java: a BOM picks the byte order, big-endian without one; encoding writes big-endian with a BOM
  decode: (b) => {
    if (b.length >= 2 && b[0] === 0xff && b[1] === 0xfe) return b.subarray(2).toString('utf16le');
    if (b.length >= 2 && b[0] === 0xfe && b[1] === 0xff) return swap16(b.subarray(2)).toString('utf16le');
    return swap16(b).toString('utf16le');
  },
  encode: (s) => Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(s, 'utf16le').swap16()]),
};

const BY_NAME: Record<string, BodyCharset> = {
  'utf-8': utf8, utf8,
  'iso-8859-1': latin1, 'iso8859-1': latin1, 'iso8859_1': latin1, latin1, 'iso-latin-1': latin1,
  'us-ascii': ascii, ascii,
  'utf-16le': utf16le, utf16le, 'utf-16be': utf16be, utf16be, 'utf-16': utf16, utf16,
};

export function bodyCharset(raw: string): BodyCharset {
  const cs = BY_NAME[raw.trim().toLowerCase().replace(/_/g, '-')] ?? BY_NAME[raw.trim().toLowerCase()];
  if (!cs) throw new OptionError(`'${raw}' is not a supported charset`, 'use UTF-8, ISO-8859-1, US-ASCII, UTF-16, UTF-16LE or UTF-16BE');
  return cs;
}
