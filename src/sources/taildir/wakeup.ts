/**
 * Wake-ups of the taildir poll loop: fs.watch (inotify) on the group directories ends a backoff sleep as soon as a
 * matching name changes, and remembers the names so a closed file is looked at again at once.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../telemetry/logger.js';
import type { Matcher } from './matcher.js';

export class DirectoryWatch {
  /** Paths a change was seen for since the tracker last looked (it clears the set). */
  readonly dirtyNames = new Set<string>();
  private watchers: fs.FSWatcher[] = [];
  private wakeFlag = false;
  private wakeResolve: (() => void) | undefined;

  constructor(
    private readonly matcher: Matcher,
    private readonly logger: Logger,
    private readonly stopping: () => boolean,
  ) {}

  /** Watches the group directories (a failed watch falls back to polling). */
  start(): void {
    for (const dir of this.matcher.directories) {
      try {
        const w = fs.watch(dir, { persistent: false }, (_evt, name) => {
          const n = name == null ? undefined : String(name);
          if (n === undefined || this.matcher.matches(dir, n)) {
            if (n !== undefined) this.dirtyNames.add(path.join(dir, n));
            this.wake();
          }
        });
        w.on('error', (err) => {
          const fields = { directory: dir, error: errorMessage(err) };
          this.logger.warn('Directory watch failed; falling back to polling', fields);
          w.close();
        });
        this.watchers.push(w);
      } catch (err) {
        this.logger.warn('Cannot watch the directory; polling only', { directory: dir, error: errorMessage(err) });
      }
    }
  }

  close(): void {
    for (const w of this.watchers) w.close();
    this.watchers = [];
  }

  wake(): void {
    if (this.wakeResolve) this.wakeResolve();
    else this.wakeFlag = true;
  }

  /** The poll loop's sleep: ends early on a change in a group directory (a full channel is retried in drain()). */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.wakeFlag) {
      this.wakeFlag = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      if (signal?.aborted || this.stopping()) return resolve();
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        if (this.wakeResolve === done) this.wakeResolve = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      this.wakeResolve = done;
    });
  }
}
