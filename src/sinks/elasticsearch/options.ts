/** The elasticsearch sink's option table (Flume 1.9's keys, then flume-ts' own) and its cross-option checks. */
import { opt, OptionError, type OptionSpec, type Problem, type Resolved } from '../../contract/index.js';
import { resolveTls, tlsClientOptions, tlsProblems, type TlsSettings } from '../../net/tls/index.js';
import { SimpleDateFormat } from '../../compat/java/simple-date-format.js';
import { SERIALIZER_NAMES, type SerializerName } from './documents.js';
import { compileIndexName, literalText } from './index-name.js';

/** An enum that also takes Flume class names (matched case-insensitively). */
function named<V extends string>(o: {
  names: Record<string, V>;
  values: readonly V[];
  default: V;
  doc: string;
}): OptionSpec<V> {
  const base = opt.enum({ values: o.values, default: o.default, doc: o.doc }) as OptionSpec<V>;
  return {
    ...base,
    parse: (raw: string) => {
      const v = o.names[raw.toLowerCase()];
      if (v === undefined)
        throw new OptionError(
          `'${raw}' is not one of ${o.values.join(', ')} (or Flume's class name for one)`,
          'custom serializer and index name builder classes cannot be loaded by flume-ts',
        );
      return v;
    },
  };
}

const INDEX_NAME_BUILDERS: Record<string, 'time' | 'simple'> = {
  time: 'time',
  simple: 'simple',
  'org.apache.flume.sink.elasticsearch.timebasedindexnamebuilder': 'time',
  'org.apache.flume.sink.elasticsearch.simpleindexnamebuilder': 'simple',
};

export const options = {
  hostNames: opt.list({
    required: true,
    separator: /[\s,]+/,
    doc:
      'Elasticsearch nodes, separated by commas: `host`, `host:port` (REST port, 9200 by default) or URLs ' +
      '(`https://user:pass@es.example.com`). Requests go round-robin; a node that fails is skipped for a while.',
  }),
  indexName: opt.string({
    default: 'flume',
    nonEmpty: true,
    doc:
      "Index name, or its prefix with the time-based builder (`<indexName>-<date>`), with Flume's escapes " +
      "(docs/escapes.md): `%{header}` is the event's header value, `%[localhost]` this host, `%Y-%m-%d` the event " +
      "time's date in the agent's time zone. Elasticsearch index names are lower case.",
  }),
  indexType: opt.string({
    default: 'logs',
    doc: 'Accepted for Flume configs: Elasticsearch 8 and later (what this sink talks to) have no mapping types, so it is not sent.',
  }),
  clusterName: opt.string({
    default: 'elasticsearch',
    doc: "Accepted for Flume configs (the name was for Flume's transport client); the REST API does not use it.",
  }),
  batchSize: opt.int({ default: 100, min: 1, doc: 'Events per transaction and per `_bulk` request.' }),
  ttl: opt.ignored({
    doc: 'Document time to live in Flume; Elasticsearch removed `_ttl` in 5.0 (use index lifecycle management).',
  }),
  serializer: named({
    names: SERIALIZER_NAMES,
    values: ['logstash', 'dynamic', 'json'] as const,
    default: 'logstash',
    doc:
      "Event -> document: `logstash` (Flume's ElasticSearchLogStashEventSerializer: `@message`, `@timestamp`, " +
      "`@source_host`..., `@fields`), `dynamic` (Flume's ElasticSearchDynamicSerializer: `body` and one field per " +
      'header), or `json` (the body, a JSON object, is the document; another body becomes `{"message": body}` and is ' +
      'counted in NotJsonBodyCount). Flume class names are accepted.',
  }) as OptionSpec<SerializerName>,
  indexNameBuilder: named({
    names: INDEX_NAME_BUILDERS,
    values: ['time', 'simple'] as const,
    default: 'time',
    doc:
      '`time` (TimeBasedIndexNameBuilder): `<indexName>-<date of the event>`; `simple` (SimpleIndexNameBuilder): ' +
      '`<indexName>`. Flume class names are accepted.',
  }),
  'indexNameBuilder.dateFormat': opt.string({
    default: 'yyyy-MM-dd',
    nonEmpty: true,
    doc:
      'Date part of the index name (Java SimpleDateFormat letters y M d D E a H k K h m s S Z X). The event time is ' +
      'the `timestamp` header, else `@timestamp`, else now.',
  }),
  'indexNameBuilder.timeZone': opt.string({
    default: 'Etc/UTC',
    nonEmpty: true,
    doc: 'IANA time zone of the date part (an unknown zone is a config error; Java silently uses GMT).',
  }),
  client: opt.enum({
    values: ['transport', 'rest'] as const,
    default: 'transport',
    doc: "Flume's client choice; flume-ts always uses the REST API (the transport protocol is gone from Elasticsearch 8).",
  }),
  action: opt.enum({
    values: ['index', 'create'] as const,
    default: 'index',
    doc:
      'Bulk action. `create` is required by data streams; with document ids, a 409 (already there) then counts ' +
      'as stored. flume-ts key.',
  }),
  idHeader: opt.string({
    doc:
      'Header whose value is the document `_id` (with `index`, a retried batch overwrites instead of duplicating). ' +
      'Events without it get an id from idHash, or from Elasticsearch. flume-ts key.',
  }),
  idHash: opt.bool({
    default: false,
    doc:
      'Give each document the SHA-1 of its index and content as `_id`, so a retried batch does not duplicate ' +
      'documents (identical events with the same timestamp become one document). flume-ts key.',
  }),
  username: opt.string({ doc: 'Basic authentication user (with password). flume-ts key.' }),
  password: opt.string({ doc: 'Basic authentication password. flume-ts key.' }),
  apiKey: opt.string({
    doc: 'API key, the base64 `encoded` value Elasticsearch returns (sent as `Authorization: ApiKey ...`). flume-ts key.',
  }),
  compression: opt.enum({
    values: ['none', 'gzip'] as const,
    default: 'none',
    doc: '`gzip` compresses request bodies (and asks for compressed responses). flume-ts key.',
  }),
  requestTimeout: opt.duration({
    default: 30000,
    unit: 'ms',
    min: 1,
    doc: 'Time allowed for one `_bulk` request (then the batch is retried). flume-ts key.',
  }),
  itemRetryTimeout: opt.duration({
    default: 60,
    unit: 's',
    min: 0,
    doc:
      'How long one batch keeps retrying the items Elasticsearch refused for now (429, 5xx) with backoff, ' +
      'before the whole batch is rolled back and retried later (items already indexed are then sent again). ' +
      'flume-ts key.',
  }),
  deadLetterFile: opt.string({
    defaultText: '.flume-ts/dead-letter/<sink>.jsonl under the working directory',
    doc:
      'JSON-lines file for the items Elasticsearch refused for good (mapping errors and other 4xx): one line per ' +
      'event with the reason, its headers and body. flume-ts key.',
  }),
  ...tlsClientOptions,
};

export type Options = Resolved<typeof options>;

export interface Endpoints {
  urls: string[];
  /** Credentials found in a URL (`https://user:pass@host`). */
  auth?: { username: string; password: string };
  problems: Problem[];
}

const DEFAULT_PORT = 9200;

/** hostNames -> node URLs (a bare host or host:port takes http, or https when ssl = true, and port 9200). */
export function endpoints(hosts: readonly string[], ssl: boolean): Endpoints {
  const out: Endpoints = { urls: [], problems: [] };
  const bad = (message: string, hint?: string) => out.problems.push({ key: 'hostNames', message, hint });
  for (const h of hosts) {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(h)?.[1]?.toLowerCase();
    let url: URL;
    try {
      url = new URL(scheme ? h : `${ssl ? 'https' : 'http'}://${h}`);
    } catch {
      bad(`'${h}' is not a host, host:port or URL`);
      continue;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      bad(`'${h}': only http:// and https:// URLs can be used`);
      continue;
    }
    if (!scheme && url.port === '') url.port = String(DEFAULT_PORT);
    if (ssl && url.protocol === 'http:')
      bad(`'${h}' is an http:// URL but ssl = true`, 'write https:// or leave the scheme out');
    if (url.username !== '' && !out.auth)
      out.auth = { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
    url.username = '';
    url.password = '';
    out.urls.push(url.toString().replace(/\/$/, ''));
  }
  return out;
}

/** TLS settings: on when ssl = true or any node URL is https://. */
export function tlsSettings(o: Options): TlsSettings {
  const https = endpoints(o.hostNames, o.ssl).urls.some((u) => u.startsWith('https:'));
  return resolveTls({ ...o, ssl: o.ssl || https }, 'client');
}

export function check(o: Options): Problem[] {
  const problems: Problem[] = [...endpoints(o.hostNames, o.ssl).problems];
  if (o.hostNames.length === 0) problems.push({ key: 'hostNames', message: 'no host given' });
  try {
    compileIndexName(o.indexName);
  } catch (err) {
    if (!(err instanceof OptionError)) throw err;
    problems.push({ key: 'indexName', message: err.message, hint: err.hint });
  }
  const literal = literalText(o.indexName);
  if (literal !== literal.toLowerCase())
    problems.push({
      key: 'indexName',
      message: `'${o.indexName}' has upper-case letters; Elasticsearch refuses such index names`,
      hint: 'write it in lower case',
    });
  if (o.indexNameBuilder === 'time') {
    try {
      const sample = new SimpleDateFormat(o['indexNameBuilder.dateFormat'], o['indexNameBuilder.timeZone']).format(
        Date.UTC(2026, 0, 31, 13, 4, 5, 6),
      );
      if (sample !== sample.toLowerCase())
        problems.push({
          key: 'indexNameBuilder.dateFormat',
          message: `'${o['indexNameBuilder.dateFormat']}' gives upper-case names (${sample}); Elasticsearch refuses them`,
        });
    } catch (err) {
      if (!(err instanceof OptionError)) throw err;
      const key = /time zone/.test(err.message) ? 'indexNameBuilder.timeZone' : 'indexNameBuilder.dateFormat';
      problems.push({ key, message: err.message, hint: err.hint });
    }
  }
  if ((o.username === undefined) !== (o.password === undefined))
    problems.push({ key: o.username ? 'password' : 'username', message: 'username and password go together' });
  if (o.apiKey !== undefined && o.username !== undefined)
    problems.push({ key: 'apiKey', message: 'set either apiKey or username and password, not both' });
  problems.push(...tlsProblems(tlsSettings(o)));
  return problems;
}
