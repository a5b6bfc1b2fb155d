/**
 * The one key store and trust store reader. The format is read from the content, whatever keystore-type or
 * truststore-type says: PKCS12 (Node's `pfx` for keys; certificate bags read here for trust), JKS (read here:
 * keys decrypted from Sun's KeyProtector, trusted certificates, integrity digest), PEM (used as it is). A JCEKS
 * store is refused with the keytool command that converts it. Errors name the file and say how to fix it.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';
import { errorMessage } from '../../core/errors.js';
import { derToPem } from './der.js';
import { KeystoreError } from './errors.js';
import { readJks } from './jks.js';
import { pkcs12Certificates } from './pkcs12.js';

export type StoreFormat = 'pem' | 'jks' | 'pkcs12';
export type StoreRole = 'keystore' | 'truststore';

/** A store named in the settings. `declaredType` is keystore-type / truststore-type when it was set. */
export interface StoreRef {
  path: string;
  password?: string;
  declaredType?: string;
}

/** Node TLS key material: `pfx` for PKCS12, `key` + `cert` for JKS and PEM. */
export interface KeyMaterial {
  pfx?: Buffer;
  passphrase?: string;
  key?: string;
  cert?: string;
}

function detect(buf: Buffer): StoreFormat | 'jceks' | undefined {
  const magic = buf.length >= 4 ? buf.readUInt32BE(0) : 0;
  if (magic === 0xfeedfeed) return 'jks';
  if (magic === 0xcececece) return 'jceks';
  if (buf.subarray(0, 2048).toString('latin1').includes('-----BEGIN ')) return 'pem';
  if (buf[0] === 0x30) return 'pkcs12';
  return undefined;
}

/** The store format read from the content. */
export function sniffStore(buf: Buffer): StoreFormat {
  const f = detect(buf);
  if (f === 'jceks') {
    throw new KeystoreError(
      'a Java JCEKS store, which Node.js cannot read',
      'convert it: keytool -importkeystore -srcstoretype JCEKS -deststoretype PKCS12',
    );
  }
  if (f === undefined) throw new KeystoreError('not a PKCS12, JKS or PEM file');
  return f;
}

const PEM_KEY = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;
const PEM_CERT = '-----BEGIN CERTIFICATE-----';

/** Key material from a key store of any supported format. */
export function keyMaterial(buf: Buffer, password: string | undefined): KeyMaterial {
  const fmt = sniffStore(buf);
  if (fmt === 'pkcs12') return { pfx: buf, passphrase: password ?? '' };
  if (fmt === 'pem') {
    const text = buf.toString('utf8');
    if (!PEM_KEY.test(text)) throw new KeystoreError('the PEM file holds no private key');
    if (!text.includes(PEM_CERT)) throw new KeystoreError('the PEM file holds no certificate');
    return { key: text, cert: text, passphrase: password };
  }
  if (password === undefined) {
    throw new KeystoreError('a JKS key store needs keystore-password (its key is encrypted with it)');
  }
  const entry = readJks(buf, password).keys.find((k) => k.key);
  if (!entry?.key) throw new KeystoreError('the JKS key store holds no private key');
  const key = crypto.createPrivateKey({ key: entry.key, format: 'der', type: 'pkcs8' });
  const cert = entry.chain.map((d) => derToPem(d)).join('');
  return { key: key.export({ format: 'pem', type: 'pkcs8' }) as string, cert };
}

/** CA certificates (PEM text) from a trust store of any supported format. */
export function trustedCertificates(buf: Buffer, password: string | undefined): string[] {
  const fmt = sniffStore(buf);
  if (fmt === 'pem') {
    const text = buf.toString('utf8');
    if (!text.includes(PEM_CERT)) throw new KeystoreError('the PEM file holds no certificate');
    return [text];
  }
  if (fmt === 'jks') {
    const j = readJks(buf, password);
    return [...j.trusted, ...j.keys.flatMap((k) => k.chain)].map((d) => derToPem(d));
  }
  return pkcs12Certificates(buf, password ?? '').map((d) => derToPem(d));
}

// ----------------------------------------------------------------------------------------------- files

/** Reads a key, certificate or store file; KeystoreError naming it when it cannot be read. */
export function readKeyFile(file: string, what: string, label: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new KeystoreError(`${label}: cannot read ${what} ${file}: ${errorMessage(err)}`, undefined, { cause: err });
  }
}

function convertHint(file: string, role: StoreRole, from: 'JKS' | 'JCEKS'): string {
  const dest = `${file.replace(/\.(jks|jceks|keystore|ks)$/i, '')}.p12`;
  return (
    `convert it once: keytool -importkeystore -srckeystore ${file} -srcstoretype ${from} -destkeystore ${dest} ` +
    `-deststoretype PKCS12, then point ${role} at ${dest}`
  );
}

function legacyHint(file: string, role: StoreRole): string {
  const dest = `${file.replace(/\.(p12|pfx|pkcs12)$/i, '')}-aes.p12`;
  return (
    'the store uses a legacy cipher OpenSSL 3 no longer reads; re-write it with Java 17 keytool: ' +
    `keytool -importkeystore -srckeystore ${file} -srcstoretype PKCS12 -destkeystore ${dest} -deststoretype PKCS12, ` +
    `then point ${role} at ${dest}`
  );
}

/** Opens a store file: reads it, detects the format, warns on a -type mismatch, and names the file in errors. */
function openStore<T>(
  ref: StoreRef,
  role: StoreRole,
  label: string,
  warn: ((msg: string) => void) | undefined,
  read: (buf: Buffer, fmt: StoreFormat) => T,
): T {
  const buf = readKeyFile(ref.path, role, label);
  const at = `${label}: ${role} ${ref.path}`;
  const fmt = detect(buf);
  if (fmt === 'jceks') {
    const hint = convertHint(ref.path, role, 'JCEKS');
    throw new KeystoreError(`${at} is a Java JCEKS store, which Node.js cannot read`, hint);
  }
  if (fmt === undefined) throw new KeystoreError(`${at} is not a PKCS12, JKS or PEM file`);
  const declared = ref.declaredType?.toUpperCase();
  if (warn && declared && (declared === 'PEM') !== (fmt === 'pem')) {
    const actual = fmt.toUpperCase();
    warn(`${role}-type is ${declared} but ${ref.path} is a ${actual} file; it is read as ${actual}`);
  }
  try {
    return read(buf, fmt);
  } catch (err) {
    if (err instanceof KeystoreError) {
      const password = /password/.test(err.reason);
      const hint = err.hint ?? (fmt === 'jks' && !password ? convertHint(ref.path, role, 'JKS') : undefined);
      throw new KeystoreError(`${at}: ${err.reason}`, hint, { cause: err });
    }
    const msg = errorMessage(err);
    if (/unsupported|legacy/i.test(msg)) {
      throw new KeystoreError(`${at}: ${msg}`, legacyHint(ref.path, role), { cause: err });
    }
    if (/mac verify|bad decrypt|password/i.test(msg)) {
      const reason = `${at}: wrong or missing ${role}-password (or a damaged store)`;
      throw new KeystoreError(reason, undefined, { cause: err });
    }
    throw new KeystoreError(`${at}: ${msg}`, undefined, { cause: err });
  }
}

/** Key material from a key store file; the key is checked to open with the password now. */
export function readKeyStore(ref: StoreRef, label: string, warn?: (msg: string) => void): KeyMaterial {
  return openStore(ref, 'keystore', label, warn, (buf) => {
    const m = keyMaterial(buf, ref.password);
    tls.createSecureContext(m);
    return m;
  });
}

/** Trusted certificates (PEM texts) from a trust store file; at least one. */
export function readTrustStore(ref: StoreRef, label: string, warn?: (msg: string) => void): string[] {
  return openStore(ref, 'truststore', label, warn, (buf) => {
    const certs = trustedCertificates(buf, ref.password);
    if (certs.length === 0) throw new KeystoreError('holds no certificates');
    return certs;
  });
}
