/**
 * The one option builder for keys that name a charset: the same type line in `describe` and the docs for every
 * component with the same needs, the same names accepted, the same refusals.
 */
import { opt, OptionError, type OptionSpec } from '../contract/index.js';
import { charsetFor, type Charset } from './charset.js';

/**
 * What the component does with the charset:
 * - `decode`: decodes it, whole or as a stream (any charset Node can decode);
 * - `lines`: splits lines on the 0x0A/0x0D bytes before decoding (UTF-16 and UTF-32 are refused);
 * - `encode`: decodes and encodes it (UTF-8, UTF-16, UTF-32 and single-byte charsets);
 * - `single-byte`: counts characters by bytes (UTF-8 and single-byte charsets).
 */
export type CharsetNeed = 'decode' | 'lines' | 'encode' | 'single-byte';

const NEEDS: Record<CharsetNeed, { type: string; ok: (cs: Charset) => boolean; why: string; hint: string }> = {
  decode: {
    type: 'charset (a Java or WHATWG name: UTF-8, ISO-8859-1, US-ASCII, UTF-16, UTF-32, windows-1252, Shift_JIS ...)',
    ok: () => true,
    why: '',
    hint: '',
  },
  lines: {
    type: 'charset, ASCII-compatible (UTF-8, ISO-8859-1, US-ASCII, windows-1252, Shift_JIS ...; not UTF-16/UTF-32)',
    ok: (cs) => cs.lfSafe,
    why: 'a line feed is not a single byte in it',
    hint: 'use UTF-8 or another ASCII-compatible charset such as ISO-8859-1 or windows-1252',
  },
  encode: {
    type: 'charset, encodable (UTF-8, ISO-8859-1, US-ASCII, UTF-16, UTF-32, single-byte ones such as windows-1252)',
    ok: (cs) => cs.encodable,
    why: 'flume-ts can encode only UTF-8, UTF-16, UTF-32 and single-byte charsets',
    hint:
      'use UTF-8, ISO-8859-1, US-ASCII, UTF-16, UTF-16LE, UTF-16BE, UTF-32 or a single-byte charset such as ' +
      'windows-1252',
  },
  'single-byte': {
    type: 'charset, UTF-8 or single-byte (ISO-8859-1, US-ASCII, windows-1252, KOI8-R ...)',
    ok: (cs) => cs.name === 'utf-8' || cs.singleByte,
    why: 'multi-byte charsets other than UTF-8 are not supported',
    hint: 'use UTF-8, US-ASCII, ISO-8859-1 or a single-byte charset such as windows-1252',
  },
};

/**
 * The charset for `raw` when it suits `need`; throws OptionError naming `who` (the component, e.g. `exec`)
 * otherwise, or the resolver's "did you mean" for an unknown name.
 */
export function charsetForNeed(raw: string, need: CharsetNeed, who: string): Charset {
  const cs = charsetFor(raw);
  const n = NEEDS[need];
  if (!n.ok(cs)) throw new OptionError(`charset '${raw}' is not supported by ${who}: ${n.why}`, n.hint);
  return cs;
}

/** The type text `describe` shows for a charset key with this need. */
export function charsetTypeText(need: CharsetNeed): string {
  return NEEDS[need].type;
}

/**
 * A charset option: parses to the canonical lower-case name (`utf-8`, `iso-8859-1`, `windows-1252`), refusing names
 * the component cannot use. Default UTF-8.
 */
export function charsetOption(o: {
  doc: string;
  need: CharsetNeed;
  who: string;
  default?: string;
}): OptionSpec<string> {
  const def = o.default ?? 'UTF-8';
  return {
    ...opt.string({ default: charsetFor(def).name, defaultText: def, doc: o.doc }),
    typeText: NEEDS[o.need].type,
    parse: (raw: string) => charsetForNeed(raw, o.need, o.who).name,
  };
}
