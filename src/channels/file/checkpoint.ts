/**
 * checkpoint.json: which store a file channel uses and how deep it was, in the checkpoint directory, rewritten every
 * checkpointInterval and on a clean stop. Start-up compares it with the store, so a deleted, moved or unmounted data
 * directory is refused instead of silently starting empty (see recovery.ts). The store itself stays the source of
 * truth for the events.
 */
import fs from 'node:fs';
import path from 'node:path';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../telemetry/logger.js';
import type { ChannelCounters } from '../../telemetry/counters.js';

export const CHECKPOINT_FILE = 'checkpoint.json';

export interface CheckpointFile {
  format: 1;
  storeId: string;
  channel: string;
  dataDir: string;
  size: number;
  head: number;
  nextIndex: number;
  writtenAt: string;
  /**
   * True only when written by a clean stop. Otherwise (written while running; absent in older files) events may
   * have been put after it, so `size` is a lower bound.
   */
  clean?: boolean;
}

export class Checkpoint {
  readonly file: string;

  constructor(
    checkpointDir: string,
    private readonly log: Logger,
    private readonly counters: ChannelCounters,
  ) {
    this.file = path.join(checkpointDir, CHECKPOINT_FILE);
  }

  /** The checkpoint, or undefined when there is none or it is unreadable (warned: it is rewritten). */
  read(): CheckpointFile | undefined {
    let text: string;
    try {
      text = fs.readFileSync(this.file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      return JSON.parse(text) as CheckpointFile;
    } catch {
      this.log.warn('checkpoint.json is unreadable; it is rewritten (the store itself is the source of truth)', {
        file: this.file,
      });
      return undefined;
    }
  }

  /** Replaces the checkpoint atomically; a failure is counted and warned (the events are safe in the store). */
  write(cp: Omit<CheckpointFile, 'format' | 'writtenAt' | 'clean'>, clean: boolean): void {
    const full: CheckpointFile = {
      format: 1,
      storeId: cp.storeId,
      channel: cp.channel,
      dataDir: cp.dataDir,
      size: cp.size,
      head: cp.head,
      nextIndex: cp.nextIndex,
      writtenAt: new Date().toISOString(),
      clean,
    };
    try {
      fs.writeFileSync(`${this.file}.tmp`, `${JSON.stringify(full, null, 1)}\n`);
      fs.renameSync(`${this.file}.tmp`, this.file);
    } catch (err) {
      this.counters.add('CheckpointWriteErrorCount');
      this.log.warn('Writing checkpoint.json failed (the events are safe in the store)', {
        file: this.file,
        error: errorMessage(err),
      });
    }
  }
}
