/**
 * A dead-letter file: events a sink refused for good, one JSON line each (`time`, `sink`, `reason`, `headers`,
 * `body` as UTF-8 text when it is valid UTF-8, else `body_b64`), appended and flushed to disk before the take that
 * held them commits. Nothing here is read back by the agent: it is for an operator to inspect and replay.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { FlumeEvent } from '../../core/event.js';
import { AgentError, errorMessage } from '../../core/errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

function bodyField(body: Buffer): Record<string, string> {
  try {
    return { body: utf8.decode(body) };
  } catch {
    return { body_b64: body.toString('base64') };
  }
}

export class DeadLetterFile {
  constructor(
    readonly file: string,
    private readonly sink: string,
  ) {}

  /** Appends the events with their reasons and syncs; throws a retriable error when the file cannot be written. */
  async write(items: readonly { event: FlumeEvent; reason: string }[]): Promise<void> {
    if (items.length === 0) return;
    const now = new Date().toISOString();
    let text = '';
    for (const { event, reason } of items)
      text +=
        JSON.stringify({
          time: now,
          sink: this.sink,
          reason,
          headers: { ...event.headers },
          ...bodyField(event.body),
        }) + '\n';
    try {
      await fs.mkdir(path.dirname(this.file), { recursive: true });
      const fh = await fs.open(this.file, 'a', 0o600);
      try {
        await fh.write(text);
        await fh.datasync();
      } finally {
        await fh.close();
      }
    } catch (err) {
      throw new AgentError(
        'FLUME_ERR_SINK_DELIVERY',
        `sink ${this.sink}: cannot write the dead-letter file ${this.file}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
  }
}
