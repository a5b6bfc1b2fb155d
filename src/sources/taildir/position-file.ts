/**
 * taildir position file: Flume's JSON format `[{"inode":..,"pos":..,"file":".."}, ...]`, so an existing Flume
 * position file is picked up as is. We add `dev` and `fp` (fingerprint, see identity.ts) to each entry; Flume
 * files without them still load (their entries are applied with Flume's rule: same inode and same path).
 *
 * Writes are atomic: a temp file is written and fsynced, the previous file is kept as `<file>.bak` (hard link),
 * the temp file is renamed over the file, and the directory is fsynced. A crash leaves either the old or the new
 * file, never a torn or empty one (Flume truncates then writes in place: FLUME-3348).
 *
 * Loading never silently starts over: an unreadable file is restored from `.bak`, or start-up is refused with a
 * message naming the file, or (only when configured) the bad file is moved aside and reading starts afresh.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { AgentError } from '../../core/errors.js';

export interface PositionEntry {
  inode: number;
  pos: number;
  file: string;
  /** Device number (ours; absent in Flume files). */
  dev?: number;
  /** Fingerprint `<n>:<hash>` of the first bytes (ours; absent in Flume files). */
  fp?: string;
}

export type RecoveryPolicy = 'backup' | 'fail' | 'reset';

export class PositionFileError extends AgentError {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super('FLUME_ERR_SOURCE_POSITION_FILE', message);
    this.name = 'PositionFileError';
  }
}

const isNonNegInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parses and checks the JSON text; throws PositionFileError naming what is wrong. */
export function parsePositions(text: string, file: string): PositionEntry[] {
  if (text.trim() === '')
    throw new PositionFileError(file, 'the file is empty (a Flume agent that crashed while writing it leaves it so)');
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new PositionFileError(file, `it is not valid JSON (${(err as Error).message})`);
  }
  if (!Array.isArray(data))
    throw new PositionFileError(file, 'it is not a JSON array of {"inode","pos","file"} entries');
  const out: PositionEntry[] = [];
  data.forEach((e: unknown, i) => {
    if (e === null || typeof e !== 'object' || Array.isArray(e))
      throw new PositionFileError(file, `entry ${i} is not an object`);
    const o = e as Record<string, unknown>;
    if (!isNonNegInt(o.inode))
      throw new PositionFileError(file, `entry ${i} has no valid "inode" (a whole number >= 0)`);
    if (!isNonNegInt(o.pos)) throw new PositionFileError(file, `entry ${i} has no valid "pos" (a whole number >= 0)`);
    if (typeof o.file !== 'string' || o.file === '')
      throw new PositionFileError(file, `entry ${i} has no valid "file" (a path)`);
    const entry: PositionEntry = { inode: o.inode, pos: o.pos, file: o.file };
    if (o.dev !== undefined) {
      if (!isNonNegInt(o.dev)) throw new PositionFileError(file, `entry ${i} has an invalid "dev"`);
      entry.dev = o.dev;
    }
    if (o.fp !== undefined) {
      if (typeof o.fp !== 'string' || !/^\d+:[0-9a-f]*$/.test(o.fp))
        throw new PositionFileError(file, `entry ${i} has an invalid "fp"`);
      entry.fp = o.fp;
    }
    out.push(entry);
  });
  return out;
}

/** The JSON text: Flume's three fields first, then ours. */
export function formatPositions(entries: readonly PositionEntry[]): string {
  const parts = entries.map((e) => {
    let s = `{"inode":${e.inode},"pos":${e.pos},"file":${JSON.stringify(e.file)}`;
    if (e.dev !== undefined) s += `,"dev":${e.dev}`;
    if (e.fp !== undefined) s += `,"fp":${JSON.stringify(e.fp)}`;
    return `${s}}`;
  });
  return `[${parts.join(',')}]`;
}

export interface LoadResult {
  entries: PositionEntry[];
  /** Where the entries came from. */
  from: 'file' | 'backup' | 'none' | 'reset';
  /** What was wrong with the file, when it was not used. */
  problem?: string;
  /** Where a bad file was moved to (reset policy). */
  movedTo?: string;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fsp.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new PositionFileError(file, `it cannot be read: ${(err as Error).message}`);
  }
}

export function backupPath(file: string): string {
  return `${file}.bak`;
}

/**
 * Loads the position file. A missing file (and no backup) means a first start. A file that cannot be used is
 * handled by `policy`; with `fail`, or `backup` and no usable backup, a PositionFileError is thrown.
 * A missing file whose `.bak` exists is treated as damaged (a reset is never silent).
 */
export async function loadPositions(file: string, policy: RecoveryPolicy, now = () => new Date()): Promise<LoadResult> {
  const bak = backupPath(file);
  const text = await readText(file);
  let problem: string;
  if (text !== undefined) {
    try {
      return { entries: parsePositions(text, file), from: 'file' };
    } catch (err) {
      if (!(err instanceof PositionFileError)) throw err;
      problem = err.message;
    }
  } else {
    if (!fs.existsSync(bak)) return { entries: [], from: 'none' };
    problem = `it is missing but its backup ${bak} exists`;
  }
  // the bad file is kept for inspection, never overwritten (nor backed up over the good .bak)
  const moveAside = async (): Promise<string | undefined> => {
    if (text === undefined) return undefined;
    const to = `${file}.corrupt-${now().toISOString().replace(/[:.]/g, '-')}`;
    await fsp.rename(file, to);
    return to;
  };
  if (policy === 'reset') {
    const movedTo = await moveAside();
    return { entries: [], from: 'reset', problem, movedTo };
  }
  if (policy === 'backup') {
    const bt = await readText(bak).catch(() => undefined);
    if (bt !== undefined) {
      try {
        const entries = parsePositions(bt, bak);
        const movedTo = await moveAside();
        return { entries, from: 'backup', problem, movedTo };
      } catch (err) {
        if (!(err instanceof PositionFileError)) throw err;
        throw new PositionFileError(
          file,
          `position file ${file} cannot be used: ${problem}; its backup ${bak} cannot be used either: ${err.message}`,
        );
      }
    }
    throw new PositionFileError(file, `position file ${file} cannot be used: ${problem}; there is no backup (${bak})`);
  }
  throw new PositionFileError(file, `position file ${file} cannot be used: ${problem}`);
}

async function fsyncDir(dir: string): Promise<void> {
  let fh: fsp.FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // some filesystems refuse fsync on directories; the rename is still atomic
  } finally {
    await fh?.close().catch(() => undefined);
  }
}

/** Creates the parent directory (mode 0700) if needed. */
export async function ensureParent(file: string): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
}

/** Writes atomically: temp + fsync, keep the old file as .bak, rename, fsync the directory. Mode 0600. */
export async function writePositions(file: string, entries: readonly PositionEntry[]): Promise<void> {
  const tmp = `${file}.tmp`;
  const bak = backupPath(file);
  const fh = await fsp.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(formatPositions(entries));
    await fh.sync();
  } finally {
    await fh.close();
  }
  // keep the previous good version as .bak (a hard link: the file itself never disappears)
  try {
    const bakTmp = `${bak}.tmp`;
    await fsp.rm(bakTmp, { force: true });
    await fsp.link(file, bakTmp);
    await fsp.rename(bakTmp, bak);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') {
      // no hard links here: copy instead
      await fsp.copyFile(file, bak).catch(() => undefined);
    }
  }
  await fsp.rename(tmp, file);
  await fsyncDir(path.dirname(file));
}
