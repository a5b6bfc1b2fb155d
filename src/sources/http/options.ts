/** The http source's option table, its cross-option checks and the request handler it names. */
import { type Problem, opt, OptionError, type OptionSpec, type Resolved } from '../../contract/index.js';
import { resolveTls, tlsProblems, tlsServerOptions } from '../../net/tls/index.js';
import type { HttpHandler } from './handler.js';
import { JsonHandler } from './json-handler.js';
import { BlobHandler, DEFAULT_MAX_BLOB_LENGTH } from './blob-handler.js';
import { FluentdHandler } from './fluentd-handler.js';

const HANDLERS = {
  json: ['org.apache.flume.source.http.JSONHandler', 'JSONHandler', 'json'],
  blob: ['org.apache.flume.sink.solr.morphline.BlobHandler', 'BlobHandler', 'blob'],
  fluentd: ['fluentd'],
} as const;
type HandlerName = keyof typeof HANDLERS;

const handler: OptionSpec<HandlerName> = {
  ...(opt.string({
    default: 'json',
    doc: 'Turns a request into events: org.apache.flume.source.http.JSONHandler (json: a JSON array of {"headers":{...},"body":"..."}) or org.apache.flume.sink.solr.morphline.BlobHandler (blob: the whole body is one event), or fluentd (Fluentd in_http: tag from the URL path, json=/ndjson=/msgpack= fields or a JSON, NDJSON or msgpack body; flume-ts).',
  }) as OptionSpec<any>),
  defaultText: 'org.apache.flume.source.http.JSONHandler',
  typeText: 'JSONHandler | BlobHandler (Flume class names, or json | blob) | fluentd',
  parse: (raw: string): HandlerName => {
    for (const [name, spellings] of Object.entries(HANDLERS) as [HandlerName, readonly string[]][]) {
      if (spellings.some((s) => s.toLowerCase() === raw.toLowerCase())) return name;
    }
    throw new OptionError(
      `handler '${raw}' is not available in flume-ts (custom Java handler classes cannot be loaded)`,
      `use ${HANDLERS.json[0]}, ${HANDLERS.blob[0]} or fluentd`,
    );
  },
};

const jettyIgnored = (what: string) => ({
  ...opt.map({ doc: `Jetty ${what} bean settings; no effect (see maxConnections, headersTimeout, requestTimeout).` }),
  ignored: true,
});

export const options = {
  port: opt.int({ required: true, min: 0, max: 65535, doc: 'TCP port (0 = any free port).' }),
  bind: opt.string({ default: '0.0.0.0', nonEmpty: true, doc: 'Address to listen on.' }),
  handler,
  'handler.': opt.map({
    doc: 'Handler settings: handler.maxBlobLength (BlobHandler: most body bytes kept, default 100000000; longer bodies are truncated). The JSON handler takes none.',
  }),
  maxRequestBytes: opt.size({
    default: 16 * 1024 * 1024,
    defaultText: '16m',
    min: 1,
    doc: 'Most bytes of a request body, both as sent and after gzip/deflate/br decompression; larger requests are answered 413 (flume-ts).',
  }),
  maxBufferedBytes: opt.size({
    default: 256 * 1024 * 1024,
    defaultText: '256m',
    min: 1,
    doc: 'Most request-body bytes held in memory over all requests at once; a request that would go beyond is answered 503 + Retry-After (flume-ts).',
  }),
  maxConnections: opt.int({
    default: 1000,
    min: 1,
    doc: 'Most concurrent connections; further connections are closed at once (flume-ts).',
  }),
  headersTimeout: opt.duration({
    default: 10,
    unit: 's',
    min: 0,
    doc: 'A client must send the complete request headers within this time, else the connection is closed (flume-ts; bare number = seconds).',
  }),
  requestTimeout: opt.duration({
    default: 30,
    unit: 's',
    min: 0,
    doc: 'A client must send the complete request (headers and body) within this time, else it gets 408 and the connection is closed (flume-ts; 0 = no limit).',
  }),
  keepAliveTimeout: opt.duration({
    default: 5,
    unit: 's',
    min: 0,
    doc: 'An idle keep-alive connection is closed after this time (flume-ts).',
  }),
  retryAfter: opt.duration({
    default: 1,
    unit: 's',
    min: 0,
    doc: 'Retry-After sent with 503 when a channel is full (flume-ts; whole seconds).',
  }),
  ...tlsServerOptions,
  'QueuedThreadPool.': jettyIgnored('QueuedThreadPool'),
  'HttpConfiguration.': jettyIgnored('HttpConfiguration'),
  'SslContextFactory.': jettyIgnored('SslContextFactory'),
  'ServerConnector.': jettyIgnored('ServerConnector'),
};

export type HttpSourceOptions = Resolved<typeof options>;

const HANDLER_LABEL: Record<HandlerName, string> = {
  json: 'JSON handler',
  blob: 'BlobHandler',
  fluentd: 'fluentd handler',
};

function handlerProblems(o: HttpSourceOptions): Problem[] {
  const out: Problem[] = [];
  const hs = o['handler.'];
  for (const k of Object.keys(hs)) {
    if (o.handler === 'blob' && k === 'maxBlobLength') {
      if (!/^\d+$/.test(hs[k]!.trim()) || Number(hs[k]) < 1)
        out.push({
          key: `handler.${k}`,
          message: `handler.maxBlobLength must be a whole number above 0, got '${hs[k]}'`,
        });
      continue;
    }
    out.push({
      key: `handler.${k}`,
      message: `unknown handler setting '${k}' for the ${HANDLER_LABEL[o.handler]}`,
      hint:
        o.handler === 'blob'
          ? 'BlobHandler takes handler.maxBlobLength'
          : `the ${HANDLER_LABEL[o.handler]} has no settings`,
    });
  }
  return out;
}

export function check(o: HttpSourceOptions): Problem[] {
  const out = [...handlerProblems(o), ...tlsProblems(resolveTls(o, 'server'))];
  if (o.requestTimeout > 0 && o.headersTimeout > o.requestTimeout) {
    out.push({
      key: 'headersTimeout',
      message: `headersTimeout (${o.headersTimeout} ms) must not exceed requestTimeout (${o.requestTimeout} ms)`,
    });
  }
  return out;
}

export function createHandler(o: HttpSourceOptions): HttpHandler {
  if (o.handler === 'blob') {
    const raw = o['handler.'].maxBlobLength;
    return new BlobHandler(raw === undefined ? DEFAULT_MAX_BLOB_LENGTH : Number(raw));
  }
  if (o.handler === 'fluentd') return new FluentdHandler();
  return new JsonHandler();
}
