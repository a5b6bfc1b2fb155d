/**
 * File identity for taildir: (device, inode) plus a fingerprint of the first bytes.
 *
 * An inode number alone is not an identity: ext4 hands a freed inode to the next file created, so a deleted
 * log and its successor can share one (Filebeat, Fluent Bit and Vector all shipped that bug). The fingerprint
 * is `<n>:<hash>` over the first n = min(size, 1024) bytes. A stored offset applies to a file only when the
 * file still starts with the same n bytes (and is at least as long as the offset).
 */
import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';

/** Bytes covered by a full fingerprint. */
export const FP_BYTES = 1024;

export function fileKey(dev: number, ino: number): string {
  return `${dev}:${ino}`;
}

/** `<n>:<hash>` of `buf[0..n)`. */
export function fingerprintOf(buf: Buffer, n = Math.min(buf.length, FP_BYTES)): string {
  if (n === 0) return '0:';
  return `${n}:${createHash('sha1').update(buf.subarray(0, n)).digest('hex').slice(0, 24)}`;
}

/** Length covered by a fingerprint string (0 when absent or malformed). */
export function fingerprintLength(fp: string | undefined): number {
  if (!fp) return 0;
  const i = fp.indexOf(':');
  const n = i > 0 ? Number(fp.slice(0, i)) : NaN;
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

/** Reads up to `n` bytes from offset 0. */
export async function readHead(fh: FileHandle, n: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(n);
  let got = 0;
  while (got < n) {
    const { bytesRead } = await fh.read(buf, got, n - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buf.subarray(0, got);
}

/** Fingerprint of the first min(size, FP_BYTES) bytes of an open file. */
export async function fingerprintFile(fh: FileHandle, size: number): Promise<string> {
  const n = Math.min(size, FP_BYTES);
  if (n <= 0) return '0:';
  return fingerprintOf(await readHead(fh, n));
}

/**
 * Does the open file still start with the bytes `fp` was computed from? A file shorter than the fingerprint
 * does not (it was truncated or replaced). An empty fingerprint matches anything.
 */
export async function sameFingerprint(fh: FileHandle, fp: string | undefined, size: number): Promise<boolean> {
  const n = fingerprintLength(fp);
  if (n === 0) return true;
  if (size < n) return false;
  const head = await readHead(fh, n);
  return head.length === n && fingerprintOf(head, n) === fp;
}
