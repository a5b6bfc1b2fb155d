/**
 * syslogudp (Flume SyslogUDPSource): one datagram = one syslog message, parsed like syslogtcp.
 *
 * Differences from Flume, on purpose: the whole datagram is the message (Flume keeps only the part before the
 * first LF); one trailing LF/CR/NUL is not part of it; an empty datagram is counted in EventReadFail and
 * skipped; datagrams that arrive together go to the channel in one batch; a full channel is retried while new
 * datagrams queue (bounded), then dropped and counted in ChannelWriteFail (Flume drops at once).
 */
import { defineSource, type SourceContext, opt, type Resolved } from '../../contract/index.js';
import { keepFieldsOption, parseClassic } from './parser.js';
import { clientHeaders, clientHostnameHeader, clientIPHeader, formatIgnored } from './common.js';
import { UdpIntake } from '../../net/udp-intake.js';

const options = {
  host: opt.string({
    default: '0.0.0.0',
    nonEmpty: true,
    doc: 'Address to bind (default: all IPv4 interfaces; an IPv6 literal binds IPv6).',
  }),
  port: opt.int({ required: true, min: 0, max: 65535, doc: 'UDP port (0 = any free port).' }),
  keepFields: keepFieldsOption,
  clientIPHeader,
  clientHostnameHeader,
  eventSize: opt.ignored({ doc: 'Flume ignores it for UDP too: a datagram (up to 64 KiB) is one message.' }),
  format: formatIgnored,
};

export type SyslogUdpOptions = Resolved<typeof options>;

/** Drops trailing LF, CR and NUL bytes (delimiters some senders add to datagrams). */
export function trimDatagram(msg: Buffer): Buffer {
  let e = msg.length;
  while (e > 0) {
    const c = msg[e - 1];
    if (c === 0x0a || c === 0x0d || c === 0x00) e--;
    else break;
  }
  return e === msg.length ? msg : msg.subarray(0, e);
}

export function createSyslogUdp(o: SyslogUdpOptions, ctx: SourceContext): UdpIntake {
  return new UdpIntake(
    {
      kind: 'syslogudp',
      host: o.host,
      port: o.port,
      wantsHostname: Boolean(o.clientHostnameHeader),
      toEvents: (msg, ip, _port, hostname, out) => {
        const line = trimDatagram(msg);
        if (line.length === 0) {
          ctx.counters.add('EventReadFail');
          return;
        }
        out.push(parseClassic(line, false, o.keepFields, ctx.clock.nowMs(), clientHeaders(o, ip, hostname)));
      },
    },
    ctx,
  );
}

export default defineSource({
  type: 'syslogudp',
  classNames: ['org.apache.flume.source.SyslogUDPSource'],
  summary: "Syslog over UDP: each datagram is one RFC 5424 or RFC 3164 message, parsed into Flume's syslog headers.",
  options,
  claims: (o) => (o.port === 0 ? [] : [{ resource: 'udp', id: `${o.host}:${o.port}`, key: 'port' }]),
  create: (o, ctx) => createSyslogUdp(o, ctx),
});
