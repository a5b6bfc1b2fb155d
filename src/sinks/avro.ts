/**
 * avro sink (Flume AvroSink): sends each batch as ONE `appendBatch` RPC to an avro source (ours, or Apache
 * Flume's) and resolves only on `OK`. FAILED/UNKNOWN, an error answer, a timeout or a lost connection throws a
 * retriable error: the runner rolls the batch back into the channel and retries it after a backoff, so nothing
 * is dropped (a batch whose OK was lost in flight is sent again: at-least-once).
 *
 * The connection (and its handshake) is opened at start in the background and again lazily after any failure;
 * while the next hop is absent every attempt fails fast and the runner's exponential backoff spaces them.
 * Differences from Flume, on purpose: a FAILED answer keeps the (healthy) connection instead of rebuilding it;
 * connect-timeout/request-timeout values below 1000 ms are honoured (Flume silently uses 20000); TLS verifies
 * the server's host name unless sslVerifyHostname = false; reset-connection-interval is applied between batches.
 */
import { defineSink, type Sink, type SinkContext, opt, type Resolved } from '../contract/index.js';
import { AgentError, errorMessage } from '../core/errors.js';
import type { FlumeEvent } from '../core/event.js';
import { AvroRpcClient, RpcError } from '../rpc/avro/client.js';
import { loadClientTls, resolveTls, tlsClientOptions, tlsProblems } from '../net/tls/index.js';
import type { LayerOptions } from '../rpc/avro/transport.js';

const options = {
  hostname: opt.string({ required: true, nonEmpty: true, doc: 'Host name or IP address of the next-hop avro source.' }),
  port: opt.int({ required: true, min: 1, max: 65535, doc: 'Port of the next-hop avro source.' }),
  'batch-size': opt.int({ default: 100, min: 1, doc: 'Events per appendBatch call and per channel transaction.' }),
  'connect-timeout': opt.duration({
    default: 20000,
    unit: 'ms',
    min: 1,
    doc: 'Time allowed to connect and complete the handshake (with ssl, the TLS handshake too).',
  }),
  'request-timeout': opt.duration({
    default: 20000,
    unit: 'ms',
    min: 1,
    doc: 'Time allowed for the answer to one appendBatch; on expiry the connection is dropped and the batch retried.',
  }),
  'reset-connection-interval': opt.duration({
    default: 0,
    unit: 's',
    min: 0,
    doc: 'Reconnect after this long (to re-resolve the host behind a load balancer); 0 = keep the connection.',
  }),
  'compression-type': opt.enum({
    values: ['none', 'deflate'] as const,
    default: 'none',
    doc: '`deflate`: zlib-compress the whole connection. Must match the source.',
  }),
  'compression-level': opt.int({ default: 6, min: 0, max: 9, doc: 'zlib level for compression-type = deflate.' }),
  ...tlsClientOptions,
  maxIoWorkers: opt.ignored({ doc: 'Netty I/O threads in Flume; Node uses its event loop.' }),
};

type Options = Resolved<typeof options>;

export class AvroSink implements Sink {
  readonly batchSize: number;
  private client?: AvroRpcClient;
  private connecting?: Promise<AvroRpcClient>;
  private layers: LayerOptions = {};
  private stopped = false;
  private failing = false;
  private abort = new AbortController();

  constructor(
    private readonly o: Options,
    private readonly ctx: SinkContext,
  ) {
    this.batchSize = o['batch-size'];
  }

  private get address(): string {
    return `${this.o.hostname}:${this.o.port}`;
  }

  async start(): Promise<void> {
    const o = this.o;
    this.stopped = false;
    this.abort = new AbortController();
    this.layers = {};
    if (o['compression-type'] === 'deflate') this.layers.deflate = { level: o['compression-level'] };
    const t = resolveTls(o, 'client');
    if (t.enabled) {
      const warn = (msg: string) => this.ctx.logger.warn(msg, { sink: this.ctx.name });
      this.layers.tlsClient = loadClientTls(t, { label: `avro sink ${this.ctx.name}`, host: o.hostname, warn });
    }
    // connect in the background, like Flume's start(); a missing next hop is not a start failure
    this.connect().catch(() => {});
  }

  /** The open connection, or a (shared) attempt to open one; `signal` stops waiting for it. */
  private connect(signal?: AbortSignal): Promise<AvroRpcClient> {
    if (this.client && !this.client.closed) return Promise.resolve(this.client);
    this.connecting ??= this.doConnect(this.abort.signal).finally(() => {
      this.connecting = undefined;
    });
    return signal ? raceAbort(this.connecting, signal) : this.connecting;
  }

  private async doConnect(signal: AbortSignal): Promise<AvroRpcClient> {
    const c = this.ctx.counters;
    let client: AvroRpcClient;
    try {
      client = await AvroRpcClient.connect(
        {
          host: this.o.hostname,
          port: this.o.port,
          connectTimeoutMs: this.o['connect-timeout'],
          requestTimeoutMs: this.o['request-timeout'],
          layers: this.layers,
        },
        signal,
      );
    } catch (err) {
      if (signal.aborted) throw err; // the sink is stopping: not a connection failure
      c.add('ConnectionFailedCount');
      if (!this.failing) {
        this.failing = true;
        this.ctx.logger.warn('Cannot connect to the next hop; retrying with backoff', {
          address: this.address,
          error: errorMessage(err),
        });
      }
      throw err;
    }
    if (this.stopped) {
      client.destroy();
      throw new RpcError('sink stopped', 'aborted');
    }
    c.add('ConnectionCreatedCount');
    this.failing = false;
    this.ctx.logger.info('Connected to the next hop', { address: this.address });
    client.onClose(() => {
      c.add('ConnectionClosedCount');
      if (this.client === client) this.client = undefined;
    });
    this.client = client;
    return client;
  }

  async deliver(batch: FlumeEvent[], signal: AbortSignal): Promise<void> {
    const reset = this.o['reset-connection-interval'];
    if (reset > 0 && this.client && performance.now() - this.client.createdAt >= reset) {
      this.ctx.logger.info('Resetting the connection (reset-connection-interval)', { address: this.address });
      await this.client.close();
      this.client = undefined;
    }
    let status;
    try {
      const client = await this.connect(signal);
      status = await client.appendBatch(batch, signal);
    } catch (err) {
      let msg =
        err instanceof RpcError && err.kind === 'timeout'
          ? `no answer from ${this.address} within request-timeout ${this.o['request-timeout']} ms`
          : errorMessage(err);
      if (err instanceof RpcError && err.kind === 'closed') {
        let bytes = 0;
        for (let i = 0; i < batch.length; i++) bytes += batch[i]!.body.length;
        if (bytes > 8 * 1024 * 1024)
          msg += ` (the batch holds ${(bytes / 1048576).toFixed(0)} MiB of bodies; a receiver closes connections whose messages exceed its limit - lower batch-size)`;
      }
      throw new AgentError(
        'FLUME_ERR_SINK_DELIVERY',
        `avro sink ${this.ctx.name}: batch of ${batch.length} events not delivered to ${this.address}: ${msg}`,
        { cause: err },
      );
    }
    if (status !== 'OK') {
      throw new AgentError(
        'FLUME_ERR_SINK_DELIVERY',
        `avro sink ${this.ctx.name}: ${this.address} answered ${status} for a batch of ${batch.length} events (its channel is probably full); will retry`,
      );
    }
  }

  async close(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    const pending = this.connecting;
    if (pending) await pending.catch(() => {});
    const c = this.client;
    this.client = undefined;
    if (c) await c.close();
  }

  destroy(): void {
    this.stopped = true;
    this.abort.abort();
    this.client?.destroy();
    this.client = undefined;
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new RpcError('aborted', 'aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new RpcError('aborted', 'aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export default defineSink({
  type: 'avro',
  classNames: ['org.apache.flume.sink.AvroSink'],
  summary:
    'Sends batches to an avro source (flume-ts or Apache Flume) with one appendBatch call each; commits only on OK.',
  options,
  batchSize: (o) => o['batch-size'],
  batchSizeKey: 'batch-size',
  check: (o) => tlsProblems(resolveTls(o, 'client')),
  create: (o, ctx) => new AvroSink(o, ctx),
});
