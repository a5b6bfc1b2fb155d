/**
 * The UDP side of syslogudp and netcatudp: one socket, datagrams collected while an emit is in flight and sent
 * as one batch (no per-datagram transaction).
 *
 * UDP cannot push back on senders. While the channel is full the pending batch is retried with backoff (100 ms
 * doubling to 2 s) and new datagrams queue up to MAX_PENDING_DATAGRAMS / MAX_PENDING_BYTES; beyond that they
 * are dropped, counted in ChannelWriteFail (one per dropped datagram) and logged (rate-limited). Flume drops
 * every event that meets a full channel.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import type { Source, SourceContext } from '../contract/index.js';
import type { FlumeEvent } from '../core/event.js';
import { ChannelFullError, errorMessage, isRetriable } from '../core/errors.js';
import { ExponentialBackoff } from '../core/backoff.js';
import { retrying } from '../core/retry.js';
import { HostnameResolver, plainIp } from './peer.js';
import { WarnLimiter } from './warn-limiter.js';
import { bindUdp } from './listen.js';

export interface UdpIntakeConfig {
  kind: string;
  host: string;
  port: number;
  wantsHostname: boolean;
  /** Turns one datagram into events appended to `out` (possibly none). */
  toEvents(msg: Buffer, ip: string, port: number, hostname: string | undefined, out: FlumeEvent[]): void;
}

export const MAX_PENDING_DATAGRAMS = 10_000;
export const MAX_PENDING_BYTES = 16 * 1024 * 1024;

interface Datagram {
  msg: Buffer;
  ip: string;
  port: number;
}

export class UdpIntake implements Source {
  closeGraceMs = 3000;
  maxPendingDatagrams = MAX_PENDING_DATAGRAMS;
  maxPendingBytes = MAX_PENDING_BYTES;
  retryInitialMs = 100;
  retryMaxMs = 2000;

  private socket: dgram.Socket | undefined;
  private boundPort = 0;
  private pending: Datagram[] = [];
  private pendingBytes = 0;
  private flushing: Promise<void> | undefined;
  private scheduled = false;
  private stopping = false;
  private abort = new AbortController();
  private closing: Promise<void> | undefined;
  private readonly resolver = new HostnameResolver();
  private readonly warn = new WarnLimiter();
  /** Datagrams dropped because the queue was full (or the source stopped with them queued). */
  dropped = 0;

  constructor(
    readonly cfg: UdpIntakeConfig,
    readonly ctx: SourceContext,
  ) {}

  get port(): number {
    return this.socket ? this.boundPort : this.cfg.port;
  }

  async start(): Promise<void> {
    if (this.socket) return;
    this.stopping = false;
    this.closing = undefined;
    if (this.abort.signal.aborted) this.abort = new AbortController();
    const host = this.cfg.host;
    const type = net.isIPv6(host) ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, recvBufferSize: 4 * 1024 * 1024 });
    const owner = `${this.cfg.kind} source ${this.ctx.name}`;
    this.boundPort = await bindUdp(socket, { host, port: this.cfg.port, owner });
    socket.on('error', (err) => this.ctx.logger.error('UDP socket error', { error: errorMessage(err) }));
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    this.socket = socket;
    this.ctx.logger.info('UDP source listening', { kind: this.cfg.kind, host, port: this.boundPort });
  }

  private onMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (this.stopping) return;
    if (this.pending.length >= this.maxPendingDatagrams || this.pendingBytes + msg.length > this.maxPendingBytes) {
      this.dropped++;
      this.ctx.counters.add('ChannelWriteFail');
      this.warn.log(
        this.ctx.logger,
        'drop',
        'Datagram dropped: the channel is not taking events and the pending queue is full',
        { pendingDatagrams: this.pending.length, droppedSoFar: this.dropped },
      );
      return;
    }
    this.pending.push({ msg, ip: plainIp(rinfo.address), port: rinfo.port });
    this.pendingBytes += msg.length;
    if (!this.flushing && !this.scheduled) {
      // gather every datagram read in this turn of the event loop into one batch
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        if (!this.flushing) this.flushing = this.flush().finally(() => (this.flushing = undefined));
      });
    }
  }

  private batchLimit(): number {
    return Math.max(1, this.ctx.maxBatchSize);
  }

  private async flush(): Promise<void> {
    const limit = this.batchLimit();
    while (this.pending.length > 0 && !this.abort.signal.aborted) {
      const grams = this.pending.splice(0, limit);
      for (const g of grams) this.pendingBytes -= g.msg.length;
      let names: Map<string, string> | undefined;
      if (this.cfg.wantsHostname) {
        names = new Map();
        for (const g of grams) {
          if (!names.has(g.ip)) names.set(g.ip, await this.resolver.resolve(g.ip));
        }
      }
      const events: FlumeEvent[] = [];
      for (const g of grams) this.cfg.toEvents(g.msg, g.ip, g.port, names?.get(g.ip), events);
      for (let i = 0; i < events.length; i += limit) {
        const batch = i === 0 && events.length <= limit ? events : events.slice(i, i + limit);
        if (!(await this.deliver(batch))) return;
      }
      if (!this.stopping) await new Promise<void>((r) => setImmediate(r));
    }
  }

  private async deliver(batch: FlumeEvent[]): Promise<boolean> {
    const { ctx } = this;
    const n = batch.length;
    let warned = false;
    let ok: boolean;
    try {
      // ChannelWriteFail counts what is lost here (dropped datagrams and events), not the refusals retried
      ok = await retrying(() => ctx.emit(batch, { countRefusal: false }), {
        backoff: new ExponentialBackoff(this.retryInitialMs, this.retryMaxMs),
        signal: this.abort.signal,
        retriable: (err) => err instanceof ChannelFullError || isRetriable(err),
        onRetry: (err) => {
          if (warned) return;
          warned = true;
          const fields = { events: n, error: errorMessage(err) };
          ctx.logger.warn('Channel full; retrying the batch (new datagrams queue up, then are dropped)', fields);
        },
      });
    } catch (err) {
      ctx.counters.add('ChannelWriteFail', n);
      const error = errorMessage(err);
      ctx.logger.error('Events could not be put into the channel and are dropped', { events: n, error });
      return true;
    }
    if (!ok) {
      this.dropped += n;
      ctx.counters.add('ChannelWriteFail', n);
      ctx.logger.warn('Source stopping; events waiting for channel space are lost', { events: n });
      return false;
    }
    if (warned) ctx.logger.info('Channel accepted the pending batch again', { events: n });
    return true;
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.stopping = true;
    const socket = this.socket;
    this.socket = undefined;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    const grace = setTimeout(() => this.abort.abort(), this.closeGraceMs);
    try {
      // deliver what was received before the socket closed
      while (this.flushing || this.scheduled || (this.pending.length > 0 && !this.abort.signal.aborted)) {
        if (this.flushing) await this.flushing;
        else if (this.scheduled) await new Promise<void>((r) => setImmediate(r));
        else this.flushing = this.flush().finally(() => (this.flushing = undefined));
      }
    } finally {
      clearTimeout(grace);
    }
    if (this.pending.length > 0) {
      this.dropped += this.pending.length;
      this.ctx.counters.add('ChannelWriteFail', this.pending.length);
      this.ctx.logger.warn('Source stopped with datagrams not delivered', { datagrams: this.pending.length });
      this.pending = [];
      this.pendingBytes = 0;
    }
    this.ctx.logger.info('UDP source stopped', { kind: this.cfg.kind, port: this.boundPort });
  }

  destroy(): void {
    this.stopping = true;
    this.abort.abort();
    this.socket?.close();
    this.socket = undefined;
  }
}
