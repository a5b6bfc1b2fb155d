/**
 * The take log: where a file channel records committed takes, beside (not in) its LevelDB store.
 *
 * LevelDB has one write queue, so a take commit written there waits behind the fsync of whatever put batch is in
 * flight, and the sink runs at the pace of the put fsyncs. Appending the take state to this small file instead
 * takes one write() (no fsync, as before: a committed take survives kill -9, and a power loss at worst delivers
 * some events again). The LevelDB store keeps a lagging copy of the take state, written with the deletion of the
 * records it consumed (atomically), so a lost or damaged take log never loses events: start-up uses whichever of
 * the two has consumed more.
 *
 * File: 'FTSTAKE1' | store id (36 bytes, ASCII) | records. Record: u32 length | take state (encodeTakeState, which
 * carries its own CRC). Appends never rewrite earlier bytes; a torn or damaged tail ends the read at the last
 * whole record. Past `rotateBytes` the file is replaced (written aside, synced, renamed) with the current state.
 */
import fs from 'node:fs';
import path from 'node:path';
import { decodeTakeState, encodeTakeState, type TakeState } from './codec.js';
import { AgentError } from '../../core/errors.js';

const MAGIC = Buffer.from('FTSTAKE1');
const ID_LEN = 36;
const HEADER = MAGIC.length + ID_LEN;

export const TAKE_LOG_FILE = 'takes.log';

export interface TakeLogRead {
  state?: TakeState;
  /** Why the file was not usable (missing is not a problem). */
  problem?: string;
}

export class TakeLog {
  readonly file: string;
  private fd: number | undefined;
  private size = 0;

  constructor(
    dir: string,
    private readonly rotateBytes = 4 * 1024 * 1024,
  ) {
    this.file = path.join(dir, TAKE_LOG_FILE);
  }

  /** The last whole take state recorded for store `storeId`. */
  read(storeId: string): TakeLogRead {
    let buf: Buffer;
    try {
      buf = fs.readFileSync(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
      return { problem: `cannot read ${this.file}: ${(err as Error).message}` };
    }
    if (buf.length < HEADER || !buf.subarray(0, MAGIC.length).equals(MAGIC))
      return { problem: `${this.file} has no take-log header` };
    const id = buf.toString('latin1', MAGIC.length, HEADER);
    if (id !== storeId) return { problem: `${this.file} belongs to another store (${id})` };
    let state: TakeState | undefined;
    let off = HEADER;
    while (off + 4 <= buf.length) {
      const len = buf.readUInt32BE(off);
      if (off + 4 + len > buf.length) break;
      try {
        state = decodeTakeState(buf.subarray(off + 4, off + 4 + len));
      } catch {
        break;
      }
      off += 4 + len;
    }
    return { state };
  }

  /** Starts a fresh log for `storeId` holding `state` (written aside, synced, renamed into place). */
  reset(storeId: string, state: TakeState): void {
    this.close();
    const id = Buffer.from(storeId.padEnd(ID_LEN, ' ').slice(0, ID_LEN), 'latin1');
    const rec = frame(encodeTakeState(state));
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o644);
    try {
      fs.writeSync(fd, Buffer.concat([MAGIC, id, rec]));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, this.file);
    this.fd = fs.openSync(this.file, 'a');
    this.size = HEADER + rec.length;
  }

  /** Appends one take state (one write, no fsync); rotates when the file is large. Throws on I/O errors. */
  append(storeId: string, state: TakeState): void {
    if (this.fd === undefined || this.size >= this.rotateBytes) {
      this.reset(storeId, state);
      return;
    }
    const rec = frame(encodeTakeState(state));
    let written: number;
    try {
      written = fs.writeSync(this.fd, rec);
    } catch (err) {
      this.close(); // the next append starts a fresh file: no record is ever written after a torn one
      throw err;
    }
    if (written !== rec.length) {
      this.close();
      throw new AgentError('FLUME_ERR_CHANNEL_IO', `short write to ${this.file} (${written} of ${rec.length} bytes)`);
    }
    this.size += rec.length;
  }

  close(): void {
    if (this.fd === undefined) return;
    try {
      fs.closeSync(this.fd);
    } catch {
      // nothing to do
    }
    this.fd = undefined;
  }
}

function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + payload.length);
  out.writeUInt32BE(payload.length, 0);
  payload.copy(out, 4);
  return out;
}
