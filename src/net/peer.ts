/** The other end of a connection or datagram: its address as Java reports it, its host name (reverse lookup). */
import dns from 'node:dns';

/** `::ffff:1.2.3.4` -> `1.2.3.4` (what Java reports for IPv4 clients). */
export function plainIp(addr: string | undefined): string {
  if (!addr) return '';
  return addr.startsWith('::ffff:') && addr.includes('.') ? addr.slice(7) : addr;
}

const LOOKUP_TIMEOUT_MS = 2000;
const CACHE_TTL_MS = 5 * 60_000;
const CACHE_MAX = 4096;

/** Reverse lookups through getnameinfo (honours /etc/hosts, like Java's getHostName), cached, with a timeout. */
export class HostnameResolver {
  private readonly cache = new Map<string, { name: string; at: number } | Promise<string>>();

  constructor(private readonly now: () => number = () => performance.now()) {}

  resolve(ip: string): Promise<string> | string {
    const hit = this.cache.get(ip);
    if (hit instanceof Promise) return hit;
    if (hit && this.now() - hit.at < CACHE_TTL_MS) return hit.name;
    const p = new Promise<string>((resolve) => {
      const t = setTimeout(() => resolve(ip), LOOKUP_TIMEOUT_MS);
      t.unref?.();
      dns.lookupService(ip, 0, (err, hostname) => {
        clearTimeout(t);
        resolve(err || !hostname ? ip : hostname);
      });
    }).then((name) => {
      if (this.cache.size >= CACHE_MAX) this.cache.clear();
      this.cache.set(ip, { name, at: this.now() });
      return name;
    });
    this.cache.set(ip, p);
    return p;
  }
}
