/**
 * The byte stream under every RPC framing (avro, thrift and forward clients; the avro server). From the socket
 * inwards, as Flume 1.11 builds its Netty pipeline: zlib (compression-type = deflate) -> TLS (ssl = true) ->
 * framing. With both on, the TLS records are deflated.
 *
 * Deflate is a streaming zlib (RFC 1950) stream in each direction, sync-flushed after every write, like Netty's
 * ZlibEncoder/ZlibDecoder. A corrupt stream destroys the connection with a reason; nothing throws past it.
 */
import net from 'node:net';
import tls from 'node:tls';
import zlib from 'node:zlib';
import { Duplex } from 'node:stream';
import type { ServerTls } from '../net/tls/index.js';
import { AgentError } from '../core/errors.js';

/** A Duplex that deflates what is written to it onto `socket` and inflates what `socket` receives. */
export class DeflateDuplex extends Duplex {
  private readonly inflate: zlib.Inflate;
  private readonly deflate: zlib.Deflate;

  constructor(
    private readonly socket: net.Socket | Duplex,
    level: number,
  ) {
    super({ allowHalfOpen: false });
    this.inflate = zlib.createInflate();
    this.deflate = zlib.createDeflate({ level });
    const inf = this.inflate;
    const def = this.deflate;
    socket.on('data', (d: Buffer) => {
      if (!inf.destroyed && !inf.write(d)) socket.pause();
    });
    inf.on('drain', () => socket.resume());
    socket.on('end', () => inf.end());
    socket.on('error', (e) => this.destroy(e));
    socket.on('close', () => {
      if (!this.destroyed) this.push(null);
      this.destroy();
    });
    inf.on('data', (d: Buffer) => {
      if (!this.push(d)) inf.pause();
    });
    inf.on('end', () => this.push(null));
    inf.on('error', (e) =>
      this.destroy(new AgentError('FLUME_ERR_RPC_DECODE', `corrupt deflate stream from the peer: ${e.message}`)),
    );
    def.on('data', (d: Buffer) => {
      if (!socket.destroyed && !socket.write(d)) def.pause();
    });
    socket.on('drain', () => def.resume());
    def.on('end', () => {
      if (!socket.destroyed) socket.end();
    });
    def.on('error', (e) => this.destroy(new AgentError('FLUME_ERR_RPC_CALL', `deflate failed: ${e.message}`)));
  }

  override _read(): void {
    this.inflate.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.deflate.destroyed) return cb(new AgentError('FLUME_ERR_RPC_CALL', 'deflate stream closed'));
    this.deflate.write(chunk);
    this.deflate.flush(zlib.constants.Z_SYNC_FLUSH, () => cb());
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.deflate.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.destroy();
    this.inflate.destroy();
    this.deflate.destroy();
    cb(err);
  }

  /** Buffer sizes of the zlib streams, for tests of boundedness. */
  get pendingBytes(): number {
    return (
      this.inflate.readableLength +
      this.inflate.writableLength +
      this.deflate.readableLength +
      this.deflate.writableLength
    );
  }
}

export interface LayerOptions {
  deflate?: { level: number };
  /** Server: a ready TLS context and options (loadServerTls); `handshakeTimeout` is enforced by the server. */
  tlsServer?: ServerTls;
  /** Client: tls.connect options (without socket/host/port). */
  tlsClient?: tls.ConnectionOptions;
}

/** Server side: wraps an accepted socket in the configured layers. The result is the stream framing runs on. */
export function serverStream(socket: net.Socket, o: LayerOptions): Duplex {
  let s: Duplex = socket;
  if (o.deflate) s = new DeflateDuplex(socket, o.deflate.level);
  if (o.tlsServer) s = new tls.TLSSocket(s as net.Socket, { ...o.tlsServer, isServer: true });
  return s;
}

export interface ConnectOptions extends LayerOptions {
  host: string;
  port: number;
  /** Covers TCP connect and, with ssl, the TLS handshake. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface Connected {
  /** The raw TCP socket (for keep-alive, addresses, destroy). */
  socket: net.Socket;
  /** The stream framing runs on. */
  stream: Duplex;
}

/** Client side: connects and builds the layers; rejects on timeout, abort, refusal or a failed TLS handshake. */
export function connectStream(o: ConnectOptions): Promise<Connected> {
  return new Promise((resolve, reject) => {
    if (o.signal?.aborted) return reject(new AgentError('FLUME_ERR_RPC_CALL', 'aborted'));
    const socket = net.connect({ host: o.host, port: o.port });
    socket.setNoDelay(true);
    let stream: Duplex = socket;
    let settled = false;
    const fail = (err: Error) => {
      if (settled) return;
      settled = true;
      cleanup();
      stream.destroy();
      socket.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(new AgentError('FLUME_ERR_RPC_CALL', `connect to ${o.host}:${o.port} timed out after ${o.timeoutMs} ms`)),
      o.timeoutMs,
    );
    const onAbort = () => fail(new AgentError('FLUME_ERR_RPC_CALL', 'aborted'));
    o.signal?.addEventListener('abort', onAbort, { once: true });
    const onErr = (e: Error) => fail(e);
    const onClose = () =>
      fail(new AgentError('FLUME_ERR_RPC_CALL', `connection to ${o.host}:${o.port} closed during connect`));
    function cleanup() {
      clearTimeout(timer);
      o.signal?.removeEventListener('abort', onAbort);
      socket.off('error', onErr);
      socket.off('close', onClose);
      if (stream !== socket) {
        stream.off('error', onErr);
        stream.off('close', onClose);
      }
    }
    socket.once('error', onErr);
    socket.once('close', onClose);
    socket.once('connect', () => {
      if (settled) return;
      if (o.deflate) stream = new DeflateDuplex(socket, o.deflate.level);
      if (!o.tlsClient) {
        settled = true;
        cleanup();
        resolve({ socket, stream });
        return;
      }
      const t = tls.connect({
        ...o.tlsClient,
        socket: stream as net.Socket,
        host: o.host,
        servername: o.tlsClient.servername ?? (net.isIP(o.host) ? undefined : o.host),
      });
      stream = t;
      t.once('error', onErr);
      t.once('close', onClose);
      t.once('secureConnect', () => {
        if (settled) return;
        settled = true;
        cleanup();
        resolve({ socket, stream: t });
      });
    });
  });
}
