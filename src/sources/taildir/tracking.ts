/**
 * The files taildir tails: matching them to the position file at start-up (a rotated file keeps its offset), and
 * reconciling them with the group directories while it runs - new files, renames, files renamed away or deleted
 * (drained through their descriptor), truncation and content changes (read again from 0), reopening idle files.
 */
import fsp from 'node:fs/promises';
import fs from 'node:fs';
import path from 'node:path';
import type { SourceContext } from '../../contract/index.js';
import { errorMessage } from '../../core/errors.js';
import type { Candidate, GroupSpec, Matcher } from './matcher.js';
import { TailFile, type TailSettings } from './reader.js';
import { fileKey, fingerprintFile, sameFingerprint } from './identity.js';
import type { PositionEntry } from './position-file.js';
import type { PositionWriter } from './position-writer.js';

/** How often the first bytes of an open, growing file are compared with its fingerprint. */
const FP_CHECK_MS = 50;
/** How often a closed (idle) file is stat'ed for changes, unless inotify names it. */
const CLOSED_STAT_MS = 1000;

/** Half of the process's soft open-file limit (Linux: /proc/self/limits), between 16 and 4096; 512 if unknown. */
export function defaultMaxOpenFiles(): number {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (m) return m[1] === 'unlimited' ? 4096 : Math.max(16, Math.min(4096, Math.floor(Number(m[1]) / 2)));
  } catch {
    // not Linux: the default below
  }
  return 512;
}

/** What the tracked files share with their source. */
export interface TrackingContext {
  readonly ctx: SourceContext;
  readonly groups: GroupSpec[];
  readonly matcher: Matcher;
  readonly settings: TailSettings;
  /** skipToEnd: files unknown to the position file start at their last line. */
  readonly o: { readonly skipToEnd: boolean };
  readonly positions: PositionWriter;
  /** Paths a directory watch saw change (cleared by update()). */
  readonly dirtyNames: Set<string>;
  /** Most files held open at once. */
  readonly maxOpenFiles: number;
  now(): number;
  stopping(): boolean;
}

export class TailedFiles {
  /** By fileKey (device and inode). */
  readonly trackers = new Map<string, TailFile>();
  private readonly ctx: SourceContext;
  private readonly groups: GroupSpec[];
  private readonly matcher: Matcher;
  private readonly settings: TailSettings;
  private readonly positions: PositionWriter;
  private readonly dirtyNames: Set<string>;
  private readonly o: { readonly skipToEnd: boolean };

  constructor(private readonly d: TrackingContext) {
    this.ctx = d.ctx;
    this.groups = d.groups;
    this.matcher = d.matcher;
    this.settings = d.settings;
    this.positions = d.positions;
    this.dirtyNames = d.dirtyNames;
    this.o = d.o;
  }

  private now(): number {
    return this.d.now();
  }

  private get stopping(): boolean {
    return this.d.stopping();
  }

  /** Start-up: matches the position entries to the files found (identity rules in identity.ts). */
  async initialScan(entries: PositionEntry[]): Promise<void> {
    const { files } = await this.matcher.scan(this.now(), true);
    const used = new Set<PositionEntry>();
    for (const c of files.values()) {
      const opened = await this.openFile(c);
      if (!opened) continue;
      const entry = entries.find((e) => !used.has(e) && e.inode === c.ino && (e.dev === undefined || e.dev === c.dev));
      let pos: number | undefined;
      if (entry) {
        used.add(entry);
        if (entry.fp !== undefined) {
          if (await sameFingerprint(opened.fh, entry.fp, opened.size)) {
            if (opened.size >= entry.pos) pos = entry.pos;
            else {
              pos = 0;
              this.ctx.logger.warn(
                'File is shorter than its saved offset (truncated while stopped); reading it from the start',
                { file: c.path, size: opened.size, savedPos: entry.pos },
              );
            }
            if (entry.file !== c.path)
              this.ctx.logger.info('File was renamed while stopped; keeping its offset', {
                from: entry.file,
                to: c.path,
                pos,
              });
          } else {
            this.ctx.logger.info('File has a saved inode but different content (inode reused); treated as a new file', {
              file: c.path,
              inode: c.ino,
              savedFile: entry.file,
            });
          }
        } else if (entry.file === c.path) {
          // a Flume entry: applied with Flume's rule (same inode and same path)
          if (opened.size >= entry.pos) pos = entry.pos;
          else {
            pos = 0;
            this.ctx.logger.warn(
              'File is shorter than its saved offset (truncated while stopped); reading it from the start',
              { file: c.path, size: opened.size, savedPos: entry.pos },
            );
          }
        }
      }
      if (pos === undefined) pos = this.o.skipToEnd ? await this.endBoundary(opened.fh, opened.size) : 0;
      const fp = await fingerprintFile(opened.fh, opened.size);
      this.track(c, pos, fp, opened);
    }
    // the reset offsets (truncated while stopped) are persisted by the write that follows in start()
    await this.resumeRotated(entries.filter((e) => !used.has(e) && e.fp !== undefined));
  }

  /**
   * Entries whose file is no longer under a matching name: if the same file (inode + fingerprint) is still in the
   * group directory under another name (rotated while the agent was down) and has unread data, drain it.
   */
  private async resumeRotated(entries: PositionEntry[]): Promise<void> {
    const dirs = new Set(this.matcher.directories);
    const listed = new Map<string, string[]>();
    for (const e of entries) {
      const dir = path.dirname(e.file);
      if (!dirs.has(dir)) continue;
      let names = listed.get(dir);
      if (!names) {
        names = await fsp.readdir(dir).catch(() => [] as string[]);
        listed.set(dir, names);
      }
      for (const name of names) {
        const p = path.join(dir, name);
        const st = await fsp.lstat(p).catch(() => undefined);
        if (!st || !st.isFile() || st.ino !== e.inode || (e.dev !== undefined && st.dev !== e.dev)) continue;
        const key = fileKey(st.dev, st.ino);
        if (this.trackers.has(key)) break;
        const c: Candidate = {
          key,
          path: p,
          openPath: p,
          group: this.groups.find((g) => g.dir === dir)!,
          dev: st.dev,
          ino: st.ino,
          size: st.size,
          mtimeMs: st.mtimeMs,
        };
        const opened = await this.openFile(c);
        if (!opened) break;
        if (opened.size > e.pos && (await sameFingerprint(opened.fh, e.fp, opened.size))) {
          const t = this.track(c, e.pos, await fingerprintFile(opened.fh, opened.size), opened, false);
          t.orphan = true;
          t.rotated = true;
          this.ctx.logger.info('Draining a file rotated while the agent was stopped', {
            file: p,
            was: e.file,
            pos: e.pos,
            size: opened.size,
          });
        } else {
          await opened.fh.close();
        }
        break;
      }
    }
  }

  /** Files open now. */
  get openCount(): number {
    let n = 0;
    for (const t of this.trackers.values()) if (t.isOpen) n++;
    return n;
  }

  /**
   * Makes room for one more open file under maxOpenFiles: closes the least recently active open file that is
   * read to its end with nothing queued (it is reopened when it changes). False when every open file still has
   * data to hand out (the caller waits for a slot).
   */
  private makeRoom(except?: TailFile): boolean {
    let open = 0;
    let victim: TailFile | undefined;
    for (const t of this.trackers.values()) {
      if (!t.isOpen || t === except) continue;
      open++;
      if (t.busy || t.orphan || t.readPos < t.size) continue;
      if (!victim || t.lastActivity < victim.lastActivity) victim = t;
    }
    if (open < this.d.maxOpenFiles) return true;
    if (!victim) return false;
    void victim.closeIdle();
    this.ctx.logger.debug('Closed a file read to its end to stay under maxOpenFiles', { file: victim.path });
    return true;
  }

  /** Reconciles the trackers with the directories, and re-reads sizes on the open descriptors. */
  async update(now: number): Promise<void> {
    const { files, changed } = await this.matcher.scan(now);
    if (changed) {
      for (const [key, c] of files) {
        const t = this.trackers.get(key);
        if (t) {
          if (t.path !== c.path) {
            this.ctx.logger.info('File renamed; continuing at its offset', { from: t.path, to: c.path, pos: t.pos });
            t.renamed(c.path, c.openPath);
            t.rotated = true;
          }
          if (t.orphan) t.orphan = false;
        } else if (!this.stopping) {
          const opened = await this.openFile(c);
          if (opened) {
            this.track(c, 0, '', opened);
            this.ctx.logger.info('New file', { file: c.path });
          }
        }
      }
      for (const t of [...this.trackers.values()]) {
        if (files.has(t.key)) continue;
        if (t.isOpen) {
          if (!t.orphan) {
            t.orphan = true;
            t.rotated = true;
            this.ctx.logger.info('File renamed away or deleted; draining it from its open descriptor', {
              file: t.path,
              pos: t.pos,
            });
          }
        } else {
          this.trackers.delete(t.key);
        }
      }
    }
    let room = true;
    for (const t of this.trackers.values()) {
      if (t.isOpen) {
        let r;
        try {
          r = await t.refresh(now, FP_CHECK_MS);
        } catch (err) {
          this.ctx.logger.warn('Cannot stat an open file; closing it', { file: t.path, error: errorMessage(err) });
          await t.closeIdle();
          continue;
        }
        if (r === 'truncated') {
          this.ctx.logger.warn('File was truncated or rewritten (copytruncate?); reading it again from the start', {
            file: t.path,
            size: t.size,
            readPos: t.readPos,
            pos: t.pos,
          });
          this.ctx.counters.add('TruncationCount');
          t.truncated();
          // persist the reset offset now (F5): a restart must not skip the new content
          this.positions.invalidate();
          if (!t.busy) await this.positions.write();
        }
      } else if (t.waitingForSlot) {
        // closed for maxOpenFiles with data left: tried on every pass until the slots are taken
        if (room && !this.stopping && (await this.maybeReopen(t)) === 'no room') room = false;
      } else if (!this.stopping && (now - t.lastStat >= CLOSED_STAT_MS || this.dirtyNames.has(t.path))) {
        t.lastStat = now;
        await this.maybeReopen(t);
      }
    }
    this.dirtyNames.clear();
  }

  /** A closed file changed: reopen it, checking it is still the same content (fingerprint). */
  private async maybeReopen(t: TailFile): Promise<'no room' | undefined> {
    const st = await fsp.stat(t.openPath).catch(() => undefined);
    if (!st || st.dev !== t.dev || st.ino !== t.ino) return; // gone or replaced: the directory scan handles it
    // unchanged since it was closed, and read to that point (closed for maxOpenFiles with data left: reopened)
    if (st.size === t.size && st.mtimeMs === t.mtimeMs && !t.waitingForSlot) return;
    if (!this.makeRoom(t)) return 'no room'; // every slot is still reading: later
    if (!(await t.open())) return;
    t.waitingForSlot = false;
    if (!(await sameFingerprint(t.fh!, t.fp, t.size)) || t.size < t.pos) {
      this.ctx.logger.info(
        'Reopened file has different content (inode reused or truncated); reading it from the start',
        { file: t.path, size: t.size, savedPos: t.pos },
      );
      t.pos = 0;
      t.readPos = 0;
      t.fp = '';
      t.splitter.reset(0);
      this.positions.invalidate();
    }
    t.lastActivity = this.now();
  }

  private async openFile(c: Candidate): Promise<{ fh: fsp.FileHandle; size: number; mtimeMs: number } | undefined> {
    let fh: fsp.FileHandle;
    try {
      fh = await fsp.open(c.openPath, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0));
    } catch (err) {
      this.ctx.logger.warn('Cannot open a matching file; it is retried when the directory changes', {
        file: c.path,
        error: errorMessage(err),
      });
      return undefined;
    }
    const st = await fh.stat();
    if (st.dev !== c.dev || st.ino !== c.ino) {
      await fh.close();
      return undefined;
    }
    return { fh, size: st.size, mtimeMs: st.mtimeMs };
  }

  private track(
    c: Candidate,
    pos: number,
    fp: string,
    opened: { fh: fsp.FileHandle; size: number; mtimeMs: number },
    mayClose = true,
  ): TailFile {
    const t = new TailFile(c.key, c.dev, c.ino, c.path, c.openPath, c.group, pos, fp, this.settings, this.now());
    t.adopt(opened.fh, opened.size, opened.mtimeMs);
    this.trackers.set(c.key, t);
    // over maxOpenFiles: tracked closed, reopened (inode + fingerprint checked) when a slot is free
    if (mayClose && !this.makeRoom(t)) {
      t.waitingForSlot = true;
      void t.close();
    }
    return t;
  }

  /** Offset to start a file at with skipToEnd: the start of its last, unterminated line (or the end). */
  private async endBoundary(fh: fsp.FileHandle, size: number): Promise<number> {
    if (size === 0) return 0;
    const n = Math.min(size, 64 * 1024);
    const buf = Buffer.allocUnsafe(n);
    const { bytesRead } = await fh.read(buf, 0, n, size - n);
    const nl = buf.subarray(0, bytesRead).lastIndexOf(10);
    if (nl >= 0) return size - n + nl + 1;
    return size <= n ? 0 : size;
  }

  /** Closes every tracked file. */
  async closeAll(): Promise<void> {
    await Promise.all([...this.trackers.values()].map((t) => t.close()));
    this.trackers.clear();
  }

  /** The committed offsets, for the position file. */
  snapshot(): PositionEntry[] {
    const out: PositionEntry[] = [];
    for (const t of this.trackers.values()) {
      const e: PositionEntry = { inode: t.ino, pos: t.pos, file: t.path, dev: t.dev };
      if (t.fp) e.fp = t.fp;
      out.push(e);
    }
    return out;
  }
}
