/**
 * The dead-letter file: items Elasticsearch refused for good (a 4xx other than 429, 401, 403 and, with
 * action = create, 409) are appended as JSON lines, with the reason, so they can be fixed and replayed. Each
 * write is fsynced before the batch commits; a failed write (disk full) fails the batch, which is rolled back and
 * retried: nothing is dropped.
 *
 * One line: {"time","sink","index","status","reason","error","headers","body"} and "bodyEncoding":"base64" when the
 * body is not valid UTF-8.
 */
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { isUtf8 } from 'node:buffer';
import type { FlumeEvent } from '../../core/event.js';

export interface DeadLetter {
  readonly event: FlumeEvent;
  readonly index: string;
  readonly status: number;
  readonly error: unknown;
}

export function reasonText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object') {
    const e = error as { type?: unknown; reason?: unknown; caused_by?: { reason?: unknown } };
    const parts = [e.type, e.reason, e.caused_by?.reason].filter((x) => typeof x === 'string');
    if (parts.length) return parts.join(': ');
  }
  return 'no reason given';
}

export function deadLetterLine(sink: string, d: DeadLetter, now: number): string {
  const utf8 = isUtf8(d.event.body);
  const rec: Record<string, unknown> = {
    time: new Date(now).toISOString(),
    sink,
    index: d.index,
    status: d.status,
    reason: reasonText(d.error),
    error: d.error ?? null,
    headers: d.event.headers,
    body: d.event.body.toString(utf8 ? 'utf8' : 'base64'),
  };
  if (!utf8) rec.bodyEncoding = 'base64';
  return JSON.stringify(rec) + '\n';
}

export class DeadLetterFile {
  private fh?: FileHandle;

  constructor(readonly file: string) {}

  /** Creates the directory and opens the file (appending), so a path that cannot work fails the start. */
  async open(): Promise<void> {
    if (this.fh) return;
    await fsp.mkdir(path.dirname(this.file), { recursive: true });
    this.fh = await fsp.open(this.file, 'a', 0o640);
  }

  /** Appends the lines and fsyncs them; on failure the file is cut back to where it was. */
  async append(lines: string): Promise<void> {
    await this.open();
    const fh = this.fh!;
    const buf = Buffer.from(lines, 'utf8');
    const start = (await fh.stat()).size;
    try {
      let off = 0;
      while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten;
      await fh.sync();
    } catch (err) {
      // no torn line before the retry appends the batch's dead letters again
      await fh.truncate(start).catch(() => {});
      throw err;
    }
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}
