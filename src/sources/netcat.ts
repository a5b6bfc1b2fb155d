/**
 * netcat: a TCP server that turns each `\n`-terminated line into one event (Flume NetcatSource).
 *
 * Hot path: socket chunks are split on the 0x0A byte with indexOf (text/char-lines.ts: never decoded for utf-8; the
 * body is the line's bytes), every complete line of the chunks read so far goes out in batches of at most
 * min(batchSize, ctx.maxBatchSize), and the `OK\n` acks of a batch leave in one socket write.
 *
 * Differences from Flume, on purpose: a full channel pauses reading and retries the same batch (Flume answers
 * FAILED and loses the line); counters are kept; batches instead of one transaction per line; connections are
 * capped by maxConnections; undecodable input is replaced (U+FFFD) instead of breaking the connection.
 */
import net from 'node:net';
import { defineSource, type Source, type SourceContext, opt, type Resolved } from '../contract/index.js';
import { errorMessage } from '../core/errors.js';
import type { FlumeEvent } from '../core/event.js';
import { QueuedConnection } from '../net/queued-connection.js';
import { Listener } from '../net/listen.js';
import type { ByteBudget } from '../net/byte-budget.js';
import type { WarnLimiter } from '../net/warn-limiter.js';
import {
  charLineSplitter,
  charsetFor,
  charsetOption,
  replyEncoder,
  type Charset,
  type CharLineSplitter,
} from '../text/index.js';

// ----------------------------------------------------------------------------------------------- options

const encoding = charsetOption({
  need: 'decode',
  who: 'netcat',
  doc:
    'Charset of the input (Flume: undocumented). Bodies are always UTF-8: utf-8 input is passed through byte for ' +
    'byte, other charsets are decoded and re-encoded. Replies (OK, FAILED) use this charset.',
});

const options = {
  bind: opt.string({ required: true, nonEmpty: true, doc: 'Host name or IP address to listen on.' }),
  port: opt.int({ required: true, min: 0, max: 65535, doc: 'TCP port to listen on (0 = any free port).' }),
  'max-line-length': opt.int({
    default: 512,
    min: 1,
    doc: 'Most characters per line, including the newline. A longer line is answered with FAILED and the connection is closed.',
  }),
  'ack-every-event': opt.bool({ default: true, doc: 'Answer OK for every line once it is committed to the channels.' }),
  encoding,
  batchSize: opt.int({
    default: 1000,
    min: 1,
    doc: 'Most lines per channel transaction (also capped by the smallest transactionCapacity of the channels). Flume: one transaction per line.',
  }),
  maxConnections: opt.int({
    default: 1000,
    min: 1,
    doc: 'Most concurrent client connections; further connections are closed at once. Flume: unlimited.',
  }),
  idleTimeout: opt.duration({
    default: 300,
    unit: 's',
    min: 0,
    doc: 'A connection that sends nothing for this long, with nothing of it in flight, is closed (0 = never). Flume: never. At maxConnections the connection idle the longest is closed to make room for a new client.',
  }),
  maxBufferedBytes: opt.size({
    default: 64 * 1024 * 1024,
    defaultText: '64m',
    min: 1024,
    doc: 'Most bytes read from clients and not yet processed, over all connections; reading pauses while it is reached (backpressure). Flume: no cap.',
  }),
};

export type NetcatOptions = Resolved<typeof options>;

// ----------------------------------------------------------------------------------------------- source

export class NetcatSource implements Source {
  /** How long close() lets batches waiting for channel space keep retrying. */
  closeGraceMs = 3000;
  /** Backoff while a channel is full: first wait, doubling up to the max. */
  retryInitialMs = 100;
  retryMaxMs = 2000;

  readonly codec: Charset;
  /** Reply lines (OK, FAILED) in the source charset, without the stream's BOM. */
  readonly encodeReply: (s: string) => Buffer;
  private readonly listener: Listener<Connection>;
  private boundPort = 0;
  /** Set when close() starts: no new batches, no reading. */
  stopping = false;
  /** A connection silent this long (nothing in flight) is closed. */
  readonly idleTimeoutMs: number;
  /** Aborted when the close grace has passed (or destroy): retries give up. */
  readonly abort = new AbortController();
  private closing: Promise<void> | undefined;
  private ackUnit: Buffer;
  private ackBuf: Buffer = Buffer.alloc(0);

  constructor(
    readonly o: NetcatOptions,
    readonly ctx: SourceContext,
  ) {
    const { logger, counters } = ctx;
    const owner = `netcat source ${ctx.name}`;
    this.listener = new Listener({
      owner,
      logger,
      counters,
      maxConnections: o.maxConnections,
      maxBufferedBytes: o.maxBufferedBytes,
      label: 'Netcat',
    });
    this.idleTimeoutMs = o.idleTimeout;
    this.codec = charsetFor(o.encoding);
    this.encodeReply = replyEncoder(this.codec);
    this.ackUnit = this.encodeReply('OK\n');
  }

  /** The bound port once started (useful with port 0), else the configured one. */
  get port(): number {
    return this.listener.listening ? this.boundPort : this.o.port;
  }

  /** Bytes read from clients and not yet processed, over all connections (maxBufferedBytes). */
  get buffered(): ByteBudget {
    return this.listener.budget;
  }

  /** The limiter for warnings about this source's clients. */
  get warnings(): WarnLimiter {
    return this.listener.warnings;
  }

  get connectionCount(): number {
    return this.listener.connections.size;
  }

  /** Most lines per emit. */
  batchLimit(): number {
    return Math.max(1, Math.min(this.o.batchSize, this.ctx.maxBatchSize));
  }

  /** `OK\n` x n in the source charset (a slice of a cached buffer). */
  acks(n: number): Buffer {
    const len = n * this.ackUnit.length;
    if (this.ackBuf.length < len)
      this.ackBuf = Buffer.alloc(Math.max(len, this.batchLimit() * this.ackUnit.length), this.ackUnit);
    return this.ackBuf.subarray(0, len);
  }

  async start(): Promise<void> {
    if (this.listener.listening) return;
    const { bind, port } = this.o;
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    server.on('connection', (socket) => this.accept(socket));
    this.boundPort = await this.listener.listen(server, bind, port);
    this.ctx.logger.info('Netcat source listening', { bind, port: this.boundPort, encoding: this.codec.name });
  }

  private accept(socket: net.Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.listener.connections.add(new Connection(this, socket));
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.stopping = true;
    try {
      await this.listener.close(this.closeGraceMs, { onGraceOver: () => this.abort.abort() });
    } finally {
      this.abort.abort();
    }
    this.ctx.logger.info('Netcat source stopped', { port: this.boundPort });
  }

  destroy(): void {
    this.stopping = true;
    this.abort.abort();
    this.listener.destroy();
  }
}

class Connection extends QueuedConnection<NetcatSource> {
  private readonly splitter: CharLineSplitter;
  private wroteAny = false;

  constructor(src: NetcatSource, socket: net.Socket) {
    super(src, socket, 'Netcat');
    const max = src.o['max-line-length'];
    this.splitter = charLineSplitter(src.codec, max);
    socket.setNoDelay(true);
  }

  /** Processes queued chunks one round at a time; at EOF (all complete lines delivered) drops the rest, closes. */
  protected override async process(): Promise<void> {
    while (this.queue.length > 0 && !this.done && !this.src.stopping) {
      const chunks = this.take();
      const events: FlumeEvent[] = [];
      let ok = true;
      for (let i = 0; i < chunks.length && ok; i++) ok = this.splitter.push(chunks[i]!, events);
      if (events.length > 0 && !(await this.deliverAll(events))) return;
      if (!ok) {
        // the lines before the long one are answered first
        if (await this.settleAll()) this.oversize();
        return;
      }
    }
    if (this.eof && this.queue.length === 0 && !this.done && !this.src.stopping && (await this.settleAll()))
      this.finish();
  }

  /** Emits `events` in batches, in order. False when the connection must stop (source closing). */
  private async deliverAll(events: FlumeEvent[]): Promise<boolean> {
    const limit = this.src.batchLimit();
    if (events.length <= limit) return this.deliver(events);
    for (let i = 0; i < events.length; i += limit) {
      if (i > 0 && this.src.stopping) return false;
      if (!(await this.deliver(events.slice(i, i + limit)))) return false;
    }
    return true;
  }

  /** The batch's `OK\n` acks in one write; waits for the socket to drain before the next batch. */
  protected override committed(n: number): Promise<void> | undefined {
    if (this.src.o['ack-every-event']) this.write(this.src.acks(n));
    return this.socket.writableNeedDrain && !this.socket.destroyed ? this.drained() : undefined;
  }

  protected override rejected(n: number, err: unknown): void {
    this.warn('rejected', 'Error processing events; answered FAILED', {
      remote: this.remote,
      events: n,
      error: errorMessage(err),
    });
    this.reply(`FAILED: ${errorMessage(err)}\n`.repeat(n));
  }

  protected override abandoned(n: number): void {
    this.src.ctx.logger.warn('Source closing; giving up on a batch waiting for channel space (not acknowledged)', {
      remote: this.remote,
      events: n,
    });
  }

  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  private write(b: Buffer): void {
    if (this.socket.destroyed || !this.socket.writable) return;
    if (!this.wroteAny) {
      this.wroteAny = true;
      const bom = this.src.codec.streamBom;
      if (bom) b = Buffer.concat([bom, b]);
    }
    this.socket.write(b);
  }

  private reply(s: string): void {
    this.write(this.src.encodeReply(s));
  }

  /** Too-long line (or unterminated rest): answer FAILED like Flume and close the connection. */
  private oversize(): void {
    const max = this.src.o['max-line-length'];
    this.src.ctx.counters.add('EventReadFail');
    this.warn('long', 'Client sent a line exceeding the maximum length; closing the connection', {
      remote: this.remote,
      maxLineLength: max,
    });
    this.reply(`FAILED: Event exceeds the maximum length (${max} chars, including newline)\n`);
    this.shutdown();
  }

  /** EOF from the client after all complete lines were delivered: drop the unterminated rest, close. */
  private finish(): void {
    if (this.splitter.discard()) {
      this.src.ctx.counters.add('EventReadFail');
      this.src.ctx.logger.debug('Discarded unterminated data at end of stream', { remote: this.remote });
    }
    this.shutdown();
  }
}

export default defineSource({
  type: 'netcat',
  classNames: ['org.apache.flume.source.NetcatSource'],
  summary: 'TCP server: each newline-terminated line becomes one event; answers OK per line once committed.',
  options,
  claims: (o) => (o.port === 0 ? [] : [{ resource: 'tcp', id: `${o.bind}:${o.port}`, key: 'port' }]),
  create: (o, ctx) => new NetcatSource(o, ctx),
});
