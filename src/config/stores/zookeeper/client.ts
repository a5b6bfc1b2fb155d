/**
 * The narrow port the ZooKeeper store uses, over node-zookeeper-client (pure JavaScript: nothing to compile at
 * install time, unlike the native `zookeeper` package; it speaks the 3.x wire protocol, chroot included, and was
 * checked against Debian's ZooKeeper 3.8). A session reconnects by itself after a lost connection (every
 * `spinDelay` through the server list) and re-registers its watches; an expired session is final: the store opens
 * a new one. The client waits without a time limit for the answer to its connect request once the TCP connection
 * is up (a server still starting can hold it): the store gives up on such a session itself.
 */
import zookeeper from 'node-zookeeper-client';

export interface ZkStat {
  /** The data version of the znode (setData increments it; re-created nodes start at 0 again). */
  version: number;
  /** The zxid of the last change, as hex: unique across deletes and re-creates. */
  mzxid: string;
}

export type ZkSessionEvent = 'connected' | 'disconnected' | 'expired' | 'authenticationFailed';

export interface ZkSession {
  on(event: ZkSessionEvent, fn: () => void): void;
  /** The stat of `path` or null when it does not exist; `watch` fires once on its creation, change or deletion. */
  exists(path: string, watch: () => void): Promise<ZkStat | null>;
  /** The data of `path`, or null when it does not exist; `watch` fires once on its change or deletion. */
  getData(path: string, watch?: () => void): Promise<{ data: Buffer; stat: ZkStat } | null>;
  /** The session timeout the server granted (the one asked for until connected). */
  sessionTimeoutMs(): number;
  close(): void;
}

export interface ZkSessionOptions {
  /** Asked of the server, which fits it into its [minSessionTimeout, maxSessionTimeout]. */
  sessionTimeoutMs: number;
  /** Pause after trying every server of the connect string once. */
  spinDelayMs: number;
}

export type ZkSessionFactory = (connect: string, o: ZkSessionOptions) => ZkSession;

function statOf(s: zookeeper.Stat): ZkStat {
  return { version: s.version, mzxid: s.mzxid.toString('hex') };
}

function isNoNode(err: unknown): boolean {
  const e = err as { getCode?: () => number } | null;
  return typeof e?.getCode === 'function' && e.getCode() === zookeeper.Exception.NO_NODE;
}

/** Opens a session (connecting in the background). Throws on a malformed connect string. */
export const openZkSession: ZkSessionFactory = (connect, o) => {
  const c = zookeeper.createClient(connect, {
    sessionTimeout: o.sessionTimeoutMs,
    spinDelay: o.spinDelayMs,
    retries: 0,
  });
  const session: ZkSession = {
    on: (event, fn) => void c.on(event, fn),
    exists: (path, watch) =>
      new Promise((resolve, reject) =>
        c.exists(path, watch, (err, stat) => (err ? reject(err) : resolve(stat ? statOf(stat) : null))),
      ),
    getData: (path, watch) =>
      new Promise((resolve, reject) => {
        const done = (err: unknown, data: Buffer | undefined, stat: zookeeper.Stat) => {
          if (err) return isNoNode(err) ? resolve(null) : reject(err as Error);
          resolve({ data: data ?? Buffer.alloc(0), stat: statOf(stat) });
        };
        if (watch) c.getData(path, watch, done);
        else c.getData(path, done);
      }),
    sessionTimeoutMs: () => c.getSessionTimeout(),
    close: () => c.close(),
  };
  c.connect();
  return session;
};
