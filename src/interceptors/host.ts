/**
 * host: sets a header to this host's IP address or host name, computed once when the interceptor is built
 * (Flume HostInterceptor).
 * Differences from Flume: the IP is the first non-internal IPv4 address of the network interfaces (else IPv6,
 * else 127.0.0.1), not the address the host name resolves to; useIP=false gives os.hostname() (Flume: the
 * canonical name from a reverse DNS lookup). No DNS lookup happens, so building never blocks.
 */
import os from 'node:os';
import { defineInterceptor, type Interceptor, opt } from '../contract/index.js';
import { withHeaders, type FlumeEvent } from '../core/event.js';
import { localAddress } from '../net/local-host.js';

export { localAddress };

const options = {
  useIP: opt.bool({ default: true, doc: 'true: the IP address; false: the host name.' }),
  hostHeader: opt.string({ default: 'host', nonEmpty: true, doc: 'Header to set.' }),
  preserveExisting: opt.bool({ default: false, doc: 'Keep the header when the event already has it.' }),
};

export class HostInterceptor implements Interceptor {
  private readonly extra: Record<string, string>;
  constructor(
    private readonly header: string,
    value: string,
    private readonly preserve: boolean,
  ) {
    this.extra = { [header]: value };
  }

  intercept(events: FlumeEvent[]): FlumeEvent[] {
    const out = new Array<FlumeEvent>(events.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      out[i] = this.preserve && e.headers[this.header] !== undefined ? e : withHeaders(e, this.extra);
    }
    return out;
  }
}

export default defineInterceptor({
  type: 'host',
  classNames: ['org.apache.flume.interceptor.HostInterceptor$Builder'],
  summary: "Adds this host's IP address or host name as a header.",
  options,
  create: (o) => new HostInterceptor(o.hostHeader, o.useIP ? localAddress() : os.hostname(), o.preserveExisting),
});
