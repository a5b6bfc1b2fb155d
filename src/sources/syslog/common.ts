/** Pieces shared by the syslog sources (and netcatudp): option specs, client address headers, reverse lookups. */
import dns from 'node:dns';
import { opt } from '../../config/options.js';

export const clientIPHeader = opt.string({ doc: 'Header that receives the client IP address (e.g. 192.0.2.7).' });
export const clientHostnameHeader = opt.string({ doc: 'Header that receives the client host name (reverse lookup through the system resolver, cached; the IP when it has no name).' });
export const formatIgnored = { ...opt.map({ doc: 'Flume\'s undocumented custom format (format.regex, format.search, format.replace, format.dateFormat): not implemented; the built-in RFC 5424 and RFC 3164 parsers are used.' }), ignored: true };

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

/** Builds the per-client extra headers (null-prototype), or undefined when none are configured. */
export function clientHeaders(
  o: { clientIPHeader?: string; clientHostnameHeader?: string },
  ip: string,
  hostname: string | undefined,
  more?: Record<string, string>,
): Record<string, string> | undefined {
  if (!o.clientIPHeader && !o.clientHostnameHeader && !more) return undefined;
  const h = Object.create(null) as Record<string, string>;
  if (more) for (const k of Object.keys(more)) h[k] = more[k]!;
  if (o.clientIPHeader) h[o.clientIPHeader] = ip;
  if (o.clientHostnameHeader) h[o.clientHostnameHeader] = hostname ?? ip;
  return h;
}

/** Rate-limited warnings: at most one line per key per interval, with the count of suppressed ones. */
export class WarnLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly intervalMs = 10_000) {}
  /** Returns the number of suppressed occurrences to report, or -1 when this one must be suppressed. */
  hit(key: string): number {
    const now = performance.now();
    const e = this.last.get(key);
    if (e && now - e.at < this.intervalMs) {
      e.suppressed++;
      return -1;
    }
    const suppressed = e?.suppressed ?? 0;
    this.last.set(key, { at: now, suppressed: 0 });
    return suppressed;
  }
}
