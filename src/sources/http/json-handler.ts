/**
 * JSONHandler (Flume's org.apache.flume.source.http.JSONHandler): the body is a JSON array of
 * `{"headers": {"k": "v", ...}, "body": "text"}`; a single event must still be in an array; `[]` is zero events.
 *
 * As Flume (Gson): the charset comes from Content-Type (default UTF-8; UTF-16 and UTF-32 too), and each body
 * string is encoded back into that charset (UTF-16 bodies start with a big-endian BOM, as Java writes them);
 * a missing or null body is empty; missing headers are none; numbers and booleans given as header values or
 * bodies are taken as their text; other keys of an element are ignored.
 *
 * Differences from Flume, on purpose: every problem is a 400 naming the element (Flume: a null element or an
 * empty body is a 500); an unsupported charset is 415 (Flume: 500); -LE/-BE charset variants are accepted;
 * a null header value drops that header (Flume keeps a null); duplicate keys keep the last value (Gson: 400);
 * more events than one channel transaction holds is 413 (Flume: 503, so clients retry forever); nesting deeper
 * than 100 levels is 400. Header maps are null-prototype objects: `__proto__` or `constructor` keys are plain
 * headers and cannot reach any prototype.
 */
import type { FlumeEvent } from '../../core/event.js';
import { HttpError, type HandlerLimits, type HttpHandler, type RequestInfo } from './handler.js';
import { jsonCharset } from './charset.js';
import { charsetFor, hasUtf8Bom, type Charset } from '../../text/index.js';

export const MAX_DEPTH = 100;

/** Nesting depth of JSON text above `limit`? Strings are skipped. Cheap linear scan. */
export function tooDeep(text: string, limit: number): boolean {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inStr = false;
    } else if (c === 0x22) {
      inStr = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

const UTF8 = charsetFor('utf-8');

export class JsonHandler implements HttpHandler {
  getEvents(req: RequestInfo, body: Buffer, limits: HandlerLimits): FlumeEvent[] {
    let cs: Charset = UTF8;
    if (req.charset !== undefined) {
      const c = jsonCharset(req.charset);
      if (!c)
        throw new HttpError(
          415,
          `Unsupported charset '${req.charset}': the JSON handler supports UTF-8, UTF-16 and UTF-32`,
        );
      cs = charsetFor(c);
    }
    // a leading UTF-8 BOM is skipped
    const text = cs.decode(cs === UTF8 && hasUtf8Bom(body) ? body.subarray(3) : body);
    if (text.trim() === '')
      throw new HttpError(
        400,
        'Empty request body: expected a JSON array of events, e.g. [{"headers":{},"body":"text"}]',
      );
    // JSON.parse is iterative but slow on pathological nesting: refuse it before parsing (large bodies only)
    if (text.length > 65_536 && tooDeep(text, MAX_DEPTH))
      throw new HttpError(400, `Request JSON is nested deeper than ${MAX_DEPTH} levels`);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new HttpError(400, `Request has invalid JSON syntax: ${(err as Error).message}`);
    }
    if (!Array.isArray(data)) throw new HttpError(400, `Request JSON must be an array of events, got ${kind(data)}`);
    if (data.length > limits.maxEvents) {
      throw new HttpError(
        413,
        `Request has ${data.length} events; at most ${limits.maxEvents} fit in one request (the smallest transactionCapacity of this source's channels). Split the request.`,
      );
    }
    const out = new Array<FlumeEvent>(data.length);
    for (let i = 0; i < data.length; i++) {
      const el: unknown = data[i];
      if (el === null || typeof el !== 'object' || Array.isArray(el))
        throw new HttpError(400, `Event ${i}: expected an object {"headers":{...},"body":"..."}, got ${kind(el)}`);
      const e = el as Record<string, unknown>;
      const headers = Object.create(null) as Record<string, string>;
      const h = e.headers;
      if (h !== undefined && h !== null) {
        if (typeof h !== 'object' || Array.isArray(h))
          throw new HttpError(400, `Event ${i}: "headers" must be an object of strings, got ${kind(h)}`);
        for (const k of Object.keys(h)) {
          const v = (h as Record<string, unknown>)[k];
          if (typeof v === 'string') headers[k] = v;
          else if (typeof v === 'number' || typeof v === 'boolean') headers[k] = String(v);
          else if (v !== null)
            throw new HttpError(400, `Event ${i}: header ${JSON.stringify(k)} must be a string, got ${kind(v)}`);
        }
      }
      const b = e.body;
      let bytes: Buffer;
      if (typeof b === 'string') bytes = cs.encode(b);
      else if (b === undefined || b === null) bytes = Buffer.alloc(0);
      else if (typeof b === 'number' || typeof b === 'boolean') bytes = cs.encode(String(b));
      else throw new HttpError(400, `Event ${i}: "body" must be a string, got ${kind(b)}`);
      out[i] = { headers, body: bytes };
    }
    return out;
  }
}
