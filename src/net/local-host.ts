/** This host's names, as the host interceptor and the `%[localhost]` / `%[IP]` / `%[FQDN]` path escapes use them. */
import dns from 'node:dns';
import os from 'node:os';

/** The first non-internal IPv4 address of the network interfaces, else IPv6, else 127.0.0.1 (no DNS lookup). */
export function localAddress(): string {
  const ifs = os.networkInterfaces();
  let v6: string | undefined;
  for (const list of Object.values(ifs)) {
    for (const a of list ?? []) {
      if (a.internal) continue;
      if (a.family === 'IPv4') return a.address;
      v6 ??= a.address;
    }
  }
  return v6 ?? '127.0.0.1';
}

/**
 * The canonical (fully qualified) name of this host, as Java's InetAddress.getLocalHost().getCanonicalHostName():
 * the host name resolved to an address, then that address resolved back to a name (both through the system
 * resolver, honouring /etc/hosts). Falls back to os.hostname() on any failure or after `timeoutMs`.
 */
export function canonicalHostName(timeoutMs = 2000): Promise<string> {
  const name = os.hostname();
  return new Promise<string>((resolve) => {
    const t = setTimeout(() => resolve(name), timeoutMs);
    t.unref?.();
    const done = (v: string) => {
      clearTimeout(t);
      resolve(v);
    };
    dns.lookup(name, (err, address) => {
      if (err || !address) return done(name);
      dns.lookupService(address, 0, (err2, host) => done(err2 || !host ? name : host));
    });
  });
}
