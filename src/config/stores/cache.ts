/**
 * The last good configuration of a store-configured agent, cached on local disk (a flume-ts addition): written
 * after every configuration the agent applied from ZooKeeper or etcd, read at start when the store cannot be
 * reached. One JSON file per agent, `<dir>/<agent>.json` (default dir `.flume-ts/config-cache` under the working
 * directory; `--config-cache DIR` moves it, `--no-config-cache` turns it off), written atomically (temporary file,
 * fsync, rename) with mode 0600: a configuration can hold passwords. A cache written for another store or key is
 * not used.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../../core/errors.js';
import type { ConfigDocument } from './types.js';

interface CacheFile {
  format: 'flume-ts-config-cache/1';
  agent: string;
  /** The store location the configuration came from (ConfigStore.location). */
  location: string;
  version: string;
  changeId: string;
  savedAt: number;
  parts: ConfigDocument['parts'];
}

export type CacheLoad =
  | { doc: ConfigDocument; savedAt: number }
  | { problem: string }
  /** No cache file. */
  | undefined;

export function defaultCacheDir(agentDir: string): string {
  return path.join(agentDir, '.flume-ts', 'config-cache');
}

export class ConfigCache {
  readonly file: string;

  constructor(
    dir: string,
    private readonly agent: string,
  ) {
    this.file = path.join(path.resolve(dir), `${encodeURIComponent(agent)}.json`);
  }

  /** Saves `doc` as the last good configuration from `location`. Throws on I/O errors (the caller logs them). */
  save(doc: ConfigDocument, location: string): void {
    const body: CacheFile = {
      format: 'flume-ts-config-cache/1',
      agent: this.agent,
      location,
      version: doc.version,
      changeId: doc.changeId,
      savedAt: Date.now(),
      parts: doc.parts,
    };
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, `${JSON.stringify(body, null, 2)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
  }

  /** The cached configuration from `location`; a problem when the file exists but cannot be used. */
  load(location: string): CacheLoad {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return { problem: `cannot read ${this.file}: ${errorMessage(err)}` };
    }
    let c: Partial<CacheFile>;
    try {
      c = JSON.parse(text) as Partial<CacheFile>;
    } catch (err) {
      return { problem: `${this.file} is not valid JSON: ${errorMessage(err)}` };
    }
    if (
      c.format !== 'flume-ts-config-cache/1' ||
      !Array.isArray(c.parts) ||
      !c.parts.every((p) => typeof p?.name === 'string' && typeof p?.text === 'string') ||
      typeof c.version !== 'string' ||
      typeof c.changeId !== 'string'
    )
      return { problem: `${this.file} is not a flume-ts configuration cache` };
    if (c.location !== location || c.agent !== this.agent)
      return { problem: `${this.file} holds the configuration of ${c.agent} from ${c.location}, not from ${location}` };
    return {
      doc: { parts: c.parts, version: c.version, changeId: c.changeId },
      savedAt: typeof c.savedAt === 'number' ? c.savedAt : 0,
    };
  }
}
