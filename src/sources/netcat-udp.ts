/**
 * netcatudp (Flume NetcatUdpSource): a UDP socket; every line of a datagram becomes one event.
 *
 * Flume keeps only the bytes before the first LF of each datagram and silently discards the rest. flume-ts
 * changes that on purpose: each LF-terminated line of a datagram is an event (a final line without LF too; a
 * trailing LF does not add an empty event; an empty datagram is one empty event, as in Flume). A CR before the
 * LF is kept in the body, as the netcat (TCP) source does. The sender address goes into the header named by
 * `remoteAddressHeader` (Flume's code reads the key `remoteAddress`; both are accepted) formatted like Java's
 * InetSocketAddress.toString(): `/127.0.0.1:5678`. Without either key no header is set (Flume would put a
 * null header name).
 *
 * Datagrams that arrive together are emitted as one batch; a full channel is retried while new datagrams queue
 * (bounded), then they are dropped and counted in ChannelWriteFail (Flume drops at once).
 */
import { defineSource, type SourceContext, opt, type Resolved } from '../contract/index.js';
import type { FlumeEvent } from '../core/event.js';
import { UdpIntake } from '../net/udp-intake.js';

const options = {
  bind: opt.string({
    default: '0.0.0.0',
    nonEmpty: true,
    doc: 'Address to bind (default: all IPv4 interfaces; an IPv6 literal binds IPv6).',
  }),
  port: opt.int({ required: true, min: 0, max: 65535, doc: 'UDP port (0 = any free port).' }),
  remoteAddressHeader: opt.string({ doc: 'Header that receives the sender address, formatted /IP:PORT.' }),
  remoteAddress: opt.string({
    doc: "The key Flume's code actually reads (its user guide says remoteAddressHeader); same meaning.",
  }),
};

export type NetcatUdpOptions = Resolved<typeof options>;

const LF = 0x0a;

/** Splits a datagram into line events (see the file comment). */
export function datagramLines(msg: Buffer, header: string | undefined, address: string, out: FlumeEvent[]): void {
  const mk = (body: Buffer): FlumeEvent => {
    if (header === undefined) return { headers: EMPTY, body };
    // every event gets its own header object
    const h = Object.create(null) as Record<string, string>;
    h[header] = address;
    return { headers: h, body };
  };
  let start = 0;
  let nl = msg.indexOf(LF);
  if (nl < 0) {
    out.push(mk(Buffer.from(msg)));
    return;
  }
  while (nl >= 0) {
    out.push(mk(Buffer.from(msg.subarray(start, nl))));
    start = nl + 1;
    nl = msg.indexOf(LF, start);
  }
  if (start < msg.length) out.push(mk(Buffer.from(msg.subarray(start))));
}

const EMPTY: Record<string, string> = Object.freeze(Object.create(null)) as Record<string, string>;

export function createNetcatUdp(o: NetcatUdpOptions, ctx: SourceContext): UdpIntake {
  const header = o.remoteAddressHeader ?? o.remoteAddress;
  return new UdpIntake(
    {
      kind: 'netcatudp',
      host: o.bind,
      port: o.port,
      wantsHostname: false,
      toEvents: (msg, ip, port, _hostname, out) => datagramLines(msg, header, `/${ip}:${port}`, out),
    },
    ctx,
  );
}

export default defineSource({
  type: 'netcatudp',
  classNames: ['org.apache.flume.source.NetcatUdpSource'],
  summary: 'UDP socket: each line of each datagram becomes one event (Flume keeps only the first line).',
  options,
  claims: (o) => (o.port === 0 ? [] : [{ resource: 'udp', id: `${o.bind}:${o.port}`, key: 'port' }]),
  create: (o, ctx) => createNetcatUdp(o, ctx),
});
