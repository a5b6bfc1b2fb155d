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
function fieldValue(bytes: Buffer): string {
  const text = bytes.toString('utf8');
  if (firstNonSpace(bytes) === OPEN_BRACE) {
    const obj = asObject(text);
    if (obj !== undefined) return obj;
  }
  return JSON.stringify(text);
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

function logstash(e: FlumeEvent): string {
  const h = e.headers;
  let out = `{"@message":${fieldValue(e.body)}`;
  const ts = h.timestamp;
  if (!blank(ts) && blank(h['@timestamp'])) {
    const t = ts!.trim();
    // Flume throws (and retries the batch forever) on a timestamp that is not a number; here it is left out
    if (/^[+-]?\d{1,16}$/.test(t)) {
      const d = new Date(Number(t));
      if (!Number.isNaN(d.getTime())) out += `,"@timestamp":"${d.toISOString()}"`;
    }
  }
  for (const [from, to] of LOGSTASH_FIELDS) {
    const v = h[from];
    if (!blank(v) && blank(h[to])) out += `,${JSON.stringify(to)}:${headerValue(v!)}`;
  }
  out += ',"@fields":{';
  let first = true;
  for (const k of Object.keys(h)) {
    out += `${first ? '' : ','}${JSON.stringify(k)}:${headerValue(h[k]!)}`;
    first = false;
  }
  return out + '}}';
}

function dynamic(e: FlumeEvent): string {
  const h = e.headers;
  let out = `{"body":${fieldValue(e.body)}`;
  for (const k of Object.keys(h)) out += `,${JSON.stringify(k)}:${headerValue(h[k]!)}`;
  return out + '}';
}

function json(e: FlumeEvent, ctx: DocumentContext): string {
  if (firstNonSpace(e.body) === OPEN_BRACE) {
    const obj = asObject(e.body.toString('utf8'));
    if (obj !== undefined) return obj;
  }
  ctx.notJson();
  return `{"message":${JSON.stringify(e.body.toString('utf8'))}}`;
}

export function documentSerializer(name: SerializerName): (e: FlumeEvent, ctx: DocumentContext) => string {
  return name === 'logstash' ? logstash : name === 'dynamic' ? dynamic : json;
}
