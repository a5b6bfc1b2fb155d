/**
 * Who holds a file channel's store. LevelDB's own LOCK file is the lock (released by the kernel when the holder
 * dies, so there are no stale locks); `in_use.pid` beside the store only tells the next process who holds it.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const OWNER_FILE = 'in_use.pid';

export interface Owner {
  pid: number;
  host: string;
  channel: string;
  startedAt: string;
  command: string;
}

export function ownerFile(dataDir: string): string {
  return path.join(dataDir, OWNER_FILE);
}

/** Writes `<pid>\n<json>\n` (the first line alone is a classic pid file). Best effort. */
export function writeOwner(dataDir: string, channel: string): void {
  const o: Owner = {
    pid: process.pid,
    host: os.hostname(),
    channel,
    startedAt: new Date().toISOString(),
    command: process.argv.slice(1).join(' ').slice(0, 500),
  };
  try {
    fs.writeFileSync(ownerFile(dataDir), `${o.pid}\n${JSON.stringify(o)}\n`, { mode: 0o644 });
  } catch {
    // informational only
  }
}

export function readOwner(dataDir: string): Owner | undefined {
  try {
    const text = fs.readFileSync(ownerFile(dataDir), 'utf8');
    const [first, json] = text.split('\n');
    if (json) return JSON.parse(json) as Owner;
    const pid = Number(first);
    return Number.isInteger(pid) ? { pid, host: '?', channel: '?', startedAt: '?', command: '' } : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the owner file if it is ours. */
export function removeOwner(dataDir: string): void {
  const o = readOwner(dataDir);
  if (o && o.pid === process.pid && o.host === os.hostname()) {
    try {
      fs.unlinkSync(ownerFile(dataDir));
    } catch {
      // ignore
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether in_use.pid names another process of this host that is still running. */
export function heldByOtherProcess(dataDir: string): boolean {
  const o = readOwner(dataDir);
  return !!o && o.host === os.hostname() && o.pid !== process.pid && alive(o.pid);
}

/** A sentence naming the other holder, as well as we can tell. */
export function describeHolder(dataDir: string): string {
  const o = readOwner(dataDir);
  if (!o) return 'another process (no in_use.pid file says which)';
  const same = o.host === os.hostname();
  const state = same
    ? alive(o.pid)
      ? 'running'
      : 'no longer running: the lock is held by some other process'
    : `on host ${o.host}`;
  const who =
    o.pid === process.pid && same
      ? `this same process (channel ${o.channel})`
      : `pid ${o.pid} (${state}; channel ${o.channel}, started ${o.startedAt}${o.command ? `, command: ${o.command}` : ''})`;
  return who;
}
