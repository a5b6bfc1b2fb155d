/**
 * The hdfs sink on local disk (plain absolute paths and `file://` URIs, NFS mounts included). A write is one
 * positional write (looping on short writes) into the page cache, which survives the process dying; fsync
 * happens when a file is closed and every hdfs.syncInterval (the sink calls sync()).
 */
import fsp, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { AgentError, errorMessage } from '../../../core/errors.js';
import type { HdfsFile, HdfsFileSystem } from './port.js';

function ioError(what: string, file: string, err: unknown): AgentError {
  return new AgentError('FLUME_ERR_HDFS_IO', `cannot ${what} ${file}: ${errorMessage(err)}`, { cause: err });
}

class LocalFile implements HdfsFile {
  constructor(
    readonly path: string,
    private readonly fh: FileHandle,
    public size: number,
  ) {}

  async write(data: Buffer): Promise<void> {
    let off = 0;
    try {
      while (off < data.length) {
        const { bytesWritten } = await this.fh.write(data, off, data.length - off, this.size + off);
        if (bytesWritten <= 0) throw new AgentError('FLUME_ERR_HDFS_IO', `write returned ${bytesWritten}`);
        off += bytesWritten;
      }
    } catch (err) {
      throw ioError('write to', this.path, err);
    } finally {
      this.size += off;
    }
  }

  async sync(): Promise<void> {
    try {
      await this.fh.datasync();
    } catch (err) {
      throw ioError('sync', this.path, err);
    }
  }

  async truncate(size: number): Promise<boolean> {
    try {
      await this.fh.truncate(size);
      this.size = size;
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    try {
      await this.fh.close();
    } catch (err) {
      throw ioError('close', this.path, err);
    }
  }
}

export class LocalFileSystem implements HdfsFileSystem {
  readonly description = 'local disk';
  private readonly dirs = new Set<string>();

  constructor(private readonly fileMode: number) {}

  private async ensureDir(dir: string): Promise<void> {
    if (this.dirs.has(dir)) return;
    try {
      await fsp.mkdir(dir, { recursive: true, mode: 0o750 });
    } catch (err) {
      throw ioError('create the directory', dir, err);
    }
    if (this.dirs.size > 10_000) this.dirs.clear();
    this.dirs.add(dir);
  }

  async create(file: string): Promise<HdfsFile | undefined> {
    await this.ensureDir(path.dirname(file));
    let fh: FileHandle | undefined;
    try {
      fh = await fsp.open(file, 'wx', this.fileMode);
      await fh.chmod(this.fileMode);
    } catch (err) {
      await fh?.close().catch(() => undefined);
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
      // a directory removed under us: forget it so the next attempt creates it again
      this.dirs.delete(path.dirname(file));
      throw ioError('create', file, err);
    }
    return new LocalFile(file, fh, 0);
  }

  async openAppend(file: string): Promise<HdfsFile> {
    await this.ensureDir(path.dirname(file));
    let fh: FileHandle | undefined;
    try {
      // 'a' would ignore positions; open read-write and write at the end ourselves
      fh = await fsp.open(file, 'r+').catch(async (err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
        return fsp.open(file, 'wx+', this.fileMode);
      });
      const { size } = await fh.stat();
      return new LocalFile(file, fh, size);
    } catch (err) {
      await fh?.close().catch(() => undefined);
      this.dirs.delete(path.dirname(file));
      throw ioError('open for append', file, err);
    }
  }

  async exists(file: string): Promise<boolean> {
    try {
      await fsp.lstat(file);
      return true;
    } catch {
      return false;
    }
  }

  async rename(from: string, to: string): Promise<boolean> {
    // never replace an existing destination (rename(2) would). A hard link + unlink would close the gap between the
    // check and the rename, but readers would briefly see the file under both names.
    if (await this.exists(to)) return false;
    try {
      await fsp.rename(from, to);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw ioError(`rename ${from} to`, to, err);
    }
    await syncDir(path.dirname(to));
    return true;
  }

  async remove(file: string): Promise<boolean> {
    try {
      await fsp.unlink(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw ioError('remove', file, err);
    }
  }

  async close(): Promise<void> {
    this.dirs.clear();
  }
}

/** fsyncs a directory so a rename in it survives a power cut; best effort (some file systems refuse). */
async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await fsp.open(dir, 'r');
    await fh.sync();
  } catch {
    // not fatal: the rename happened
  } finally {
    await fh?.close().catch(() => undefined);
  }
}
