/**
 * TLS settings -> Node TLS options. Key material is read now, synchronously (call from start()), and a secure
 * context is built once, so a bad file or password fails the start with a reason naming the file.
 * - server: options for tls.createServer / https.createServer (key material, versions, ciphers,
 *   handshakeTimeout) plus the ready `secureContext` for a socket wrapped by hand (new tls.TLSSocket).
 * - client: options for tls.connect: the secure context (trust anchors, own certificate for mutual TLS),
 *   servername, server certificate and host name verification.
 */
import net from 'node:net';
import tls from 'node:tls';
import { errorMessage } from '../../core/errors.js';
import { KeystoreError, TlsConfigError } from './errors.js';
import { tlsProblems, type TlsSettings } from './settings.js';
import { readKeyFile, readKeyStore, readTrustStore, type KeyMaterial } from './stores.js';
import { cipherList, protocolRange, type NodeProtocol } from './suites.js';

export interface TlsLoadContext {
  /** Names the component in errors, e.g. `avro source r1`. */
  label: string;
  /** Told about doubtful settings (trust-all-certs, a keystore-type that does not match the file). */
  warn?: (msg: string) => void;
}

export type ServerTls = tls.TlsOptions & { secureContext: tls.SecureContext; handshakeTimeout: number };

function versionsAndCiphers(s: TlsSettings, label: string): tls.SecureContextOptions {
  const problems = tlsProblems(s);
  if (problems.length) {
    const hint = problems.find((p) => p.hint)?.hint;
    throw new TlsConfigError(`${label}: ${problems.map((p) => p.message).join('; ')}`, hint);
  }
  const range = protocolRange(s.includeProtocols, s.excludeProtocols) as { min: NodeProtocol; max: NodeProtocol };
  let ciphers = cipherList(s.includeCiphers, s.excludeCiphers) as string;
  // OpenSSL 3 refuses TLS 1.0/1.1 at its default security level
  if (range.min === 'TLSv1' || range.min === 'TLSv1.1') ciphers += ':@SECLEVEL=0';
  return { minVersion: range.min, maxVersion: range.max, ciphers };
}

function pemFile(file: string, key: string, label: string, block: string): string {
  const text = readKeyFile(file, key, label).toString('utf8');
  if (!text.includes('-----BEGIN ') || !text.includes(block)) {
    throw new KeystoreError(`${label}: ${key} ${file} is not a PEM file with a ${block}`);
  }
  return text;
}

/** Own key and certificate chain: sslCertificate + sslKey, else the key store; undefined without either. */
function ownKey(s: TlsSettings, c: TlsLoadContext): KeyMaterial | undefined {
  if (s.certificate && s.key) {
    return {
      cert: pemFile(s.certificate, 'sslCertificate', c.label, 'CERTIFICATE'),
      key: pemFile(s.key, 'sslKey', c.label, 'PRIVATE KEY'),
      passphrase: s.keyPassword,
    };
  }
  return s.keystore ? readKeyStore(s.keystore, c.label, c.warn) : undefined;
}

function sources(s: TlsSettings): string {
  const out: string[] = [];
  if (s.certificate && s.key) out.push(`sslCertificate ${s.certificate}, sslKey ${s.key}`);
  else if (s.keystore) out.push(`keystore ${s.keystore.path}`);
  if (s.truststore && !s.trustAll) out.push(`truststore ${s.truststore.path}`);
  if (s.caCertificate && !s.trustAll) out.push(`sslCaCertificate ${s.caCertificate}`);
  return out.join(', ');
}

function secureContext(opts: tls.SecureContextOptions, s: TlsSettings, label: string): tls.SecureContext {
  try {
    return tls.createSecureContext(opts);
  } catch (err) {
    const msg = errorMessage(err);
    const from = sources(s);
    if (/key values mismatch/i.test(msg)) {
      const reason = `${label}: the private key does not belong to the certificate (${from})`;
      throw new TlsConfigError(reason, undefined, { cause: err });
    }
    if (/mac verify|bad decrypt|password/i.test(msg)) {
      const reason = `${label}: cannot open the private key (${from}): wrong or missing keystore-password`;
      throw new KeystoreError(reason, undefined, { cause: err });
    }
    throw new TlsConfigError(`${label}: cannot use the TLS settings (${from}): ${msg}`, undefined, { cause: err });
  }
}

/** Server options; throws TlsConfigError or KeystoreError (both AgentErrors) with a readable reason. */
export function loadServerTls(s: TlsSettings, c: TlsLoadContext): ServerTls {
  const opts: tls.TlsOptions = { ...versionsAndCiphers(s, c.label), ...ownKey(s, c) };
  return { ...opts, secureContext: secureContext(opts, s, c.label), handshakeTimeout: s.handshakeTimeoutMs || 120_000 };
}

/** Client options for tls.connect to `host`; throws TlsConfigError or KeystoreError with a readable reason. */
export function loadClientTls(s: TlsSettings, c: TlsLoadContext & { host?: string }): tls.ConnectionOptions {
  const ctx: tls.SecureContextOptions = { ...versionsAndCiphers(s, c.label), ...ownKey(s, c) };
  const out: tls.ConnectionOptions = {};
  if (c.host && !net.isIP(c.host)) out.servername = c.host;
  if (s.trustAll) {
    c.warn?.(
      'trust-all-certs is true: the server certificate is NOT verified; anyone on the path can read and alter ' +
        'the events (man-in-the-middle)',
    );
    out.rejectUnauthorized = false;
  } else {
    out.rejectUnauthorized = true;
    const ca: string[] = [];
    if (s.caCertificate) ca.push(pemFile(s.caCertificate, 'sslCaCertificate', c.label, 'CERTIFICATE'));
    if (s.truststore) ca.push(...readTrustStore(s.truststore, c.label, c.warn));
    if (ca.length > 0) ctx.ca = ca;
    if (!s.verifyHostname) out.checkServerIdentity = () => undefined;
  }
  out.secureContext = secureContext(ctx, s, c.label);
  return out;
}
