/**
 * TLS versions and cipher suites, Java names to Node/OpenSSL settings.
 * - protocols: Java names (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3; SSLv3/SSLv2Hello are never available) become a
 *   minVersion..maxVersion range; without include-protocols the range is TLSv1.2..TLSv1.3.
 * - cipher suites: Java/IANA names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) are translated to OpenSSL names
 *   (ECDHE-RSA-AES128-GCM-SHA256); OpenSSL names and TLS 1.3 suites are accepted as they are.
 */
import tls from 'node:tls';

const NODE_PROTOCOLS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
export type NodeProtocol = (typeof NODE_PROTOCOLS)[number];
const NEVER = new Set(['sslv3', 'sslv2hello', 'sslv2']);

function canonicalProtocol(p: string): NodeProtocol | 'never' | undefined {
  const l = p.toLowerCase();
  if (NEVER.has(l)) return 'never';
  return NODE_PROTOCOLS.find((x) => x.toLowerCase() === l || (x === 'TLSv1' && l === 'tlsv1.0'));
}

/** The allowed protocol range, or a problem message. */
export function protocolRange(
  include: readonly string[],
  exclude: readonly string[],
): { min: NodeProtocol; max: NodeProtocol } | string {
  const bad = [...include, ...exclude].filter((p) => canonicalProtocol(p) === undefined);
  if (bad.length) {
    return `unknown TLS protocol ${bad.map((b) => `'${b}'`).join(', ')} (known: ${NODE_PROTOCOLS.join(', ')})`;
  }
  const inc = include.map(canonicalProtocol).filter((p): p is NodeProtocol => p !== 'never' && p !== undefined);
  const exc = new Set(exclude.map(canonicalProtocol));
  const base: NodeProtocol[] = include.length ? inc : ['TLSv1.2', 'TLSv1.3'];
  const allowed = NODE_PROTOCOLS.filter((p) => base.includes(p) && !exc.has(p));
  if (allowed.length === 0) return 'include-protocols/exclude-protocols leave no TLS version enabled';
  const idx = allowed.map((p) => NODE_PROTOCOLS.indexOf(p));
  for (let i = 1; i < idx.length; i++) {
    if (idx[i] !== idx[i - 1]! + 1) {
      return (
        `TLS versions ${allowed.join(', ')} are not a contiguous range ` +
        '(Node.js can only set a minimum and a maximum version)'
      );
    }
  }
  return { min: allowed[0]!, max: allowed[allowed.length - 1]! };
}

let knownCiphers: Set<string> | undefined;
function known(): Set<string> {
  knownCiphers ??= new Set(tls.getCiphers());
  return knownCiphers;
}

const KX: Record<string, string> = {
  RSA: '',
  ECDHE_RSA: 'ECDHE-RSA',
  ECDHE_ECDSA: 'ECDHE-ECDSA',
  DHE_RSA: 'DHE-RSA',
  DHE_DSS: 'DHE-DSS',
  ECDH_RSA: 'ECDH-RSA',
  ECDH_ECDSA: 'ECDH-ECDSA',
  PSK: 'PSK',
  ECDHE_PSK: 'ECDHE-PSK',
  DHE_PSK: 'DHE-PSK',
  RSA_PSK: 'RSA-PSK',
};

/**
 * The OpenSSL name of a cipher suite given by its Java/IANA name (or already by its OpenSSL name); undefined
 * when Node's OpenSSL does not know it.
 */
export function opensslCipherName(name: string): string | undefined {
  if (known().has(name.toLowerCase())) return name;
  const m = /^(?:TLS|SSL)_(.+?)_WITH_(.+)$/.exec(name.toUpperCase());
  if (!m) return undefined;
  const kx = KX[m[1]!];
  if (kx === undefined) return undefined;
  let enc = m[2]!.replace(/^AES_(128|256)_/, 'AES$1_').replace('_CBC_', '_');
  if (enc.startsWith('CHACHA20_POLY1305')) enc = 'CHACHA20_POLY1305';
  const out = [kx, enc.replace(/_/g, '-')].filter(Boolean).join('-');
  return known().has(out.toLowerCase()) ? out : undefined;
}

/** The `ciphers` string for Node, or a problem message. Excluded names Node does not know are never enabled. */
export function cipherList(include: readonly string[], exclude: readonly string[]): string | { problem: string } {
  let list: string;
  if (include.length) {
    const names: string[] = [];
    const bad: string[] = [];
    for (const c of include) {
      const n = opensslCipherName(c);
      if (n) names.push(n);
      else bad.push(c);
    }
    if (bad.length) {
      return {
        problem:
          `cipher suite${bad.length > 1 ? 's' : ''} ${bad.map((b) => `'${b}'`).join(', ')} ` +
          `${bad.length > 1 ? 'have' : 'has'} no OpenSSL equivalent in this Node.js ` +
          `(OpenSSL ${process.versions.openssl})`,
      };
    }
    list = names.join(':');
  } else {
    list = tls.DEFAULT_CIPHERS;
  }
  for (const c of exclude) {
    const n = opensslCipherName(c);
    if (n) list += `:!${n}`;
  }
  return list;
}
