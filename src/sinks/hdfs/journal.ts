/**
 * The open-files journal of one hdfs sink: a local append-only file with one JSON line per in-use file opened
 * (`{"open":"<in-use path>","final":"<final path>"}`) and per in-use file finished (`{"done":"<in-use path>"}`).
 * At start-up every file opened and not finished (the agent crashed, was killed, or a rename kept failing) is renamed
 * to its final name: in-use files never stay behind (Flume leaves `.tmp` files for an operator to find).
 *
 * Only files this sink created are touched, so agents sharing a directory never finish each other's files. The
 * journal is rewritten (temp file + rename) at start-up with what could not be finished yet.
 */
import fsp from 'node:fs/promises';
import path from 'node:path';
import { AgentError, errorMessage } from '../../core/errors.js';

export interface OpenEntry {
  inUse: string;
  final: string;
}

export class OpenFilesJournal {
  private fh: fsp.FileHandle | undefined;
  /** Appends in order. */
  private tail: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  /** Entries opened and not finished, from the journal as the last run left it. */
  async pending(): Promise<OpenEntry[]> {
    let text: string;
    try {
      text = await fsp.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new AgentError('FLUME_ERR_SINK_START', `cannot read ${this.file}: ${errorMessage(err)}`, { cause: err });
    }
    const open = new Map<string, OpenEntry>();
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      let j: { open?: string; final?: string; done?: string };
      try {
        j = JSON.parse(line) as typeof j;
      } catch {
        continue; // a line torn by a crash
      }
      if (typeof j.open === 'string' && typeof j.final === 'string')
        open.set(j.open, { inUse: j.open, final: j.final });
      else if (typeof j.done === 'string') open.delete(j.done);
    }
    return [...open.values()];
  }

  /** Replaces the journal with `entries` (what is still unfinished) and opens it for appending. */
  async reset(entries: readonly OpenEntry[]): Promise<void> {
    await fsp.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    const text = entries.map((e) => `${JSON.stringify({ open: e.inUse, final: e.final })}\n`).join('');
    await fsp.writeFile(tmp, text, { mode: 0o600 });
    await fsp.rename(tmp, this.file);
    this.fh = await fsp.open(this.file, 'a', 0o600);
  }

  opened(e: OpenEntry): Promise<void> {
    return this.append({ open: e.inUse, final: e.final });
  }

  done(inUse: string): Promise<void> {
    return this.append({ done: inUse });
  }

  private append(j: object): Promise<void> {
    const fh = this.fh;
    if (!fh) return Promise.resolve();
    const line = `${JSON.stringify(j)}\n`;
    const p = this.tail.then(() => fh.appendFile(line)).then(() => undefined);
    this.tail = p.catch(() => undefined);
    return p.catch((err: unknown) => {
      throw new AgentError('FLUME_ERR_HDFS_IO', `cannot write ${this.file}: ${errorMessage(err)}`, { cause: err });
    });
  }

  async close(): Promise<void> {
    await this.tail;
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }
}
