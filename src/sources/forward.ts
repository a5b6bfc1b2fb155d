/**
 * forward source: Fluentd's Forward protocol v1 server (in_forward), the receiving end of Fluentd's and Fluent
 * Bit's out_forward and of the fluent-logger clients. Wire protocol: src/rpc/forward (reference protocols.md §1).
 *
 * Every entry becomes one event: the record as compact UTF-8 JSON (or one field with messageKey), headers `tag`
 * (tagHeader) and `timestamp` (epoch ms). A request's events are acknowledged (`{"ack": chunk}`, only when the
 * request asks) after every required channel committed them; a full channel is retried while the client waits,
 * reading paused once the next request is in. Malformed input or a broken limit closes that connection without an
 * ack (the client resends).
 *
 * Differences from Fluentd, on purpose: entries are never dropped (a record that is not a map, or a float time,
 * still becomes an event); JSON connections (first byte `{` or `[`) are not understood; limits are on by default
 * (maxMessageBytes, maxEntriesPerMessage, maxBufferedBytes, maxConnections, readTimeout).
 */
import os from 'node:os';
import net from 'node:net';
import tls from 'node:tls';
import dgram from 'node:dgram';
import { defineSource, opt, type Resolved, type Source, type SourceContext } from '../contract/index.js';
import { ChannelFullError, errorMessage } from '../core/errors.js';
import type { FlumeEvent } from '../core/event.js';
import { ExponentialBackoff } from '../core/backoff.js';
import { retrying } from '../core/retry.js';
import { bindUdp, Listener } from '../net/listen.js';
import { WarnLimiter } from '../net/warn-limiter.js';
import { loadServerTls, resolveTls, tlsProblems, tlsServerOptions } from '../net/tls/index.js';
import { ClientWarnings, ForwardConnection } from '../rpc/forward/server.js';
import type { MemoryBudget } from '../rpc/forward/limits.js';

const options = {
  bind: opt.string({ default: '0.0.0.0', nonEmpty: true, doc: 'Address to listen on.' }),
  port: opt.int({
    default: 24224,
    min: 0,
    max: 65535,
    doc: 'TCP port (and UDP port with heartbeat; 0 = any free port).',
  }),
  tagHeader: opt.string({ default: 'tag', nonEmpty: true, doc: 'Header that receives the Fluentd tag.' }),
  messageKey: opt.string({
    nonEmpty: true,
    doc: 'Body = this record field (a string as is, anything else as JSON) instead of the whole record as JSON; a record without the field keeps its JSON body.',
  }),
  sharedKey: opt.string({
    nonEmpty: true,
    doc: "Require in_forward's `<security>` handshake with this shared key (HELO/PING/PONG) before any event is read.",
  }),
  selfHostname: opt.string({
    nonEmpty: true,
    doc: 'Host name this server gives in the handshake (default: the machine name).',
  }),
  'users.': opt.map({
    doc: 'With sharedKey: users.<name> = <password> also requires user authentication (in_forward `<user>`).',
  }),
  heartbeat: opt.bool({
    default: false,
    doc: "Answer UDP heartbeats on the same port (out_forward's heartbeat_type udp): every datagram gets one 0x00 byte.",
  }),
  maxMessageBytes: opt.size({
    default: 32 * 1024 * 1024,
    defaultText: '32m',
    min: 1024,
    doc: 'Largest request (and largest CompressedPackedForward payload once inflated), checked on declared lengths before anything is buffered; a larger one closes the connection.',
  }),
  maxEntriesPerMessage: opt.int({ default: 100000, min: 1, doc: 'Most entries (events) in one request.' }),
  maxBufferedBytes: opt.size({
    default: 256 * 1024 * 1024,
    defaultText: '256m',
    min: 64 * 1024,
    doc: 'Most request bytes held in memory over all connections; a connection that would go beyond is closed (its client resends).',
  }),
  maxConnections: opt.int({
    default: 1000,
    min: 1,
    doc: 'Most concurrent connections; further ones are closed at once.',
  }),
  readTimeout: opt.duration({
    default: 30,
    unit: 's',
    min: 0,
    doc: 'A connection that stalls in the middle of a request, or has not completed the handshake, for this long is closed (0 = never).',
  }),
  idleTimeout: opt.duration({
    default: 0,
    unit: 's',
    min: 0,
    doc: 'A connection with no request for this long is closed (0 = never: fluent-logger clients keep idle connections).',
  }),
  ...tlsServerOptions,
};

type Options = Resolved<typeof options>;

export class ForwardSource implements Source {
  private readonly listener: Listener<ForwardConnection>;
  private readonly budget: MemoryBudget;
  private readonly warnings: ClientWarnings;
  private readonly fullWarn = new WarnLimiter();
  private udp: dgram.Socket | undefined;
  private boundPort = 0;
  private stopping = false;
  private abort = new AbortController();

  constructor(
    private readonly o: Options,
    private readonly ctx: SourceContext,
  ) {
    const { logger, counters } = ctx;
    const owner = `forward source ${ctx.name}`;
    this.listener = new Listener({
      owner,
      logger,
      counters,
      maxConnections: o.maxConnections,
      maxBufferedBytes: o.maxBufferedBytes,
      label: 'Forward',
    });
    this.budget = this.listener.budget;
    this.warnings = new ClientWarnings(logger);
  }

  /** The bound port (useful with port 0). */
  get port(): number {
    return this.boundPort;
  }

  /** Request bytes buffered now, over all connections. */
  get bufferedBytes(): number {
    return this.budget.used;
  }

  async start(): Promise<void> {
    const o = this.o;
    this.stopping = false;
    this.abort = new AbortController();
    const t = resolveTls(o, 'server');
    const label = `forward source ${this.ctx.name}`;
    const tlsOpts = t.enabled ? loadServerTls(t, { label, warn: (msg) => this.ctx.logger.warn(msg) }) : undefined;
    const sharedKey = o.sharedKey;
    const server = {
      mapping: { tagHeader: o.tagHeader, messageKey: o.messageKey },
      maxMessageBytes: o.maxMessageBytes,
      maxEntries: o.maxEntriesPerMessage,
      readTimeoutMs: o.readTimeout,
      idleTimeoutMs: o.idleTimeout,
      budget: this.budget,
      logger: this.ctx.logger,
      auth:
        sharedKey === undefined
          ? undefined
          : { sharedKey, selfHostname: o.selfHostname ?? os.hostname(), users: new Map(Object.entries(o['users.'])) },
    };
    const hooks = {
      commit: (events: FlumeEvent[], requests: number, signal: AbortSignal) => this.commit(events, requests, signal),
      readFail: () => this.ctx.counters.add('EventReadFail'),
    };
    const accept = (s: net.Socket) => {
      if (this.stopping) return s.destroy();
      s.setNoDelay(true);
      this.listener.connections.add(new ForwardConnection(s, server, hooks, this.warnings));
    };
    let srv: net.Server;
    if (tlsOpts) {
      srv = tls.createServer({ ...tlsOpts, allowHalfOpen: true }, accept);
      srv.on('tlsClientError', (err, s) => {
        this.warnings.warn('tls', 'TLS handshake failed', { error: errorMessage(err) });
        s.destroy();
      });
    } else srv = net.createServer({ allowHalfOpen: true, noDelay: true }, accept);
    this.boundPort = await this.listener.listen(srv, o.bind, o.port);
    if (o.heartbeat) await this.startHeartbeat();
    this.ctx.logger.info('Forward source listening', {
      bind: o.bind,
      port: this.boundPort,
      tls: Boolean(tlsOpts),
      sharedKey: sharedKey !== undefined,
      heartbeat: o.heartbeat,
    });
  }

  private async startHeartbeat(): Promise<void> {
    const udp = dgram.createSocket(net.isIPv6(this.o.bind) ? 'udp6' : 'udp4');
    udp.on('message', (msg, rinfo) => {
      if (msg.length <= 128) udp.send(Buffer.from([0]), rinfo.port, rinfo.address);
    });
    udp.on('error', (err) => this.ctx.logger.warn('Heartbeat socket error', { error: errorMessage(err) }));
    const at = { host: this.o.bind, port: this.boundPort, owner: `forward source ${this.ctx.name} (heartbeat)` };
    try {
      await bindUdp(udp, at);
    } catch (err) {
      this.listener.destroy();
      throw err;
    }
    this.udp = udp;
  }

  /** Emits in slices of maxBatchSize, retrying a full channel while the connection and the source live. */
  private async commit(events: FlumeEvent[], requests: number, conn: AbortSignal): Promise<boolean> {
    const c = this.ctx.counters;
    c.add('AppendBatchReceivedCount', requests);
    const max = this.ctx.maxBatchSize;
    const backoff = new ExponentialBackoff(50, 2000);
    const signal = AbortSignal.any([this.abort.signal, conn]);
    for (let i = 0; i < events.length; i += max) {
      const slice = i === 0 && events.length <= max ? events : events.slice(i, i + max);
      const ok = await retrying(() => this.ctx.emit(slice), {
        backoff,
        signal,
        onRetry: (err) => {
          this.fullWarn.log(this.ctx.logger, 'full', 'Channel full; holding the ack and retrying (the client waits)', {
            events: slice.length,
            error: errorMessage(err),
          });
        },
        retriable: (err) => err instanceof ChannelFullError,
      }).catch((err: unknown) => {
        this.ctx.logger.warn('Could not put events into the channel; closing the connection without an ack', {
          events: slice.length,
          error: errorMessage(err),
        });
        return false;
      });
      if (!ok) return false;
    }
    c.add('AppendBatchAcceptedCount', requests);
    return true;
  }

  async close(): Promise<void> {
    this.stopping = true;
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((resolve) => udp.close(() => resolve()));
    await this.listener.close(5000, { onGraceOver: () => this.abort.abort() });
  }

  destroy(): void {
    this.stopping = true;
    this.abort.abort();
    this.udp?.close();
    this.udp = undefined;
    this.listener.destroy();
  }
}

export default defineSource({
  type: 'forward',
  aliases: ['fluentd'],
  summary:
    'Fluentd Forward protocol server (in_forward): Message, Forward, PackedForward and CompressedPackedForward from Fluentd, Fluent Bit and fluent-logger clients; acks after the commit.',
  options,
  check: (o) => {
    const problems = tlsProblems(resolveTls(o, 'server'));
    if (Object.keys(o['users.']).length > 0 && o.sharedKey === undefined)
      problems.push({
        key: 'users.',
        message: 'users.* need sharedKey (user authentication is part of the handshake)',
      });
    return problems.length ? problems : true;
  },
  claims: (o) => {
    if (o.port === 0) return [];
    const id = `${o.bind}:${o.port}`;
    return o.heartbeat
      ? [
          { resource: 'tcp', id, key: 'port' },
          { resource: 'udp', id, key: 'port' },
        ]
      : [{ resource: 'tcp', id, key: 'port' }];
  },
  create: (o, ctx) => new ForwardSource(o, ctx),
});
