/**
 * netcat: a TCP server that turns each `\n`-terminated line into one event (Flume NetcatSource).
 *
 * Hot path: socket chunks are split on the 0x0A byte with indexOf (never decoded for utf-8; the body is the
 * line's bytes), every complete line of the chunks read so far goes out in batches of at most
 * min(batchSize, ctx.maxBatchSize), and the `OK\n` acks of a batch leave in one socket write.
 *
 * Differences from Flume, on purpose: a full channel pauses reading and retries the same batch (Flume answers
 * FAILED and loses the line); counters are kept; batches instead of one transaction per line; connections are
 * capped by maxConnections; undecodable input is replaced (U+FFFD) instead of breaking the connection.
 */
import net from 'node:net';
import { isAscii } from 'node:buffer';
import { defineSource, type Source, type SourceContext } from '../registry/define.js';
import { opt, OptionError, type OptionSpec, type Resolved } from '../config/options.js';
import { AgentError, errorMessage } from '../core/errors.js';
import { makeEvent, type FlumeEvent } from '../core/event.js';
import { ConnectionSet, QueuedConnection } from '../net/queued-connection.js';

// ----------------------------------------------------------------------------------------------- charsets

const CHARSET_ALIASES: Record<string, string> = {
  'utf-8': 'utf-8', utf8: 'utf-8', 'unicode-1-1-utf-8': 'utf-8',
  'iso-8859-1': 'iso-8859-1', 'iso8859-1': 'iso-8859-1', 'iso-8859-1:1987': 'iso-8859-1', latin1: 'iso-8859-1', 'iso-latin-1': 'iso-8859-1',
  l1: 'iso-8859-1', '8859-1': 'iso-8859-1', cp819: 'iso-8859-1', ibm819: 'iso-8859-1', 'iso-ir-100': 'iso-8859-1', csisolatin1: 'iso-8859-1',
  'us-ascii': 'us-ascii', ascii: 'us-ascii', ascii7: 'us-ascii', 'iso646-us': 'us-ascii', '646': 'us-ascii', cp367: 'us-ascii',
  ibm367: 'us-ascii', csascii: 'us-ascii', 'iso-ir-6': 'us-ascii', default: 'us-ascii',
  'utf-16': 'utf-16', utf16: 'utf-16', unicode: 'utf-16',
  'utf-16le': 'utf-16le', utf16le: 'utf-16le', 'x-utf-16le': 'utf-16le', unicodelittleunmarked: 'utf-16le',
  'utf-16be': 'utf-16be', utf16be: 'utf-16be', 'x-utf-16be': 'utf-16be', unicodebigunmarked: 'utf-16be', 'iso-10646-ucs-2': 'utf-16be',
};

/**
 * Resolves a charset name (Java spellings like UTF-8, ISO-8859-1, UTF-16 and any WHATWG label TextDecoder
 * knows, e.g. windows-1252, shift_jis) to a canonical name. Throws OptionError for anything else.
 */
export function resolveCharset(raw: string): string {
  let k = raw.trim().toLowerCase().replace(/_/g, '-');
  const hit = CHARSET_ALIASES[k];
  if (hit) return hit;
  const cp = /^(?:cp|ms-?)(125\d)$/.exec(k);
  if (cp) k = `windows-${cp[1]}`;
  try {
    const enc = new TextDecoder(k).encoding;
    if (enc !== 'replacement') return enc === 'utf-8' ? 'utf-8' : enc;
  } catch {
    // fall through
  }
  throw new OptionError(`'${raw}' is not a supported encoding`,
    'use utf-8, iso-8859-1, us-ascii, utf-16, utf-16le, utf-16be, or another WHATWG encoding label such as windows-1252 or shift_jis');
}

interface StreamDecoder {
  write(b: Buffer): string;
  end(): string;
}

/**
 * What the source needs from a charset. ASCII-compatible charsets (0x0A is always a newline) split on bytes;
 * the others (UTF-16, ISO-2022-JP) decode the stream and split the text.
 */
interface Codec {
  readonly name: string;
  readonly byteSplit: boolean;
  /** Upper bound of bytes per UTF-16 unit, for the byte cap on an unterminated line. */
  readonly maxBytesPerUnit: number;
  /** UTF-16 units (Java chars) the bytes decode to: what max-line-length counts. */
  units(b: Buffer, s: number, e: number): number;
  /** UTF-8 body for a line's bytes (byteSplit codecs). */
  toBody(line: Buffer): Buffer;
  /** A per-connection decoder (text-split codecs). */
  decoder(): StreamDecoder;
  /** Written before the first reply bytes of a connection (Java's UTF-16 encoder starts with a BOM). */
  readonly bom?: Buffer;
  /** Bytes of a reply line (OK, FAILED) in this charset. */
  encodeReply(s: string): Buffer;
}

function utf8Units(b: Buffer, s: number, e: number): number {
  let n = 0;
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    if ((c & 0xc0) !== 0x80) n += c >= 0xf0 ? 2 : 1;
  }
  return n;
}

function asciiReply(s: string): Buffer {
  return Buffer.from(s.replace(/[^\x00-\x7f]/g, '?'), 'latin1');
}

function utf16be(s: string): Buffer {
  return Buffer.from(s, 'utf16le').swap16();
}

function textDecoder(enc: string, ignoreBOM: boolean): StreamDecoder {
  const td = new TextDecoder(enc, { ignoreBOM });
  return { write: (b) => td.decode(b, { stream: true }), end: () => td.decode() };
}

/** Java's "UTF-16": a BOM picks the byte order (and is dropped); no BOM means big-endian. */
function utf16BomDecoder(): StreamDecoder {
  let inner: StreamDecoder | undefined;
  let head: Buffer | undefined;
  return {
    write(b) {
      if (inner) return inner.write(b);
      const h = head ? Buffer.concat([head, b]) : b;
      if (h.length < 2) {
        head = h;
        return '';
      }
      head = undefined;
      let enc = 'utf-16be';
      let skip = 0;
      if (h[0] === 0xfe && h[1] === 0xff) skip = 2;
      else if (h[0] === 0xff && h[1] === 0xfe) {
        enc = 'utf-16le';
        skip = 2;
      }
      inner = textDecoder(enc, true);
      return inner.write(h.subarray(skip));
    },
    end() {
      if (inner) return inner.end();
      const had = head !== undefined && head.length > 0;
      head = undefined;
      return had ? '\ufffd' : '';
    },
  };
}

const noDecoder = (): StreamDecoder => {
  throw new Error('byte-split codec has no stream decoder');
};
const noBody = (): Buffer => {
  throw new Error('text-split codec has no line decoder');
};

export function codecFor(charset: string): Codec {
  const name = resolveCharset(charset);
  switch (name) {
    case 'utf-8':
      return { name, byteSplit: true, maxBytesPerUnit: 3, units: utf8Units, toBody: (l) => l, decoder: noDecoder, encodeReply: (s) => Buffer.from(s, 'utf8') };
    case 'iso-8859-1':
      return {
        name, byteSplit: true, maxBytesPerUnit: 1, units: (_b, s, e) => e - s,
        toBody: (l) => (isAscii(l) ? l : Buffer.from(l.toString('latin1'), 'utf8')),
        decoder: noDecoder,
        encodeReply: (s) => Buffer.from(s.replace(/[^\x00-\xff]/g, '?'), 'latin1'),
      };
    case 'us-ascii':
      return {
        name, byteSplit: true, maxBytesPerUnit: 1, units: (_b, s, e) => e - s,
        toBody: (l) => (isAscii(l) ? l : Buffer.from(l.toString('latin1').replace(/[\x80-\xff]/g, '\ufffd'), 'utf8')),
        decoder: noDecoder,
        encodeReply: (s) => asciiReply(s),
      };
    case 'utf-16':
      return { name, byteSplit: false, maxBytesPerUnit: 2, units: (_b, s, e) => (e - s) / 2, toBody: noBody, decoder: utf16BomDecoder, bom: Buffer.from([0xfe, 0xff]), encodeReply: utf16be };
    case 'utf-16le':
      return { name, byteSplit: false, maxBytesPerUnit: 2, units: (_b, s, e) => (e - s) / 2, toBody: noBody, decoder: () => textDecoder('utf-16le', true), encodeReply: (s) => Buffer.from(s, 'utf16le') };
    case 'utf-16be':
      return { name, byteSplit: false, maxBytesPerUnit: 2, units: (_b, s, e) => (e - s) / 2, toBody: noBody, decoder: () => textDecoder('utf-16be', true), encodeReply: (s) => utf16be(s) };
    case 'iso-2022-jp':
      // escape sequences are ASCII bytes: line bytes cannot be decoded on their own
      return { name, byteSplit: false, maxBytesPerUnit: 4, units: (_b, s, e) => e - s, toBody: noBody, decoder: () => textDecoder(name, false), encodeReply: (s) => asciiReply(s) };
    default: {
      // ASCII-compatible WHATWG encodings (windows-125x, iso-8859-x, koi8, gbk, gb18030, big5, euc-*, shift_jis):
      // 0x0A never occurs inside a multi-byte character
      const td = new TextDecoder(name);
      return {
        name, byteSplit: true, maxBytesPerUnit: 4,
        units: (b, s, e) => td.decode(b.subarray(s, e)).length,
        toBody: (l) => (isAscii(l) ? l : Buffer.from(td.decode(l), 'utf8')),
        decoder: noDecoder,
        encodeReply: (s) => asciiReply(s),
      };
    }
  }
}

// ----------------------------------------------------------------------------------------------- line splitting

interface LineSplitter {
  /**
   * Appends an event for every complete line of `chunk` to `out`. Returns false when a line, or the unterminated
   * rest, exceeds max-line-length; the lines before it are in `out`, nothing after it is.
   */
  push(chunk: Buffer, out: FlumeEvent[]): boolean;
  /** Drops the unterminated rest (at EOF); true when there was one. */
  discard(): boolean;
}

/** Splits on the 0x0A byte; the unterminated rest is kept as a list of slices (joined once, at its newline). */
class ByteSplitter implements LineSplitter {
  private pend: Buffer[] = [];
  private pendBytes = 0;
  private pendUnits = 0;
  private counted = 0;
  /** A line whose content is longer than this in bytes is too long whatever it decodes to. */
  private readonly byteCap: number;

  constructor(private readonly codec: Codec, private readonly max: number) {
    this.byteCap = codec.maxBytesPerUnit * (max - 1);
  }

  push(chunk: Buffer, out: FlumeEvent[]): boolean {
    const codec = this.codec;
    const max = this.max;
    let start = 0;
    let nl = chunk.indexOf(10);
    if (this.pendBytes > 0) {
      if (nl < 0) return this.addPending(chunk);
      const parts = this.pend;
      parts.push(chunk.subarray(0, nl));
      const line = Buffer.concat(parts, this.pendBytes + nl);
      this.resetPending();
      if (this.tooLong(line, 0, line.length)) return false;
      out.push(makeEvent(codec.toBody(line)));
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    while (nl >= 0) {
      if (nl - start >= max && this.tooLong(chunk, start, nl)) return false;
      out.push(makeEvent(codec.toBody(chunk.subarray(start, nl))));
      start = nl + 1;
      nl = chunk.indexOf(10, start);
    }
    if (start < chunk.length) return this.addPending(start === 0 ? chunk : chunk.subarray(start));
    return true;
  }

  /** Content [s, e) plus its newline longer than max-line-length chars? */
  private tooLong(b: Buffer, s: number, e: number): boolean {
    const bytes = e - s;
    if (bytes + 1 <= this.max) return false;
    if (bytes > this.byteCap) return true;
    return this.codec.units(b, s, e) + 1 > this.max;
  }

  private addPending(b: Buffer): boolean {
    this.pend.push(b);
    this.pendBytes += b.length;
    if (this.pendBytes < this.max) return true; // units <= bytes: fits even with its newline
    if (this.pendBytes > this.byteCap) return false;
    for (; this.counted < this.pend.length; this.counted++) {
      const p = this.pend[this.counted]!;
      this.pendUnits += this.codec.units(p, 0, p.length);
    }
    return this.pendUnits < this.max;
  }

  private resetPending(): void {
    this.pend = [];
    this.pendBytes = 0;
    this.pendUnits = 0;
    this.counted = 0;
  }

  discard(): boolean {
    const had = this.pendBytes > 0;
    this.resetPending();
    return had;
  }
}

/** Decodes the stream (UTF-16, ISO-2022-JP) and splits the text on '\n'; bodies are re-encoded as UTF-8. */
class TextSplitter implements LineSplitter {
  private pend = '';
  private readonly dec: StreamDecoder;

  constructor(codec: Codec, private readonly max: number) {
    this.dec = codec.decoder();
  }

  push(chunk: Buffer, out: FlumeEvent[]): boolean {
    const s = this.dec.write(chunk);
    const text = this.pend.length > 0 ? this.pend + s : s;
    let start = 0;
    let nl = text.indexOf('\n');
    while (nl >= 0) {
      if (nl - start + 1 > this.max) return false;
      out.push(makeEvent(Buffer.from(text.slice(start, nl), 'utf8')));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    this.pend = start === 0 ? text : text.slice(start);
    return this.pend.length < this.max;
  }

  discard(): boolean {
    const rest = this.pend + this.dec.end();
    this.pend = '';
    return rest.length > 0;
  }
}

// ----------------------------------------------------------------------------------------------- options

const encoding: OptionSpec<string> = {
  ...opt.string({ default: 'utf-8', doc: 'Charset of the input (Flume: undocumented). Bodies are always UTF-8: utf-8 input is passed through byte for byte, other charsets are decoded and re-encoded. Replies (OK, FAILED) use this charset.' }),
  typeText: 'charset (utf-8, iso-8859-1, us-ascii, utf-16, utf-16le, utf-16be, or a WHATWG label such as windows-1252)',
  parse: (raw: string) => resolveCharset(raw),
};

const options = {
  bind: opt.string({ required: true, nonEmpty: true, doc: 'Host name or IP address to listen on.' }),
  port: opt.int({ required: true, min: 0, max: 65535, doc: 'TCP port to listen on (0 = any free port).' }),
  'max-line-length': opt.int({ default: 512, min: 1, doc: 'Most characters per line, including the newline. A longer line is answered with FAILED and the connection is closed.' }),
  'ack-every-event': opt.bool({ default: true, doc: 'Answer OK for every line once it is committed to the channels.' }),
  encoding,
  batchSize: opt.int({ default: 1000, min: 1, doc: 'Most lines per channel transaction (also capped by the smallest transactionCapacity of the channels). Flume: one transaction per line.' }),
  maxConnections: opt.int({ default: 1000, min: 1, doc: 'Most concurrent client connections; further connections are closed at once. Flume: unlimited.' }),
};

export type NetcatOptions = Resolved<typeof options>;

// ----------------------------------------------------------------------------------------------- source

export class NetcatSource implements Source {
  /** How long close() lets batches waiting for channel space keep retrying. */
  closeGraceMs = 3000;
  /** Backoff while a channel is full: first wait, doubling up to the max. */
  retryInitialMs = 100;
  retryMaxMs = 2000;

  readonly codec: Codec;
  private server: net.Server | undefined;
  private boundPort = 0;
  private readonly conns: ConnectionSet<Connection>;
  /** Set when close() starts: no new batches, no reading. */
  stopping = false;
  /** Aborted when the close grace has passed (or destroy): retries give up. */
  readonly abort = new AbortController();
  private closing: Promise<void> | undefined;
  private ackUnit: Buffer;
  private ackBuf: Buffer = Buffer.alloc(0);

  constructor(readonly o: NetcatOptions, readonly ctx: SourceContext) {
    this.conns = new ConnectionSet(ctx.counters);
    this.codec = codecFor(o.encoding);
    this.ackUnit = this.codec.encodeReply('OK\n');
  }

  /** The bound port once started (useful with port 0), else the configured one. */
  get port(): number {
    return this.server ? this.boundPort : this.o.port;
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** Most lines per emit. */
  batchLimit(): number {
    return Math.max(1, Math.min(this.o.batchSize, this.ctx.maxBatchSize));
  }

  /** `OK\n` x n in the source charset (a slice of a cached buffer). */
  acks(n: number): Buffer {
    const len = n * this.ackUnit.length;
    if (this.ackBuf.length < len) this.ackBuf = Buffer.alloc(Math.max(len, this.batchLimit() * this.ackUnit.length), this.ackUnit);
    return this.ackBuf.subarray(0, len);
  }

  async start(): Promise<void> {
    if (this.server) return;
    const { bind, port } = this.o;
    const server = net.createServer({ allowHalfOpen: true, noDelay: true });
    server.maxConnections = this.o.maxConnections;
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) => {
        server.off('listening', onListening);
        const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : errorMessage(err);
        reject(new AgentError('FLUME_ERR_SOURCE_START', `netcat source ${this.ctx.name} cannot listen on ${bind}:${port}: ${why}`, { cause: err }));
      };
      const onListening = () => {
        server.off('error', onError);
        resolve();
      };
      server.once('error', onError);
      server.once('listening', onListening);
      server.listen({ host: bind, port, exclusive: true });
    });
    const addr = server.address();
    this.boundPort = typeof addr === 'object' && addr ? addr.port : port;
    this.server = server;
    server.on('error', (err) => this.ctx.logger.error('Netcat server error', { error: errorMessage(err) }));
    server.on('drop', (d) => this.ctx.logger.warn('Connection refused: maxConnections reached', { maxConnections: this.o.maxConnections, remote: d?.remoteAddress }));
    server.on('connection', (socket) => this.accept(socket));
    this.ctx.logger.info('Netcat source listening', { bind, port: this.boundPort, encoding: this.codec.name });
  }

  private accept(socket: net.Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const conn = new Connection(this, socket);
    this.conns.add(conn);
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.stopping = true;
    const server = this.server;
    const serverClosed = server ? new Promise<void>((resolve) => server.close(() => resolve())) : Promise.resolve();
    try {
      await this.conns.closeAll(this.closeGraceMs, () => this.abort.abort());
      await serverClosed;
    } finally {
      this.abort.abort();
    }
    this.ctx.logger.info('Netcat source stopped', { port: this.boundPort });
  }

  destroy(): void {
    this.stopping = true;
    this.abort.abort();
    this.server?.close();
    this.conns.destroyAll();
  }
}

class Connection extends QueuedConnection<NetcatSource> {
  private readonly splitter: LineSplitter;
  private wroteAny = false;

  constructor(src: NetcatSource, socket: net.Socket) {
    super(src, socket, 'Netcat');
    const max = src.o['max-line-length'];
    this.splitter = src.codec.byteSplit ? new ByteSplitter(src.codec, max) : new TextSplitter(src.codec, max);
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
    if (this.eof && this.queue.length === 0 && !this.done && !this.src.stopping && (await this.settleAll())) this.finish();
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
    this.src.ctx.logger.warn('Error processing events; answered FAILED', { remote: this.remote, events: n, error: errorMessage(err) });
    this.reply(`FAILED: ${errorMessage(err)}\n`.repeat(n));
  }

  protected override abandoned(n: number): void {
    this.src.ctx.logger.warn('Source closing; giving up on a batch waiting for channel space (not acknowledged)', { remote: this.remote, events: n });
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
      const bom = this.src.codec.bom;
      if (bom) b = Buffer.concat([bom, b]);
    }
    this.socket.write(b);
  }

  private reply(s: string): void {
    this.write(this.src.codec.encodeReply(s));
  }

  /** Too-long line (or unterminated rest): answer FAILED like Flume and close the connection. */
  private oversize(): void {
    const max = this.src.o['max-line-length'];
    this.src.ctx.counters.add('EventReadFail');
    this.src.ctx.logger.warn('Client sent a line exceeding the maximum length; closing the connection', { remote: this.remote, maxLineLength: max });
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
