/**
 * The log file of the LOGFILE and DAILY appenders: one live file, rolled by size (log4j's RollingFileAppender:
 * `flume.log.1` newest ... `flume.log.N` oldest) and/or at midnight (log4j's DAILY: `flume.log.2026-05-01`, then
 * `flume.log.2026-05-01.1`, ... when the size limit also cut that day). Rolls happen on the first line written
 * after the limit, as in log4j. Memory stays bounded: while the disk does not keep up, lines beyond 16 MiB queued
 * are dropped and counted, and a line saying how many is written once it catches up. A log that cannot be written
 * (permissions, disk full) never stops the agent: the first failure is reported on stderr.
 */
import winston from 'winston';
import type TransportStream from 'winston-transport';
import fs from 'node:fs';
import path from 'node:path';

const MESSAGE = Symbol.for('message');
/** winston exports its Transport base class as `Transport` (its typings call it `transport`). */
const Transport = (winston as unknown as { Transport: typeof TransportStream }).Transport;
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;

export interface RollingFileOptions {
  path: string;
  daily: boolean;
  /** 0: never roll by size. */
  maxBytes: number;
  maxFiles: number;
  timezone: 'utc' | 'local';
  /** Clock for the daily roll (tests). */
  now?: () => number;
}

/** yyyy-MM-dd of `ms` in UTC or local time. */
export function dayOf(ms: number, tz: 'utc' | 'local'): string {
  const d = new Date(ms);
  if (tz === 'utc') return d.toISOString().slice(0, 10);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

export class RollingFileTransport extends Transport {
  private stream?: fs.WriteStream;
  private size = 0;
  private day = '';
  private dropped = 0;
  private failed = false;
  private readonly now: () => number;

  constructor(private readonly o: RollingFileOptions) {
    super();
    this.now = o.now ?? Date.now;
    fs.mkdirSync(path.dirname(o.path), { recursive: true });
    this.day = dayOf(this.now(), o.timezone);
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(o.path);
    } catch {
      // no file yet
    }
    if (st) {
      this.size = st.size;
      // a file left by a run on an earlier day belongs to that day
      const fileDay = dayOf(st.mtimeMs, o.timezone);
      if (o.daily && fileDay !== this.day && st.size > 0) this.rollTo(this.dailyName(fileDay));
    }
    if (!this.stream) this.open();
  }

  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    let line = `${String(info[MESSAGE])}\n`;
    const now = this.now();
    if (this.o.daily) {
      const day = dayOf(now, this.o.timezone);
      if (day !== this.day) {
        const was = this.day;
        this.day = day;
        if (this.size > 0) this.rollTo(this.dailyName(was));
      }
    }
    const bytes = Buffer.byteLength(line);
    if (this.o.maxBytes > 0 && this.size > 0 && this.size + bytes > this.o.maxBytes) {
      this.rollTo(this.o.daily ? this.dailyName(this.day) : this.shiftNumbered());
    }
    const s = this.stream;
    if (!s || s.writableLength > MAX_QUEUED_BYTES) {
      this.dropped++;
    } else {
      if (this.dropped > 0) {
        line = `${new Date(now).toISOString()} WARN [logging] ${this.dropped} log lines were dropped: the log file did not keep up\n${line}`;
        this.dropped = 0;
      }
      s.write(line);
      this.size += Buffer.byteLength(line);
    }
    next();
  }

  /** Resolves when the transport ended (the logger closed) and every line it was given is in the file. */
  readonly finished = new Promise<void>((resolve) => this.once('finish', resolve));

  /** Writable's end hook: the logger closed; the file stream ends once its queued lines are written. */
  override _final(callback: (error?: Error | null) => void): void {
    const s = this.stream;
    this.stream = undefined;
    if (!s || s.destroyed) return callback();
    s.once('error', () => callback());
    s.end(() => callback());
  }

  /** Opens the live file at once (not when the stream gets round to it), so that a roll renames what was written. */
  private open(): void {
    let fd: number;
    try {
      fd = fs.openSync(this.o.path, 'a', 0o640);
    } catch (err) {
      this.report(err as Error);
      return;
    }
    const s = fs.createWriteStream('', { fd });
    s.on('error', (err) => this.report(err));
    this.stream = s;
  }

  /** Renames the live file to `target` (writes still queued land in it: same inode) and starts a new one. */
  private rollTo(target: string): void {
    const old = this.stream;
    try {
      fs.renameSync(this.o.path, target);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.report(err as Error);
    }
    this.size = 0;
    old?.end();
    this.open();
    this.prune();
  }

  /** log4j's numbering: flume.log.1 is the newest; the oldest beyond maxFiles is deleted. */
  private shiftNumbered(): string {
    const p = this.o.path;
    const n = this.o.maxFiles;
    rm(`${p}.${n}`);
    for (let i = n - 1; i >= 1; i--) mv(`${p}.${i}`, `${p}.${i + 1}`);
    return n > 0 ? `${p}.1` : `${p}.0`;
  }

  private dailyName(day: string): string {
    const base = `${this.o.path}.${day}`;
    if (!fs.existsSync(base)) return base;
    for (let i = 1; ; i++) if (!fs.existsSync(`${base}.${i}`)) return `${base}.${i}`;
  }

  /** Keeps the newest maxFiles rolled files. */
  private prune(): void {
    const dir = path.dirname(this.o.path);
    const base = path.basename(this.o.path);
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return;
    }
    if (!this.o.daily) {
      rm(`${this.o.path}.0`);
      return;
    }
    const rolled = names
      .map((n) => ({ n, m: /^\.(\d{4}-\d{2}-\d{2})(?:\.(\d+))?$/.exec(n.slice(base.length)) }))
      .filter((x) => x.n.startsWith(base) && x.m)
      .map((x) => ({ n: x.n, day: x.m![1]!, i: Number(x.m![2] ?? 0) }))
      .sort((a, b) => (a.day === b.day ? a.i - b.i : a.day < b.day ? -1 : 1));
    for (const x of rolled.slice(0, Math.max(0, rolled.length - this.o.maxFiles))) rm(path.join(dir, x.n));
  }

  private report(err: Error): void {
    if (this.failed) return;
    this.failed = true;
    process.stderr.write(`flume-ng: cannot write the log file ${this.o.path}: ${err.message}\n`);
  }
}

function rm(p: string): void {
  try {
    fs.unlinkSync(p);
  } catch {
    // absent
  }
}
function mv(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch {
    // absent
  }
}
