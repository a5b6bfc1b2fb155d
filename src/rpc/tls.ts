/**
 * Flume's TLS settings -> Node TLS options, for the avro source (server) and the avro sink / avro-client.
 *
 * Flume keys: keystore, keystore-password, keystore-type, truststore, truststore-password, truststore-type,
 * include-protocols, exclude-protocols, include-cipher-suites, exclude-cipher-suites; global fallbacks from the
 * FLUME_SSL_* environment variables. Our own keys: ssl-cert / ssl-key (PEM) on the server, ssl-ca (PEM) and
 * ssl-verify-hostname on the client. Java cipher-suite names are translated to OpenSSL's.
 */
import fs from 'node:fs';
import tls from 'node:tls';
import { keyMaterial, KeystoreError, trustedCertificates } from './keystores.js';

export class TlsConfigError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'TlsConfigError';
  }
}

export interface TlsCommon {
  includeProtocols?: string[];
  excludeProtocols?: string[];
  includeCipherSuites?: string[];
  excludeCipherSuites?: string[];
}

export interface ServerTlsSettings extends TlsCommon {
  keystore?: string;
  keystorePassword?: string;
  keystoreType?: string;
  /** PEM certificate chain file. */
  cert?: string;
  /** PEM private key file. */
  key?: string;
}

export interface ClientTlsSettings extends TlsCommon {
  trustAllCerts: boolean;
  truststore?: string;
  truststorePassword?: string;
  truststoreType?: string;
  /** PEM CA file (our key). */
  ca?: string;
  verifyHostname: boolean;
}

const ENV = process.env;

function envList(name: string): string[] | undefined {
  const v = ENV[name];
  return v ? v.split(/[\s,]+/).filter(Boolean) : undefined;
}

function readFile(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new TlsConfigError(`cannot read ${what} ${file}: ${(err as Error).message}`);
  }
}

const JAVA_PROTOCOLS = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'] as const;
type NodeProtocol = (typeof JAVA_PROTOCOLS)[number];

/** min/max TLS versions from Flume's include/exclude lists; TLS 1.2 is the floor unless older ones are included. */
export function protocolRange(include: string[] | undefined, exclude: string[] | undefined): { minVersion: NodeProtocol; maxVersion: NodeProtocol } {
  const known = new Set<string>(JAVA_PROTOCOLS);
  for (const p of [...(include ?? []), ...(exclude ?? [])]) {
    if (!known.has(p) && !['SSLv3', 'SSLv2Hello', 'SSLv2'].includes(p)) throw new TlsConfigError(`unknown TLS protocol '${p}'`, `use ${JAVA_PROTOCOLS.join(', ')}`);
  }
  let allowed: string[] = include?.length ? include.filter((p) => known.has(p)) : ['TLSv1.2', 'TLSv1.3'];
  if (exclude) allowed = allowed.filter((p) => !exclude.includes(p));
  const idx = allowed.map((p) => JAVA_PROTOCOLS.indexOf(p as NodeProtocol)).filter((i) => i >= 0).sort();
  if (idx.length === 0) throw new TlsConfigError('include-protocols/exclude-protocols leave no TLS version enabled', `enable at least one of ${JAVA_PROTOCOLS.join(', ')}`);
  return { minVersion: JAVA_PROTOCOLS[idx[0]!]!, maxVersion: JAVA_PROTOCOLS[idx[idx.length - 1]!]! };
}

const KX: Record<string, string> = { ECDHE_ECDSA: 'ECDHE-ECDSA', ECDHE_RSA: 'ECDHE-RSA', DHE_RSA: 'DHE-RSA', DHE_DSS: 'DHE-DSS', RSA: '' };
const ENC: Record<string, string> = {
  AES_128_GCM_SHA256: 'AES128-GCM-SHA256', AES_256_GCM_SHA384: 'AES256-GCM-SHA384', CHACHA20_POLY1305_SHA256: 'CHACHA20-POLY1305',
  AES_128_CBC_SHA256: 'AES128-SHA256', AES_256_CBC_SHA384: 'AES256-SHA384', AES_256_CBC_SHA256: 'AES256-SHA256',
  AES_128_CBC_SHA: 'AES128-SHA', AES_256_CBC_SHA: 'AES256-SHA',
};

/** A Java (IANA) cipher-suite name as OpenSSL spells it; OpenSSL names and TLS 1.3 suites pass unchanged. */
export function opensslCipher(name: string): string {
  const m = /^TLS_(.+?)_WITH_(.+)$/.exec(name);
  if (!m) {
    if (/^TLS_(AES|CHACHA20)/.test(name)) return name; // TLS 1.3 suites share their names
    if (tls.getCiphers().includes(name.toLowerCase())) return name;
    throw new TlsConfigError(`unknown cipher suite '${name}'`, 'use an IANA name such as TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 or an OpenSSL name');
  }
  const kx = KX[m[1]!];
  const enc = ENC[m[2]!];
  if (kx === undefined || enc === undefined) throw new TlsConfigError(`cipher suite '${name}' has no OpenSSL equivalent here`, 'use an ECDHE GCM or CHACHA20 suite');
  const out = kx ? `${kx}-${enc}` : enc;
  if (!tls.getCiphers().includes(out.toLowerCase())) throw new TlsConfigError(`cipher suite '${name}' (${out}) is not available in this OpenSSL`);
  return out;
}

function cipherList(include: string[] | undefined, exclude: string[] | undefined): string | undefined {
  if (!include?.length && !exclude?.length) return undefined;
  const base = include?.length ? include.map(opensslCipher) : [tls.DEFAULT_CIPHERS];
  const minus = (exclude ?? []).map((c) => `!${opensslCipher(c)}`);
  return [...base, ...minus].join(':');
}

function common(c: TlsCommon): tls.SecureContextOptions {
  const include = c.includeProtocols ?? envList('FLUME_SSL_INCLUDE_PROTOCOLS');
  const exclude = c.excludeProtocols ?? envList('FLUME_SSL_EXCLUDE_PROTOCOLS');
  const out: tls.SecureContextOptions = { ...protocolRange(include, exclude) };
  const ciphers = cipherList(c.includeCipherSuites ?? envList('FLUME_SSL_INCLUDE_CIPHERSUITES'), c.excludeCipherSuites ?? envList('FLUME_SSL_EXCLUDE_CIPHERSUITES'));
  if (ciphers) out.ciphers = ciphers;
  return out;
}

function wrapKeystoreError<T>(what: string, file: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof KeystoreError) throw new TlsConfigError(`${what} ${file}: ${err.message}`, err.hint);
    if (err instanceof TlsConfigError) throw err;
    const msg = (err as Error).message;
    if (/unsupported|legacy/i.test(msg)) {
      throw new TlsConfigError(`${what} ${file}: ${msg}`, 'the store uses a legacy cipher OpenSSL 3 no longer reads; re-create it with keytool on Java 17 or `openssl pkcs12 -export` from OpenSSL 3');
    }
    if (/mac verify|password/i.test(msg)) throw new TlsConfigError(`${what} ${file}: ${msg}`, 'check the password');
    throw new TlsConfigError(`${what} ${file}: ${msg}`);
  }
}

/** Server TLS options (validated by building a secure context now, so errors surface at start). */
export function serverTlsOptions(s: ServerTlsSettings): tls.TLSSocketOptions {
  const opts: tls.SecureContextOptions = common(s);
  const keystore = s.keystore ?? ENV.FLUME_SSL_KEYSTORE_PATH;
  if (s.cert || s.key) {
    if (!s.cert || !s.key) throw new TlsConfigError('ssl-cert and ssl-key must be set together');
    opts.cert = readFile(s.cert, 'ssl-cert');
    opts.key = readFile(s.key, 'ssl-key');
    if (s.keystorePassword) opts.passphrase = s.keystorePassword;
  } else if (keystore) {
    const password = s.keystorePassword ?? ENV.FLUME_SSL_KEYSTORE_PASSWORD;
    const buf = readFile(keystore, 'keystore');
    Object.assign(opts, wrapKeystoreError('keystore', keystore, () => keyMaterial(buf, password)));
  } else {
    throw new TlsConfigError('ssl is true but no keystore (or ssl-cert and ssl-key) is set', 'set keystore and keystore-password, or ssl-cert and ssl-key (PEM)');
  }
  const secureContext = wrapKeystoreError('keystore', keystore ?? s.cert ?? '', () => tls.createSecureContext(opts));
  return { secureContext, requestCert: false, rejectUnauthorized: false };
}

/** Client TLS options; `warn` is told when certificates are not verified. */
export function clientTlsOptions(s: ClientTlsSettings, warn: (msg: string) => void): tls.ConnectionOptions {
  const opts: tls.ConnectionOptions = { ...common(s) };
  if (s.trustAllCerts) {
    warn('trust-all-certs is true: the server certificate is NOT verified; anyone on the path can read and alter the events (man-in-the-middle)');
    opts.rejectUnauthorized = false;
    return opts;
  }
  opts.rejectUnauthorized = true;
  const ca: string[] = [];
  if (s.ca) ca.push(readFile(s.ca, 'ssl-ca').toString('utf8'));
  const truststore = s.truststore ?? ENV.FLUME_SSL_TRUSTSTORE_PATH;
  if (truststore) {
    const password = s.truststorePassword ?? ENV.FLUME_SSL_TRUSTSTORE_PASSWORD;
    const buf = readFile(truststore, 'truststore');
    const certs = wrapKeystoreError('truststore', truststore, () => trustedCertificates(buf, password));
    if (certs.length === 0) throw new TlsConfigError(`truststore ${truststore} holds no certificates`);
    ca.push(...certs);
  }
  if (ca.length > 0) opts.ca = ca;
  if (!s.verifyHostname) opts.checkServerIdentity = () => undefined;
  // build once to surface bad material at start
  wrapKeystoreError('truststore', truststore ?? s.ca ?? '', () => tls.createSecureContext({ ca: opts.ca, minVersion: opts.minVersion, maxVersion: opts.maxVersion, ciphers: opts.ciphers }));
  return opts;
}
