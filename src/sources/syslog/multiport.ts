/**
 * multiport_syslogtcp (Flume MultiportSyslogTCPSource): syslog over TCP on several ports, Flume's SyslogParser
 * semantics (headers Priority, Facility, Severity, Version, timestamp, host), per-port charsets, portHeader.
 *
 * Differences from Flume, on purpose: as syslogtcp (backpressure instead of drops, octet counting, cut messages
 * skip their rest, last unterminated line delivered, maxConnections); bodies are the received bytes (Flume
 * re-encodes the decoded text, the same bytes for valid input); charsets that are not ASCII-compatible (UTF-16,
 * UTF-32) are refused, since LF framing cannot work with them; readBufferBytes/numProcessors have no effect (Node's
 * event loop).
 */
import {
  defineSource,
  type Problem,
  type SourceContext,
  opt,
  OptionError,
  type OptionSpec,
  type Resolved,
} from '../../contract/index.js';
import { charsetOption } from '../../text/index.js';
import { keepFieldsOption, multiportCharset, parseMultiport, type MultiportCharset } from './parser.js';
import { clientHeaders, clientHostnameHeader, clientIPHeader } from './common.js';
import { TcpIntake } from './tcp-intake.js';
import { loadServerTls, resolveTls, tlsProblems, tlsServerOptions } from '../../net/tls/index.js';

const charset = charsetOption({
  need: 'lines',
  who: 'multiport_syslogtcp',
  doc: 'Charset of the messages on ports without their own charset.port.<port>.',
});

const ports: OptionSpec<number[]> = {
  ...(opt.list({ required: true, doc: 'Space-separated TCP ports to listen on.' }) as OptionSpec<any>),
  typeText: 'list of ports',
  parse: (raw: string) => {
    const out: number[] = [];
    for (const p of raw.split(/\s+/).filter(Boolean)) {
      if (!/^\d+$/.test(p) || Number(p) > 65535)
        throw new OptionError(`'${p}' is not a port number`, 'ports is a space-separated list of numbers 1..65535');
      out.push(Number(p));
    }
    if (out.length === 0) throw new OptionError('no ports listed');
    return out;
  },
};

const options = {
  host: opt.string({ default: '0.0.0.0', nonEmpty: true, doc: 'Address to listen on (default: all interfaces).' }),
  ports,
  portHeader: opt.string({ doc: 'Header that receives the port the message arrived on.' }),
  'charset.default': charset,
  'charset.port': opt.map({ of: charset, doc: 'Charset for one port: charset.port.<port> = <charset>.' }),
  eventSize: opt.int({
    default: 2500,
    min: 10,
    doc: 'Most bytes per message; a longer one is cut, flagged flume.syslog.status=Incomplete, and the rest of it skipped.',
  }),
  batchSize: opt.int({ default: 100, min: 1, doc: 'Most events per channel transaction.' }),
  keepFields: keepFieldsOption,
  clientIPHeader,
  clientHostnameHeader,
  maxConnections: opt.int({
    default: 1000,
    min: 1,
    doc: 'Most concurrent client connections over all ports; further connections are closed at once (flume-ts).',
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
  readBufferBytes: opt.ignored({ doc: 'Mina read buffer size; Node.js sizes its reads itself.' }),
  readBufferSize: opt.ignored({ doc: "The user guide's spelling of readBufferBytes; no effect." }),
  numProcessors: opt.ignored({ doc: 'Mina processor threads; Node.js uses one event loop.' }),
  ...tlsServerOptions,
};

export type MultiportOptions = Resolved<typeof options>;

function check(o: MultiportOptions): Problem[] {
  const out: Problem[] = [...tlsProblems(resolveTls(o, 'server'))];
  const seen = new Set<number>();
  for (const p of o.ports) {
    if (seen.has(p) && p !== 0) out.push({ key: 'ports', message: `port ${p} is listed twice` });
    seen.add(p);
  }
  for (const port of Object.keys(o['charset.port'])) {
    const key = `charset.port.${port}`;
    if (!/^\d+$/.test(port)) out.push({ key, message: `'${port}' is not a port number` });
    else if (!o.ports.includes(Number(port)))
      out.push({
        key,
        message: `port ${port} is not one of ports (${o.ports.join(' ')})`,
        hint: 'add it to ports or remove this key',
      });
  }
  return out;
}

export function createMultiport(o: MultiportOptions, ctx: SourceContext): TcpIntake {
  const byName = new Map<string, MultiportCharset>();
  const cs = (name: string) => {
    let c = byName.get(name);
    if (!c) byName.set(name, (c = multiportCharset(name)));
    return c;
  };
  const defaultCs = cs(o['charset.default']);
  const perPort = new Map<number, MultiportCharset>();
  for (const [port, name] of Object.entries(o['charset.port'])) perPort.set(Number(port), cs(name));
  // a port configured as 0 binds an ephemeral port; map it back to its charset by index (called per connection,
  // after start(): `intake` is set by then)
  const charsetFor = (localPort: number): MultiportCharset => {
    const direct = perPort.get(localPort);
    if (direct) return direct;
    if (perPort.size) {
      const i = intake.ports.indexOf(localPort);
      const c = i >= 0 ? perPort.get(o.ports[i]!) : undefined;
      if (c) return c;
    }
    return defaultCs;
  };
  const intake: TcpIntake = new TcpIntake(
    {
      kind: 'multiport_syslogtcp',
      host: o.host,
      ports: o.ports,
      tls: () => {
        const t = resolveTls(o, 'server');
        const label = `multiport_syslogtcp source ${ctx.name}`;
        return t.enabled ? loadServerTls(t, { label, warn: (msg) => ctx.logger.warn(msg) }) : undefined;
      },
      eventSize: o.eventSize,
      batchSize: o.batchSize,
      maxConnections: o.maxConnections,
      maxBufferedBytes: o.maxBufferedBytes,
      idleTimeoutMs: o.idleTimeout,
      wantsHostname: Boolean(o.clientHostnameHeader),
      extraHeaders: (ip, hostname, localPort) =>
        clientHeaders(o, ip, hostname, o.portHeader ? { [o.portHeader]: String(localPort) } : undefined),
      parser: (localPort) => {
        const charset = charsetFor(localPort); // connections arrive after start(): the bound ports are known
        // parseMultiport copies the body: `copy` is always honoured
        return {
          parse: (buf, start, end, incomplete, nowMs, extra) =>
            parseMultiport(buf.subarray(start, end), incomplete, o.keepFields, nowMs, charset, extra),
        };
      },
    },
    ctx,
  );
  return intake;
}

export default defineSource({
  type: 'multiport_syslogtcp',
  classNames: ['org.apache.flume.source.MultiportSyslogTCPSource'],
  summary:
    "Syslog over TCP on several ports (per-port charsets, optional TLS), parsed with Flume's multiport header names (Priority, Version, ...).",
  options,
  batchSize: (o) => o.batchSize,
  check,
  claims: (o) =>
    o.ports.filter((p) => p !== 0).map((p) => ({ resource: 'tcp' as const, id: `${o.host}:${p}`, key: 'ports' })),
  create: (o, ctx) => createMultiport(o, ctx),
});
