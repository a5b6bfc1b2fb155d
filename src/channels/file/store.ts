/**
 * The LevelDB store under a file channel: open with clear lock / corruption errors, repair, synced batches.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Level } from 'level';
import { AgentError, errorMessage } from '../../core/errors.js';
import { describeHolder, heldByOtherProcess } from './lock.js';
import type { StoreFootprint } from './disk-space.js';
import {
  KEY_META,
  KEY_PUT_STATE,
  KEY_STATE,
  decodePutState,
  decodeTakeState,
  type StoreMeta,
  type StoreState,
} from './codec.js';

export type FileChannelProblem = 'locked' | 'corrupt' | 'mismatch' | 'io' | 'disk-full';

/** A file channel failure; `reason` says which kind (match on it, or on `code`). */
export class FileChannelError extends AgentError {
  constructor(
    readonly reason: FileChannelProblem,
    message: string,
    opts: { cause?: unknown; retriable?: boolean } = {},
  ) {
    super(
      reason === 'locked'
        ? 'FLUME_ERR_CHANNEL_LOCKED'
        : reason === 'corrupt' || reason === 'mismatch'
          ? 'FLUME_ERR_CHANNEL_CORRUPT'
          : 'FLUME_ERR_CHANNEL_IO',
      message,
      { cause: opts.cause, retriable: opts.retriable ?? false },
    );
    this.name = 'FileChannelError';
  }
}

export type Op = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };
export type DB = Level<Buffer, Buffer>;

export interface StoreOptions {
  channel: string;
  dataDir: string;
  checkpointDir: string;
  writeBufferSize: number;
}

/** The directory LevelDB keeps its files in. */
export function storeLocation(dataDir: string): string {
  return path.join(dataDir, 'leveldb');
}

export function errCode(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } };
  return e?.cause?.code ?? e?.code;
}

function errText(err: unknown): string {
  const e = err as { message?: string; cause?: { message?: string } };
  return [e?.message, e?.cause?.message].filter(Boolean).join(': ');
}

export function isDiskFull(err: unknown): boolean {
  return /No space left|ENOSPC|disk full/i.test(errText(err));
}

/** True for a damaged store: a FileChannelError of reason 'corrupt', or LevelDB reporting corruption. */
export function isCorruption(err: unknown): boolean {
  if (err instanceof FileChannelError) return err.reason === 'corrupt';
  return errCode(err) === 'LEVEL_CORRUPTION' || /^(Error: )?Corruption:/.test(errorMessage(err));
}

/** Size of the tables at `level` from LevelDB's stats table (whole MB there: rounded up). */
function levelBytes(stats: string, level: number): number {
  const m = new RegExp(`^\\s*${level}\\s+(\\d+)\\s+(\\d+)`, 'm').exec(stats);
  return m && Number(m[1]) > 0 ? (Number(m[2]) + 1) * 1048576 : 0;
}

export class Store {
  readonly location: string;
  db?: DB;

  constructor(readonly o: StoreOptions) {
    this.location = storeLocation(o.dataDir);
  }

  recoverHint(): string {
    return (
      `To salvage what is readable: stop the agent, back up ${this.o.dataDir}, set ` +
      `<agent>.channels.${this.o.channel}.recover = true, start the agent once (its log reports how many events were ` +
      `recovered and how many were lost), then remove the key. To throw the queued events away instead, delete ` +
      `${this.o.dataDir} and ${this.o.checkpointDir}.`
    );
  }

  corrupt(detail: string, cause?: unknown): FileChannelError {
    return new FileChannelError(
      'corrupt',
      `Channel ${this.o.channel}: the file-channel store ${this.location} is damaged (${detail}). The agent does not ` +
        `start over a damaged store, so queued events are never dropped silently. ${this.recoverHint()}`,
      { cause },
    );
  }

  /** What is on disk before opening: nothing, a store, or LevelDB files without the CURRENT pointer. */
  inspect(): 'none' | 'store' | 'no-current' {
    let names: string[];
    try {
      names = fs.readdirSync(this.location);
    } catch {
      return 'none';
    }
    if (names.includes('CURRENT')) return 'store';
    const data = names.some((n) => /\.(ldb|sst|log)$/.test(n) || n.startsWith('MANIFEST-'));
    return data ? 'no-current' : 'none';
  }

  /**
   * Opens (creating when absent). With `repair`, a damaged store is first rebuilt by LevelDB's repair.
   * Returns whether a repair ran.
   */
  async open(repair: boolean): Promise<{ repaired: boolean }> {
    fs.mkdirSync(this.location, { recursive: true });
    let repaired = false;
    if (this.inspect() === 'no-current') {
      if (!repair)
        throw this.corrupt(
          'its CURRENT file is missing while table and log files are present; LevelDB would start an empty store and delete them',
        );
      await this.repair();
      repaired = true;
    }
    for (;;) {
      const db = new Level<Buffer, Buffer>(this.location, {
        keyEncoding: 'buffer',
        valueEncoding: 'buffer',
        createIfMissing: true,
        errorIfExists: false,
        writeBufferSize: this.o.writeBufferSize,
      });
      try {
        await db.open();
        this.db = db;
        return { repaired };
      } catch (err) {
        const code = errCode(err);
        if (code === 'LEVEL_LOCKED') throw this.locked(err);
        if (code === 'LEVEL_CORRUPTION' || /corrupt/i.test(errText(err))) {
          if (repair && !repaired) {
            await this.repair();
            repaired = true;
            continue;
          }
          throw this.corrupt(`LevelDB: ${errText(err)}`, err);
        }
        throw new FileChannelError(
          'io',
          `Channel ${this.o.channel}: cannot open the file-channel store ${this.location}: ${errText(err)}`,
          { cause: err, retriable: true },
        );
      }
    }
  }

  private locked(err: unknown): FileChannelError {
    return new FileChannelError(
      'locked',
      `Channel ${this.o.channel}: the file-channel store ${this.location} is in use by ${describeHolder(this.o.dataDir)}. ` +
        'Two agents or two channels cannot share a store: give each file channel its own dataDirs and checkpointDir, or stop the other agent first.',
      { cause: err },
    );
  }

  /**
   * Rejects with the 'locked' error open() would meet when another live process on this host holds the store: its
   * in_use.pid names it and LevelDB's lock confirms it (a stale pid file is not a conflict). Without a pid file
   * naming another process nothing is opened (a store of this process, or none, is not a conflict).
   */
  async checkLock(): Promise<void> {
    if (this.db || !heldByOtherProcess(this.o.dataDir) || this.inspect() !== 'store') return;
    const db = new Level<Buffer, Buffer>(this.location, { createIfMissing: false, errorIfExists: false });
    try {
      await db.open();
    } catch (err) {
      if (errCode(err) === 'LEVEL_LOCKED') throw this.locked(err);
      return; // any other problem is start()'s to report
    }
    await db.close().catch(() => {});
  }

  async repair(): Promise<void> {
    const L = Level as unknown as { repair(location: string): Promise<void> };
    try {
      await L.repair(this.location);
    } catch (err) {
      throw new FileChannelError(
        'corrupt',
        `Channel ${this.o.channel}: LevelDB could not repair ${this.location}: ${errText(err)}. Move the directory away and start with an empty channel, or restore a backup.`,
        { cause: err },
      );
    }
  }

  private get open_(): DB {
    if (!this.db)
      throw new FileChannelError('io', `Channel ${this.o.channel}: the store is not open`, { retriable: true });
    return this.db;
  }

  async readMeta(): Promise<StoreMeta | undefined> {
    const v = await this.open_.get(KEY_META);
    if (v === undefined) return undefined;
    try {
      const m = JSON.parse(v.toString('utf8')) as StoreMeta;
      if (typeof m.storeId !== 'string') throw new AgentError('FLUME_ERR_CHANNEL_CORRUPT', 'no storeId');
      return m;
    } catch (err) {
      throw this.corrupt(`its identity record is unreadable: ${errText(err)}`, err);
    }
  }

  /**
   * The channel state, `undefined` when neither state record exists; throws `corrupt` when one is unreadable or
   * missing.
   */
  async readState(): Promise<(StoreState & { puts: number; taken: number }) | undefined> {
    const [tv, pv] = await this.open_.getMany([KEY_STATE, KEY_PUT_STATE]);
    if (tv === undefined && pv === undefined) return undefined;
    if (tv === undefined || pv === undefined)
      throw this.corrupt(`its ${tv === undefined ? 'take' : 'put'}-state record is missing`);
    try {
      const t = decodeTakeState(tv);
      const p = decodePutState(pv);
      if (p.puts < t.taken)
        throw new AgentError(
          'FLUME_ERR_CHANNEL_CORRUPT',
          `it counts more events taken (${t.taken}) than put (${p.puts})`,
        );
      return {
        head: t.head,
        done: t.done,
        headBase: t.headBase,
        nextIndex: p.nextIndex,
        size: p.puts - t.taken,
        puts: p.puts,
        taken: t.taken,
      };
    } catch (err) {
      throw this.corrupt(`its state record is unreadable: ${errText(err)}`, err);
    }
  }

  async write(ops: Op[], sync: boolean): Promise<void> {
    await this.open_.batch(ops, { sync });
  }

  iterator(range: { gt?: Buffer; gte?: Buffer; lt: Buffer }) {
    return this.open_.iterator({ ...range, keyEncoding: 'buffer', valueEncoding: 'buffer', fillCache: false });
  }

  keys(range: { gte?: Buffer; lt: Buffer }) {
    return this.open_.keys({ ...range, keyEncoding: 'buffer' });
  }

  async compact(from: Buffer, to: Buffer): Promise<void> {
    const db = this.open_ as unknown as { compactRange(a: Buffer, b: Buffer, o?: unknown): Promise<void> };
    await db.compactRange(from, to, { keyEncoding: 'buffer' });
  }

  /** LevelDB's write-ahead logs and level-0 tables, in bytes: what it rewrites by itself (see disk-space.ts). */
  async footprint(): Promise<StoreFootprint> {
    let log = 0;
    const names = await fsp.readdir(this.location).catch(() => [] as string[]);
    for (const name of names) {
      if (!name.endsWith('.log')) continue;
      log += await fsp.stat(path.join(this.location, name)).then(
        (s) => s.size,
        () => 0,
      );
    }
    const stats = this.stats();
    return { log, level0: levelBytes(stats, 0), level1: levelBytes(stats, 1) };
  }

  private stats(): string {
    const db = this.db as unknown as { getProperty?(p: string): string } | undefined;
    try {
      return db?.getProperty?.('leveldb.stats') ?? '';
    } catch {
      return '';
    }
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    if (db) await db.close();
  }
}
