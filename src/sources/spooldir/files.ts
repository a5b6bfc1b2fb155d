/**
 * The spooling directory's bookkeeping: which file is next (listing, order, names already completed), where the
 * current file stands (`<trackerDir>/.flume-ts-spool.json`), completing a file (rename, delete or tracker marker)
 * and handling one that cannot be consumed cleanly (badFilePolicy).
 */
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { SourceContext } from '../../contract/index.js';
import { errorMessage } from '../../core/errors.js';
import type { FlumeEvent } from '../../core/event.js';
import type { JavaRegex } from '../../compat/java/java-regex/index.js';
import type { Deserializer } from './deserializers.js';
import type { SpoolDirOptions } from './options.js';

export interface Candidate {
  path: string;
  rel: string;
  name: string;
  size: number;
  mtimeMs: number;
  dev: number;
  ino: number;
}

export interface Current extends Candidate {
  fh: FileHandle;
  reader: Deserializer;
  /** Committed offset. */
  pos: number;
  /** Offset after the in-flight batch. */
  pendingEnd: number;
  inflight: FlumeEvent[] | undefined;
  headers: Record<string, string>;
  /** Nothing read from the file yet (a 0-byte file still gives one empty event, as in Flume). */
  firstRead: boolean;
}

export interface Meta {
  file: string;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  pos: number;
}

const META_NAME = '.flume-ts-spool.json';

export class SpoolFiles {
  readonly metaFile: string;
  /** badFilePolicy = fail stopped the source. */
  halted = false;
  /** Files skipped by badFilePolicy = skip: path -> identity at the time. */
  private readonly skipped = new Map<string, string>();
  private readonly warned = new Set<string>();
  /** Files completed, quarantined and skipped (for tests and status). */
  readonly stats = { completed: 0, quarantined: 0, skipped: 0, changedAfterCompletion: 0 };
  /** Size and mtime of each listed file, and since when (monotonic) they have not changed: path -> state. */
  private seen = new Map<string, { id: string; since: number }>();
  /** Files renamed to their completed name recently, watched for a writer still appending. */
  private readonly completed = new Map<string, Candidate & { until: number }>();

  constructor(
    private readonly o: SpoolDirOptions,
    private readonly ctx: SourceContext,
    private readonly spoolDir: string,
    private readonly trackerDir: string,
    private readonly include: JavaRegex,
    private readonly ignore: JavaRegex,
    private readonly isStopping: () => boolean,
  ) {
    this.metaFile = path.join(trackerDir, META_NAME);
  }

  private get stopping(): boolean {
    return this.isStopping();
  }

  private identity(c: { dev: number; ino: number; size: number; mtimeMs: number }): string {
    return `${c.dev}:${c.ino}:${c.size}:${c.mtimeMs}`;
  }

  private warnOnce(key: string, msg: string, fields: Record<string, unknown>): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.ctx.logger.warn(msg, fields);
  }

  /** Candidate files, in no particular order. */
  private async list(): Promise<Candidate[]> {
    const out: Candidate[] = [];
    const suffix = this.o.fileSuffix;
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries: fs.Dirent[];
      try {
        entries = await fsp.readdir(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of entries) {
        const name = e.name;
        if (name.startsWith('.')) continue;
        const p = path.join(dir, name);
        const r = rel ? `${rel}/${name}` : name;
        if (e.isDirectory()) {
          if (this.o.recursiveDirectorySearch && !this.ignore.matches(name) && p !== this.trackerDir) await walk(p, r);
          continue;
        }
        if (name.endsWith(suffix)) continue;
        if (e.isSymbolicLink()) {
          this.warnOnce(p, 'Symbolic link in the spooling directory is skipped (never read, renamed or deleted)', {
            file: p,
          });
          continue;
        }
        if (!e.isFile()) continue;
        if (!this.include.matches(name) || this.ignore.matches(name)) continue;
        const st = await fsp.lstat(p).catch(() => undefined);
        if (!st || !st.isFile()) continue;
        const c: Candidate = { path: p, rel: r, name, size: st.size, mtimeMs: st.mtimeMs, dev: st.dev, ino: st.ino };
        const sk = this.skipped.get(p);
        if (sk !== undefined) {
          if (sk === this.identity(c)) continue;
          this.skipped.delete(p);
        }
        out.push(c);
      }
    };
    await walk(this.spoolDir, '');
    return out;
  }

  /**
   * Has `c` kept its size and modification time for fileStableTime? By its mtime's age, or (mtime in the future,
   * clock skew) by how long this source has seen it unchanged.
   */
  private stable(c: Candidate, seen: Map<string, { id: string; since: number }>): boolean {
    const ms = this.o.fileStableTime;
    const id = this.identity(c);
    const now = performance.now();
    const prev = this.seen.get(c.path);
    const since = prev && prev.id === id ? prev.since : now;
    seen.set(c.path, { id, since });
    if (ms <= 0) return true;
    return Date.now() - c.mtimeMs >= ms || now - since >= ms;
  }

  async pick(): Promise<Candidate | undefined> {
    for (;;) {
      await this.checkCompleted();
      const seen = new Map<string, { id: string; since: number }>();
      const all = await this.list();
      const files = all.filter((c) => this.stable(c, seen));
      this.seen = seen;
      if (files.length === 0) return undefined;
      let c: Candidate;
      if (this.o.consumeOrder === 'random') c = files[Math.floor(Math.random() * files.length)]!;
      else {
        const young = this.o.consumeOrder === 'youngest';
        c = files.reduce((best, f) => {
          if (f.mtimeMs !== best.mtimeMs)
            return (young ? f.mtimeMs > best.mtimeMs : f.mtimeMs < best.mtimeMs) ? f : best;
          return f.path < best.path ? f : best;
        });
      }
      // a name already completed: the name is reused by another file
      const reused = await this.completedExists(c);
      if (reused) {
        await this.badFile({ ...c, fh: undefined }, reused);
        if (this.halted || this.stopping) return undefined;
        continue;
      }
      return c;
    }
  }

  /** Why `c` cannot be completed under its name (rename target or tracker marker exists), or undefined. */
  private async completedExists(c: Candidate): Promise<string | undefined> {
    if (this.o.deletePolicy === 'immediate') return undefined;
    if (this.o.trackingPolicy === 'rename') {
      const target = `${c.path}${this.o.fileSuffix}`;
      if (fs.existsSync(target))
        return `its completed name ${target} is already taken (the name was re-used for another file)`;
      return undefined;
    }
    const marker = path.join(this.trackerDir, `${c.rel}${this.o.fileSuffix}`);
    const m = await fsp.stat(marker).catch(() => undefined);
    if (!m) return undefined;
    if (m.mtimeMs >= c.mtimeMs) {
      // already completed (tracker_dir leaves the file in place): not a candidate
      this.skipped.set(c.path, this.identity(c));
      return 'already-completed';
    }
    return `it was completed before (marker ${marker}) but has changed since (the name was re-used)`;
  }

  async saveMeta(cur: Current): Promise<void> {
    const m: Meta = { file: cur.path, dev: cur.dev, ino: cur.ino, size: cur.size, mtimeMs: cur.mtimeMs, pos: cur.pos };
    const tmp = `${this.metaFile}.tmp`;
    await fsp.writeFile(tmp, JSON.stringify(m), { mode: 0o600 });
    await fsp.rename(tmp, this.metaFile);
  }

  async clearMeta(): Promise<void> {
    await fsp.rm(this.metaFile, { force: true });
  }

  /** All events of the file are committed: check it did not change, then rename / delete / mark it. */
  async finish(cur: Current): Promise<void> {
    const st = await cur.fh.stat();
    const now = await fsp.lstat(cur.path).catch(() => undefined);
    await cur.fh.close().catch(() => undefined);
    if (st.size !== cur.size || st.mtimeMs !== cur.mtimeMs) {
      await this.badFile(
        { ...cur, fh: undefined },
        `it changed after it was picked up (size ${cur.size} -> ${st.size}); files must be ` +
          `complete and unchanged once in the spooling directory`,
        true,
      );
      return;
    }
    if (!now || now.ino !== cur.ino || now.dev !== cur.dev) {
      this.ctx.logger.warn(
        'File was moved or replaced while being read; its events were delivered, nothing to complete',
        { file: cur.path },
      );
      await this.clearMeta();
      return;
    }
    try {
      if (this.o.deletePolicy === 'immediate') {
        await fsp.rm(cur.path);
      } else if (this.o.trackingPolicy === 'rename') {
        const target = `${cur.path}${this.o.fileSuffix}`;
        if (fs.existsSync(target)) {
          await this.badFile(
            { ...cur, fh: undefined },
            `its completed name ${target} was taken while it was read`,
            true,
          );
          return;
        }
        await fsp.rename(cur.path, target);
        this.watchCompleted(cur, target);
      } else {
        const marker = path.join(this.trackerDir, `${cur.rel}${this.o.fileSuffix}`);
        await fsp.mkdir(path.dirname(marker), { recursive: true });
        await fsp.writeFile(marker, '');
        this.skipped.set(cur.path, this.identity(cur));
      }
    } catch (err) {
      await this.badFile({ ...cur, fh: undefined }, `it cannot be completed: ${errorMessage(err)}`, true);
      return;
    }
    await this.clearMeta();
    this.stats.completed++;
    this.ctx.logger.info('Spooling directory: file completed', {
      file: cur.path,
      policy: this.o.deletePolicy === 'immediate' ? 'deleted' : this.o.trackingPolicy,
    });
  }

  /** Watches a file renamed to `target` for a while: a writer may still hold it open and append. */
  private watchCompleted(cur: Candidate, target: string): void {
    if (this.o.fileStableTime <= 0) return;
    if (this.completed.size >= 1000) this.completed.delete(this.completed.keys().next().value!);
    const until = performance.now() + Math.max(60_000, 10 * this.o.fileStableTime);
    this.completed.set(target, {
      ...cur,
      path: target,
      rel: `${cur.rel}${this.o.fileSuffix}`,
      name: `${cur.name}${this.o.fileSuffix}`,
      until,
    });
  }

  /**
   * A completed file that changed since (its writer was still appending): what was appended after completion was
   * not delivered. Never silent: moved to quarantine (by badFilePolicy) with an error naming the bytes.
   */
  private async checkCompleted(): Promise<void> {
    if (this.completed.size === 0) return;
    const now = performance.now();
    for (const [target, c] of [...this.completed]) {
      const st = await fsp.lstat(target).catch(() => undefined);
      if (!st || st.ino !== c.ino || st.dev !== c.dev || now > c.until) {
        this.completed.delete(target);
        continue;
      }
      if (st.size === c.size && st.mtimeMs === c.mtimeMs) continue;
      this.completed.delete(target);
      this.stats.changedAfterCompletion++;
      await this.badFile(
        c,
        `it changed after it was completed (size ${c.size} -> ${st.size}): a writer is still appending; the ` +
          `${Math.max(0, st.size - c.size)} bytes after offset ${c.size} were NOT delivered. Write files elsewhere ` +
          'and move them into the spooling directory when complete, or raise fileStableTime',
        true,
      );
    }
  }

  /** A file that cannot be consumed cleanly, by badFilePolicy. `delivered`: its events were committed. */
  async badFile(c: Candidate & { fh?: FileHandle }, why: string, delivered = false): Promise<void> {
    if (why === 'already-completed') return;
    if (c.fh) await c.fh.close().catch(() => undefined);
    await this.clearMeta().catch(() => undefined);
    this.ctx.counters.add('GenericProcessingFail');
    const policy = this.o.badFilePolicy;
    const fields = { file: c.path, problem: why, policy, eventsDelivered: delivered };
    if (policy === 'fail') {
      this.halted = true;
      this.ctx.logger.error(
        'Spooling directory source stopped: a file cannot be consumed (badFilePolicy = fail). ' +
          'Fix the file, then restart or reconfigure the agent',
        fields,
      );
      return;
    }
    if (policy === 'quarantine') {
      const qdir = path.join(this.trackerDir, 'quarantine', path.dirname(c.rel));
      let target = path.join(qdir, c.name);
      try {
        await fsp.mkdir(qdir, { recursive: true });
        for (let i = 1; fs.existsSync(target); i++) target = path.join(qdir, `${c.name}.${i}`);
        await fsp.rename(c.path, target);
        this.stats.quarantined++;
        this.ctx.logger.error('Spooling directory: file moved to quarantine; the other files keep flowing', {
          ...fields,
          movedTo: target,
        });
        return;
      } catch (err) {
        this.ctx.logger.error('Spooling directory: file cannot be moved to quarantine; skipping it instead', {
          ...fields,
          error: errorMessage(err),
        });
      }
    }
    const st = await fsp.lstat(c.path).catch(() => undefined);
    this.skipped.set(c.path, st ? this.identity({ dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs }) : '');
    this.stats.skipped++;
    this.ctx.logger.error('Spooling directory: file skipped until it changes; the other files keep flowing', fields);
  }
}
