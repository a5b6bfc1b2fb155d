/**
 * avro source (Flume AvroSource): an Avro RPC server for AvroSourceProtocol, the receiving end of Flume's avro
 * sink, `flume-ng avro-client`, Flume's SDK clients and Log4jAppender. Wire protocol: src/rpc (reference §11).
 *
 * `append` / `appendBatch` answer OK only after every required channel committed the events, FAILED when a
 * channel refused them (ChannelWriteFail). Malformed or hostile input closes that connection (EventReadFail),
 * never the agent. Differences from Flume, on purpose: a batch larger than the channels' transactionCapacity is
 * put in several transactions instead of always failing; hard limits on message size, frame count, events per
 * request and connections; stalled connections are closed after readTimeout; OpenConnectionCount is live.
 */
import { defineSource, type Source, type SourceContext, opt, type Resolved } from '../contract/index.js';
import type { FlumeEvent } from '../core/event.js';
import { putRpcCall } from './support/rpc-call.js';
import { AvroRpcServer, type CallKind } from '../rpc/avro/server.js';
import type { Status } from '../rpc/avro/protocol.js';
import { ipFilter, IpRuleError, parseIpFilterRules } from '../net/ip-filter.js';
import { WarnLimiter } from '../net/warn-limiter.js';
import { loadServerTls, resolveTls, tlsProblems, tlsServerOptions } from '../net/tls/index.js';
import type { LayerOptions } from '../rpc/transport.js';

const options = {
  bind: opt.string({ required: true, nonEmpty: true, doc: 'Host name or IP address to listen on (0.0.0.0 for all).' }),
  port: opt.int({ required: true, min: 0, max: 65535, doc: 'TCP port to listen on (0 = any free port).' }),
  threads: opt.ignored({ doc: 'Flume parses it but never uses it (1.11); requests are handled on the event loop.' }),
  'compression-type': opt.enum({
    values: ['none', 'deflate'] as const,
    default: 'none',
    doc: "`deflate`: the whole connection is a zlib stream in both directions (as Flume's Netty ZlibEncoder/Decoder). Must match the client.",
  }),
  ...tlsServerOptions,
  ipFilter: opt.bool({ default: false, doc: 'Check every client against ipFilterRules.' }),
  ipFilterRules: opt.string({
    doc: 'Comma list of `allow|deny:ip|name:pattern` (globs with * and ?), first match wins, no match allows. E.g. `allow:ip:127.*,allow:name:localhost,deny:ip:*`.',
  }),
  maxConnections: opt.int({
    default: 1000,
    min: 1,
    doc: 'Most concurrent connections; further ones are closed at once. Flume: unlimited.',
  }),
  maxMessageBytes: opt.size({
    default: 64 * 1024 * 1024,
    defaultText: '64m',
    min: 1024,
    doc: 'Largest request, checked on the declared lengths before anything is allocated; a larger one closes the connection.',
  }),
  maxBufferedBytes: opt.size({
    default: 128 * 1024 * 1024,
    defaultText: '128m',
    min: 1024,
    doc: 'Most bytes held from clients over all connections at once (partial, queued and in-progress requests). A connection that would go beyond is closed (the client retries); connections still in their handshake make room first. Flume: no cap.',
  }),
  maxFramesPerMessage: opt.int({
    default: 65536,
    min: 1,
    doc: 'Most Netty frame buffers in one request (Java clients send 8 KiB buffers).',
  }),
  maxEventsPerRequest: opt.int({ default: 100000, min: 1, doc: 'Most events in one appendBatch.' }),
  readTimeout: opt.duration({
    default: 30,
    unit: 's',
    min: 0,
    doc: 'A connection that has not finished its handshake, or stalls in the middle of a request, for this long is closed (0 = never).',
  }),
  idleTimeout: opt.duration({
    default: 0,
    unit: 's',
    min: 0,
    doc: 'A connection with no request for this long is closed (0 = never; Flume clients keep idle connections open).',
  }),
};

type Options = Resolved<typeof options>;

export class AvroSource implements Source {
  private server?: AvroRpcServer;
  private readonly warnings = new WarnLimiter();

  constructor(
    private readonly o: Options,
    private readonly ctx: SourceContext,
  ) {}

  /** The bound port (useful with port 0). */
  get port(): number {
    return this.server?.port ?? 0;
  }

  get openConnections(): number {
    return this.server?.openConnections ?? 0;
  }

  async start(): Promise<void> {
    const o = this.o;
    const layers: LayerOptions = {};
    if (o['compression-type'] === 'deflate') layers.deflate = { level: 6 };
    const t = resolveTls(o, 'server');
    const label = `avro source ${this.ctx.name}`;
    if (t.enabled) layers.tlsServer = loadServerTls(t, { label, warn: (msg) => this.ctx.logger.warn(msg) });
    const accept = o.ipFilter ? ipFilter(parseIpFilterRules(o.ipFilterRules ?? '')) : undefined;
    const c = this.ctx.counters;
    const server = new AvroRpcServer(
      {
        host: o.bind,
        port: o.port,
        layers,
        frameLimits: {
          maxFramesPerMessage: o.maxFramesPerMessage,
          maxFrameBytes: o.maxMessageBytes,
          maxMessageBytes: o.maxMessageBytes,
        },
        decodeLimits: {
          maxEvents: o.maxEventsPerRequest,
          maxHeaders: 10_000,
          maxProtocolBytes: 1 << 20,
          maxMetaEntries: 1024,
        },
        readTimeoutMs: o.readTimeout,
        idleTimeoutMs: o.idleTimeout,
        maxConnections: o.maxConnections,
        maxBufferedBytes: o.maxBufferedBytes,
        logger: this.ctx.logger,
        owner: `avro source ${this.ctx.name}`,
      },
      {
        handle: (events, kind) => this.handle(events, kind),
        readFail: () => c.add('EventReadFail'),
        connections: (n) => c.set('OpenConnectionCount', n),
        accept,
      },
    );
    await server.listen();
    this.server = server;
    this.ctx.logger.info('Avro source listening', {
      bind: o.bind,
      port: server.port,
      compression: o['compression-type'],
      ssl: o.ssl,
    });
  }

  private handle(events: FlumeEvent[], kind: CallKind): Promise<Status> {
    return putRpcCall(this.ctx, this.warnings, events, kind);
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await s.close(5000);
    this.ctx.counters.set('OpenConnectionCount', 0);
  }

  destroy(): void {
    this.server?.destroy();
    this.server = undefined;
  }
}

export default defineSource({
  type: 'avro',
  classNames: ['org.apache.flume.source.AvroSource'],
  summary:
    "Avro RPC server (Flume's AvroSourceProtocol over Netty framing): receives from avro sinks, avro-client and Flume SDK clients; answers OK once committed.",
  options,
  check: (o) => {
    const problems = tlsProblems(resolveTls(o, 'server'));
    if (o.maxMessageBytes > o.maxBufferedBytes)
      problems.push({
        key: 'maxBufferedBytes',
        message: `maxBufferedBytes (${o.maxBufferedBytes}) is smaller than maxMessageBytes (${o.maxMessageBytes})`,
        hint: 'raise maxBufferedBytes or lower maxMessageBytes: the largest request must fit',
      });
    if (o.ipFilter) {
      if (!o.ipFilterRules)
        problems.push({
          key: 'ipFilterRules',
          message: 'ipFilter is true but ipFilterRules is not set',
          hint: 'e.g. allow:ip:127.*,deny:ip:*',
        });
      else {
        try {
          parseIpFilterRules(o.ipFilterRules);
        } catch (err) {
          if (err instanceof IpRuleError)
            problems.push({
              key: 'ipFilterRules',
              message: err.message,
              hint: 'write <allow|deny>:<ip|name>:<pattern>, comma separated',
            });
          else throw err;
        }
      }
    }
    return problems.length ? problems : true;
  },
  claims: (o) => (o.port === 0 ? [] : [{ resource: 'tcp', id: `${o.bind}:${o.port}`, key: 'port' }]),
  create: (o, ctx) => new AvroSource(o, ctx),
});
