/**
 * The `fluentd` handler: Fluentd in_http's request format (reference protocols.md §2). The tag is the URL path
 * without its leading `/`, `/` becoming `.` (`/app/web` -> `app.web`, not URL-decoded, a trailing `/` dropped).
 * Records come from, by Content-Type: `application/json` or `application/csp-report` (an object, or an array of
 * objects), `application/x-ndjson` (one object a line), `application/msgpack` (a map or an array of maps, several
 * objects may follow each other); else a form (`application/x-www-form-urlencoded`, curl's default) or the query
 * string with a `msgpack=`, `json=` or `ndjson=` field, tried in that order. `time` (query or form: float seconds,
 * 0 = now) applies to every record; else a record's own `time` field is removed and used; else now.
 *
 * Each record becomes one event as in the forward source: body = the record as compact UTF-8 JSON, headers `tag`
 * and `timestamp` (epoch ms). msgpack is transcoded by the forward protocol's reader (bin as UTF-8 text, EventTime
 * as seconds).
 *
 * Differences from in_http, on purpose: a malformed record, a non-object element or a bad time is a 400 and nothing
 * of the request is committed (in_http skips the record and answers 200: silent loss); multipart/form-data is 415.
 * A full channel is 503 + Retry-After (in_http: 500).
 */
import type { FlumeEvent } from '../../core/event.js';
import { writeJson } from '../../rpc/forward/json.js';
import { ByteSink } from '../../text/json-bytes.js';
import { MsgpackError, ObjectScanner, Reader } from '../../rpc/forward/msgpack.js';
import { HttpError, type HttpHandler, type RequestInfo } from './handler.js';
import { MAX_DEPTH, tooDeep } from './json-handler.js';

/** `/app/web/` -> `app.web`. */
export function tagOfPath(path: string): string {
  let p = path.startsWith('/') ? path.slice(1) : path;
  if (p.endsWith('/')) p = p.slice(0, -1);
  return p.replace(/\//g, '.');
}

/** application/x-www-form-urlencoded fields as bytes (`+` is a space, `%XX` a byte): msgpack= may be binary. */
export function formFields(body: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const s = body.toString('latin1');
  for (const part of s.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const k = decodeForm(eq < 0 ? part : part.slice(0, eq)).toString('utf8');
    if (!out.has(k)) out.set(k, decodeForm(eq < 0 ? '' : part.slice(eq + 1)));
  }
  return out;
}

function decodeForm(s: string): Buffer {
  const out = Buffer.allocUnsafe(s.length);
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2b) out[n++] = 0x20;
    else if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(s.slice(i + 1, i + 3))) {
      out[n++] = parseInt(s.slice(i + 1, i + 3), 16);
      i += 2;
    } else out[n++] = c & 0xff;
  }
  return out.subarray(0, n);
}

const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function parseJson(text: string, what: string): unknown {
  if (text.length > 65_536 && tooDeep(text, MAX_DEPTH))
    throw new HttpError(400, `${what} is nested deeper than ${MAX_DEPTH} levels`);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, `${what} is not valid JSON: ${(err as Error).message}`);
  }
}

/** An object is one record, an array one record per element (each must be an object). */
function records(v: unknown, what: string, out: Record<string, unknown>[]): void {
  if (isRecord(v)) return void out.push(v);
  if (!Array.isArray(v)) throw new HttpError(400, `${what} must be an object or an array of objects, got ${kind(v)}`);
  v.forEach((x, i) => {
    if (!isRecord(x)) throw new HttpError(400, `${what}: element ${i} must be an object, got ${kind(x)}`);
    out.push(x);
  });
}

function fromNdjson(text: string, out: Record<string, unknown>[]): void {
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    records(parseJson(line, `ndjson line ${i + 1}`), `ndjson line ${i + 1}`, out);
  });
}

/** One or more msgpack objects, each a map or an array of maps, transcoded to JSON then parsed. */
function fromMsgpack(buf: Buffer, out: Record<string, unknown>[]): void {
  let at = 0;
  let k = 0;
  while (at < buf.length) {
    k++;
    let n: number;
    let json: string;
    try {
      n = new ObjectScanner(buf.length).scan(buf.subarray(at), buf.length - at);
      if (n < 0) throw new MsgpackError('truncated msgpack data');
      const sink = new ByteSink(Math.max(256, n * 2));
      writeJson(new Reader(buf, at, at + n), sink);
      json = sink.buf.toString('utf8', 0, sink.len);
    } catch (err) {
      throw new HttpError(400, `msgpack object ${k} cannot be decoded: ${(err as Error).message}`);
    }
    records(JSON.parse(json), `msgpack object ${k}`, out);
    at += n;
  }
}

/** Epoch ms of a `time` value in seconds (number or numeric text); 0 is now. */
function timeMs(v: unknown, now: number, what: string): number {
  const t = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (!Number.isFinite(t) || t < 0)
    throw new HttpError(400, `${what} must be seconds since the epoch, got ${JSON.stringify(v)}`);
  return t === 0 ? now : Math.round(t * 1000);
}

export class FluentdHandler implements HttpHandler {
  constructor(private readonly tagHeader = 'tag') {}

  getEvents(req: RequestInfo, body: Buffer): FlumeEvent[] {
    const q = req.url.indexOf('?');
    const tag = tagOfPath(q < 0 ? req.url : req.url.slice(0, q));
    const query = formFields(Buffer.from(q < 0 ? '' : req.url.slice(q + 1), 'latin1'));
    const ct = (req.contentType ?? '').trim().toLowerCase();
    const recs: Record<string, unknown>[] = [];
    let form: Map<string, Buffer> | undefined;
    if (ct.startsWith('application/json') || ct.startsWith('application/csp-report')) {
      records(parseJson(body.toString('utf8'), 'The JSON body'), 'The JSON body', recs);
    } else if (ct.startsWith('application/x-ndjson')) {
      fromNdjson(body.toString('utf8'), recs);
    } else if (ct.startsWith('application/msgpack') || ct.startsWith('application/x-msgpack')) {
      fromMsgpack(body, recs);
    } else if (ct.startsWith('multipart/form-data')) {
      throw new HttpError(415, 'multipart/form-data is not supported: send json= as a urlencoded form, or a JSON body');
    } else {
      form = formFields(body);
      const field = (k: string) => form!.get(k) ?? query.get(k);
      const mp = field('msgpack');
      const js = field('json');
      const nd = field('ndjson');
      if (mp) fromMsgpack(mp, recs);
      else if (js) records(parseJson(js.toString('utf8'), 'json='), 'json=', recs);
      else if (nd) fromNdjson(nd.toString('utf8'), recs);
      else if (body.length === 0 && req.method === 'GET') return [];
      else
        throw new HttpError(
          400,
          'No record: send a json=, ndjson= or msgpack= field (form or query), or an application/json, application/x-ndjson or application/msgpack body',
        );
    }
    const now = Date.now();
    const t = (query.get('time') ?? form?.get('time'))?.toString('utf8');
    const all = t === undefined ? undefined : timeMs(t, now, 'time');
    return recs.map((rec, i) => {
      let ms = all;
      if (ms === undefined && 'time' in rec) {
        ms = timeMs(rec.time, now, `the time field of record ${i}`);
        delete rec.time;
      }
      return {
        headers: { [this.tagHeader]: tag, timestamp: String(ms ?? now) },
        body: Buffer.from(JSON.stringify(rec)),
      };
    });
  }
}
