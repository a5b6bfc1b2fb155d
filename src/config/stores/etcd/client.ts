/**
 * The narrow port the etcd store uses, over the `etcd3` package (etcd's v3 gRPC API: the library keeps one watch
 * stream, re-creates a dropped watch from its last revision + 1, fetches the auth token again when it expires, and
 * was checked against Debian's etcd 3.4; nothing to compile at install time). Everything the store needs is here,
 * so the client can be swapped without touching the store.
 */
import {
  Etcd3,
  EtcdAuthenticationFailedError,
  EtcdPermissionDeniedError,
  EtcdUserNotFoundError,
  GRPCUnauthenticatedError,
  type IOptions,
} from 'etcd3';

export interface EtcdKv {
  value: Buffer;
  /** The revision of the last change of the key. */
  modRevision: bigint;
  /** Times the key was written since it was created. */
  version: string;
}

export interface EtcdGetResult {
  /** The store revision this answer reflects (the header's). */
  revision: bigint;
  /** Absent when the key does not exist. */
  kv?: EtcdKv;
}

export interface EtcdWatchHandlers {
  /** The watch is established (first time or after a reconnection). */
  connected(): void;
  /** The stream broke; the client re-creates the watch from its last revision + 1 after a backoff. */
  disconnected(err: Error): void;
  /** The key changed at revision `rev`: its new value, or undefined when it was deleted. */
  change(rev: bigint, kv: EtcdKv | undefined): void;
  /** The server cancelled the watch (its start revision was compacted away): the caller reads again. */
  failed(err: Error): void;
}

export interface EtcdWatch {
  cancel(): Promise<void>;
}

export interface EtcdPort {
  get(key: string, timeoutMs: number): Promise<EtcdGetResult>;
  watch(key: string, fromRevision: bigint, h: EtcdWatchHandlers): EtcdWatch;
  close(): void;
}

export interface EtcdClientOptions {
  /** URLs (http:// or https://). */
  endpoints: string[];
  auth?: { username: string; password: string };
  /** PEM: the CA that signed the servers' certificates, and a client certificate and key if the servers ask. */
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  /** Reconnection backoff of the watch stream: doubles from `base` up to `max`. */
  reconnectBaseMs: number;
  reconnectMaxMs: number;
}

type WatchBackoff = NonNullable<NonNullable<IOptions['faultHandling']>['watchBackoff']>;

function backoff(ms: number, max: number): WatchBackoff {
  return { duration: ms, next: () => backoff(Math.min(ms * 2, max), max) };
}

/** True for an answer that says who we are is not accepted (wrong password, no permission, untrusted client). */
export function isAuthError(err: unknown): boolean {
  return (
    err instanceof EtcdAuthenticationFailedError ||
    err instanceof EtcdPermissionDeniedError ||
    err instanceof EtcdUserNotFoundError ||
    err instanceof GRPCUnauthenticatedError
  );
}

function kvOf(kv: { value: Buffer; mod_revision: string; version: string }): EtcdKv {
  return { value: kv.value, modRevision: BigInt(kv.mod_revision), version: kv.version };
}

export function openEtcd(o: EtcdClientOptions): EtcdPort {
  const tls = o.tls;
  const client = new Etcd3({
    hosts: o.endpoints,
    ...(o.auth ? { auth: o.auth } : {}),
    ...(tls && (tls.ca || tls.cert)
      ? {
          credentials: {
            rootCertificate: tls.ca ?? (undefined as unknown as Buffer),
            ...(tls.key ? { privateKey: tls.key } : {}),
            ...(tls.cert ? { certChain: tls.cert } : {}),
          },
        }
      : {}),
    dialTimeout: 5000,
    faultHandling: { watchBackoff: backoff(o.reconnectBaseMs, o.reconnectMaxMs) },
  });
  return {
    async get(key, timeoutMs) {
      const res = await client
        .get(key)
        .options({ deadline: Date.now() + timeoutMs })
        .exec();
      const kv = res.kvs.find((k) => k.key.toString() === key);
      return { revision: BigInt(res.header.revision), ...(kv ? { kv: kvOf(kv) } : {}) };
    },
    watch(key, fromRevision, h) {
      const w = client.watch().key(key).startRevision(String(fromRevision)).watcher();
      w.on('connected', () => h.connected());
      w.on('disconnected', (err: Error) => h.disconnected(err));
      w.on('error', (err: Error) => h.failed(err));
      w.on('data', (res) => {
        const last = res.events[res.events.length - 1];
        if (!last) return; // a progress notification
        h.change(BigInt(last.kv.mod_revision), last.type === 'Put' ? kvOf(last.kv) : undefined);
      });
      return { cancel: () => w.cancel() };
    },
    close: () => client.close(),
  };
}
