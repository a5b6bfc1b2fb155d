/**
 * Event -> Elasticsearch document (a JSON text on one line), one function per `serializer`:
 * - `logstash`: Flume's ElasticSearchLogStashEventSerializer (the default): `@message` (the body), `@timestamp` (from
 *   the `timestamp` header, ISO-8601 UTC with milliseconds, unless an `@timestamp` header is set), `@source`,
 *   `@type`, `@source_host`, `@source_path` (from the headers source, type, host, src_path, unless their `@` header
 *   is set), and `@fields` with every header.
 * - `dynamic`: Flume's ElasticSearchDynamicSerializer: `body` and one field per header.
 * - `json` (flume-ts): the body is the document when it is a JSON object; any other body becomes
 *   `{"message": <body>}` and is counted (NotJsonBodyCount).
 * As in Flume's ContentBuilderUtil, a body or header value that starts with `{` and parses as JSON is embedded as an
 * object; any other value is a string (UTF-8; invalid bytes become U+FFFD). Embedded JSON is re-serialized, so a
 * document never spans lines of the bulk request.
 */
import type { FlumeEvent } from '../../core/event.js';
import { ByteSink, writeJsonString } from '../../text/json-bytes.js';

export type SerializerName = 'logstash' | 'dynamic' | 'json';

export interface DocumentContext {
  /** Called for a `json` body that is not a JSON object. */
  notJson(): void;
}

/** Flume's class names for its two serializers, and our short names. */
export const SERIALIZER_NAMES: Record<string, SerializerName> = {
  logstash: 'logstash',
  dynamic: 'dynamic',
  json: 'json',
  'org.apache.flume.sink.elasticsearch.elasticsearchlogstasheventserializer': 'logstash',
  'org.apache.flume.sink.elasticsearch.elasticsearchdynamicserializer': 'dynamic',
};

const OPEN_BRACE = 0x7b;

function firstNonSpace(b: Buffer): number {
  for (let i = 0; i < b.length; i++) {
    const c = b[i]!;
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return c;
  }
  return -1;
}

/** The JSON object text of `text` when it is one, else undefined. */
function asObject(text: string): string | undefined {
  try {
    const v: unknown = JSON.parse(text);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? JSON.stringify(v) : undefined;
  } catch {
    return undefined;
  }
}

/** ContentBuilderUtil.appendField: embedded JSON object or a string. */
function writeField(w: ByteSink, bytes: Buffer): void {
  if (firstNonSpace(bytes) === OPEN_BRACE) {
    const obj = asObject(bytes.toString('utf8'));
    if (obj !== undefined) return w.utf8(obj);
  }
  writeJsonString(w, bytes);
}

function headerValue(v: string): string {
  if (v.trimStart().startsWith('{')) {
    const obj = asObject(v);
    if (obj !== undefined) return obj;
  }
  return JSON.stringify(v);
}

const blank = (v: string | undefined): boolean => v === undefined || v.trim() === '';

const LOGSTASH_FIELDS: readonly (readonly [string, string])[] = [
  ['source', '@source'],
  ['type', '@type'],
  ['host', '@source_host'],
  ['src_path', '@source_path'],
];

const ascii = (s: string): Buffer => Buffer.from(s, 'latin1');
const MESSAGE = ascii('{"@message":');
const FIELDS = ascii(',"@fields":{');
const BODY = ascii('{"body":');
const JSON_MESSAGE = ascii('{"message":');
const CLOSE = ascii('}');
const CLOSE2 = ascii('}}');

function logstash(e: FlumeEvent, _ctx: DocumentContext, w: ByteSink): void {
  const h = e.headers;
  w.bytes(MESSAGE);
  writeField(w, e.body);
  const ts = h.timestamp;
  if (!blank(ts) && blank(h['@timestamp'])) {
    const t = ts!.trim();
    // Flume throws (and retries the batch forever) on a timestamp that is not a number; here it is left out
    if (/^[+-]?\d{1,16}$/.test(t)) {
      const d = new Date(Number(t));
      if (!Number.isNaN(d.getTime())) w.utf8(`,"@timestamp":"${d.toISOString()}"`);
    }
  }
  for (const [from, to] of LOGSTASH_FIELDS) {
    const v = h[from];
    if (!blank(v) && blank(h[to])) w.utf8(`,${JSON.stringify(to)}:${headerValue(v!)}`);
  }
  w.bytes(FIELDS);
  let first = true;
  for (const k of Object.keys(h)) {
    w.utf8(`${first ? '' : ','}${JSON.stringify(k)}:${headerValue(h[k]!)}`);
    first = false;
  }
  w.bytes(CLOSE2);
}

function dynamic(e: FlumeEvent, _ctx: DocumentContext, w: ByteSink): void {
  const h = e.headers;
  w.bytes(BODY);
  writeField(w, e.body);
  for (const k of Object.keys(h)) w.utf8(`,${JSON.stringify(k)}:${headerValue(h[k]!)}`);
  w.bytes(CLOSE);
}

function json(e: FlumeEvent, ctx: DocumentContext, w: ByteSink): void {
  if (firstNonSpace(e.body) === OPEN_BRACE) {
    const obj = asObject(e.body.toString('utf8'));
    if (obj !== undefined) return w.utf8(obj);
  }
  ctx.notJson();
  w.bytes(JSON_MESSAGE);
  writeJsonString(w, e.body);
  w.bytes(CLOSE);
}

/** Writes the document of an event (its JSON text, without a newline). */
export type DocumentWriter = (e: FlumeEvent, ctx: DocumentContext, w: ByteSink) => void;

export function documentWriter(name: SerializerName): DocumentWriter {
  return name === 'logstash' ? logstash : name === 'dynamic' ? dynamic : json;
}

/** The document of an event as a string. */
export function documentSerializer(name: SerializerName): (e: FlumeEvent, ctx: DocumentContext) => string {
  const write = documentWriter(name);
  return (e, ctx) => {
    const w = new ByteSink(256);
    write(e, ctx, w);
    return w.view().toString('utf8');
  };
}
