/**
 * taildir file groups: `filegroups.<g> = /literal/dir/<java regex on the file name>`.
 *
 * The directory part is literal; the last path component is a Java regex (translated, or rejected when it has no
 * JavaScript equivalent) matched against whole file names. No recursion; directories are skipped.
 * With cachePatternMatching a directory is listed again only when its mtime changed (or changed recently, for
 * coarse mtime granularity). Symlinks are followed only when the target stays inside the group's directory,
 * unless followSymlinks says otherwise.
 */
import fsp from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { compileJavaRegex, type JavaRegex } from '../../compat/java/java-regex/index.js';
import { OptionError } from '../../contract/index.js';
import type { Logger } from '../../telemetry/logger.js';
import { fileKey } from './identity.js';
import { AgentError } from '../../core/errors.js';

export type SymlinkPolicy = 'never' | 'withinDirectory' | 'always';

export interface GroupSpec {
  name: string;
  dir: string;
  regex: JavaRegex;
  /** Static headers of the group (headers.<g>.<key>). */
  headers: Record<string, string>;
}

/** Splits `filegroups.<g>` into its literal directory and compiled regex; throws OptionError. */
export function parseGroupPath(raw: string): { dir: string; regex: JavaRegex } {
  if (!path.isAbsolute(raw))
    throw new OptionError(
      `'${raw}' is not an absolute path`,
      'write /directory/<regex on the file name>, e.g. /var/log/app/.*\\.log',
    );
  const slash = raw.lastIndexOf('/');
  const dir = raw.slice(0, slash) || '/';
  const pattern = raw.slice(slash + 1);
  if (pattern === '')
    throw new OptionError(
      `'${raw}' has no file name pattern after the last '/'`,
      'write /directory/<regex on the file name>, e.g. /var/log/app/.*\\.log',
    );
  return { dir: path.normalize(dir), regex: compileJavaRegex(pattern) };
}

export interface Candidate {
  key: string;
  /** Path as found in the group directory (used in headers and the position file). */
  path: string;
  /** What to open: the path itself, or the resolved target of a followed symlink. */
  openPath: string;
  group: GroupSpec;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

interface DirState {
  dir: string;
  realDir: string;
  groups: GroupSpec[];
  mtimeMs: number;
  listedAt: number;
  /** Wall-clock time of the last listing (compared with the directory mtime). */
  listedWall: number;
  names: string[];
  /** Matching files of the last listing. */
  cands: Candidate[];
  missingLogged: boolean;
}

/** mtime granularity guard: a directory changed this recently is listed again even if its mtime looks the same. */
const RECENT_MS = 2000;
const RELIST_MS = 100;

export class Matcher {
  private readonly dirs: DirState[] = [];
  private readonly warned = new Set<string>();

  constructor(
    groups: GroupSpec[],
    private readonly symlinks: SymlinkPolicy,
    private readonly cache: boolean,
    private readonly logger: Logger,
  ) {
    const byDir = new Map<string, DirState>();
    for (const g of groups) {
      let d = byDir.get(g.dir);
      if (!d) {
        d = {
          dir: g.dir,
          realDir: g.dir,
          groups: [],
          mtimeMs: -1,
          listedAt: -Infinity,
          listedWall: 0,
          names: [],
          cands: [],
          missingLogged: false,
        };
        byDir.set(g.dir, d);
        this.dirs.push(d);
      }
      d.groups.push(g);
    }
  }

  get directories(): string[] {
    return this.dirs.map((d) => d.dir);
  }

  /** Does `name` in `dir` belong to a group (for watch wake-ups)? */
  matches(dir: string, name: string): boolean {
    const d = this.dirs.find((x) => x.dir === dir);
    return !!d && d.groups.some((g) => g.regex.matches(name));
  }

  /** Resolves the real paths of the directories; throws when one does not exist (as Flume does). */
  async init(): Promise<void> {
    for (const d of this.dirs) {
      let st: Stats;
      try {
        st = await fsp.stat(d.dir);
      } catch (err) {
        throw new AgentError(
          'FLUME_ERR_SOURCE_START',
          `directory ${d.dir} of file group(s) ${d.groups.map((g) => g.name).join(', ')} cannot be read: ${(err as Error).message}`,
          { cause: err },
        );
      }
      if (!st.isDirectory())
        throw new AgentError(
          'FLUME_ERR_SOURCE_START',
          `${d.dir} (file group ${d.groups.map((g) => g.name).join(', ')}) is not a directory`,
        );
      d.realDir = await fsp.realpath(d.dir);
    }
  }

  /**
   * The matching files now, keyed by (dev, inode); the first group (in filegroups order) that matches a file
   * owns it. `changed` is false when every directory listing came from the cache.
   */
  async scan(nowMs: number, force = false): Promise<{ files: Map<string, Candidate>; changed: boolean }> {
    const files = new Map<string, Candidate>();
    let changed = false;
    for (const d of this.dirs) {
      let dst: Stats;
      try {
        dst = await fsp.stat(d.dir);
        d.missingLogged = false;
      } catch (err) {
        if (!d.missingLogged) {
          d.missingLogged = true;
          this.logger.warn('Taildir directory cannot be read; its files are not tailed until it is back', {
            directory: d.dir,
            error: (err as Error).message,
          });
        }
        if (d.names.length > 0) changed = true;
        d.names = [];
        d.cands = [];
        d.mtimeMs = -1;
        continue;
      }
      // coarse mtimes: a change in the same tick as our last listing would not show, so a directory listed shortly
      // after its last change is listed again (at most every RELIST_MS) until a listing is clearly later
      const nearChange = d.listedWall - dst.mtimeMs < RECENT_MS && nowMs - d.listedAt >= RELIST_MS;
      const fresh = !this.cache || force || dst.mtimeMs !== d.mtimeMs || nearChange;
      if (fresh) {
        changed = true;
        d.mtimeMs = dst.mtimeMs;
        d.listedAt = nowMs;
        d.listedWall = Date.now();
        try {
          d.names = (await fsp.readdir(d.dir)).sort();
        } catch {
          d.names = [];
        }
        d.cands = [];
        for (const name of d.names) {
          for (const g of d.groups) {
            if (!g.regex.matches(name)) continue;
            const c = await this.candidate(d, g, name);
            if (c) d.cands.push(c);
            break;
          }
        }
      }
      for (const c of d.cands) if (!files.has(c.key)) files.set(c.key, c);
    }
    return { files, changed };
  }

  private warnOnce(p: string, msg: string, fields: Record<string, unknown>): void {
    if (this.warned.has(p)) return;
    this.warned.add(p);
    this.logger.warn(msg, { file: p, ...fields });
  }

  private async candidate(d: DirState, g: GroupSpec, name: string): Promise<Candidate | undefined> {
    const p = path.join(d.dir, name);
    let st: Stats;
    try {
      st = await fsp.lstat(p);
    } catch {
      return undefined; // vanished
    }
    let openPath = p;
    if (st.isSymbolicLink()) {
      if (this.symlinks === 'never') {
        this.warnOnce(p, 'Symbolic link not followed (followSymlinks = never)', {});
        return undefined;
      }
      let target: string;
      try {
        target = await fsp.realpath(p);
        st = await fsp.stat(target);
      } catch {
        return undefined; // dangling
      }
      if (
        this.symlinks === 'withinDirectory' &&
        !target.startsWith(d.realDir.endsWith('/') ? d.realDir : `${d.realDir}/`)
      ) {
        this.warnOnce(
          p,
          'Symbolic link points outside the file group directory; not followed (set followSymlinks = always to allow it)',
          { target, directory: d.dir },
        );
        return undefined;
      }
      openPath = target;
    }
    if (!st.isFile()) return undefined;
    return {
      key: fileKey(st.dev, st.ino),
      path: p,
      openPath,
      group: g,
      dev: st.dev,
      ino: st.ino,
      size: st.size,
      mtimeMs: st.mtimeMs,
    };
  }
}
