/**
 * Flume's avro source `ipFilterRules`: a comma list of `<allow|deny>:<ip|name>:<pattern>`, first match wins, no
 * match = allowed (Netty's IpFilterRuleHandler). Patterns are Netty PatternRule globs: `.` is literal, `*` any
 * run, `?` one character. `ip` rules match the client's address text; `name` rules match its reverse-DNS name
 * (the address text when the lookup fails); `name:localhost` matches any loopback client.
 */
import dns from 'node:dns';
import net from 'node:net';
import { AgentError } from '../core/errors.js';

export interface IpRule {
  allow: boolean;
  kind: 'ip' | 'name';
  pattern: string;
  re: RegExp;
  localhost: boolean;
}

export class IpRuleError extends AgentError {
  constructor(message: string) {
    super('FLUME_ERR_NET_IP_RULE', message);
    this.name = 'IpRuleError';
  }
}

export function parseIpFilterRules(text: string): IpRule[] {
  const rules: IpRule[] = [];
  for (const raw of text.split(',')) {
    const r = raw.trim();
    if (r === '') continue;
    const parts = r.split(':');
    if (parts.length < 3) throw new IpRuleError(`rule '${r}' is not <allow|deny>:<ip|name>:<pattern>`);
    const [verdict, kind] = [parts[0]!.trim().toLowerCase(), parts[1]!.trim().toLowerCase()];
    const pattern = parts.slice(2).join(':').trim(); // IPv6 patterns contain ':'
    if (verdict !== 'allow' && verdict !== 'deny')
      throw new IpRuleError(`rule '${r}': first part must be allow or deny`);
    if (kind !== 'ip' && kind !== 'name') throw new IpRuleError(`rule '${r}': second part must be ip or name`);
    if (pattern === '') throw new IpRuleError(`rule '${r}' has an empty pattern`);
    const src = pattern.replace(/\./g, '\\.').replace(/\*/g, '.*').replace(/\?/g, '.');
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${src})$`, 'i');
    } catch {
      throw new IpRuleError(`rule '${r}': bad pattern`);
    }
    rules.push({
      allow: verdict === 'allow',
      kind,
      pattern,
      re,
      localhost: kind === 'name' && pattern.toLowerCase() === 'localhost',
    });
  }
  return rules;
}

function normalize(addr: string): string {
  return addr.startsWith('::ffff:') && net.isIPv4(addr.slice(7)) ? addr.slice(7) : addr;
}

function isLoopback(addr: string): boolean {
  return addr === '::1' || /^127\./.test(addr);
}

async function reverseName(addr: string, timeoutMs: number): Promise<string> {
  let t: NodeJS.Timeout | undefined;
  try {
    const names = await Promise.race([
      dns.promises.reverse(addr),
      new Promise<string[]>((resolve) => {
        t = setTimeout(() => resolve([]), timeoutMs);
      }),
    ]);
    return names[0] ?? addr;
  } catch {
    return addr;
  } finally {
    if (t) clearTimeout(t);
  }
}

/** A decision function for AvroRpcServer's accept hook: sync when no name rule needs a DNS lookup. */
export function ipFilter(
  rules: readonly IpRule[],
  lookup: (addr: string) => Promise<string> = (a) => reverseName(a, 2000),
): (addr: string) => boolean | Promise<boolean> {
  return (raw: string) => {
    const addr = normalize(raw);
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (r.kind === 'ip') {
        if (r.re.test(addr)) return r.allow;
        continue;
      }
      if (r.localhost && isLoopback(addr)) return r.allow;
      // a name rule: resolve once, then finish the evaluation asynchronously
      return lookup(addr).then((name) => {
        for (let j = i; j < rules.length; j++) {
          const q = rules[j]!;
          if (q.kind === 'ip' ? q.re.test(addr) : (q.localhost && isLoopback(addr)) || q.re.test(name)) return q.allow;
        }
        return true;
      });
    }
    return true;
  };
}
