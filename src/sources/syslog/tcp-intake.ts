/**
 * The TCP side of syslogtcp and multiport_syslogtcp: listeners (plain or TLS) on one or more ports, framing
 * (LF or octet counting), parsing, and batched emits with backpressure.
 *
 * Backpressure (Flume drops the message on a full channel): a connection whose batch meets ChannelFullError
 * stops reading from its socket (TCP flow control pushes back on the sender) and retries the same batch with
 * backoff, 100 ms doubling to 2 s, until it commits; nothing read is lost while the agent runs. On stop, reading
 * stops at once and a batch still waiting for space gets `closeGraceMs`; what it holds then is logged as lost
 * (syslog has no acknowledgements).
 */
import net from 'node:net';
import tls from 'node:tls';
import type { SourceContext, Source } from '../../contract/index.js';
import type { FlumeEvent } from '../../core/event.js';
import { ChannelFullError, errorMessage, isRetriable } from '../../core/errors.js';
import { QueuedConnection } from '../../net/queued-connection.js';
import { Listener } from '../../net/listen.js';
import type { ByteBudget } from '../../net/byte-budget.js';
import type { WarnLimiter } from '../../net/warn-limiter.js';
import { SyslogFramer, type FrameSink } from './framing.js';
import { HostnameResolver, plainIp } from '../../net/peer.js';

export interface TcpIntakeConfig {
  /** `syslogtcp`, for messages. */
  kind: string;
  host: string;
  ports: readonly number[];
  /** TLS server options (already loaded), or undefined for plain TCP. */
  tls?: () => tls.TlsOptions | undefined;
  eventSize: number;
  /** Events per emit (also capped by ctx.maxBatchSize). */
  batchSize: number;
  maxConnections: number;
  /** Cap on bytes read and not yet processed over all connections; default none. */
  maxBufferedBytes?: number;
  /** A connection silent this long (nothing in flight) is closed; 0 or absent: never. */
  idleTimeoutMs?: number;
  /** Client hostname needed (reverse lookup once per connection before its first batch). */
  wantsHostname: boolean;
  /** Per-connection extra headers from the client address (and the local port). */
  extraHeaders(ip: string, hostname: string | undefined, localPort: number): Record<string, string> | undefined;
  /** A parser for one connection (it may keep caches between messages). */
  parser(localPort: number): FrameParser;
}

/** Turns one frame into one event. */
export interface FrameParser {
  /**
   * The message is `buf[start, end)`; `nowMs` is read once per batch; `copy`: the body must not be a view into
   * `buf` (else it may be).
   */
  parse(
    buf: Buffer,
    start: number,
    end: number,
    incomplete: boolean,
    nowMs: number,
    extra: Record<string, string> | undefined,
    copy: boolean,
  ): FlumeEvent;
}

/** Declared octet counts above this (or eventSize, when larger) close the connection. */
export const MAX_DECLARED_LENGTH = 1024 * 1024;

export class TcpIntake implements Source {
  closeGraceMs = 3000;
  retryInitialMs = 100;
  retryMaxMs = 2000;

  private readonly listener: Listener<TcpConn>;
  private readonly bound = new Map<number, number>();
  stopping = false;
  abort = new AbortController();
  private closing: Promise<void> | undefined;
  readonly resolver = new HostnameResolver();

  constructor(
    readonly cfg: TcpIntakeConfig,
    readonly ctx: SourceContext,
  ) {
    const { logger, counters } = ctx;
    const owner = `${cfg.kind} source ${ctx.name}`;
    this.listener = new Listener({
      owner,
      logger,
      counters,
      maxConnections: cfg.maxConnections,
      maxBufferedBytes: cfg.maxBufferedBytes,
      label: 'Syslog',
    });
  }

  /** Bytes read from clients and not yet processed, over all connections (maxBufferedBytes). */
  get buffered(): ByteBudget {
    return this.listener.budget;
  }

  /** The limiter for warnings about this source's clients. */
  get warnings(): WarnLimiter {
    return this.listener.warnings;
  }

  get idleTimeoutMs(): number {
    return this.cfg.idleTimeoutMs ?? 0;
  }

  /** Bound ports, in configured order (useful with port 0). */
  get ports(): number[] {
    return this.cfg.ports.map((p, i) => this.bound.get(i) ?? p);
  }

  batchLimit(): number {
    return Math.max(1, Math.min(this.cfg.batchSize, this.ctx.maxBatchSize));
  }

  async start(): Promise<void> {
    if (this.listener.listening) return;
    this.stopping = false;
    if (this.abort.signal.aborted) this.abort = new AbortController();
    const tlsOpts = this.cfg.tls?.();
    try {
      for (let i = 0; i < this.cfg.ports.length; i++) {
        const server = tlsOpts
          ? tls.createServer({ ...tlsOpts, allowHalfOpen: true })
          : net.createServer({ allowHalfOpen: true, noDelay: true });
        if (tlsOpts) {
          server.on('secureConnection', (s: tls.TLSSocket) => this.accept(s, this.bound.get(i)!));
          server.on('tlsClientError', (err, s) => {
            this.ctx.counters.add('EventReadFail');
            this.ctx.logger.debug('TLS handshake failed', { remote: s.remoteAddress, error: errorMessage(err) });
            s.destroy(); // a handshake timeout only reports the error
          });
        } else {
          server.on('connection', (s: net.Socket) => this.accept(s, this.bound.get(i)!));
        }
        this.bound.set(i, await this.listener.listen(server, this.cfg.host, this.cfg.ports[i]!));
      }
    } catch (err) {
      this.listener.destroy();
      this.bound.clear();
      throw err;
    }
    this.closing = undefined;
    this.ctx.logger.info('Syslog TCP source listening', {
      kind: this.cfg.kind,
      host: this.cfg.host,
      ports: this.ports,
      tls: Boolean(tlsOpts),
    });
  }

  private accept(socket: net.Socket, port: number): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.listener.connections.add(new TcpConn(this, socket, port));
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.stopping = true;
    await this.listener.close(this.closeGraceMs, { onGraceOver: () => this.abort.abort() });
    this.ctx.logger.info('Syslog TCP source stopped', { kind: this.cfg.kind, ports: this.ports });
  }

  destroy(): void {
    this.stopping = true;
    this.abort.abort();
    this.listener.destroy();
  }
}

/**
 * One client connection. Chunks read while a batch is in flight queue up (to READ_AHEAD_BYTES); each round
 * frames every queued chunk into flat per-connection arrays (no per-message objects), then parses and emits
 * them in batches.
 *
 * Bodies are views into the socket chunks when the frames fill at least half of the bytes read (the usual
 * case: nothing but messages on the wire), so a kept event pins at most about twice its message's bytes;
 * otherwise (long lines cut at eventSize, runs of empty lines) every body is copied out.
 */
class TcpConn extends QueuedConnection<TcpIntake> implements FrameSink {
  private readonly framer: SyslogFramer;
  private readonly parser: FrameParser;
  private extra: Record<string, string> | undefined;
  private extraReady = false;
  private readonly ip: string;
  private warnedSkip = false;
  // frames of the current round
  private nf = 0;
  private frameBytes = 0;
  private readonly fBuf: (Buffer | undefined)[] = [];
  private readonly fStart: number[] = [];
  private readonly fEnd: number[] = [];
  private readonly fInc: boolean[] = [];

  constructor(
    src: TcpIntake,
    socket: net.Socket,
    private readonly port: number,
  ) {
    super(src, socket, 'Syslog');
    const size = src.cfg.eventSize;
    this.framer = new SyslogFramer(size, Math.max(size, MAX_DECLARED_LENGTH));
    this.parser = src.cfg.parser(port);
    this.ip = plainIp(socket.remoteAddress);
  }

  protected override get remote(): string {
    return this.ip;
  }

  private async headers(): Promise<void> {
    if (this.extraReady) return;
    const hostname = this.src.cfg.wantsHostname ? await this.src.resolver.resolve(this.ip) : undefined;
    this.extra = this.src.cfg.extraHeaders(this.ip, hostname, this.port);
    this.extraReady = true;
  }

  /** FrameSink: one frame of the current round. */
  frame(buf: Buffer, start: number, end: number, incomplete: boolean): void {
    const n = this.nf++;
    this.fBuf[n] = buf;
    this.fStart[n] = start;
    this.fEnd[n] = end;
    this.fInc[n] = incomplete;
    this.frameBytes += end - start;
  }

  protected override async process(): Promise<void> {
    await this.headers();
    // on stop, what was already read is still delivered (reading itself is paused)
    while (this.queue.length > 0 && !this.done && !this.src.abort.signal.aborted) {
      const chunks = this.take();
      let ok = true;
      let readBytes = 0;
      for (let i = 0; i < chunks.length && ok; i++) {
        readBytes += chunks[i]!.length;
        ok = this.framer.scan(chunks[i]!, this);
      }
      if (this.nf > 0 && !(await this.deliverFrames(readBytes))) break;
      this.noteSkipped();
      if (!ok) {
        if (await this.settleAll()) this.bogusFrame();
        return;
      }
    }
    if (this.eof && this.queue.length === 0 && !this.done && !this.src.stopping) {
      this.framer.finish(this);
      if (this.nf > 0 && !(await this.deliverFrames(0))) return;
      if (await this.settleAll()) this.shutdown();
    }
  }

  private noteSkipped(): void {
    if (this.framer.skippedBytes > 0 && !this.warnedSkip) {
      this.warnedSkip = true;
      this.warn(
        'cut',
        'Messages longer than eventSize were cut (flume.syslog.status=Incomplete); the rest of each was skipped',
        { remote: this.ip, eventSize: this.src.cfg.eventSize },
      );
    }
  }

  private bogusFrame(): void {
    this.src.ctx.counters.add('EventReadFail');
    this.warn('frame', 'Client declared an octet-counted frame length above the limit; closing the connection', {
      remote: this.ip,
      declared: this.framer.badLength,
      limit: Math.max(this.src.cfg.eventSize, MAX_DECLARED_LENGTH),
    });
    this.shutdown();
  }

  /** Parses the round's frames and emits them in batches; `readBytes` were read to get them (0: end of stream). */
  private async deliverFrames(readBytes: number): Promise<boolean> {
    const nf = this.nf;
    const copy = this.frameBytes * 2 < readBytes;
    const { parser, fBuf, fStart, fEnd, fInc, extra } = this;
    const limit = this.src.batchLimit();
    try {
      for (let i = 0; i < nf; i += limit) {
        if (i > 0 && this.src.stopping && this.src.abort.signal.aborted) return false;
        const end = Math.min(nf, i + limit);
        const batch = new Array<FlumeEvent>(end - i);
        const now = this.src.ctx.clock.nowMs();
        for (let j = i; j < end; j++)
          batch[j - i] = parser.parse(fBuf[j]!, fStart[j]!, fEnd[j]!, fInc[j]!, now, extra, copy);
        if (!(await this.deliver(batch))) return false;
      }
      return true;
    } finally {
      // drop the references to the chunks (the events keep what they need)
      fBuf.fill(undefined, 0, nf);
      this.nf = 0;
      this.frameBytes = 0;
    }
  }

  protected override retriable(err: unknown): boolean {
    return err instanceof ChannelFullError || isRetriable(err);
  }

  protected override rejected(n: number, err: unknown): void {
    this.src.ctx.logger.error('Events could not be put into the channel and are dropped', {
      remote: this.ip,
      events: n,
      error: errorMessage(err),
    });
  }

  protected override abandoned(n: number): void {
    this.src.ctx.logger.warn('Source stopping; events waiting for channel space are lost', {
      remote: this.ip,
      events: n,
    });
  }
}
