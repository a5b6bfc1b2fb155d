/**
 * The http sink: POSTs each batch as one request (batchSize 1: one event per request, as Flume) and decides by
 * the response status, through the rules of options.ts, whether the take commits or rolls back. An I/O error, a
 * timeout or a malformed answer rolls back. Events with an empty body are committed without a request (as Flume),
 * and not counted as drained.
 *
 * Differences from Flume: 2xx answers commit and count by default (Flume's defaults roll back and resend every
 * answer, 200 included, forever); a rolled-back batch always waits for the runner's backoff (Flume retries at once
 * when backoff is false), and a committed one never does; the TLS server certificate and host name are verified
 * through the shared client TLS keys.
 */
import http from 'node:http';
import https from 'node:https';
import type { Sink, SinkContext, DeliveryReport } from '../../contract/index.js';
import { AgentError, errorMessage } from '../../core/errors.js';
import type { FlumeEvent } from '../../core/event.js';
import { WarnLimiter } from '../../net/warn-limiter.js';
import { loadClientTls } from '../../net/tls/index.js';
import { parseEndpoint, statusRules, tlsSettings, type Options, type StatusRule } from './options.js';
import { requestBody } from './body.js';

class RequestError extends AgentError {
  constructor(
    message: string,
    readonly kind: 'connect' | 'timeout' | 'io',
  ) {
    super('FLUME_ERR_SINK_DELIVERY', message);
  }
}

export class HttpSink implements Sink {
  readonly batchSize: number;
  private agent?: http.Agent;
  private readonly url: URL;
  private readonly auth?: string;
  private readonly rules: (status: number) => StatusRule;
  private readonly contentType: string;
  private readonly warnings = new WarnLimiter();
  /** Sockets that have connected (a keep-alive socket handed to a new request skips the connect timeout). */
  private readonly connected = new WeakSet<object>();

  constructor(
    private readonly o: Options,
    private readonly ctx: SinkContext,
  ) {
    this.batchSize = o.batchSize;
    const ep = parseEndpoint(o.endpoint);
    if (typeof ep === 'string') throw new AgentError('FLUME_ERR_CONFIG_OPTION', `endpoint: ${ep}`);
    this.url = ep.url;
    this.auth = ep.auth;
    this.rules = statusRules(o);
    this.contentType = o.contentTypeHeader ?? (o.format === 'body' ? 'text/plain' : 'application/json; charset=UTF-8');
  }

  async start(): Promise<void> {
    const t = tlsSettings(this.o);
    const warn = (msg: string) => this.ctx.logger.warn(msg, { sink: this.ctx.name });
    const common = { keepAlive: true, maxSockets: 1 };
    this.agent = t.enabled
      ? new https.Agent({
          ...common,
          ...loadClientTls(t, { label: `http sink ${this.ctx.name}`, host: this.url.hostname, warn }),
        })
      : new http.Agent(common);
    this.ctx.logger.info('Posting events', {
      endpoint: this.url.href,
      format: this.o.format,
      batchSize: this.batchSize,
    });
  }

  async deliver(batch: FlumeEvent[], signal: AbortSignal): Promise<void | DeliveryReport> {
    if (!this.agent) throw new AgentError('FLUME_ERR_SINK_DELIVERY', `http sink ${this.ctx.name} is not started`);
    const sent = batch.filter((e) => e.body.length > 0);
    if (sent.length === 0) return { drained: 0 };
    // batchSize 1 with format body: one request per event, as Flume (a larger batch only reaches here from a test)
    const lines = this.batchSize > 1;
    const requests = !lines && this.o.format === 'body' ? sent.map((e) => [e]) : [sent];
    let drained = 0;
    for (const events of requests) {
      if (await this.send(events, lines, signal)) drained += events.length;
    }
    return drained === batch.length ? undefined : { drained };
  }

  /** One request; resolves with whether its events count as drained, throws when they must be rolled back. */
  private async send(events: FlumeEvent[], lines: boolean, signal: AbortSignal): Promise<boolean> {
    const body = requestBody(events, this.o.format, lines);
    let status: number;
    try {
      status = await this.post(body, signal);
    } catch (err) {
      this.ctx.counters.add('ConnectionFailedCount');
      const e = err as RequestError;
      const what =
        e.kind === 'connect'
          ? `cannot connect within connectTimeout ${this.o.connectTimeout} ms`
          : e.kind === 'timeout'
            ? `no answer within requestTimeout ${this.o.requestTimeout} ms`
            : errorMessage(err);
      throw new AgentError(
        'FLUME_ERR_SINK_DELIVERY',
        `http sink ${this.ctx.name}: ${events.length} events not delivered to ${this.url.href}: ${what}`,
        { cause: err },
      );
    }
    if (status < 100 || status > 999)
      throw new AgentError(
        'FLUME_ERR_SINK_DELIVERY',
        `http sink ${this.ctx.name}: malformed answer (status ${status}) from ${this.url.href}; will retry`,
      );
    const rule = this.rules(status);
    if (rule.rollback)
      throw new AgentError(
        'FLUME_ERR_SINK_DELIVERY',
        `http sink ${this.ctx.name}: ${this.url.href} answered ${status} for ${events.length} events; rolled back ` +
          `for retry (set rollback.${status} = false to commit them instead)`,
      );
    if (status >= 300 && this.warnings.hit(String(status)) >= 0)
      this.ctx.logger.warn('The endpoint answered a non-2xx status; the events were committed as configured', {
        sink: this.ctx.name,
        status,
        events: events.length,
      });
    return rule.incrementMetrics;
  }

  /** One POST; resolves with the status once the answer is read (its body discarded). */
  private post(body: Buffer, signal: AbortSignal): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      let done = false;
      let timer: NodeJS.Timeout | undefined;
      const finish = (err: Error | undefined, status?: number) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        if (err) {
          req.destroy();
          reject(err);
        } else resolve(status!);
      };
      const onAbort = () => finish(new RequestError('the sink is stopping', 'io'));
      const arm = (ms: number, kind: 'connect' | 'timeout') => {
        clearTimeout(timer);
        timer = setTimeout(() => finish(new RequestError(`${kind} timeout`, kind)), ms);
      };
      const req = (this.url.protocol === 'https:' ? https : http).request(this.url, {
        method: 'POST',
        agent: this.agent,
        auth: this.auth,
        headers: {
          'content-type': this.contentType,
          accept: this.o.acceptHeader,
          'content-length': body.length,
        },
      });
      req.on('socket', (socket) => {
        if (this.connected.has(socket)) return arm(this.o.requestTimeout, 'timeout');
        // a new connection: connectTimeout covers the TCP connect and the TLS handshake
        arm(this.o.connectTimeout, 'connect');
        socket.once(this.url.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
          this.connected.add(socket);
          this.ctx.counters.add('ConnectionCreatedCount');
          socket.once('close', () => this.ctx.counters.add('ConnectionClosedCount'));
          if (!done) arm(this.o.requestTimeout, 'timeout');
        });
      });
      req.on('response', (res) => {
        res.on('data', () => {});
        res.on('end', () => finish(undefined, res.statusCode ?? 0));
        res.on('error', (err) => finish(err));
      });
      req.on('error', (err) => finish(err));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      req.end(body);
    });
  }

  async close(): Promise<void> {
    this.agent?.destroy();
    this.agent = undefined;
  }

  destroy(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}
