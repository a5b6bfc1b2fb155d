/**
 * A small ext4 filesystem on a loop device, for full-disk tests. Needs root on Linux with loop devices; `mount()`
 * says why it cannot, so the test can skip with a clear message.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface LoopFs {
  /** Where the filesystem is mounted. */
  dir: string;
  /** Bytes available to an unprivileged writer (statfs bavail). */
  free(): number;
  unmount(): void;
}

/** Mounts a fresh ext4 of `mib` MiB; returns the reason as a string when it cannot. */
export function mountExt4(mib: number): LoopFs | string {
  if (process.platform !== 'linux') return 'loop-mounted ext4 needs Linux';
  if (process.getuid?.() !== 0) return 'mounting a loop ext4 needs root';
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'loop-fs-'));
  const img = path.join(base, 'fs.img');
  const dir = path.join(base, 'mnt');
  fs.mkdirSync(dir);
  const run = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' });
  fs.writeFileSync(img, '');
  fs.truncateSync(img, mib * 1048576);
  const mk = run('mkfs.ext4', ['-q', '-F', img]);
  const mnt = mk.status === 0 ? run('mount', ['-o', 'loop', img, dir]) : mk;
  if (mnt.status !== 0) {
    fs.rmSync(base, { recursive: true, force: true });
    const why = (mnt.stderr || mnt.error?.message || `exit ${mnt.status}`).trim();
    return `cannot mount a loop ext4 here (${mk.status === 0 ? 'mount' : 'mkfs.ext4'}: ${why})`;
  }
  return {
    dir,
    free: () => {
      const s = fs.statfsSync(dir);
      return s.bavail * s.bsize;
    },
    unmount: () => {
      run('umount', [dir]);
      if (fs.existsSync(path.join(dir, 'lost+found'))) run('umount', ['-l', dir]);
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}
