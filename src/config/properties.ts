/**
 * A `.properties` parser that reproduces `java.util.Properties.load(Reader)` (JDK 17) exactly, and additionally
 * remembers where each key came from (file and 1-based line).
 *
 * It is a port of the JDK's `Properties.LineReader.readLine()` + `load0()` + `loadConvert()`; the quirks below
 * are Java's, kept on purpose (all of them are checked against a real JVM by test/unit/properties.test.ts):
 *
 *  - Line terminators are `\n`, `\r` and `\r\n`. Blank lines (only ' ', '\t', '\f') are ignored. No other
 *    character (vertical tab, NBSP, U+FEFF BOM, ...) counts as whitespace: a BOM becomes part of the first key.
 *  - A comment is a line whose first non-blank char is '#' or '!'. A comment never continues, even when it ends
 *    in a backslash. A '#' later in a line (`k = v # x`) is data.
 *  - A line ending in an odd number of backslashes continues on the next physical line; the backslash is dropped
 *    and the next line's leading blanks are skipped. A continuation line starting with '#' is data, BUT if the
 *    logical line is still empty when the '#' is reached (a line holding just `\`), the '#' line is a comment
 *    (JDK 9+ checks `len == 0`; JDK 8 did not). A blank line ends a continuation.
 *  - A line holding just `\` at end of input yields the entry "" = "" (Java returns an empty, non-negative line).
 *    `\` followed by a newline and more blank text at EOF yields nothing.
 *  - The key runs to the first unescaped '=', ':' or blank; then blanks, one optional '=' or ':', blanks; the
 *    rest (trailing blanks included) is the value. Separators are recognised before escapes are decoded, so a
 *    `\u003d` in a key is a literal '='.
 *  - Escapes: \t \n \r \f, \uXXXX (exactly four hex digits, else "Malformed \uxxxx encoding."), and backslash
 *    followed by any other char is that char (`\a` -> `a`, `C:\temp` -> "C:" + TAB + "emp"). A `\u` escape may be
 *    split over a continuation (`\u00\` NL `41` -> 'A') because escapes are decoded on the joined line.
 *
 * Values are NOT trimmed here; Flume trims later.
 *
 * `line` of an entry is the physical line of the first character of its logical line (i.e. where the key
 * starts; leading blanks are not counted). Malformed `\u` escapes are reported at that same line.
 */

import { AgentError } from '../core/errors.js';

export interface PropEntry {
  key: string;
  value: string;
  file: string;
  /** 1-based line where the logical line starts. */
  line: number;
}

export interface ParseResult {
  /** Last duplicate wins, as in Java. Iteration order is the order in which each key first appeared. */
  entries: Map<string, PropEntry>;
  /** Earlier occurrences that were overridden. */
  duplicates: PropEntry[];
}

export class PropertiesSyntaxError extends AgentError {
  constructor(
    message: string,
    public file: string,
    public line: number,
  ) {
    super('FLUME_ERR_CONFIG_SYNTAX', `${file}:${line}: ${message}`);
    this.name = 'PropertiesSyntaxError';
  }
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;
const TAB = 0x09;
const FF = 0x0c;
const HASH = 0x23;
const BANG = 0x21;
const EQ = 0x3d;
const COLON = 0x3a;
const BSL = 0x5c;

const MALFORMED_U = 'Malformed \\uxxxx encoding.';

/** Value of a hex digit, or -1. */
function hexVal(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30; // 0-9
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10; // a-f
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10; // A-F
  return -1;
}

/** Java's loadConvert over s[start, end). Throws PropertiesSyntaxError on a malformed \uXXXX. */
function unescape(s: string, start: number, end: number, file: string, line: number): string {
  const bs = s.indexOf('\\', start);
  if (bs < 0 || bs >= end) return start === 0 && end === s.length ? s : s.slice(start, end);
  let out = '';
  let run = start; // start of the pending literal run
  let off = bs;
  while (off < end) {
    if (s.charCodeAt(off) !== BSL) {
      off++;
      continue;
    }
    if (off > run) out += s.slice(run, off);
    off++; // skip the backslash
    // readLine guarantees a segment never ends in an unescaped backslash; guard anyway.
    if (off >= end) break;
    const c = s.charCodeAt(off++);
    if (c === 0x75 /* u */) {
      if (off > end - 4) throw new PropertiesSyntaxError(MALFORMED_U, file, line);
      let value = 0;
      for (let k = 0; k < 4; k++) {
        const h = hexVal(s.charCodeAt(off++));
        if (h < 0) throw new PropertiesSyntaxError(MALFORMED_U, file, line);
        value = (value << 4) + h;
      }
      out += String.fromCharCode(value);
    } else if (c === 0x74 /* t */) out += '\t';
    else if (c === 0x72 /* r */) out += '\r';
    else if (c === 0x6e /* n */) out += '\n';
    else if (c === 0x66 /* f */) out += '\f';
    else out += s[off - 1];
    run = off;
  }
  if (run < end) out += s.slice(run, end);
  return out;
}

/**
 * Parses `.properties` text exactly like `java.util.Properties.load(Reader)`.
 * @param text already-decoded file contents
 * @param file name used in entries and errors
 */
export function parseProperties(text: string, file = '<string>', maxKeys = Infinity): ParseResult {
  const entries = new Map<string, PropEntry>();
  let keys = 0;
  const duplicates: PropEntry[] = [];
  const n = text.length;
  let i = 0; // next char to read
  let line = 1; // physical line of text[i]

  for (;;) {
    // ---------------- LineReader.readLine() ----------------
    let logical = ''; // finished segments of the logical line
    let segStart = -1; // start in `text` of the open segment (chars appended since the last EOL), or -1
    let len = 0; // Java's `len`: length of the logical line so far (incl. the open segment)
    let skipWS = true;
    let appendedLineBegin = false;
    let precedingBackslash = false;
    let startLine = line;
    let eof = false;

    for (;;) {
      if (i >= n) {
        // EOF
        if (len === 0) {
          eof = true;
          break;
        }
        if (segStart >= 0) logical += text.slice(segStart, precedingBackslash ? n - 1 : n);
        break;
      }
      const c = text.charCodeAt(i++);

      if (skipWS) {
        if (c === SP || c === TAB || c === FF) continue;
        if (!appendedLineBegin && (c === CR || c === LF)) {
          if (c === CR || i < 2 || text.charCodeAt(i - 2) !== CR) line++;
          continue;
        }
        skipWS = false;
        appendedLineBegin = false;
      }

      if (len === 0 && (c === HASH || c === BANG)) {
        // Comment: consume through the next CR or LF (a trailing backslash does not continue it).
        let found = false;
        while (i < n) {
          const d = text.charCodeAt(i++);
          if (d === CR || d === LF) {
            line++; // can't be the LF of a CRLF: the CR would have stopped us
            found = true;
            break;
          }
        }
        if (!found) {
          eof = true;
          break;
        }
        skipWS = true;
        continue;
      }

      if (c !== LF && c !== CR) {
        if (segStart < 0) {
          segStart = i - 1;
          if (len === 0) startLine = line;
        }
        len++;
        precedingBackslash = c === BSL ? !precedingBackslash : false;
        continue;
      }

      // EOL
      if (c === CR || i < 2 || text.charCodeAt(i - 2) !== CR) line++;
      if (len === 0) {
        skipWS = true;
        continue;
      }
      const segEnd = i - 1;
      if (precedingBackslash) {
        // backslash at EOL is not part of the line (segStart >= 0: the backslash is in the open segment)
        logical += text.slice(segStart, segEnd - 1);
        segStart = -1;
        len -= 1;
        if (i >= n) break; // EOF right after the terminator: the line ends here
        skipWS = true;
        appendedLineBegin = true;
        precedingBackslash = false;
        // take care not to include a \n following \r (it is part of the same terminator: no line++)
        if (c === CR && text.charCodeAt(i) === LF) i++;
      } else {
        if (segStart >= 0) logical += text.slice(segStart, segEnd);
        break;
      }
    }
    if (eof) break;

    // ---------------- Properties.load0() ----------------
    const limit = logical.length;
    let keyLen = 0;
    let valueStart = limit;
    let hasSep = false;
    let pb = false;
    while (keyLen < limit) {
      const c = logical.charCodeAt(keyLen);
      if (!pb) {
        if (c === EQ || c === COLON) {
          valueStart = keyLen + 1;
          hasSep = true;
          break;
        }
        if (c === SP || c === TAB || c === FF) {
          valueStart = keyLen + 1;
          break;
        }
      }
      pb = c === BSL ? !pb : false;
      keyLen++;
    }
    while (valueStart < limit) {
      const c = logical.charCodeAt(valueStart);
      if (c !== SP && c !== TAB && c !== FF) {
        if (!hasSep && (c === EQ || c === COLON)) hasSep = true;
        else break;
      }
      valueStart++;
    }
    if (++keys > maxKeys)
      throw new PropertiesSyntaxError(
        `more than ${maxKeys} keys; the rest of the file was not read (raise the limit with -Dflume.config.maxKeys=N)`,
        file,
        startLine,
      );
    const key = unescape(logical, 0, keyLen, file, startLine);
    const value = unescape(logical, valueStart, limit, file, startLine);
    const entry: PropEntry = { key, value, file, line: startLine };
    const prev = entries.get(key);
    if (prev !== undefined) duplicates.push(prev);
    entries.set(key, entry);
  }

  return { entries, duplicates };
}

/**
 * Merges parse results; later results override earlier ones key by key. `duplicates` lists, in order, each
 * input's own duplicates followed by the entries it overrode from earlier inputs.
 */
export function mergeProperties(results: ParseResult[]): ParseResult {
  if (results.length === 1) return results[0]!; // nothing to merge: no copy of a large file's entries
  const entries = new Map<string, PropEntry>();
  const duplicates: PropEntry[] = [];
  for (const r of results) {
    for (const d of r.duplicates) duplicates.push(d);
    for (const [key, entry] of r.entries) {
      const prev = entries.get(key);
      if (prev !== undefined) duplicates.push(prev);
      entries.set(key, entry);
    }
  }
  return { entries, duplicates };
}
