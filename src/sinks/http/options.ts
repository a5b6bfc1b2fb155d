/**
 * The http sink's option table (Flume's HttpSink keys, then flume-ts' own) and the status rules: what a response
 * status means for the batch (rollback or commit), for the runner (backoff) and for EventDrainSuccessCount.
 */
import { opt, type Problem, type Resolved } from '../../contract/index.js';
import { resolveTls, tlsClientOptions, tlsProblems, type TlsSettings } from '../../net/tls/index.js';

const boolMap = (doc: string) => opt.map({ doc, of: opt.bool({ doc: '' }), keyText: '<status>' });

export const options = {
  endpoint: opt.string({
    required: true,
    nonEmpty: true,
    doc: 'URL the events are POSTed to (`http://` or `https://`; `https://user:pass@host/path` sends basic auth).',
  }),
  connectTimeout: opt.duration({
    default: 5000,
    unit: 'ms',
    min: 1,
    doc: 'Time allowed to connect (and finish the TLS handshake).',
  }),
  requestTimeout: opt.duration({
    default: 5000,
    unit: 'ms',
    min: 1,
    doc: 'Time allowed for the answer once connected; then the batch is rolled back and retried.',
  }),
  contentTypeHeader: opt.string({
    defaultText: 'text/plain (application/json with format json_array or flume_json)',
    doc: 'Content-Type of the requests.',
  }),
  acceptHeader: opt.string({ default: 'text/plain', doc: 'Accept header of the requests.' }),
  defaultBackoff: opt.bool({
    default: true,
    doc:
      'Accepted for Flume configs, no effect: a rolled-back batch is always retried after the sink backoff ' +
      '(0.5 s doubling to 5 s, so `false` cannot make a tight retry loop) and a committed batch never waits.',
  }),
  defaultRollback: opt.bool({
    default: true,
    doc:
      'For a status without a rule: roll the batch back (it is sent again later) instead of committing it. ' +
      '2xx statuses commit unless a rule says otherwise (Flume rolls back even a 200 by default).',
  }),
  defaultIncrementMetrics: opt.bool({
    default: false,
    doc: 'For a status without a rule: count a committed batch in EventDrainSuccessCount (2xx: counted).',
  }),
  'backoff.': boolMap(
    'Per status rule for backoff (`backoff.503`, a class `backoff.4XX`): accepted for Flume configs, no effect ' +
      '(see defaultBackoff).',
  ),
  'rollback.': boolMap(
    'Per status rule for rollback: `rollback.400 = false` commits (drops) the events a 400 refused; ' +
      '`rollback.2XX`... the exact code beats the class.',
  ),
  'incrementMetrics.': boolMap(
    'Per status rule for counting committed events in EventDrainSuccessCount, e.g. `incrementMetrics.4XX = false`.',
  ),
  batchSize: opt.int({
    default: 1,
    min: 1,
    doc:
      'Events per transaction and per request. 1 sends each body as the whole request (as Flume); more sends ' +
      'the bodies of a batch in one request, shaped by `format`. flume-ts key.',
  }),
  format: opt.enum({
    values: ['body', 'json_array', 'flume_json'] as const,
    default: 'body',
    doc:
      'Request body: `body` (batchSize 1: the event body as is; larger batches: each body followed by a newline, ' +
      'i.e. JSON lines when the bodies are JSON), `json_array` (`[body, ...]`: a body that parses as JSON is ' +
      'embedded, another becomes a JSON string), or `flume_json` (`[{"headers": {...}, "body": "..."}]`, what ' +
      "Flume's http source JSONHandler reads: headers travel too). flume-ts key.",
  }),
  ...tlsClientOptions,
};

export type Options = Resolved<typeof options>;

/** Parsed endpoint: the URL without credentials, and the credentials. */
export function parseEndpoint(endpoint: string): { url: URL; auth?: string } | string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return `'${endpoint}' is not a URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `'${endpoint}': only http:// and https:// work`;
  const auth =
    url.username !== '' ? `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` : undefined;
  url.username = '';
  url.password = '';
  return { url, auth };
}

export function tlsSettings(o: Options): TlsSettings {
  return resolveTls({ ...o, ssl: o.ssl || /^https:/i.test(o.endpoint) }, 'client');
}

const STATUS_KEY = /^([1-5]\d\d|[1-5]XX)$/i;

export function check(o: Options): Problem[] {
  const problems: Problem[] = [];
  const ep = parseEndpoint(o.endpoint);
  if (typeof ep === 'string') problems.push({ key: 'endpoint', message: ep });
  else if (o.ssl && ep.url.protocol === 'http:')
    problems.push({
      key: 'endpoint',
      message: 'ssl = true but the endpoint is an http:// URL',
      hint: 'write https://',
    });
  for (const kind of ['backoff', 'rollback', 'incrementMetrics'] as const) {
    for (const k of Object.keys(o[`${kind}.`])) {
      if (!STATUS_KEY.test(k))
        problems.push({
          key: `${kind}.${k}`,
          message: `'${k}' is not an HTTP status`,
          hint: 'write a status code (503) or a class (5XX)',
        });
    }
  }
  problems.push(...tlsProblems(tlsSettings(o)));
  return problems;
}

export interface StatusRule {
  rollback: boolean;
  backoff: boolean;
  incrementMetrics: boolean;
}

/**
 * The rule for a status: the exact code, then its class (`5XX`), then for 2xx commit-and-count, then the defaults.
 * Keys match case-insensitively (Flume matches the class only as written `5XX`).
 */
export function statusRules(o: Options): (status: number) => StatusRule {
  const maps = {
    rollback: upper(o['rollback.']),
    backoff: upper(o['backoff.']),
    incrementMetrics: upper(o['incrementMetrics.']),
  };
  const defaults = {
    rollback: o.defaultRollback,
    backoff: o.defaultBackoff,
    incrementMetrics: o.defaultIncrementMetrics,
  };
  const ok = { rollback: false, backoff: false, incrementMetrics: true };
  const cache = new Map<number, StatusRule>();
  return (status) => {
    let r = cache.get(status);
    if (r) return r;
    const code = String(status);
    const cls = `${code[0]}XX`;
    const two = status >= 200 && status < 300;
    const pick = (k: keyof StatusRule): boolean => maps[k][code] ?? maps[k][cls] ?? (two ? ok[k] : defaults[k]);
    r = { rollback: pick('rollback'), backoff: pick('backoff'), incrementMetrics: pick('incrementMetrics') };
    cache.set(status, r);
    return r;
  };
}

function upper(m: Record<string, boolean | undefined>): Record<string, boolean> {
  const out: Record<string, boolean> = Object.create(null) as Record<string, boolean>;
  for (const [k, v] of Object.entries(m)) if (v !== undefined) out[k.toUpperCase()] = v;
  return out;
}
