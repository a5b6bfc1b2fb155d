/**
 * Reading Java key and trust stores for Node's TLS, so Flume's `keystore`/`truststore` settings work unchanged.
 *
 * - PKCS12 key store: handed to Node as `pfx` (OpenSSL reads it).
 * - PKCS12 trust store (certificates only, no key): Node's `pfx` refuses it, so the certificate bags are read
 *   here: plain or PBES2-encrypted (PBKDF2 + AES-CBC, what Java 11.0.12+/17 keytool and OpenSSL 3 write).
 *   Legacy RC2/3DES-encrypted stores are refused with a conversion hint.
 * - JKS (Java's old default): trusted certificates are stored in clear; private keys use Sun's KeyProtector
 *   (SHA-1 keystream), decoded here. The store's keyed SHA-1 digest is checked when a password is given.
 * - PEM files: used as they are.
 */
import crypto from 'node:crypto';

export class KeystoreError extends Error {
  constructor(message: string, readonly hint?: string) {
    super(message);
    this.name = 'KeystoreError';
  }
}

export type StoreFormat = 'pem' | 'jks' | 'pkcs12';

export function sniffStore(buf: Buffer): StoreFormat {
  if (buf.length >= 4 && buf.readUInt32BE(0) === 0xfeedfeed) return 'jks';
  if (buf.length >= 4 && buf.readUInt32BE(0) === 0xcececece) throw new KeystoreError('JCEKS stores are not supported', 'convert it: keytool -importkeystore -srcstoretype JCEKS -deststoretype PKCS12');
  const head = buf.subarray(0, 2048).toString('latin1');
  if (head.includes('-----BEGIN ')) return 'pem';
  if (buf[0] === 0x30) return 'pkcs12';
  throw new KeystoreError('not a JKS, PKCS12 or PEM file');
}

export function derToPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

// ----------------------------------------------------------------------------------------------- DER

interface Tlv {
  tag: number;
  /** Content bytes. */
  v: Buffer;
  /** Whole encoding (tag, length, content). */
  raw: Buffer;
}

function readTlv(b: Buffer, p: number): { tlv: Tlv; next: number } {
  if (p + 2 > b.length) throw new KeystoreError('truncated DER');
  const tag = b[p]!;
  let len = b[p + 1]!;
  let q = p + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || q + n > b.length) throw new KeystoreError('bad DER length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + b[q + i]!;
    q += n;
  }
  if (q + len > b.length) throw new KeystoreError('truncated DER');
  return { tlv: { tag, v: b.subarray(q, q + len), raw: b.subarray(p, q + len) }, next: q + len };
}

function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = 0; p < t.v.length;) {
    const r = readTlv(t.v, p);
    out.push(r.tlv);
    p = r.next;
  }
  return out;
}

function oid(t: Tlv): string {
  if (t.tag !== 0x06) throw new KeystoreError('expected an OID');
  const b = t.v;
  const parts = [Math.floor(b[0]! / 40), b[0]! % 40];
  let n = 0;
  for (let i = 1; i < b.length; i++) {
    n = n * 128 + (b[i]! & 0x7f);
    if (!(b[i]! & 0x80)) {
      parts.push(n);
      n = 0;
    }
  }
  return parts.join('.');
}

function int(t: Tlv): number {
  let n = 0;
  for (const x of t.v) n = n * 256 + x;
  return n;
}

/** Concatenated content of an OCTET STRING, primitive or constructed (BER, as some stores use). */
function octets(t: Tlv): Buffer {
  if (t.tag === 0x04) return t.v;
  if (t.tag === 0x24) return Buffer.concat(children(t).map(octets));
  throw new KeystoreError('expected an OCTET STRING');
}

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
};
const PRF: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1', '1.2.840.113549.2.8': 'sha224', '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384', '1.2.840.113549.2.11': 'sha512',
};
const CIPHERS: Record<string, string> = {
  '2.16.840.1.101.3.4.1.2': 'aes-128-cbc', '2.16.840.1.101.3.4.1.22': 'aes-192-cbc', '2.16.840.1.101.3.4.1.42': 'aes-256-cbc',
};

function pbes2Decrypt(params: Tlv, data: Buffer, password: string): Buffer {
  const [kdf, enc] = children(params);
  if (!kdf || !enc) throw new KeystoreError('bad PBES2 parameters');
  const [kdfOid, kdfParams] = children(kdf);
  if (oid(kdfOid!) !== OID.pbkdf2) throw new KeystoreError('unsupported key derivation in PKCS12 store');
  const kp = children(kdfParams!);
  const salt = octets(kp[0]!);
  const iterations = int(kp[1]!);
  let prf = 'sha1';
  for (const x of kp.slice(2)) if (x.tag === 0x30) prf = PRF[oid(children(x)[0]!)] ?? '';
  if (!prf) throw new KeystoreError('unsupported PBKDF2 hash in PKCS12 store');
  const [encOid, iv] = children(enc);
  const cipher = CIPHERS[oid(encOid!)];
  if (!cipher) throw new KeystoreError('unsupported cipher in PKCS12 store', 're-export it with AES (keytool on Java 17, or openssl 3 pkcs12 -export)');
  const keyLen = Number(/aes-(\d+)/.exec(cipher)![1]) / 8;
  if (iterations > 10_000_000) throw new KeystoreError('PKCS12 iteration count too large');
  const key = crypto.pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, keyLen, prf);
  try {
    const d = crypto.createDecipheriv(cipher, key, octets(iv!));
    return Buffer.concat([d.update(data), d.final()]);
  } catch {
    throw new KeystoreError('cannot decrypt the PKCS12 store: wrong truststore-password?');
  }
}

function certsFromSafeContents(buf: Buffer, out: Buffer[]): void {
  const seq = readTlv(buf, 0).tlv;
  for (const bag of children(seq)) {
    const [bagId, bagValue] = children(bag);
    if (!bagId || !bagValue || oid(bagId) !== OID.certBag) continue;
    const certBag = children(bagValue)[0]!;
    const [certId, certValue] = children(certBag);
    if (oid(certId!) !== OID.x509) continue;
    out.push(Buffer.from(octets(children(certValue!)[0]!)));
  }
}

/** DER certificates of a PKCS12 file (all certificate bags, trusted or chain). */
export function pkcs12Certificates(buf: Buffer, password: string): Buffer[] {
  const pfx = readTlv(buf, 0).tlv;
  const [, authSafe] = children(pfx);
  const [ct, content] = children(authSafe!);
  if (oid(ct!) !== OID.data) throw new KeystoreError('unsupported PKCS12 (public-key integrity mode)');
  const safes = readTlv(octets(children(content!)[0]!), 0).tlv;
  const out: Buffer[] = [];
  for (const ci of children(safes)) {
    const [t, c] = children(ci);
    const type = oid(t!);
    if (type === OID.data) {
      certsFromSafeContents(octets(children(c!)[0]!), out);
    } else if (type === OID.encryptedData) {
      const ed = children(children(c!)[0]!);
      const eci = children(ed[1]!);
      const alg = children(eci[1]!);
      const algOid = oid(alg[0]!);
      if (algOid !== OID.pbes2) {
        throw new KeystoreError('the PKCS12 store uses a legacy cipher (RC2/3DES) that OpenSSL 3 no longer reads',
          'convert it: openssl pkcs12 -legacy -in old.p12 -nokeys -out ca.pem (then point truststore at ca.pem), or re-create it with keytool on Java 17');
      }
      const encrypted = eci[2]!;
      const data = encrypted.tag === 0x80 ? encrypted.v : Buffer.concat(children(encrypted).map((x) => x.v));
      certsFromSafeContents(pbes2Decrypt(alg[1]!, data, password), out);
    }
  }
  return out;
}

// ----------------------------------------------------------------------------------------------- JKS

export interface JksContents {
  /** Trusted certificate entries (DER). */
  trusted: Buffer[];
  /** Private key entries: PKCS#8 DER key (decrypted) and its chain (DER), when a password was given. */
  keys: { alias: string; key?: Buffer; chain: Buffer[] }[];
}

function jksPasswordBytes(password: string): Buffer {
  const b = Buffer.alloc(password.length * 2);
  for (let i = 0; i < password.length; i++) b.writeUInt16BE(password.charCodeAt(i), i * 2);
  return b;
}

/** Reads a JKS store; verifies its integrity digest when `password` is given. */
export function readJks(buf: Buffer, password?: string, keyPassword?: string): JksContents {
  let p = 0;
  const need = (n: number) => {
    if (p + n > buf.length) throw new KeystoreError('truncated JKS store');
  };
  const u32 = () => {
    need(4);
    const v = buf.readUInt32BE(p);
    p += 4;
    return v;
  };
  const utf = () => {
    need(2);
    const n = buf.readUInt16BE(p);
    p += 2;
    need(n);
    const s = buf.toString('utf8', p, p + n);
    p += n;
    return s;
  };
  const blob = () => {
    const n = u32();
    need(n);
    const b = buf.subarray(p, p + n);
    p += n;
    return b;
  };
  if (u32() !== 0xfeedfeed) throw new KeystoreError('not a JKS store');
  const version = u32();
  if (version !== 1 && version !== 2) throw new KeystoreError(`unsupported JKS version ${version}`);
  const count = u32();
  const out: JksContents = { trusted: [], keys: [] };
  for (let i = 0; i < count; i++) {
    const tag = u32();
    const alias = utf();
    need(8);
    p += 8; // timestamp
    if (tag === 2) {
      if (version === 2) utf(); // certificate type
      out.trusted.push(Buffer.from(blob()));
    } else if (tag === 1) {
      const protectedKey = blob();
      const n = u32();
      const chain: Buffer[] = [];
      for (let j = 0; j < n; j++) {
        if (version === 2) utf();
        chain.push(Buffer.from(blob()));
      }
      const pw = keyPassword ?? password;
      out.keys.push({ alias, chain, key: pw === undefined ? undefined : unprotectJksKey(protectedKey, pw) });
    } else {
      throw new KeystoreError(`unsupported JKS entry type ${tag}`);
    }
  }
  if (password !== undefined) {
    need(20);
    const digest = crypto.createHash('sha1').update(jksPasswordBytes(password)).update('Mighty Aphrodite', 'utf8').update(buf.subarray(0, p)).digest();
    if (!digest.equals(buf.subarray(p, p + 20))) throw new KeystoreError('JKS integrity check failed: wrong password, or the store is corrupt');
  }
  return out;
}

/** Sun's KeyProtector: EncryptedPrivateKeyInfo whose data = salt(20) | xor-encrypted key | sha1 check(20). */
function unprotectJksKey(epki: Buffer, password: string): Buffer {
  const seq = readTlv(epki, 0).tlv;
  const [alg, data] = children(seq);
  if (oid(children(alg!)[0]!) !== '1.3.6.1.4.1.42.2.17.1.1') throw new KeystoreError('unsupported JKS key protection');
  const enc = data!.v;
  if (enc.length < 40) throw new KeystoreError('bad JKS key entry');
  const salt = enc.subarray(0, 20);
  const body = enc.subarray(20, enc.length - 20);
  const check = enc.subarray(enc.length - 20);
  const pw = jksPasswordBytes(password);
  const key = Buffer.alloc(body.length);
  let digest: Buffer = salt;
  for (let i = 0; i < body.length; i += 20) {
    digest = crypto.createHash('sha1').update(pw).update(digest).digest();
    for (let j = 0; j < 20 && i + j < body.length; j++) key[i + j] = body[i + j]! ^ digest[j]!;
  }
  const c = crypto.createHash('sha1').update(pw).update(key).digest();
  if (!c.equals(check)) throw new KeystoreError('cannot decrypt the JKS private key: wrong keystore-password?');
  return key;
}

// ----------------------------------------------------------------------------------------------- entry points

/** CA certificates (PEM text) from a trust store of any supported format. */
export function trustedCertificates(buf: Buffer, password: string | undefined): string[] {
  const fmt = sniffStore(buf);
  if (fmt === 'pem') return [buf.toString('utf8')];
  if (fmt === 'jks') {
    const j = readJks(buf, password);
    const certs = [...j.trusted, ...j.keys.flatMap((k) => k.chain)];
    return certs.map((d) => derToPem(d));
  }
  return pkcs12Certificates(buf, password ?? '').map((d) => derToPem(d));
}

/** Node TLS key material from a key store: `pfx` for PKCS12, `key`+`cert` for JKS and PEM. */
export function keyMaterial(buf: Buffer, password: string | undefined): { pfx?: Buffer; passphrase?: string; key?: string; cert?: string } {
  const fmt = sniffStore(buf);
  if (fmt === 'pkcs12') return { pfx: buf, passphrase: password ?? '' };
  if (fmt === 'pem') return { key: buf.toString('utf8'), cert: buf.toString('utf8'), passphrase: password };
  const j = readJks(buf, password);
  const entry = j.keys.find((k) => k.key);
  if (!entry?.key) throw new KeystoreError('the JKS keystore holds no private key');
  const key = crypto.createPrivateKey({ key: entry.key, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }) as string;
  return { key, cert: entry.chain.map((d) => derToPem(d)).join('') };
}
