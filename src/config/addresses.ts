/**
 * The addresses a plan names, checked against this machine before anything starts (validate, --dryrun, the agent's
 * start-up log): a listening source's `bind`/`host` that is not an address of this host (an error: the source could
 * never start and would retry forever), and host names that do not resolve (a warning: DNS may answer later, a
 * next hop may be on another network). Name lookups are bounded by a timeout.
 */
import dns from 'node:dns/promises';
import net from 'node:net';
import os from 'node:os';
import type { ConfigIssue } from './issues.js';
import type { Plan } from './validate/index.js';

const WILDCARD = new Set(['0.0.0.0', '::', '*', '[::]']);

interface Named {
  /** `a1.sources.r1.bind` */
  key: string;
  component: string;
  host: string;
  listen: boolean;
}

export interface AddressCheckOptions {
  /** Per lookup (default 3 s): a name that does not answer in time counts as not resolving. */
  timeoutMs?: number;
  /** Tests: this host's addresses and the resolver. */
  localAddresses?: () => string[];
  lookup?: (host: string) => Promise<string[]>;
}

/** The listening hosts of the sources and the next-hop hosts of the sinks. */
function namedHosts(plan: Plan): Named[] {
  const out: Named[] = [];
  for (const s of plan.sources) {
    for (const k of ['bind', 'host']) {
      const v: unknown = s.options[k];
      if (typeof v === 'string' && v.trim() !== '')
        out.push({ key: `${plan.agent}.sources.${s.name}.${k}`, component: `source ${s.name}`, host: v, listen: true });
    }
  }
  for (const k of plan.sinks) {
    const v: unknown = k.options.hostname;
    if (typeof v === 'string' && v.trim() !== '')
      out.push({ key: `${plan.agent}.sinks.${k.name}.hostname`, component: `sink ${k.name}`, host: v, listen: false });
  }
  return out;
}

function interfaceAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .map((i) => i?.address)
    .filter((a): a is string => a !== undefined);
}

function isLocal(addr: string, local: ReadonlySet<string>): boolean {
  const a = addr.replace(/%.*$/, '').toLowerCase();
  // the whole 127/8 block is this host's on Linux, bound to lo
  return local.has(a) || (net.isIPv4(a) && a.startsWith('127.')) || a === '::1';
}

async function defaultLookup(host: string): Promise<string[]> {
  const r = await dns.lookup(host, { all: true, verbatim: true });
  return r.map((x) => x.address);
}

/** The lookup's addresses, or its error code (`ETIMEOUT` when it does not answer within `ms`). */
function withTimeout(p: Promise<string[]>, ms: number): Promise<string[] | string> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => (t = setTimeout(() => resolve('ETIMEOUT'), ms)));
  const answer = p.then(
    (addrs) => addrs,
    (err: NodeJS.ErrnoException) => err.code ?? String(err),
  );
  return Promise.race([answer, timeout]).finally(() => clearTimeout(t));
}

/** Checks every named host once; resolves to the issues (errors for bind addresses that cannot be local). */
export async function checkAddresses(plan: Plan, opts: AddressCheckOptions = {}): Promise<ConfigIssue[]> {
  const local = new Set((opts.localAddresses ?? interfaceAddresses)().map((a) => a.toLowerCase()));
  const lookup = opts.lookup ?? defaultLookup;
  const timeoutMs = opts.timeoutMs ?? 3000;
  const cache = new Map<string, Promise<string[] | string>>();
  const resolve = (host: string) => {
    let p = cache.get(host);
    if (!p) {
      p = withTimeout(lookup(host), timeoutMs);
      cache.set(host, p);
    }
    return p;
  };
  const issues: ConfigIssue[] = [];
  await Promise.all(
    namedHosts(plan).map(async (n) => {
      const host = n.host.trim();
      if (n.listen && WILDCARD.has(host)) return;
      const at = { key: n.key, component: n.component };
      if (net.isIP(host)) {
        if (n.listen && !isLocal(host, local))
          issues.push({
            severity: 'error',
            ...at,
            message: `${host} is not an address of this host: the source cannot listen on it`,
            hint: `use one of ${[...local].slice(0, 4).join(', ')}, or 0.0.0.0 for all interfaces`,
          });
        return;
      }
      const r = await resolve(host);
      if (typeof r === 'string') {
        issues.push({
          severity: 'warning',
          ...at,
          message: `host name '${host}' does not resolve (${r})`,
          hint: n.listen
            ? 'the source will retry until it does; use an IP address or 0.0.0.0 to listen on all interfaces'
            : 'the sink will retry until it does',
        });
        return;
      }
      if (n.listen && !r.some((a) => isLocal(a, local)))
        issues.push({
          severity: 'error',
          ...at,
          message: `'${host}' resolves to ${r.join(', ')}, not an address of this host: the source cannot listen on it`,
          hint: 'use an address of this host, or 0.0.0.0 for all interfaces',
        });
    }),
  );
  return issues.sort((a, b) => (a.key ?? '').localeCompare(b.key ?? ''));
}
