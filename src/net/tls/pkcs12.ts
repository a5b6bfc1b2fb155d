/**
 * Certificates of a PKCS12 file. A PKCS12 key store goes to Node as `pfx` (OpenSSL reads it); a PKCS12 trust store
 * (certificates only, no key) is refused by `pfx`, so its certificate bags are read here: plain or PBES2-encrypted
 * (PBKDF2 + AES-CBC, what Java 11.0.12+/17 keytool and OpenSSL 3 write). Legacy RC2/3DES-encrypted stores are
 * refused with a conversion hint.
 */
import crypto from 'node:crypto';
import { children, int, octets, oid, readTlv, type Tlv } from './der.js';
import { KeystoreError } from './errors.js';

const OID = {
  data: '1.2.840.113549.1.7.1',
  encryptedData: '1.2.840.113549.1.7.6',
  certBag: '1.2.840.113549.1.12.10.1.3',
  x509: '1.2.840.113549.1.9.22.1',
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
};
const PRF: Record<string, string> = {
  '1.2.840.113549.2.7': 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  '1.2.840.113549.2.9': 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};
const CIPHERS: Record<string, string> = {
  '2.16.840.1.101.3.4.1.2': 'aes-128-cbc',
  '2.16.840.1.101.3.4.1.22': 'aes-192-cbc',
  '2.16.840.1.101.3.4.1.42': 'aes-256-cbc',
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
  if (!cipher) {
    const hint = 're-export it with AES (keytool on Java 17, or openssl 3 pkcs12 -export)';
    throw new KeystoreError('unsupported cipher in PKCS12 store', hint);
  }
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
        throw new KeystoreError(
          'the PKCS12 store uses a legacy cipher (RC2/3DES) that OpenSSL 3 no longer reads',
          'convert it: openssl pkcs12 -legacy -in old.p12 -nokeys -out ca.pem (then point truststore at ca.pem), ' +
            'or re-create it with keytool on Java 17',
        );
      }
      const encrypted = eci[2]!;
      const data = encrypted.tag === 0x80 ? encrypted.v : Buffer.concat(children(encrypted).map((x) => x.v));
      certsFromSafeContents(pbes2Decrypt(alg[1]!, data, password), out);
    }
  }
  return out;
}
