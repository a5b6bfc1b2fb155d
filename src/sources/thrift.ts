/**
 * thrift source (Flume ThriftSource): a Thrift server for Flume's ThriftSourceProtocol, the receiving end of the
 * thrift sink, Flume's ThriftRpcClient and any client generated from flume.thrift (Python, Go, C++ ...). Wire
 * protocol: src/rpc/thrift (protocols.md §8).
 *
 * `append` / `appendBatch` answer OK only after every required channel committed the events, FAILED when a
 * channel refused them (ChannelWriteFail). Malformed or hostile input closes that connection (EventReadFail),
 * never the agent. Differences from Flume, on purpose: hard limits on events per request and headers per event
 * besides the frame size; a connection cap; stalled connections are closed after readTimeout; a batch larger than
 * the channels' transactionCapacity is put in several transactions; `protocol` is validated, not defaulted.
 */
import { defineSource, type Source, type SourceContext, opt, type Resolved } from '../contract/index.js';
import type { FlumeEvent } from '../core/event.js';
import { putRpcCall } from './support/rpc-call.js';
import { WarnLimiter } from '../net/warn-limiter.js';
import { ByteBudget } from '../net/byte-budget.js';
import { loadServerTls, resolveTls, tlsProblems, tlsServerOptions } from '../net/tls/index.js';
import { FLUME_MAX_FRAME_BYTES } from '../rpc/thrift/framing.js';
import { kerberosOption, kerberosProblems, protocolOptions } from '../rpc/thrift/options.js';
import type { Status, ThriftProtocolName } from '../rpc/thrift/protocol.js';
import { ThriftServer } from '../rpc/thrift/server.js';
import type { CallName } from '../rpc/thrift/flume.js';

const options = {
  bind: opt.string({ required: true, nonEmpty: true, doc: 'Host name or IP address to listen on (0.0.0.0 for all).' }),
  port: opt.int({ required: true, min: 0, max: 65535, doc: 'TCP port to listen on (0 = any free port).' }),
  ...protocolOptions,
  threads: opt.ignored({ doc: "Flume's server thread pool; requests are handled on the event loop." }),
  ...tlsServerOptions,
  kerberos: kerberosOption,
  'agent-principal': opt.string({ doc: 'Kerberos principal (not supported: setting it is a validation error).' }),
  'agent-keytab': opt.string({ doc: 'Kerberos keytab (not supported: setting it is a validation error).' }),
  maxConnections: opt.int({
    default: 1000,
    min: 1,
    doc: 'Most concurrent connections; further ones are closed at once. Flume: unlimited.',
  }),
  maxBufferedBytes: opt.size({
    default: 128 * 1024 * 1024,
    defaultText: '128m',
    min: 1024,
    doc: 'Most request bytes held in memory over all connections (the shared network cap); a connection whose frame does not fit stops being read until others give bytes back (flume-ts).',
  }),
  maxFrameBytes: opt.size({
    default: FLUME_MAX_FRAME_BYTES,
    defaultText: '16384000',
    min: 1024,
    doc: "Largest request frame, checked on its declared length before it is read (Flume's Thrift limit); a larger one closes the connection.",
  }),
  maxEventsPerRequest: opt.int({ default: 100000, min: 1, doc: 'Most events in one appendBatch.' }),
  readTimeout: opt.duration({
    default: 30,
    unit: 's',
    min: 0,
    doc: 'A connection that stalls in the middle of a request for this long is closed (0 = never).',
  }),
  idleTimeout: opt.duration({
    default: 0,
    unit: 's',
    min: 0,
    doc: 'A connection with no request for this long is closed (0 = never; Flume clients keep idle connections open).',
  }),
};

type Options = Resolved<typeof options>;

export class ThriftSource implements Source {
  private server?: ThriftServer;
  private readonly warn = new WarnLimiter(5000);

  constructor(
    private readonly o: Options,
    private readonly ctx: SourceContext,
  ) {}

  /** The bound port (useful with port 0). */
  get port(): number {
    return this.server?.port ?? 0;
  }

  async start(): Promise<void> {
    const o = this.o;
    const t = resolveTls(o, 'server');
    const label = `thrift source ${this.ctx.name}`;
    const c = this.ctx.counters;
    const server = new ThriftServer(
      {
        host: o.bind,
        port: o.port,
        protocol: o.protocol as ThriftProtocolName,
        tls: t.enabled ? loadServerTls(t, { label, warn: (msg) => this.ctx.logger.warn(msg) }) : undefined,
        maxFrameBytes: o.maxFrameBytes,
        decodeLimits: { maxEvents: o.maxEventsPerRequest, maxHeaders: 10_000 },
        readTimeoutMs: o.readTimeout,
        idleTimeoutMs: o.idleTimeout,
        maxConnections: o.maxConnections,
        budget: new ByteBudget(o.maxBufferedBytes),
        logger: this.ctx.logger,
        counters: c,
        owner: label,
      },
      {
        handle: (events, kind) => this.handle(events, kind),
        readFail: () => c.add('EventReadFail'),
      },
    );
    await server.listen();
    this.server = server;
    this.ctx.logger.info('Thrift source listening', {
      bind: o.bind,
      port: server.port,
      protocol: o.protocol,
      ssl: t.enabled,
    });
  }

  private handle(events: FlumeEvent[], kind: CallName): Promise<Status> {
    return putRpcCall(this.ctx, this.warn, events, kind);
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await s.close(5000);
  }

  destroy(): void {
    this.server?.destroy();
    this.server = undefined;
  }
}

export default defineSource({
  type: 'thrift',
  classNames: ['org.apache.flume.source.ThriftSource'],
  summary:
    "Thrift server for Flume's ThriftSourceProtocol (framed, compact or binary): receives from thrift sinks and Thrift clients in any language; answers OK once committed.",
  options,
  check: (o) => {
    const problems = [
      ...tlsProblems(resolveTls(o, 'server')),
      ...kerberosProblems(o, ['agent-principal', 'agent-keytab']),
    ];
    if (o.maxFrameBytes > o.maxBufferedBytes)
      problems.push({
        key: 'maxBufferedBytes',
        message: `maxBufferedBytes (${o.maxBufferedBytes}) is smaller than maxFrameBytes (${o.maxFrameBytes})`,
        hint: 'raise maxBufferedBytes or lower maxFrameBytes: the largest request must fit',
      });
    return problems.length ? problems : true;
  },
  claims: (o) => (o.port === 0 ? [] : [{ resource: 'tcp', id: `${o.bind}:${o.port}`, key: 'port' }]),
  create: (o, ctx) => new ThriftSource(o, ctx),
});
