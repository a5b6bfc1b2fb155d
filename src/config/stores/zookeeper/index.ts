/**
 * Configuration from ZooKeeper, as Flume reads it (-z host:port,...[/chroot] -p /flume): the znode
 * `<base>/<agent>` holds the whole properties text in UTF-8. Like Curator's NodeCache behind Flume's provider, the
 * store keeps an exists and a data watch on the znode and fetches it again on every watch event and every
 * (re)connection, so a change made while the connection was down is seen on reconnect. An expired session (the
 * agent was cut off longer than the session timeout) is replaced by a new one, which fetches the znode again.
 */
import { AgentError, errorMessage } from '../../../core/errors.js';
import type { Logger } from '../../../telemetry/logger.js';
import { ConnectionTracker, missing, storeKey, unavailable, withTimeout } from '../common.js';
import type { ConfigDocument, ConfigStore, StoreConnection, StoreListener } from '../types.js';
import { openZkSession, type ZkSession, type ZkSessionFactory, type ZkStat } from './client.js';

export interface ZooKeeperStoreOptions {
  /** host:port[,host:port...][/chroot] */
  connect: string;
  /** The parent znode (default /flume). */
  basePath?: string;
  agent: string;
  logger: Logger;
  /** Asked of the server (default 30 s); the server fits it into its own bounds. */
  sessionTimeoutMs?: number;
  /** Pause between rounds of connection attempts (default 1 s). */
  spinDelayMs?: number;
  /** For tests: another session implementation. */
  openSession?: ZkSessionFactory;
}

export class ZooKeeperStore implements ConfigStore {
  readonly kind = 'zookeeper';
  readonly location: string;
  readonly path: string;
  private session?: ZkSession;
  private readonly conn = new ConnectionTracker();
  private listener?: StoreListener;
  /** Incremented per fetch: only the newest fetch reports. */
  private fetches = 0;
  private lastSeen?: string;
  private closed = false;
  private stallTimer?: NodeJS.Timeout;

  constructor(private readonly o: ZooKeeperStoreOptions) {
    this.path = storeKey(o.basePath, o.agent, '-p/--zkBasePath');
    this.location = `zookeeper ${o.connect} znode ${this.path}`;
  }

  private name(): string {
    return `zookeeper:${this.path}`;
  }

  private doc(data: Buffer, stat: ZkStat): ConfigDocument {
    let text = data.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return { parts: [{ name: this.name(), text }], version: `znode version ${stat.version}`, changeId: stat.mzxid };
  }

  private missingError(): AgentError {
    return missing(
      `znode ${this.path} does not exist on ZooKeeper ${this.o.connect}: create it with the agent configuration ` +
        `(zkCli.sh create ${this.path} "$(cat ${this.o.agent}.properties)")`,
    );
  }

  /** Replaces session `s` by a new one, which reads the znode again once connected. */
  private renew(s: ZkSession, why: string): void {
    this.session = undefined;
    clearTimeout(this.stallTimer);
    s.close();
    this.conn.set('connecting', why);
    this.open();
  }

  /**
   * Gives up on session `s` when it stays unconnected longer than its session timeout (by then the server has
   * expired it anyway; 10 s at most before the first connection): the client can wait forever on a server that
   * accepted the TCP connection and never answered.
   */
  private armStall(s: ZkSession, connectedBefore: boolean): void {
    clearTimeout(this.stallTimer);
    const granted = s.sessionTimeoutMs();
    const ms = Math.min(Math.max(connectedBefore ? granted : Math.min(granted, 10_000), 2000), 60_000);
    this.stallTimer = setTimeout(
      () => {
        if (this.session !== s || this.closed || this.conn.value.state === 'connected') return;
        this.o.logger.warn('ZooKeeper did not answer; opening a new session', {
          znode: this.path,
          connect: this.o.connect,
          waitedMs: ms,
        });
        this.renew(s, `no answer from ZooKeeper within ${ms / 1000} s; opening a new session`);
      },
      ms + (this.o.spinDelayMs ?? 1000),
    );
    this.stallTimer.unref();
  }

  private open(): ZkSession {
    if (this.session) return this.session;
    const s = (this.o.openSession ?? openZkSession)(this.o.connect, {
      sessionTimeoutMs: this.o.sessionTimeoutMs ?? 30_000,
      spinDelayMs: this.o.spinDelayMs ?? 1000,
    });
    this.session = s;
    this.armStall(s, false);
    s.on('connected', () => {
      if (this.session !== s) return;
      clearTimeout(this.stallTimer);
      const was = this.conn.value;
      this.conn.set('connected');
      if (was.state === 'disconnected')
        this.o.logger.info('ZooKeeper connection restored', { znode: this.path, connect: this.o.connect });
      this.fetch();
    });
    s.on('disconnected', () => {
      if (this.session !== s || this.closed) return;
      this.conn.set('disconnected', 'connection to ZooKeeper lost; reconnecting');
      this.armStall(s, true);
      this.o.logger.warn('ZooKeeper connection lost; reconnecting, the running configuration stays', {
        znode: this.path,
        connect: this.o.connect,
      });
    });
    s.on('expired', () => {
      if (this.session !== s || this.closed) return;
      this.o.logger.warn('ZooKeeper session expired; opening a new session and reading the configuration again', {
        znode: this.path,
      });
      this.renew(s, 'session expired; opening a new session');
    });
    s.on('authenticationFailed', () => {
      if (this.session !== s) return;
      this.conn.set('disconnected', 'ZooKeeper refused the authentication');
    });
    return s;
  }

  async read(timeoutMs: number): Promise<ConfigDocument> {
    this.open();
    const timeout = () =>
      unavailable(`ZooKeeper ${this.o.connect} did not answer within ${timeoutMs / 1000} s (znode ${this.path})`);
    const r = await withTimeout(
      // the session may have been replaced while waiting: read through the current one
      this.conn.connected().then(() => this.open().getData(this.path)),
      timeoutMs,
      timeout,
    ).catch((err: unknown) => {
      throw err instanceof AgentError ? err : unavailable(`ZooKeeper read failed: ${errorMessage(err)}`, err);
    });
    if (!r) throw this.missingError();
    this.lastSeen = r.stat.mzxid;
    return this.doc(r.data, r.stat);
  }

  watch(listener: StoreListener): void {
    this.listener = listener;
    this.conn.listener = listener;
    this.open();
    if (this.conn.value.state === 'connected') this.fetch();
  }

  private readonly onWatch = (): void => this.fetch();

  /** Sets the watches and reports the znode to the listener if it changed since last seen. */
  private fetch(): void {
    const s = this.session;
    if (!s || !this.listener || this.closed) return;
    const n = ++this.fetches;
    s.exists(this.path, this.onWatch)
      .then((stat) => (stat ? s.getData(this.path, this.onWatch) : null))
      .then(
        (r) => {
          if (n !== this.fetches || this.closed) return;
          const seen = r ? r.stat.mzxid : 'missing';
          if (seen === this.lastSeen) return;
          this.lastSeen = seen;
          if (r) this.listener!.document(this.doc(r.data, r.stat));
          else this.listener!.missing(this.missingError());
        },
        (err: unknown) => {
          // a lost connection: the next 'connected' fetches again
          if (n === this.fetches && !this.closed)
            this.o.logger.debug('ZooKeeper fetch failed', { znode: this.path, error: errorMessage(err) });
        },
      );
  }

  connection(): StoreConnection {
    return this.conn.value;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      clearTimeout(this.stallTimer);
      this.session?.close();
      this.session = undefined;
    }
    return Promise.resolve();
  }
}
