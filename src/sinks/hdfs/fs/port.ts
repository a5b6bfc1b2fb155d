/**
 * The narrow port the hdfs sink writes through: local disk (fs/local.ts) or WebHDFS (fs/webhdfs/). Paths are
 * absolute POSIX paths inside the target (for WebHDFS, the path part of the URI).
 */

export interface HdfsFile {
  readonly path: string;
  /** Bytes in the file (those it had when opened for append, plus every write). */
  readonly size: number;
  /**
   * Appends `data`; resolves when readers see it and it survives this process dying (Flume's hflush: the page cache
   * on local disk, a completed APPEND on WebHDFS).
   */
  write(data: Buffer): Promise<void>;
  /** Makes what was written durable on disk (fsync). Resolves at once where write() already is (WebHDFS). */
  sync(): Promise<void>;
  /** Cuts the file back to `size` bytes to undo a failed batch; false when the target cannot (WebHDFS). */
  truncate(size: number): Promise<boolean>;
  /** Releases the file; what was written stays. */
  close(): Promise<void>;
}

export interface HdfsFileSystem {
  /** `file:///dir` or `webhdfs://host:port`, for logs. */
  readonly description: string;
  /** Creates `path` (and missing parent directories) for writing; undefined when it already exists. */
  create(path: string): Promise<HdfsFile | undefined>;
  /** Opens `path` to append to it, creating it (and its parents) when missing. */
  openAppend(path: string): Promise<HdfsFile>;
  exists(path: string): Promise<boolean>;
  /** Renames without replacing: false when `from` is missing or `to` already exists. */
  rename(from: string, to: string): Promise<boolean>;
  /** Removes a file (an empty in-use file left by a failed batch); false when it was missing. */
  remove(path: string): Promise<boolean>;
  close(): Promise<void>;
}
