/**
 * Shared TLS settings for network components (http, syslogtcp, multiport_syslogtcp, avro, ...).
 *
 * Flume's keys are kept: `ssl`, `keystore`, `keystore-password`, `keystore-type`, `include-protocols`,
 * `exclude-protocols`, `include-cipher-suites`, `exclude-cipher-suites`, with Flume's global fallbacks from the
 * environment (FLUME_SSL_KEYSTORE_PATH, FLUME_SSL_KEYSTORE_PASSWORD, FLUME_SSL_KEYSTORE_TYPE,
 * FLUME_SSL_INCLUDE_PROTOCOLS, FLUME_SSL_EXCLUDE_PROTOCOLS, FLUME_SSL_INCLUDE_CIPHERSUITES,
 * FLUME_SSL_EXCLUDE_CIPHERSUITES).
 *
 * Mapping onto Node's TLS:
 * - keystore-type PKCS12 (the default; Java 9+ keytool writes PKCS12 even for "JKS") loads through `pfx`;
 *   a real JKS/JCEKS file (magic bytes) is refused at start with the keytool command that converts it;
 *   keystore-type PEM reads one PEM file holding the private key and the certificate chain.
 * - our own keys `sslCertificate` + `sslKey` name separate PEM files (the key may be encrypted with
 *   keystore-password).
 * - protocols: Java names (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3; SSLv3/SSLv2Hello are never available) become a
 *   minVersion..maxVersion range; without include-protocols the range is TLSv1.2..TLSv1.3.
 * - cipher suites: Java/IANA names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) are translated to OpenSSL names
 *   (ECDHE-RSA-AES128-GCM-SHA256); OpenSSL names are accepted as they are.
 * - `sslHandshakeTimeout` drops clients that connect and never finish the handshake.
 *
 * Use: spread `tlsOptions` (and for the http source `legacyHttpTlsOptions`) into an option table, call
 * `tlsProblems(resolveTls(o))` in the definition's `check`, and `tlsServerOptions(resolveTls(o), label)` in start().
 */
import fs from 'node:fs';
import tls from 'node:tls';
import { opt } from '../config/options.js';
import type { Problem } from '../registry/define.js';
import { AgentError, errorMessage } from '../core/errors.js';

export const tlsOptions = {
  ssl: opt.bool({ default: false, doc: 'Serve TLS on this port (plaintext clients are refused).' }),
  keystore: opt.string({ doc: 'Keystore file with the server key and certificate: PKCS12 (.p12/.pfx), or PEM with keystore-type = PEM. Default: environment FLUME_SSL_KEYSTORE_PATH.' }),
  'keystore-password': opt.string({ doc: 'Password of the keystore (or of an encrypted PEM key). Default: environment FLUME_SSL_KEYSTORE_PASSWORD.' }),
  'keystore-type': opt.enum({
    values: ['PKCS12', 'JKS', 'PEM'] as const,
    defaultText: 'PKCS12',
    doc: 'PKCS12 or PEM. JKS is accepted as a name: a keystore written by Java 9+ keytool is PKCS12 and loads; a real JKS file is refused at start with the keytool command that converts it.',
  }),
  'include-protocols': opt.list({ doc: 'Space-separated TLS versions to allow (TLSv1, TLSv1.1, TLSv1.2, TLSv1.3). Default: TLSv1.2 TLSv1.3.' }),
  'exclude-protocols': opt.list({ default: ['SSLv3'], doc: 'Space-separated TLS versions to refuse. SSLv3 is never available.' }),
  'include-cipher-suites': opt.list({ doc: 'Space-separated cipher suites to allow, Java/IANA names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) or OpenSSL names. Default: Node.js defaults.' }),
  'exclude-cipher-suites': opt.list({ doc: 'Space-separated cipher suites to refuse (Java/IANA or OpenSSL names).' }),
  sslCertificate: opt.string({ doc: 'PEM certificate chain file (flume-ts; instead of a keystore, with sslKey).' }),
  sslKey: opt.string({ doc: 'PEM private key file (flume-ts; with sslCertificate). An encrypted key uses keystore-password.' }),
  sslHandshakeTimeout: opt.duration({ default: 10, unit: 's', min: 0, doc: 'Clients that do not complete the TLS handshake within this time are disconnected (bare number = seconds).' }),
};

/** The HTTP source's older spellings (Flume < 1.9). */
export const legacyHttpTlsOptions = {
  enableSSL: opt.bool({ doc: 'Old spelling of ssl.' }),
  keystorePassword: opt.string({ doc: 'Old spelling of keystore-password.' }),
  excludeProtocols: opt.list({ doc: 'Old spelling of exclude-protocols.' }),
};

export interface TlsSettings {
  enabled: boolean;
  keystore?: string;
  password?: string;
  keystoreType: 'PKCS12' | 'JKS' | 'PEM';
  includeProtocols: string[];
  excludeProtocols: string[];
  includeCiphers: string[];
  excludeCiphers: string[];
  certificate?: string;
  key?: string;
  handshakeTimeoutMs: number;
}

function envList(v: string | undefined): string[] | undefined {
  return v === undefined || v.trim() === '' ? undefined : v.trim().split(/\s+/);
}

function excludeList(current: string[] | undefined, legacy: string[] | undefined, env: NodeJS.ProcessEnv): string[] {
  const atDefault = current === undefined || (current.length === 1 && current[0] === 'SSLv3');
  if (!atDefault) return current;
  return legacy ?? envList(env.FLUME_SSL_EXCLUDE_PROTOCOLS) ?? ['SSLv3'];
}

/**
 * Settings from resolved options (any table that spread `tlsOptions`, optionally `legacyHttpTlsOptions`), with
 * Flume's environment fallbacks. New spellings win over old ones.
 */
export function resolveTls(o: Record<string, any>, env: NodeJS.ProcessEnv = process.env): TlsSettings {
  const list = (k: string, legacy?: string): string[] | undefined => {
    const v = o[k] as string[] | undefined;
    const l = legacy ? (o[legacy] as string[] | undefined) : undefined;
    return v ?? l;
  };
  const type = (o['keystore-type'] as string | undefined) ?? env.FLUME_SSL_KEYSTORE_TYPE?.trim().toUpperCase();
  return {
    enabled: (o.ssl as boolean | undefined) || (o.enableSSL as boolean | undefined) || false,
    keystore: (o.keystore as string | undefined) || env.FLUME_SSL_KEYSTORE_PATH || undefined,
    password: (o['keystore-password'] as string | undefined) ?? (o.keystorePassword as string | undefined) ?? env.FLUME_SSL_KEYSTORE_PASSWORD,
    keystoreType: type === 'PEM' ? 'PEM' : type === 'JKS' ? 'JKS' : 'PKCS12',
    includeProtocols: list('include-protocols') ?? envList(env.FLUME_SSL_INCLUDE_PROTOCOLS) ?? [],
    // exclude-protocols has a default (SSLv3); the legacy key or the environment apply when it is left at that default
    excludeProtocols: excludeList(o['exclude-protocols'] as string[] | undefined, o.excludeProtocols as string[] | undefined, env),
    includeCiphers: list('include-cipher-suites') ?? envList(env.FLUME_SSL_INCLUDE_CIPHERSUITES) ?? [],
    excludeCiphers: list('exclude-cipher-suites') ?? envList(env.FLUME_SSL_EXCLUDE_CIPHERSUITES) ?? [],
    certificate: (o.sslCertificate as string | undefined) || undefined,
    key: (o.sslKey as string | undefined) || undefined,
    handshakeTimeoutMs: (o.sslHandshakeTimeout as number | undefined) ?? 10_000,
  };
}

// ----------------------------------------------------------------------------------------------- protocols

const NODE_PROTOCOLS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
type NodeProtocol = (typeof NODE_PROTOCOLS)[number];
const NEVER = new Set(['sslv3', 'sslv2hello', 'sslv2']);

function canonicalProtocol(p: string): NodeProtocol | 'never' | undefined {
  const l = p.toLowerCase();
  if (NEVER.has(l)) return 'never';
  return NODE_PROTOCOLS.find((x) => x.toLowerCase() === l || (x === 'TLSv1' && l === 'tlsv1.0'));
}

/** The allowed protocol range, or a problem message. */
export function protocolRange(include: readonly string[], exclude: readonly string[]): { min: NodeProtocol; max: NodeProtocol } | string {
  const bad = [...include, ...exclude].filter((p) => canonicalProtocol(p) === undefined);
  if (bad.length) return `unknown TLS protocol ${bad.map((b) => `'${b}'`).join(', ')} (known: ${NODE_PROTOCOLS.join(', ')})`;
  const inc = include.map(canonicalProtocol).filter((p): p is NodeProtocol => p !== 'never' && p !== undefined);
  const exc = new Set(exclude.map(canonicalProtocol));
  const base: NodeProtocol[] = include.length ? inc : ['TLSv1.2', 'TLSv1.3'];
  const allowed = NODE_PROTOCOLS.filter((p) => base.includes(p) && !exc.has(p));
  if (allowed.length === 0) return 'include-protocols/exclude-protocols leave no TLS version enabled';
  const idx = allowed.map((p) => NODE_PROTOCOLS.indexOf(p));
  for (let i = 1; i < idx.length; i++) {
    if (idx[i] !== idx[i - 1]! + 1) return `TLS versions ${allowed.join(', ')} are not a contiguous range (Node.js can only set a minimum and a maximum version)`;
  }
  return { min: allowed[0]!, max: allowed[allowed.length - 1]! };
}

// ----------------------------------------------------------------------------------------------- ciphers

let knownCiphers: Set<string> | undefined;
function known(): Set<string> {
  knownCiphers ??= new Set(tls.getCiphers());
  return knownCiphers;
}

const KX: Record<string, string> = {
  RSA: '', ECDHE_RSA: 'ECDHE-RSA', ECDHE_ECDSA: 'ECDHE-ECDSA', DHE_RSA: 'DHE-RSA', DHE_DSS: 'DHE-DSS',
  ECDH_RSA: 'ECDH-RSA', ECDH_ECDSA: 'ECDH-ECDSA', PSK: 'PSK', ECDHE_PSK: 'ECDHE-PSK', DHE_PSK: 'DHE-PSK', RSA_PSK: 'RSA-PSK',
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

/** The `ciphers` string for Node, or a problem message. */
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
    if (bad.length) return { problem: `cipher suite${bad.length > 1 ? 's' : ''} ${bad.map((b) => `'${b}'`).join(', ')} not available in Node.js (OpenSSL ${process.versions.openssl})` };
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

// ----------------------------------------------------------------------------------------------- validation and loading

/** Configuration problems (for a definition's check()); empty when TLS is off or fine. */
export function tlsProblems(s: TlsSettings): Problem[] {
  if (!s.enabled) return [];
  const out: Problem[] = [];
  if (!s.keystore && !(s.certificate && s.key)) {
    out.push({ key: 'ssl', message: 'ssl = true needs a keystore (keystore + keystore-password) or sslCertificate + sslKey', hint: 'set keystore to a PKCS12 file, e.g. made with: openssl pkcs12 -export -in cert.pem -inkey key.pem -out server.p12' });
  }
  if ((s.certificate && !s.key) || (!s.certificate && s.key)) {
    out.push({ key: s.certificate ? 'sslKey' : 'sslCertificate', message: 'sslCertificate and sslKey go together', hint: 'set both PEM files' });
  }
  if (s.keystore && !s.certificate && s.keystoreType !== 'PEM' && s.password === undefined) {
    out.push({ key: 'keystore-password', message: 'a PKCS12 keystore needs keystore-password', hint: 'set keystore-password (an empty value is not allowed in .properties; use a keystore with a password)' });
  }
  const range = protocolRange(s.includeProtocols, s.excludeProtocols);
  if (typeof range === 'string') out.push({ key: s.includeProtocols.length ? 'include-protocols' : 'exclude-protocols', message: range });
  const ciphers = cipherList(s.includeCiphers, s.excludeCiphers);
  if (typeof ciphers !== 'string') out.push({ key: 'include-cipher-suites', message: ciphers.problem, hint: 'list names from `openssl ciphers -stdname`' });
  return out;
}

function readFile(path: string, what: string, label: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (err) {
    throw new AgentError('FLUME_ERR_SOURCE_START', `${label}: cannot read ${what} ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * Node TLS server options (key material read now, synchronously: call from start()). Throws AgentError
 * FLUME_ERR_SOURCE_START with a readable reason when the files are missing, of the wrong kind, or the password is wrong.
 */
export function tlsServerOptions(s: TlsSettings, label: string): tls.TlsOptions {
  const problems = tlsProblems(s);
  if (problems.length) throw new AgentError('FLUME_ERR_SOURCE_START', `${label}: ${problems.map((p) => p.message).join('; ')}`);
  const range = protocolRange(s.includeProtocols, s.excludeProtocols) as { min: NodeProtocol; max: NodeProtocol };
  let ciphers = cipherList(s.includeCiphers, s.excludeCiphers) as string;
  // OpenSSL 3 refuses TLS 1.0/1.1 at its default security level
  if (range.min === 'TLSv1' || range.min === 'TLSv1.1') ciphers += ':@SECLEVEL=0';
  const out: tls.TlsOptions = { minVersion: range.min, maxVersion: range.max, ciphers, handshakeTimeout: s.handshakeTimeoutMs || 120_000 };
  if (s.certificate && s.key) {
    out.cert = readFile(s.certificate, 'sslCertificate', label);
    out.key = readFile(s.key, 'sslKey', label);
    if (s.password !== undefined) out.passphrase = s.password;
  } else if (s.keystoreType === 'PEM') {
    const pem = readFile(s.keystore!, 'keystore', label);
    out.cert = pem;
    out.key = pem;
    if (s.password !== undefined) out.passphrase = s.password;
  } else {
    const ks = readFile(s.keystore!, 'keystore', label);
    const magic = ks.length >= 4 ? ks.readUInt32BE(0) : 0;
    if (magic === 0xfeedfeed || magic === 0xcececece) {
      throw new AgentError('FLUME_ERR_SOURCE_START',
        `${label}: keystore ${s.keystore} is a Java ${magic === 0xfeedfeed ? 'JKS' : 'JCEKS'} file, which Node.js cannot read; convert it once: ` +
        `keytool -importkeystore -srckeystore ${s.keystore} -destkeystore server.p12 -deststoretype PKCS12, then point keystore at server.p12`);
    }
    out.pfx = ks;
    if (s.password !== undefined) out.passphrase = s.password;
  }
  try {
    tls.createSecureContext(out);
  } catch (err) {
    const msg = errorMessage(err);
    const why = /mac verify|bad decrypt|password/i.test(msg) ? 'wrong keystore-password (or a damaged keystore)' : msg;
    throw new AgentError('FLUME_ERR_SOURCE_START', `${label}: cannot load the TLS key material: ${why}`, { cause: err });
  }
  return out;
}
