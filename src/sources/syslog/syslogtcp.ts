/**
 * syslogtcp (Flume SyslogTcpSource): syslog over TCP, LF-delimited or RFC 6587 octet-counted, optionally TLS.
 * Headers as Flume's SyslogUtils: Facility, Severity, priority, version, timestamp, host, flume.syslog.status.
 *
 * Differences from Flume, on purpose: a full channel stops reading and retries (Flume drops the message);
 * octet counting is understood (Flume would see the length as garbage); the rest of a message longer than
 * eventSize is skipped (Flume turns it into further, Invalid, events); a final line without LF at end of stream
 * is delivered; CR before LF is dropped; connections are capped by maxConnections; bodies are byte-exact.
 */
import { defineSource, type SourceContext, opt, type Resolved } from '../../contract/index.js';
import { keepFieldsOption, parseClassicReference } from './parser.js';
import { ClassicParser } from './fast-classic.js';
import { clientHeaders, clientHostnameHeader, clientIPHeader, formatIgnored } from './common.js';
import { TcpIntake } from './tcp-intake.js';
import { loadServerTls, resolveTls, tlsProblems, tlsServerOptions } from '../../net/tls/index.js';

const options = {
  host: opt.string({ required: true, nonEmpty: true, doc: 'Address to listen on (0.0.0.0 for all interfaces).' }),
  port: opt.int({ required: true, min: 0, max: 65535, doc: 'TCP port (0 = any free port).' }),
  eventSize: opt.int({
    default: 2500,
    min: 10,
    doc: 'Most bytes per message; a longer one is cut, flagged flume.syslog.status=Incomplete, and the rest of it skipped.',
  }),
  keepFields: keepFieldsOption,
  clientIPHeader,
  clientHostnameHeader,
  maxConnections: opt.int({
    default: 1000,
    min: 1,
    doc: 'Most concurrent client connections; further connections are closed at once (flume-ts).',
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
  format: formatIgnored,
  ...tlsServerOptions,
};

export type SyslogTcpOptions = Resolved<typeof options>;

export function createSyslogTcp(o: SyslogTcpOptions, ctx: SourceContext): TcpIntake {
  return new TcpIntake(
    {
      kind: 'syslogtcp',
      host: o.host,
      ports: [o.port],
      tls: () => {
        const t = resolveTls(o, 'server');
        const label = `syslogtcp source ${ctx.name}`;
        return t.enabled ? loadServerTls(t, { label, warn: (msg) => ctx.logger.warn(msg) }) : undefined;
      },
      eventSize: o.eventSize,
      batchSize: ctx.maxBatchSize,
      maxConnections: o.maxConnections,
      maxBufferedBytes: o.maxBufferedBytes,
      idleTimeoutMs: o.idleTimeout,
      wantsHostname: Boolean(o.clientHostnameHeader),
      extraHeaders: (ip, hostname) => clientHeaders(o, ip, hostname),
      // one parser per connection (it caches dates and host names); well-formed messages take its byte-scanning
      // fast path, anything else the reference regular expressions
      parser: () => {
        const p = new ClassicParser(parseClassicReference);
        return {
          parse: (buf, start, end, incomplete, nowMs, extra, copy) =>
            p.parse(buf, start, end, incomplete, o.keepFields, nowMs, extra, copy),
        };
      },
    },
    ctx,
  );
}

export default defineSource({
  type: 'syslogtcp',
  classNames: ['org.apache.flume.source.SyslogTcpSource'],
  summary:
    "Syslog over TCP (LF-delimited or octet-counted, optionally TLS); RFC 5424 and RFC 3164 parsed into Flume's syslog headers.",
  options,
  check: (o) => tlsProblems(resolveTls(o, 'server')),
  claims: (o) => (o.port === 0 ? [] : [{ resource: 'tcp', id: `${o.host}:${o.port}`, key: 'port' }]),
  create: (o, ctx) => createSyslogTcp(o, ctx),
});
