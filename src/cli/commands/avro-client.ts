/**
 * `flume-ng avro-client`: sends the lines of a file, of stdin, or of every file in a directory as events to an
 * avro source, like Flume's AvroCLIClient. One event per line (terminators \n, \r\n and \r are stripped; the
 * body is the line's bytes), the same headers on every event (-R, a Java properties file), appendBatch in
 * batches. Exits 0 when every batch was answered OK, 1 otherwise, 64 on bad flags.
 *
 * With --dirname, each regular file (not hidden, not already *.COMPLETED) is sent in name order and renamed to
 * <name>.COMPLETED once all its batches were answered OK. -P reads the RPC client properties Flume's SDK knows
 * (hosts, hosts.<h>, batch-size, connect-timeout, request-timeout, compression-type, compression-level, ssl) and
 * the TLS client keys every client has (trust-all-certs, truststore, truststore-password, truststore-type,
 * sslCaCertificate, sslVerifyHostname, include-/exclude-protocols and cipher suites, keystore or sslCertificate +
 * sslKey for mutual TLS).
 * Differences from Flume: batches of 100 by default (Flume: 5), changed with --batch-size.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { Argv } from 'yargs';
import { UsageError } from '../args.js';
import { EXIT } from '../exit-codes.js';
import { parseProperties } from '../../config/properties.js';
import { parseDurationMs } from '../../contract/index.js';
import { makeEvent, type FlumeEvent } from '../../core/event.js';
import { errorMessage, AgentError } from '../../core/errors.js';
import { AvroRpcClient } from '../../rpc/avro/client.js';
import { loadClientTls, resolveTls, tlsClientOptions, tlsOptionsFromProperties } from '../../net/tls/index.js';
import type { LayerOptions } from '../../rpc/transport.js';

export interface AvroClientArgs {
  host?: string;
  port?: number;
  rpcProps?: string;
  filename?: string;
  dirname?: string;
  headerFile?: string;
  batchSize?: number;
  /** Defaults to process.stdin. */
  stdin?: Readable;
  /** Defaults to process.stderr. */
  err?: { write(s: string): unknown };
}

/** yargs builder for the `avro-client` command. */
export function avroClientBuilder<T>(y: Argv<T>) {
  return y
    .option('host', { alias: 'H', type: 'string', describe: 'Host name of the avro source' })
    .option('port', { alias: 'p', type: 'string', describe: 'Port of the avro source' })
    .option('rpcProps', { alias: 'P', type: 'string', describe: 'RPC client properties file (instead of -H/-p)' })
    .option('filename', { alias: 'F', type: 'string', describe: 'File whose lines to send (default: stdin)' })
    .option('dirname', {
      type: 'string',
      describe: 'Send every file of this directory, renaming each to .COMPLETED when done',
    })
    .option('headerFile', {
      alias: 'R',
      type: 'string',
      describe: 'Java properties file of headers to put on every event',
    })
    .option('batch-size', { type: 'string', describe: 'Events per appendBatch (default 100; Flume sends 5)' });
}

/** Turns parsed yargs flags into AvroClientArgs; throws UsageError on bad combinations. */
export function avroClientArgs(a: Record<string, unknown>): AvroClientArgs {
  const str = (k: string) => (typeof a[k] === 'string' ? (a[k] as string) : undefined);
  const out: AvroClientArgs = {
    host: str('host'),
    rpcProps: str('rpcProps'),
    filename: str('filename'),
    dirname: str('dirname'),
    headerFile: str('headerFile'),
  };
  const port = str('port');
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`-p/--port: '${port}' is not a port number`);
    out.port = n;
  }
  const bs = str('batch-size');
  if (bs !== undefined) {
    const n = Number(bs);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`--batch-size: '${bs}' is not a positive whole number`);
    out.batchSize = n;
  }
  if (!out.rpcProps && (!out.host || out.port === undefined))
    throw new UsageError('avro-client needs -H/--host and -p/--port, or -P/--rpcProps <file>');
  if (out.filename && out.dirname) throw new UsageError('give either -F/--filename or --dirname, not both');
  return out;
}

interface ClientSettings {
  host: string;
  port: number;
  batchSize: number;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  layers: LayerOptions;
}

function readProps(file: string): Map<string, string> {
  const text = fs.readFileSync(file, 'utf8');
  const m = new Map<string, string>();
  for (const [k, e] of parseProperties(text, file).entries) m.set(k.trim(), e.value.trim());
  return m;
}

function settingsFrom(a: AvroClientArgs, warn: (s: string) => void): ClientSettings {
  const s: ClientSettings = {
    host: a.host ?? '',
    port: a.port ?? 0,
    batchSize: a.batchSize ?? 100,
    connectTimeoutMs: 20000,
    requestTimeoutMs: 20000,
    layers: {},
  };
  if (!a.rpcProps) return s;
  const p = readProps(a.rpcProps);
  const type = p.get('client.type');
  if (type && type !== 'default') warn(`client.type=${type} is not supported; using the first host of 'hosts'`);
  const hosts = (p.get('hosts') ?? '').split(/\s+/).filter(Boolean);
  const hp = hosts.length ? p.get(`hosts.${hosts[0]}`) : undefined;
  if (!hp) throw new UsageError(`${a.rpcProps}: set hosts = h1 and hosts.h1 = <host>:<port>`);
  const m = /^(.*):(\d+)$/.exec(hp);
  if (!m) throw new UsageError(`${a.rpcProps}: hosts.${hosts[0]} = '${hp}' is not <host>:<port>`);
  s.host = m[1]!;
  s.port = Number(m[2]);
  const num = (k: string) => {
    const v = p.get(k);
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new UsageError(`${a.rpcProps}: ${k} = '${v}' is not a number`);
    return n;
  };
  s.batchSize = a.batchSize ?? num('batch-size') ?? s.batchSize;
  const ct = p.get('connect-timeout');
  if (ct) s.connectTimeoutMs = parseDurationMs(ct, 'ms');
  const rt = p.get('request-timeout');
  if (rt) s.requestTimeoutMs = parseDurationMs(rt, 'ms');
  if ((p.get('compression-type') ?? 'none').toLowerCase() === 'deflate')
    s.layers.deflate = { level: num('compression-level') ?? 6 };
  if ((p.get('ssl') ?? 'false').toLowerCase() === 'true') {
    const o = { ...tlsOptionsFromProperties(tlsClientOptions, p, (m) => warn(`${a.rpcProps}: ${m}`)), ssl: true };
    s.layers.tlsClient = loadClientTls(resolveTls(o, 'client'), { label: a.rpcProps, host: s.host, warn });
  }
  return s;
}

/**
 * Splits a byte stream into lines (\n, \r\n, \r) and calls `send` with batches of `batchSize` events; returns the
 * count.
 */
async function forEachBatch(
  input: Readable,
  batchSize: number,
  headers: Record<string, string> | undefined,
  send: (batch: FlumeEvent[]) => Promise<void>,
): Promise<number> {
  let carry: Buffer | undefined;
  let batch: FlumeEvent[] = [];
  let total = 0;
  let pendingCR = false;
  const emit = async (line: Buffer) => {
    batch.push(makeEvent(Buffer.from(line), headers));
    if (batch.length >= batchSize) {
      const b = batch;
      batch = [];
      total += b.length;
      await send(b);
    }
  };
  for await (const chunk of input as AsyncIterable<Buffer>) {
    const buf = carry ? Buffer.concat([carry, chunk]) : chunk;
    carry = undefined;
    let start = 0;
    if (pendingCR && buf.length > 0 && buf[0] === 0x0a) start = 1; // \r\n split across chunks
    pendingCR = false;
    for (let i = start; i < buf.length; i++) {
      const c = buf[i];
      if (c === 0x0a || c === 0x0d) {
        await emit(buf.subarray(start, i));
        if (c === 0x0d) {
          if (i + 1 < buf.length) {
            if (buf[i + 1] === 0x0a) i++;
          } else pendingCR = true;
        }
        start = i + 1;
      }
    }
    if (start < buf.length) carry = Buffer.from(buf.subarray(start));
  }
  if (carry && carry.length > 0) await emit(carry);
  if (batch.length > 0) {
    total += batch.length;
    await send(batch);
  }
  return total;
}

export async function runAvroClient(a: AvroClientArgs): Promise<number> {
  const err = a.err ?? process.stderr;
  const warn = (s: string) => err.write(`flume-ng avro-client: warning: ${s}\n`);
  let settings: ClientSettings;
  let headers: Record<string, string> | undefined;
  try {
    settings = settingsFrom(a, warn);
    if (a.headerFile) {
      headers = {};
      for (const [k, v] of readProps(a.headerFile)) headers[k] = v;
    }
  } catch (e) {
    err.write(`flume-ng avro-client: ${errorMessage(e)}\n`);
    return e instanceof UsageError ? EXIT.USAGE : EXIT.FAILURE;
  }
  let client: AvroRpcClient | undefined;
  let sent = 0;
  let batches = 0;
  const send = async (batch: FlumeEvent[]) => {
    const status = await client!.appendBatch(batch);
    if (status !== 'OK')
      throw new AgentError(
        'FLUME_ERR_RPC_CALL',
        `${settings.host}:${settings.port} answered ${status} to a batch of ${batch.length} events (${sent} events were delivered before it)`,
      );
    sent += batch.length;
    batches++;
  };
  try {
    client = await AvroRpcClient.connect({
      host: settings.host,
      port: settings.port,
      connectTimeoutMs: settings.connectTimeoutMs,
      requestTimeoutMs: settings.requestTimeoutMs,
      layers: settings.layers,
    });
    if (a.dirname) {
      const names = fs
        .readdirSync(a.dirname)
        .filter((n) => !n.startsWith('.') && !n.endsWith('.COMPLETED'))
        .sort();
      for (const n of names) {
        const f = path.join(a.dirname, n);
        if (!fs.statSync(f).isFile()) continue;
        await forEachBatch(fs.createReadStream(f), settings.batchSize, headers, send);
        fs.renameSync(f, `${f}.COMPLETED`);
      }
    } else {
      const input = a.filename ? fs.createReadStream(a.filename) : (a.stdin ?? process.stdin);
      await forEachBatch(input, settings.batchSize, headers, send);
    }
  } catch (e) {
    err.write(`flume-ng avro-client: ${errorMessage(e)}\n`);
    client?.destroy();
    return EXIT.FAILURE;
  }
  await client.close();
  err.write(`flume-ng avro-client: sent ${sent} events in ${batches} batches to ${settings.host}:${settings.port}\n`);
  return EXIT.OK;
}
