/**
 * http (Flume HTTPSource): an HTTP(S) server; each request's events go to the channels in one transaction and
 * the answer comes only after that commit.
 *
 * Status codes: 200 (empty body) once every event of the request is committed; 400 malformed JSON or a bad
 * element (nothing committed); 403 TRACE/OPTIONS (as Flume); 405 other methods but POST/GET; 413 a body above
 * maxRequestBytes (checked on Content-Length before reading, while reading, and after decompression) or more
 * events than one channel transaction holds; 415 an unsupported charset or Content-Encoding; 431 oversized
 * request headers (Node's limit); 503 + Retry-After when a channel is full or the source is stopping; 500
 * anything else.
 *
 * Differences from Flume, on purpose: a request with more events than transactionCapacity is refused with 413
 * (Flume: 503, so the client retries forever); request size, header/request timeouts and a connection cap are
 * enforced (Flume: Jetty defaults); gzip/deflate/br request bodies are accepted; 503 carries Retry-After;
 * unsupported charsets are 415 and handler errors are 400 with the element named (Flume: 500).
 */
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import { defineSource, type Source, type SourceContext } from '../../contract/index.js';
import { AgentError, ChannelFullError, errorMessage } from '../../core/errors.js';
import type { FlumeEvent } from '../../core/event.js';
import { idleTimeout, Listener } from '../../net/listen.js';
import { loadServerTls, resolveTls } from '../../net/tls/index.js';
import { HttpError, type HttpHandler, type RequestInfo } from './handler.js';
import { contentTypeCharset } from './charset.js';
import { check, createHandler, options, type HttpSourceOptions } from './options.js';
import { DECODERS, lingeringClose, readBody } from './body.js';
import type { ByteBudget } from '../../net/byte-budget.js';

// ----------------------------------------------------------------------------------------------- source

export class HttpSource implements Source {
  /** How long close() lets in-flight requests finish before connections are cut. */
  closeGraceMs = 5000;

  private server: http.Server | undefined;
  private readonly listener: Listener;
  private boundPort = 0;
  private readonly handler: HttpHandler;
  private stopping = false;
  private inFlight = 0;
  private idle: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  readonly budget: ByteBudget;

  constructor(
    readonly o: HttpSourceOptions,
    readonly ctx: SourceContext,
  ) {
    this.handler = createHandler(o);
    const { logger, counters } = ctx;
    const owner = `http source ${ctx.name}`;
    this.listener = new Listener({
      owner,
      logger,
      counters,
      maxConnections: o.maxConnections,
      maxBufferedBytes: o.maxBufferedBytes,
      label: 'HTTP',
    });
    this.budget = this.listener.budget;
  }

  get port(): number {
    return this.server ? this.boundPort : this.o.port;
  }

  get connectionCount(): number {
    return this.listener.connections.size;
  }

  async start(): Promise<void> {
    if (this.server) return;
    this.stopping = false;
    this.closing = undefined;
    const { o } = this;
    const t = resolveTls(o, 'server');
    const label = `http source ${this.ctx.name}`;
    const tlsOpts = t.enabled ? loadServerTls(t, { label, warn: (msg) => this.ctx.logger.warn(msg) }) : undefined;
    const httpOpts: http.ServerOptions = {
      headersTimeout: o.headersTimeout,
      requestTimeout: o.requestTimeout,
      keepAliveTimeout: o.keepAliveTimeout,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, o.headersTimeout / 4 || 1000)),
    };
    const onRequest = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    const server: http.Server = tlsOpts
      ? https.createServer({ ...tlsOpts, ...httpOpts }, onRequest)
      : http.createServer(httpOpts, onRequest);
    server.keepAliveTimeout = o.keepAliveTimeout;
    server.on('checkContinue', (req, res) => {
      if (this.declaredTooLarge(req)) this.tooLarge(req, res);
      else {
        res.writeContinue();
        void this.handle(req, res);
      }
    });
    // Node's headersTimeout only starts with the first byte: a socket that sends nothing would stay forever.
    // Armed on the socket the HTTP parser reads (the TLS socket for https; the handshake has its own timeout).
    const arm = (s: net.Socket) => idleTimeout(s, o.headersTimeout);
    if (tlsOpts) server.on('secureConnection', arm);
    else server.on('connection', arm);
    this.listener.trackSockets(server);
    server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
      const code = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      this.warnLimited('clientError', 'Bad or slow HTTP client; closing its connection', {
        code: err.code,
        error: errorMessage(err),
      });
      if (socket.writable && !(err.code === 'ECONNRESET')) {
        const reason = http.STATUS_CODES[code] ?? 'Bad Request';
        socket.end(`HTTP/1.1 ${code} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
      } else {
        socket.destroy();
      }
    });
    if (tlsOpts) {
      server.on('tlsClientError', (err: Error, s: net.Socket) => {
        this.warnLimited('tls', 'TLS handshake failed', { error: errorMessage(err) });
        s.destroy(); // a handshake timeout only reports the error
      });
    }
    this.boundPort = await this.listener.listen(server, o.bind, o.port);
    this.server = server;
    this.ctx.logger.info('HTTP source listening', {
      bind: o.bind,
      port: this.boundPort,
      handler: o.handler,
      tls: Boolean(tlsOpts),
    });
  }

  private warnLimited(key: string, msg: string, fields: Record<string, unknown>): void {
    this.listener.warnings.log(this.ctx.logger, key, msg, fields);
  }

  private declaredTooLarge(req: http.IncomingMessage): boolean {
    const cl = req.headers['content-length'];
    return cl !== undefined && /^\d+$/.test(cl) && Number(cl) > this.o.maxRequestBytes;
  }

  private send(
    res: http.ServerResponse,
    status: number,
    message: string,
    extra: Record<string, string> = {},
    close = false,
  ): void {
    if (res.headersSent || res.destroyed) return;
    const body = message ? `${message}\n` : '';
    const headers: Record<string, string | number> = {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Length': Buffer.byteLength(body),
      ...extra,
    };
    if (close || this.stopping) headers.Connection = 'close';
    res.writeHead(status, headers);
    res.end(body);
  }

  private tooLarge(req: http.IncomingMessage, res: http.ServerResponse, what = 'Request body'): void {
    this.ctx.counters.add('EventReadFail');
    this.warnLimited('413', 'Request too large; answered 413', {
      remote: req.socket.remoteAddress,
      maxRequestBytes: this.o.maxRequestBytes,
    });
    this.send(res, 413, `${what} exceeds maxRequestBytes (${this.o.maxRequestBytes} bytes)`, {}, true);
    lingeringClose(req, res);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    this.inFlight++;
    try {
      await this.process(req, res);
    } catch (err) {
      this.ctx.logger.error('HTTP request failed unexpectedly', { error: errorMessage(err) });
      this.send(res, 500, `Internal error: ${errorMessage(err)}`);
    } finally {
      if (--this.inFlight === 0) this.idle?.();
    }
  }

  private async process(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    req.socket.setTimeout(0); // headers arrived: from here requestTimeout and keepAliveTimeout apply
    const method = req.method ?? 'GET';
    if (method === 'TRACE' || method === 'OPTIONS') return this.send(res, 403, `${method} is not allowed`);
    if (method !== 'POST' && method !== 'GET')
      return this.send(res, 405, `${method} is not supported; use POST`, { Allow: 'POST, GET' });
    if (this.stopping)
      return this.send(
        res,
        503,
        'The source is stopping',
        { 'Retry-After': String(Math.ceil(this.o.retryAfter / 1000)) },
        true,
      );
    const encoding = (req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (!(encoding in DECODERS))
      return this.send(
        res,
        415,
        `Unsupported Content-Encoding '${encoding}' (use gzip, deflate, br or none)`,
        {},
        true,
      );
    if (this.declaredTooLarge(req)) return this.tooLarge(req, res);
    const max = this.o.maxRequestBytes;
    const read = await readBody(req, max, this.budget);
    if (!read.ok) {
      if (read.tooLarge) this.tooLarge(req, res);
      else if (read.busy) {
        res.setHeader('Connection', 'close');
        this.busy(res);
        lingeringClose(req, res);
      }
      return; // else the client went away
    }
    const held = read.body.length;
    try {
      await this.afterRead(req, res, read.body, encoding, method);
    } finally {
      this.budget.give(held);
    }
  }

  private busy(res: http.ServerResponse): void {
    this.warnLimited('busy', 'Too many request bytes in memory (maxBufferedBytes); answered 503', {
      maxBufferedBytes: this.o.maxBufferedBytes,
    });
    this.send(
      res,
      503,
      `Server busy: request bodies in memory exceed maxBufferedBytes (${this.o.maxBufferedBytes}); retry later`,
      { 'Retry-After': String(Math.ceil(this.o.retryAfter / 1000)) },
    );
  }

  /** Decompresses (within maxRequestBytes and the shared byte budget), then hands the body on. */
  private async afterRead(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    raw: Buffer,
    encoding: string,
    method: string,
  ): Promise<void> {
    const decode = DECODERS[encoding];
    if (!decode || raw.length === 0) return this.toChannel(req, res, raw, method);
    let body: Buffer;
    try {
      body = await decode(raw, { maxOutputLength: this.o.maxRequestBytes });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError)
        return this.tooLarge(req, res, 'Decompressed request body');
      this.ctx.counters.add('EventReadFail');
      return this.send(res, 400, `Request body is not valid ${encoding} data: ${errorMessage(err)}`);
    }
    if (!this.budget.take(body.length)) return this.busy(res);
    try {
      await this.toChannel(req, res, body, method);
    } finally {
      this.budget.give(body.length);
    }
  }

  /** Handler, then one emit; answers the request. */
  private async toChannel(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Buffer,
    method: string,
  ): Promise<void> {
    const contentType = req.headers['content-type'];
    const info: RequestInfo = {
      method,
      contentType,
      charset: contentTypeCharset(contentType),
      query: new URL(req.url ?? '/', 'http://x').searchParams,
      url: req.url ?? '/',
    };
    const maxEvents = Math.max(1, this.ctx.maxBatchSize);
    let events: FlumeEvent[];
    try {
      events = this.handler.getEvents(info, body, { maxEvents });
    } catch (err) {
      this.ctx.counters.add('EventReadFail');
      if (err instanceof HttpError) {
        this.warnLimited(`h${err.status}`, 'Bad request from client', {
          status: err.status,
          remote: req.socket.remoteAddress,
          error: err.message,
        });
        return this.send(res, err.status, err.message);
      }
      this.ctx.logger.warn('Handler failed', { error: errorMessage(err) });
      return this.send(res, 500, `Handler failed: ${errorMessage(err)}`);
    }
    const { counters } = this.ctx;
    counters.add('AppendBatchReceivedCount');
    if (events.length > maxEvents) {
      // refused before any emit: received, never put (emit counts everything else)
      counters.add('EventReceivedCount', events.length);
      return this.send(
        res,
        413,
        `Request has ${events.length} events; at most ${maxEvents} fit in one request (the smallest transactionCapacity of this source's channels)`,
      );
    }
    if (events.length > 0) {
      try {
        await this.ctx.emit(events);
      } catch (err) {
        if (err instanceof ChannelFullError || (err instanceof AgentError && err.code === 'FLUME_ERR_CHANNEL_CLOSED')) {
          this.warnLimited('503', 'Channel full; answered 503 (the client should retry)', {
            events: events.length,
            error: errorMessage(err),
          });
          return this.send(res, 503, `Channel full, nothing was committed; retry later: ${errorMessage(err)}`, {
            'Retry-After': String(Math.ceil(this.o.retryAfter / 1000)),
          });
        }
        this.ctx.logger.error('Unexpected error putting events into the channel', {
          events: events.length,
          error: errorMessage(err),
        });
        return this.send(res, 500, `Error putting events into the channel: ${errorMessage(err)}`);
      }
    }
    counters.add('AppendBatchAcceptedCount');
    this.send(res, 200, '');
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.stopping = true;
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    // the requests in flight get closeGraceMs, then every connection is cut
    const requests = this.inFlight === 0 ? undefined : new Promise<void>((resolve) => (this.idle = resolve));
    const closed = this.listener.close(this.closeGraceMs, { work: requests ?? Promise.resolve(), lingerMs: 0 });
    server.closeIdleConnections();
    await closed;
    this.idle = undefined;
    this.ctx.logger.info('HTTP source stopped', { port: this.boundPort });
  }

  destroy(): void {
    this.stopping = true;
    this.server = undefined;
    this.listener.destroy();
  }
}

export default defineSource({
  type: 'http',
  classNames: ['org.apache.flume.source.http.HTTPSource'],
  summary:
    'HTTP(S) server: JSON arrays of events (or whole bodies as one event) are committed in one transaction per request, answered 200 only after the commit.',
  options,
  check,
  claims: (o) => (o.port === 0 ? [] : [{ resource: 'tcp', id: `${o.bind}:${o.port}`, key: 'port' }]),
  create: (o, ctx) => new HttpSource(o, ctx),
});
