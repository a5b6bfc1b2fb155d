/**
 * JKS (Java's old default store format): trusted certificates are stored in clear; private keys use Sun's
 * KeyProtector (SHA-1 keystream), decoded here. The store's keyed SHA-1 digest is checked when a password is given.
 */
import crypto from 'node:crypto';
import { children, oid, readTlv } from './der.js';
import { KeystoreError } from './errors.js';

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
    const digest = crypto
      .createHash('sha1')
      .update(jksPasswordBytes(password))
      .update('Mighty Aphrodite', 'utf8')
      .update(buf.subarray(0, p))
      .digest();
    if (!digest.equals(buf.subarray(p, p + 20))) {
      throw new KeystoreError('JKS integrity check failed: wrong password, or the store is corrupt');
    }
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
