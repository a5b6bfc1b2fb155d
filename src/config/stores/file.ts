/**
 * The file store (-f, repeatable): reads the files as UTF-8 and polls their modification times for changes (every
 * 30 s by default, like Flume). A file that cannot be read is an issue of the document, never an exception.
 */
import fs from 'node:fs';
import type { ConfigIssue } from '../issues.js';
import type { ConfigDocument, ConfigStore, StoreListener } from './types.js';

/** Reads configuration files; unreadable ones become issues naming the file. */
export function readConfigFiles(files: readonly string[]): Pick<ConfigDocument, 'parts' | 'issues'> {
  const parts: ConfigDocument['parts'] = [];
  const issues: ConfigIssue[] = [];
  for (const f of files) {
    try {
      let text = fs.readFileSync(f, 'utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 BOM is not part of the first key
      parts.push({ name: f, text });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      issues.push({
        severity: 'error',
        file: f,
        message:
          code === 'ENOENT'
            ? 'configuration file not found'
            : code === 'EACCES'
              ? 'configuration file is not readable (permission denied)'
              : `cannot read configuration file: ${(err as Error).message}`,
      });
    }
  }
  return issues.length ? { parts, issues } : { parts };
}

function mtimeOf(f: string): number {
  try {
    return fs.statSync(f).mtimeMs;
  } catch {
    return -1; // unreadable files are skipped until they come back (Flume does the same)
  }
}

export class FileStore implements ConfigStore {
  readonly kind = 'file';
  readonly location: string;
  private timer?: NodeJS.Timeout;
  private seen = '';
  private closed = false;

  constructor(
    private readonly files: readonly string[],
    private readonly pollMs = 30_000,
  ) {
    this.location = files.join(' ');
  }

  private mtimes(): number[] {
    return this.files.map(mtimeOf);
  }

  read(): Promise<ConfigDocument> {
    const mtimes = this.mtimes();
    this.seen = mtimes.join(' ');
    const newest = Math.max(...mtimes);
    return Promise.resolve({
      ...readConfigFiles(this.files),
      version: newest > 0 ? `files modified at ${new Date(newest).toISOString()}` : 'files not readable',
      changeId: this.seen,
    });
  }

  /** Polls the modification times; a changed time (even by a touch without edit, as in Flume) re-reads them all. */
  watch(listener: StoreListener): void {
    const tick = () => {
      if (this.closed) return;
      if (this.mtimes().join(' ') !== this.seen) void this.read().then((doc) => listener.document(doc));
      this.timer = setTimeout(tick, this.pollMs);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, this.pollMs);
    this.timer.unref();
  }

  connection(): undefined {
    return undefined;
  }

  close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    return Promise.resolve();
  }
}
