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
import type { FlumeEvent } from '../core/event.js';
import { AvroRpcClient } from '../rpc/avro/client.js';
import { ConnectionKeeper } from '../rpc/keeper.js';
import { loadClientTls, resolveTls, tlsClientOptions, tlsProblems } from '../net/tls/index.js';
import type { LayerOptions } from '../rpc/transport.js';

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
  private readonly keeper: ConnectionKeeper<AvroRpcClient>;
  private layers: LayerOptions = {};

  constructor(
    private readonly o: Options,
    private readonly ctx: SinkContext,
  ) {
    this.batchSize = o['batch-size'];
    this.keeper = new ConnectionKeeper(
      this.address,
      (signal) =>
        AvroRpcClient.connect(
          {
            host: o.hostname,
            port: o.port,
            connectTimeoutMs: o['connect-timeout'],
            requestTimeoutMs: o['request-timeout'],
            layers: this.layers,
          },
          signal,
        ),
      ctx,
    );
  }

  private get address(): string {
    return `${this.o.hostname}:${this.o.port}`;
  }

  async start(): Promise<void> {
    const o = this.o;
    this.layers = {};
    if (o['compression-type'] === 'deflate') this.layers.deflate = { level: o['compression-level'] };
    const t = resolveTls(o, 'client');
    if (t.enabled) {
      const warn = (msg: string) => this.ctx.logger.warn(msg, { sink: this.ctx.name });
      this.layers.tlsClient = loadClientTls(t, { label: `avro sink ${this.ctx.name}`, host: o.hostname, warn });
    }
    this.keeper.start();
  }

  async deliver(batch: FlumeEvent[], signal: AbortSignal): Promise<void> {
    await this.keeper.resetIfOlder(this.o['reset-connection-interval'], 'reset-connection-interval');
    await this.keeper.appendBatch(`avro sink ${this.ctx.name}`, batch, this.o['request-timeout'], signal);
  }

  close(): Promise<void> {
    return this.keeper.close();
  }

  destroy(): void {
    this.keeper.destroy();
  }
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
