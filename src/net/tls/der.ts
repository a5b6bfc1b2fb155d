/** Just enough DER (and BER octet strings) to read PKCS12 and JKS stores; PEM armour for certificates. */
import { KeystoreError } from './errors.js';

export interface Tlv {
  tag: number;
  /** Content bytes. */
  v: Buffer;
  /** Whole encoding (tag, length, content). */
  raw: Buffer;
}

export function readTlv(b: Buffer, p: number): { tlv: Tlv; next: number } {
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

export function children(t: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let p = 0; p < t.v.length;) {
    const r = readTlv(t.v, p);
    out.push(r.tlv);
    p = r.next;
  }
  return out;
}

export function oid(t: Tlv): string {
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

export function int(t: Tlv): number {
  let n = 0;
  for (const x of t.v) n = n * 256 + x;
  return n;
}

/** Concatenated content of an OCTET STRING, primitive or constructed (BER, as some stores use). */
export function octets(t: Tlv): Buffer {
  if (t.tag === 0x04) return t.v;
  if (t.tag === 0x24) return Buffer.concat(children(t).map(octets));
  throw new KeystoreError('expected an OCTET STRING');
}

export function derToPem(der: Buffer, label = 'CERTIFICATE'): string {
  const b64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
