/**
 * msgpack -> compact UTF-8 JSON, straight from the bytes (records never become JavaScript objects on the forward
 * source's hot path). The text is what JSON.stringify would write for the decoded value, with these choices: bin is
 * taken as a UTF-8 string (old clients pack strings as raw/bin), invalid UTF-8 becomes U+FFFD, a non-string map key
 * becomes its JSON text as a string, non-finite floats are null, 64-bit integers keep every digit, EventTime (ext 0)
 * becomes seconds as a number, other ext values are null.
 */
import { ByteSink, writeJsonString } from '../../text/json-bytes.js';
import { MAX_DEPTH, MsgpackError, Reader, T } from './msgpack.js';

/** Transcodes the value at `r.pos` to JSON into `out`; advances `r` past it. */
export function writeJson(r: Reader, out: ByteSink, depth = 0): void {
  if (depth > MAX_DEPTH) throw new MsgpackError(`a record is nested deeper than ${MAX_DEPTH} levels`);
  const t = r.head();
  switch (t) {
    case T.Int:
      out.ascii(r.big !== undefined ? r.big.toString() : String(r.n));
      return;
    case T.Nil:
      out.ascii('null');
      return;
    case T.Bool:
      out.ascii(r.n === 1 ? 'true' : 'false');
      return;
    case T.Float:
      out.ascii(Number.isFinite(r.n) ? String(r.n) : 'null');
      return;
    case T.Str:
    case T.Bin: {
      const s = r.pos;
      r.pos += r.n;
      writeJsonString(out, r.buf, s, r.pos);
      return;
    }
    case T.Ext: {
      const s = r.pos;
      r.pos += r.n;
      if (r.extType === 0 && r.n === 8) out.ascii(String(eventTimeMs(r.buf, s) / 1000));
      else out.ascii('null');
      return;
    }
    case T.Array: {
      const n = r.n;
      out.byte(0x5b);
      for (let i = 0; i < n; i++) {
        if (i > 0) out.byte(0x2c);
        writeJson(r, out, depth + 1);
      }
      out.byte(0x5d);
      return;
    }
    case T.Map: {
      const n = r.n;
      out.byte(0x7b);
      for (let i = 0; i < n; i++) {
        if (i > 0) out.byte(0x2c);
        writeKey(r, out, depth + 1);
        out.byte(0x3a);
        writeJson(r, out, depth + 1);
      }
      out.byte(0x7d);
      return;
    }
  }
}

function writeKey(r: Reader, out: ByteSink, depth: number): void {
  const b = r.buf[r.pos];
  const isStr = b !== undefined && ((b >= 0xa0 && b <= 0xbf) || b === 0xd9 || b === 0xda || b === 0xdb);
  const isBin = b === 0xc4 || b === 0xc5 || b === 0xc6;
  if (isStr || isBin) return writeJson(r, out, depth);
  const at = out.len;
  writeJson(r, out, depth);
  const text = out.buf.toString('utf8', at, out.len);
  out.len = at;
  out.utf8(JSON.stringify(text));
}

/** Epoch milliseconds of an EventTime payload (uint32 seconds, uint32 nanoseconds, big-endian). */
export function eventTimeMs(buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * 1000 + Math.floor(buf.readUInt32BE(at + 4) / 1e6);
}

/**
 * Looks for the string key `key` in the map at `r.pos` (the map header not yet read). Returns the offset of its
 * value, or -1; `r` is left after the map either way.
 */
export function findKey(r: Reader, key: Buffer): number {
  const t = r.head();
  if (t !== T.Map) {
    r.skipRest(t);
    return -1;
  }
  const n = r.n;
  let found = -1;
  for (let i = 0; i < n; i++) {
    const kt = r.head();
    let match = false;
    if (kt === T.Str || kt === T.Bin) {
      match = found < 0 && r.n === key.length && r.buf.compare(key, 0, key.length, r.pos, r.pos + r.n) === 0;
      r.pos += r.n;
    } else r.skipRest(kt);
    if (match) found = r.pos;
    r.skip();
  }
  return found;
}
