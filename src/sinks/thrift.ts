/**
 * thrift sink (Flume ThriftSink): sends each batch as ONE `appendBatch` call to a thrift source (ours, or Apache
 * Flume's) and resolves only on `OK`. FAILED/ERROR/UNKNOWN, an exception answer, a timeout or a lost connection
 * throws a retriable error: the runner rolls the batch back and retries it after a backoff (at-least-once).
 *
 * Differences from Flume, on purpose: a non-OK Status keeps the (healthy) connection while an exception or timeout
 * drops it (as Flume), but a batch is never split into sub-batches on one connection (Flume's split duplicates the
 * parts already accepted when a later part fails); timeouts below 1000 ms are honoured; TLS verifies the server's
 * host name unless sslVerifyHostname = false.
 */
import { defineSink, type Sink, type SinkContext, opt, type Resolved } from '../contract/index.js';
import type { FlumeEvent } from '../core/event.js';
import { loadClientTls, resolveTls, tlsClientOptions, tlsProblems } from '../net/tls/index.js';
import { ConnectionKeeper } from '../rpc/keeper.js';
import { ThriftClient } from '../rpc/thrift/client.js';
import type { ThriftProtocolName } from '../rpc/thrift/protocol.js';
import { kerberosOption, kerberosProblems, protocolOptions } from '../rpc/thrift/options.js';
import type tls from 'node:tls';

const options = {
  hostname: opt.string({
    required: true,
    nonEmpty: true,
    doc: 'Host name or IP address of the next-hop thrift source.',
  }),
  port: opt.int({ required: true, min: 1, max: 65535, doc: 'Port of the next-hop thrift source.' }),
  'batch-size': opt.int({ default: 100, min: 1, doc: 'Events per appendBatch call and per channel transaction.' }),
  'connect-timeout': opt.duration({
    default: 20000,
    unit: 'ms',
    min: 1,
    doc: 'Time allowed to connect (with ssl, the TLS handshake too). Flume reads it but does not use it.',
  }),
  'request-timeout': opt.duration({
    default: 20000,
    unit: 'ms',
    min: 1,
    doc: 'Time allowed for the answer to one appendBatch; on expiry the connection is dropped and the batch retried.',
  }),
  'connection-reset-interval': opt.duration({
    default: 0,
    unit: 's',
    min: 0,
    doc: 'Reconnect after this long (to re-resolve the host behind a load balancer); 0 = keep the connection.',
  }),
  ...protocolOptions,
  ...tlsClientOptions,
  kerberos: kerberosOption,
  'client-principal': opt.string({ doc: 'Kerberos principal (not supported: setting it is a validation error).' }),
  'client-keytab': opt.string({ doc: 'Kerberos keytab (not supported: setting it is a validation error).' }),
  'server-principal': opt.string({ doc: 'Kerberos principal of the source (not supported: a validation error).' }),
};

type Options = Resolved<typeof options>;

export class ThriftSink implements Sink {
  readonly batchSize: number;
  private readonly keeper: ConnectionKeeper<ThriftClient>;
  private tls?: tls.ConnectionOptions;

  constructor(
    private readonly o: Options,
    private readonly ctx: SinkContext,
  ) {
    this.batchSize = o['batch-size'];
    this.keeper = new ConnectionKeeper(
      this.address,
      (signal) =>
        ThriftClient.connect(
          {
            host: o.hostname,
            port: o.port,
            protocol: o.protocol as ThriftProtocolName,
            connectTimeoutMs: o['connect-timeout'],
            requestTimeoutMs: o['request-timeout'],
            tls: this.tls,
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
    const t = resolveTls(this.o, 'client');
    this.tls = undefined;
    if (t.enabled) {
      const warn = (msg: string) => this.ctx.logger.warn(msg, { sink: this.ctx.name });
      this.tls = loadClientTls(t, { label: `thrift sink ${this.ctx.name}`, host: this.o.hostname, warn });
    }
    this.keeper.start();
  }

  async deliver(batch: FlumeEvent[], signal: AbortSignal): Promise<void> {
    await this.keeper.resetIfOlder(this.o['connection-reset-interval'], 'connection-reset-interval');
    await this.keeper.appendBatch(`thrift sink ${this.ctx.name}`, batch, this.o['request-timeout'], signal);
  }

  close(): Promise<void> {
    return this.keeper.close();
  }

  destroy(): void {
    this.keeper.destroy();
  }
}

export default defineSink({
  type: 'thrift',
  classNames: ['org.apache.flume.sink.ThriftSink'],
  summary:
    'Sends batches to a thrift source (flume-ts or Apache Flume) with one appendBatch call each (framed, compact or binary); commits only on OK.',
  options,
  batchSize: (o) => o['batch-size'],
  batchSizeKey: 'batch-size',
  check: (o) => {
    const problems = [
      ...tlsProblems(resolveTls(o, 'client')),
      ...kerberosProblems(o, ['client-principal', 'client-keytab', 'server-principal']),
    ];
    return problems.length ? problems : true;
  },
  create: (o, ctx) => new ThriftSink(o, ctx),
});
