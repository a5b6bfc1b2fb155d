/**
 * Where a configuration comes from: one interface for files, ZooKeeper and etcd, so that the three share the
 * reload, validate and report path (runtime/reload.ts). A store reads the configuration text and tells its
 * watcher when it changed; it never parses or validates (config/load.ts does, as for files).
 */
import type { ConfigIssue } from '../issues.js';
import type { AgentError } from '../../core/errors.js';

export type StoreKind = 'file' | 'zookeeper' | 'etcd';

/** One configuration as a store holds it. */
export interface ConfigDocument {
  /** The texts in merge order (later parts win key by key), each named for the file:line of messages. */
  parts: { name: string; text: string }[];
  /** Problems reading the parts (a file that cannot be read): the document is then invalid. */
  issues?: ConfigIssue[];
  /** What an operator reads: 'znode version 3', 'revision 42', 'files modified at 2024-05-01T12:00:00.000Z'. */
  version: string;
  /** Changes whenever the stored configuration changes (compared, never shown): mzxid, mod_revision, mtimes. */
  changeId: string;
}

export type StoreConnectionState = 'connected' | 'connecting' | 'disconnected';

export interface StoreConnection {
  state: StoreConnectionState;
  /** Since when (ms since the epoch). */
  since: number;
  /** The last connection problem, while not connected. */
  error?: string;
}

export interface StoreListener {
  /**
   * The stored configuration, after a change or after the watch was (re)established (reconnection, new session):
   * the same document may come again; compare `changeId`.
   */
  document(doc: ConfigDocument): void;
  /** The key or znode does not exist (deleted while watched): an AgentError FLUME_ERR_CONFIG_STORE_MISSING. */
  missing(err: AgentError): void;
  /** The connection to the store changed state (stores with a connection only). */
  connection?(c: StoreConnection): void;
}

export interface ConfigStore {
  readonly kind: StoreKind;
  /** Where the configuration lives, for logs and the status page: files, or the servers and the path or key. */
  readonly location: string;
  /**
   * Reads the configuration now. Rejects with an AgentError: FLUME_ERR_CONFIG_STORE_UNAVAILABLE (retriable: the
   * store did not answer within `timeoutMs`), FLUME_ERR_CONFIG_STORE_MISSING (no such key or znode) or
   * FLUME_ERR_CONFIG_STORE_AUTH. A file store never rejects: unreadable files are issues of the document.
   */
  read(timeoutMs: number): Promise<ConfigDocument>;
  /**
   * Starts watching: the listener hears every change from the version last read on (nothing between the read
   * and the watch is missed), and the store reconnects by itself with backoff. Called at most once.
   */
  watch(listener: StoreListener): void;
  /** The connection to the store, or undefined for files. */
  connection(): StoreConnection | undefined;
  /** Stops watching and disconnects. Idempotent. */
  close(): Promise<void>;
}
