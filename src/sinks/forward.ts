/**
 * forward sink: sends each batch to a Fluentd Forward protocol server (Fluentd's in_forward, Fluent Bit, or a
 * flume-ts forward source) as PackedForward requests with EventTime, one per tag, optionally gzip-compressed
 * (CompressedPackedForward). With requireAckResponse (the default) the batch is committed only after the server
 * acknowledged every request; without, once the bytes are written. Any failure (connect, handshake, timeout, a
 * lost connection, a wrong ack) throws a retriable error: the runner rolls the batch back and retries, so nothing is
 * dropped (a batch whose ack was lost is sent again: at-least-once, as out_forward).
 *
 * Failover, standby servers and out_forward's `<secondary>` are Flume sink groups: a failover processor over
 * several forward sinks with priorities, and a file_roll sink as the last resort (docs/fluentd.md).
 */
import os from 'node:os';
import { defineSink, opt, type Resolved, type Sink, type SinkContext } from '../contract/index.js';
import { AgentError, errorMessage } from '../core/errors.js';
import type { FlumeEvent } from '../core/event.js';
import { loadClientTls, resolveTls, tlsClientOptions, tlsProblems } from '../net/tls/index.js';
import type { LayerOptions } from '../rpc/transport.js';
import { ForwardClient } from '../rpc/forward/client.js';
import { encodeBatch, type RecordMapping } from '../rpc/forward/encode.js';

const options = {
  hostname: opt.string({ required: true, nonEmpty: true, doc: 'Host name or IP address of the Forward server.' }),
  port: opt.int({ default: 24224, min: 1, max: 65535, doc: 'Port of the Forward server.' }),
  batchSize: opt.int({ default: 1000, min: 1, doc: 'Events per take transaction (sent as one request per tag).' }),
  tag: opt.string({ default: 'flume', nonEmpty: true, doc: 'Tag of events without a tagHeader header.' }),
  tagHeader: opt.string({ default: 'tag', nonEmpty: true, doc: 'Header whose value is the tag of an event.' }),
  timestampHeader: opt.string({
    default: 'timestamp',
    nonEmpty: true,
    doc: 'Header with the event time in epoch milliseconds (events without it are sent with the current time).',
  }),
  messageKey: opt.string({
    default: 'message',
    nonEmpty: true,
    doc: 'A body that is not a JSON object is sent as the record {"<messageKey>": "<body>"}.',
  }),
  includeHeaders: opt.bool({
    default: false,
    doc: "Copy the event's headers into the record (fields of the record win).",
  }),
  requireAckResponse: opt.bool({
    default: true,
    doc: 'Commit only after the server acknowledged the batch (at-least-once). false: commit once written (Fluentd default; a server crash loses what it had not processed).',
  }),
  ackResponseTimeout: opt.duration({
    default: 190,
    unit: 's',
    min: 0.001,
    doc: 'Longest wait for the ack; then the connection is dropped and the batch retried.',
  }),
  connectTimeout: opt.duration({
    default: 20,
    unit: 's',
    min: 0.001,
    doc: 'Time allowed to connect, with ssl the TLS handshake, and with sharedKey the Forward handshake.',
  }),
  sendTimeout: opt.duration({
    default: 60,
    unit: 's',
    min: 0.001,
    doc: 'Time allowed to hand a batch to the socket; then the connection is dropped and the batch retried.',
  }),
  compress: opt.enum({
    values: ['text', 'gzip'] as const,
    default: 'text',
    doc: '`gzip`: CompressedPackedForward (entries gzip-compressed).',
  }),
  sharedKey: opt.string({ nonEmpty: true, doc: "Shared key for the server's `<security>` handshake." }),
  selfHostname: opt.string({
    nonEmpty: true,
    doc: 'Host name this client gives in the handshake (default: the machine name).',
  }),
  username: opt.string({ default: '', doc: 'User for servers that also require user authentication.' }),
  password: opt.string({ default: '', doc: 'Password of username.' }),
  ...tlsClientOptions,
};

type Options = Resolved<typeof options>;

export class ForwardSink implements Sink {
  readonly batchSize: number;
  private client?: ForwardClient;
  private connecting?: Promise<ForwardClient>;
  private layers: LayerOptions = {};
  private failing = false;
  private abort = new AbortController();
  private readonly mapping: RecordMapping;

  constructor(
    private readonly o: Options,
    private readonly ctx: SinkContext,
  ) {
    this.batchSize = o.batchSize;
    this.mapping = {
      tagHeader: o.tagHeader,
      defaultTag: o.tag,
      messageKey: o.messageKey,
      includeHeaders: o.includeHeaders,
      timestampHeader: o.timestampHeader,
    };
  }

  private get address(): string {
    return `${this.o.hostname}:${this.o.port}`;
  }

  async start(): Promise<void> {
    this.abort = new AbortController();
    this.layers = {};
    const t = resolveTls(this.o, 'client');
    if (t.enabled) {
      const warn = (msg: string) => this.ctx.logger.warn(msg);
      this.layers.tlsClient = loadClientTls(t, { label: `forward sink ${this.ctx.name}`, host: this.o.hostname, warn });
    }
    this.connect().catch(() => {});
  }

  private connect(): Promise<ForwardClient> {
    if (this.client && !this.client.closed) return Promise.resolve(this.client);
    this.connecting ??= this.doConnect().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<ForwardClient> {
    const o = this.o;
    const c = this.ctx.counters;
    const signal = this.abort.signal;
    let client: ForwardClient;
    try {
      client = await ForwardClient.connect(
        {
          host: o.hostname,
          port: o.port,
          connectTimeoutMs: o.connectTimeout,
          layers: this.layers,
          auth:
            o.sharedKey === undefined
              ? undefined
              : {
                  sharedKey: o.sharedKey,
                  selfHostname: o.selfHostname ?? os.hostname(),
                  username: o.username,
                  password: o.password,
                },
        },
        signal,
      );
    } catch (err) {
      if (signal.aborted) throw err;
      c.add('ConnectionFailedCount');
      if (!this.failing) {
        this.failing = true;
        this.ctx.logger.warn('Cannot connect to the Forward server; retrying with backoff', {
          address: this.address,
          error: errorMessage(err),
        });
      }
      throw err;
    }
    if (signal.aborted) {
      client.destroy();
      throw new AgentError('FLUME_ERR_SINK_DELIVERY', 'sink stopped');
    }
    c.add('ConnectionCreatedCount');
    if (this.failing) this.ctx.logger.info('Connected to the Forward server', { address: this.address });
    this.failing = false;
    client.onClose(() => {
      c.add('ConnectionClosedCount');
      if (this.client === client) this.client = undefined;
    });
    this.client = client;
    return client;
  }

  async deliver(batch: FlumeEvent[], signal: AbortSignal): Promise<void> {
    const o = this.o;
    const ack = o.requireAckResponse;
    try {
      const requests = encodeBatch(batch, this.mapping, { ack, gzip: o.compress === 'gzip', now: Date.now() });
      const client = await this.connect();
      await client.send(requests, o.sendTimeout, o.ackResponseTimeout, signal);
    } catch (err) {
      throw new AgentError(
        'FLUME_ERR_SINK_DELIVERY',
        `forward sink ${this.ctx.name}: batch of ${batch.length} events not delivered to ${this.address}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }

  async close(): Promise<void> {
    this.abort.abort();
    await this.connecting?.catch(() => {});
    const c = this.client;
    this.client = undefined;
    if (c) await c.close();
  }

  destroy(): void {
    this.abort.abort();
    this.client?.destroy();
    this.client = undefined;
  }
}

export default defineSink({
  type: 'forward',
  aliases: ['fluentd'],
  summary:
    'Sends batches to a Fluentd Forward protocol server (Fluentd, Fluent Bit, a flume-ts forward source) as PackedForward with EventTime; commits after the ack.',
  options,
  batchSize: (o) => o.batchSize,
  check: (o) => tlsProblems(resolveTls(o, 'client')),
  create: (o, ctx) => new ForwardSink(o, ctx),
});
