/**
 * Resolved TLS settings: a component's options (any table that spread a TLS fragment) plus Flume's global
 * fallbacks from the environment, as Flume's SSLUtil reads them: FLUME_SSL_KEYSTORE_PATH, _PASSWORD, _TYPE
 * (servers), FLUME_SSL_TRUSTSTORE_PATH, _PASSWORD, _TYPE (clients), FLUME_SSL_INCLUDE_PROTOCOLS,
 * FLUME_SSL_EXCLUDE_PROTOCOLS, FLUME_SSL_INCLUDE_CIPHERSUITES, FLUME_SSL_EXCLUDE_CIPHERSUITES (both). A key set on
 * the component wins over the environment. Lists, in keys and in the environment, split on whitespace and commas.
 */
import { OptionError, type OptionSpec, type Problem } from '../../contract/index.js';
import { cipherList, protocolRange } from './suites.js';
import type { StoreRef } from './stores.js';

export type TlsSide = 'server' | 'client';

export interface TlsSettings {
  side: TlsSide;
  enabled: boolean;
  /** Own key and certificate chain (a server's, or a client's for mutual TLS). */
  keystore?: StoreRef;
  /** keystore-password: opens the key store and an encrypted sslKey. */
  keyPassword?: string;
  certificate?: string;
  key?: string;
  /** Client: trusted certificates. */
  truststore?: StoreRef;
  caCertificate?: string;
  trustAll: boolean;
  verifyHostname: boolean;
  includeProtocols: string[];
  excludeProtocols: string[];
  includeCiphers: string[];
  excludeCiphers: string[];
  /** Server: 0 = Node's default. */
  handshakeTimeoutMs: number;
}

function envText(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function envList(v: string | undefined): string[] | undefined {
  const l = v?.split(/[\s,]+/).filter(Boolean);
  return l?.length ? l : undefined;
}

/** Settings from resolved options and the environment; `side` says which fragment the table spread. */
export function resolveTls(o: object, side: TlsSide, env: NodeJS.ProcessEnv = process.env): TlsSettings {
  const v = o as Record<string, unknown>;
  const str = (k: string): string | undefined =>
    typeof v[k] === 'string' && v[k] !== '' ? (v[k] as string) : undefined;
  const list = (k: string): string[] | undefined => v[k] as string[] | undefined;
  const server = side === 'server';
  const keyPassword =
    (v['keystore-password'] as string | undefined) ?? (server ? env.FLUME_SSL_KEYSTORE_PASSWORD : undefined);
  const keystore = str('keystore') ?? (server ? envText(env.FLUME_SSL_KEYSTORE_PATH) : undefined);
  const truststore = server ? undefined : (str('truststore') ?? envText(env.FLUME_SSL_TRUSTSTORE_PATH));
  return {
    side,
    enabled: v.ssl === true,
    keystore:
      keystore === undefined
        ? undefined
        : {
            path: keystore,
            password: keyPassword,
            declaredType: str('keystore-type') ?? (server ? envText(env.FLUME_SSL_KEYSTORE_TYPE) : undefined),
          },
    keyPassword,
    certificate: str('sslCertificate'),
    key: str('sslKey'),
    truststore:
      truststore === undefined
        ? undefined
        : {
            path: truststore,
            password: (v['truststore-password'] as string | undefined) ?? env.FLUME_SSL_TRUSTSTORE_PASSWORD,
            declaredType: str('truststore-type') ?? envText(env.FLUME_SSL_TRUSTSTORE_TYPE),
          },
    caCertificate: str('sslCaCertificate'),
    trustAll: v['trust-all-certs'] === true,
    verifyHostname: v.sslVerifyHostname !== false,
    includeProtocols: list('include-protocols') ?? envList(env.FLUME_SSL_INCLUDE_PROTOCOLS) ?? [],
    excludeProtocols: list('exclude-protocols') ?? envList(env.FLUME_SSL_EXCLUDE_PROTOCOLS) ?? ['SSLv3'],
    includeCiphers: list('include-cipher-suites') ?? envList(env.FLUME_SSL_INCLUDE_CIPHERSUITES) ?? [],
    excludeCiphers: list('exclude-cipher-suites') ?? envList(env.FLUME_SSL_EXCLUDE_CIPHERSUITES) ?? [],
    handshakeTimeoutMs: typeof v.sslHandshakeTimeout === 'number' ? v.sslHandshakeTimeout : 10_000,
  };
}

/** Configuration problems, for a definition's check(); empty when TLS is off or fine. */
export function tlsProblems(s: TlsSettings): Problem[] {
  const out: Problem[] = [];
  if (!s.enabled) {
    if (s.trustAll) out.push({ key: 'trust-all-certs', message: 'trust-all-certs has no effect without ssl = true' });
    return out;
  }
  const pem = s.certificate !== undefined || s.key !== undefined;
  if (s.side === 'server' && !s.keystore && !pem) {
    out.push({
      key: 'ssl',
      message: 'ssl = true but neither keystore nor sslCertificate + sslKey is set',
      hint: 'set keystore and keystore-password (PKCS12, JKS or PEM), or sslCertificate and sslKey (PEM files)',
    });
  }
  if (pem && (!s.certificate || !s.key)) {
    const key = s.certificate ? 'sslKey' : 'sslCertificate';
    out.push({ key, message: 'sslCertificate and sslKey go together', hint: 'set both PEM files' });
  }
  const range = protocolRange(s.includeProtocols, s.excludeProtocols);
  if (typeof range === 'string') {
    out.push({ key: s.includeProtocols.length ? 'include-protocols' : 'exclude-protocols', message: range });
  }
  const ciphers = cipherList(s.includeCiphers, s.excludeCiphers);
  if (typeof ciphers !== 'string') {
    const hint = 'list names from `openssl ciphers -stdname`';
    out.push({ key: 'include-cipher-suites', message: ciphers.problem, hint });
  }
  return out;
}

/**
 * Resolves a fragment's keys from plain properties (an RPC client properties file) as an option table does: old
 * spellings warn and count as the new key (which wins when both are set), values parse the same way, unset keys
 * take their defaults, other keys are ignored. Throws OptionError naming the key.
 */
export function tlsOptionsFromProperties(
  fragment: Record<string, OptionSpec<unknown>>,
  props: ReadonlyMap<string, string>,
  warn: (msg: string) => void,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, raw] of props) {
    const to = fragment[k]?.renamedTo;
    if (to !== undefined) {
      warn(`'${k}' is an old spelling of '${to}'${props.has(to) ? `; '${to}' is set too and wins` : ''}`);
    }
    if (to !== undefined && props.has(to)) continue;
    const key = to ?? k;
    const spec = fragment[key];
    if (!spec || (raw === '' && spec.kind !== 'string')) continue;
    try {
      out[key] = spec.parse(raw);
    } catch (err) {
      throw err instanceof OptionError ? new OptionError(`${k}: ${err.message}`, err.hint) : err;
    }
  }
  for (const [k, spec] of Object.entries(fragment)) {
    if (!(k in out) && spec.renamedTo === undefined) out[k] = spec.default;
  }
  return out;
}
