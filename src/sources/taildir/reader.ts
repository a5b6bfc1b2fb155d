/**
 * One tailed file: an open descriptor, the committed offset, the lines read ahead and the batch in flight.
 *
 * Offsets:
 *  - `pos`      committed: every line before it is in the channel. Only this goes to the position file.
 *  - `readPos`  the next byte to read (lines between pos and readPos are queued, in flight or held partial).
 * `pos` always sits on a line boundary (or past the discarded part of an oversize line).
 *
 * Rotation is judged on the open descriptor, never on the path (Flume PR #297): a file renamed away or deleted
 * keeps being read through its descriptor until it has been idle for idleTimeout; a file that shrank below what
 * was read (copytruncate, truncate) or whose first bytes changed is read again from 0.
 */
import path from 'node:path';
import fs from 'node:fs';
import fsp, { type FileHandle } from 'node:fs/promises';
import type { FlumeEvent } from '../../core/event.js';
import { LineSplitter, type LineSink, type OversizePolicy } from '../../text/index.js';
import { FP_BYTES, fingerprintFile, fingerprintLength, fingerprintOf, sameFingerprint } from './identity.js';
import type { GroupSpec } from './matcher.js';

/** Bytes per read. */
export const CHUNK_BYTES = 256 * 1024;

const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;

export interface TailSettings {
  maxLineBytes: number;
  oversize: OversizePolicy;
  byteOffsetHeader: boolean;
  fileHeader: boolean;
  fileHeaderKey: string;
  basenameHeader: boolean;
  basenameHeaderKey: string;
}

export class TailFile {
  fh: FileHandle | undefined;
  pos: number;
  readPos: number;
  /** Fingerprint of the first bytes (`<n>:<hash>`). */
  fp: string;
  /** Size and mtime from the last (f)stat. */
  size = 0;
  mtimeMs = 0;
  /** No longer found under a matching name (renamed away or deleted): drained, then closed and forgotten. */
  orphan = false;
  /** Was renamed (or renamed away / deleted) at some point: its unterminated tail is emitted on idle close. */
  rotated = false;
  /** Monotonic time of the last read that returned data (or of opening). */
  lastActivity: number;
  /** Monotonic time of the last fingerprint check on the open descriptor. */
  lastFpCheck = 0;
  /** Monotonic time of the last stat of a closed file. */
  lastStat = 0;
  /** Set when the file reached EOF in the last read. */
  atEof = false;
  /** Closed with data left to read because maxOpenFiles was reached: reopened as soon as a slot is free. */
  waitingForSlot = false;
  /** The closing orphan's unterminated tail has been queued. */
  finalFlushed = false;
  headers: Record<string, string>;
  readonly splitter: LineSplitter;
  /** Read-ahead: complete lines not yet in a batch (from `head`). */
  private sink: LineSink & { starts?: number[] };
  private head = 0;
  /** The batch handed to the channel and not yet committed (retried as the same array). */
  inflight: FlumeEvent[] | undefined;
  private inflightEnd = 0;
  /** Counts for the source: lines cut/skipped, partial tails dropped. */
  droppedPartials = 0;

  constructor(
    readonly key: string,
    readonly dev: number,
    readonly ino: number,
    public path: string,
    public openPath: string,
    public group: GroupSpec,
    pos: number,
    fp: string,
    readonly settings: TailSettings,
    now: number,
  ) {
    this.pos = pos;
    this.readPos = pos;
    this.fp = fp;
    this.lastActivity = now;
    this.splitter = new LineSplitter(settings.maxLineBytes, settings.oversize, 'crlf', pos);
    this.sink = { bodies: [], ends: [], starts: settings.byteOffsetHeader ? [] : undefined };
    this.headers = this.buildHeaders();
  }

  private buildHeaders(): Record<string, string> {
    const h = Object.create(null) as Record<string, string>;
    for (const k of Object.keys(this.group.headers)) h[k] = this.group.headers[k]!;
    if (this.settings.fileHeader) h[this.settings.fileHeaderKey] = this.path;
    if (this.settings.basenameHeader) h[this.settings.basenameHeaderKey] = path.basename(this.path);
    return Object.freeze(h);
  }

  /** The file was found under another matching name. */
  renamed(p: string, openPath: string): void {
    this.path = p;
    this.openPath = openPath;
    this.headers = this.buildHeaders();
  }

  get isOpen(): boolean {
    return this.fh !== undefined;
  }

  /** Lines read and not yet committed (queued or in flight). */
  get busy(): boolean {
    return this.inflight !== undefined || this.head < this.sink.bodies.length;
  }

  /**
   * Opens `openPath` without following a symlink and checks it is still the same inode.
   * Returns false (and leaves the file closed) when the path now holds another file or is gone.
   */
  async open(): Promise<boolean> {
    let fh: FileHandle;
    try {
      fh = await fsp.open(this.openPath, fs.constants.O_RDONLY | O_NOFOLLOW);
    } catch {
      return false;
    }
    const st = await fh.stat();
    if (st.dev !== this.dev || st.ino !== this.ino) {
      await fh.close();
      return false;
    }
    this.fh = fh;
    this.size = st.size;
    this.mtimeMs = st.mtimeMs;
    return true;
  }

  /** Adopts the open descriptor of a fresh file handle (used when the caller opened it already). */
  adopt(fh: FileHandle, size: number, mtimeMs: number): void {
    this.fh = fh;
    this.size = size;
    this.mtimeMs = mtimeMs;
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close().catch(() => undefined);
  }

  /**
   * Re-reads the size on the descriptor. Returns 'truncated' when the file shrank below what was read, or when
   * its first bytes changed (checked at most every `fpEveryMs`); 'grown' when there is more to read.
   */
  async refresh(now: number, fpEveryMs: number): Promise<'truncated' | 'grown' | 'same'> {
    const st = await this.fh!.stat();
    this.size = st.size;
    this.mtimeMs = st.mtimeMs;
    if (st.size < this.readPos) return 'truncated';
    if (st.size > this.readPos) {
      if (fingerprintLength(this.fp) > 0 && now - this.lastFpCheck >= fpEveryMs) {
        this.lastFpCheck = now;
        if (!(await sameFingerprint(this.fh!, this.fp, st.size))) return 'truncated';
      }
      return 'grown';
    }
    return 'same';
  }

  /**
   * Starts again at byte 0 (copytruncate or truncation seen on the descriptor). Lines already read stay queued
   * and are delivered; once they are committed the committed offset becomes 0 in the new content.
   */
  truncated(): void {
    if (this.splitter.pendingBytes > 0) this.droppedPartials++;
    this.splitter.reset(0);
    this.readPos = 0;
    this.fp = '';
    this.atEof = false;
    const ends = this.sink.ends;
    for (let i = this.head; i < ends.length; i++) ends[i] = 0;
    if (this.inflight) this.inflightEnd = 0;
    if (!this.busy) this.pos = 0;
  }

  /** Reads one chunk at readPos; returns the bytes read (0 at EOF). */
  async readChunk(now: number): Promise<number> {
    const fh = this.fh!;
    const want = Math.max(1, Math.min(CHUNK_BYTES, this.size > this.readPos ? this.size - this.readPos : CHUNK_BYTES));
    const buf = Buffer.allocUnsafe(want);
    const at = this.readPos;
    const { bytesRead } = await fh.read(buf, 0, want, at);
    if (bytesRead === 0) {
      this.atEof = true;
      return 0;
    }
    this.atEof = false;
    this.lastActivity = now;
    const chunk = bytesRead === want ? buf : buf.subarray(0, bytesRead);
    this.readPos = at + bytesRead;
    if (this.readPos > this.size) this.size = this.readPos;
    await this.updateFingerprint(chunk, at);
    this.splitter.push(chunk, at, this.sink);
    return bytesRead;
  }

  /** Keeps the fingerprint covering min(size, FP_BYTES) bytes as the file grows. */
  private async updateFingerprint(chunk: Buffer, at: number): Promise<void> {
    const have = fingerprintLength(this.fp);
    if (have >= FP_BYTES || have >= this.readPos) return;
    if (at === 0) this.fp = fingerprintOf(chunk);
    else this.fp = await fingerprintFile(this.fh!, this.readPos);
  }

  /** Lines queued. */
  get queued(): number {
    return this.sink.bodies.length - this.head;
  }

  /** Queues the unterminated tail as a last line (a rotated-away file being closed). */
  flushPartial(): boolean {
    return this.splitter.flushPartial(this.sink);
  }

  /** Builds the next batch (up to `n` queued lines) as the in-flight batch. */
  takeBatch(n: number): FlumeEvent[] | undefined {
    if (this.inflight) return this.inflight;
    const { bodies, ends, starts } = this.sink;
    const avail = bodies.length - this.head;
    if (avail <= 0) return undefined;
    const k = Math.min(n, avail);
    const batch = new Array<FlumeEvent>(k);
    const headers = this.headers;
    const h0 = this.head;
    if (starts) {
      for (let i = 0; i < k; i++) {
        const h = Object.create(null) as Record<string, string>;
        for (const key of Object.keys(headers)) h[key] = headers[key]!;
        h.byteoffset = String(starts[h0 + i]);
        batch[i] = { headers: h, body: bodies[h0 + i]! };
      }
    } else {
      for (let i = 0; i < k; i++) batch[i] = { headers, body: bodies[h0 + i]! };
    }
    this.inflightEnd = ends[h0 + k - 1]!;
    this.head = h0 + k;
    if (this.head === bodies.length) {
      this.sink.bodies = [];
      this.sink.ends = [];
      if (starts) this.sink.starts = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= bodies.length) {
      // drop the consumed prefix, which would otherwise keep every chunk read so far alive
      this.sink.bodies = bodies.slice(this.head);
      this.sink.ends = ends.slice(this.head);
      if (starts) this.sink.starts = starts.slice(this.head);
      this.head = 0;
    }
    this.inflight = batch;
    return batch;
  }

  /** The in-flight batch was committed: advance the committed offset. */
  committed(): void {
    this.inflight = undefined;
    this.pos =
      this.head < this.sink.bodies.length ? this.inflightEnd : Math.max(this.inflightEnd, this.splitter.boundary());
    if (this.pos > this.readPos) this.pos = this.readPos;
  }

  /** With nothing queued or in flight, the committed offset may move over skipped bytes (oversize lines). */
  syncIdle(): void {
    if (!this.busy) this.pos = this.splitter.boundary();
  }

  /** Closes an idle live file: the held partial line is dropped from memory and re-read on reopen. */
  async closeIdle(): Promise<void> {
    await this.close();
    this.readPos = this.pos;
    this.splitter.reset(this.pos);
    this.atEof = false;
  }
}
