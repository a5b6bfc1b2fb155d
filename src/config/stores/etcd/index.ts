/**
 * Configuration from etcd v3 (--etcd http://host:2379[,...] --etcd-prefix /flume): the key `<prefix>/<agent>` holds
 * the whole properties text in UTF-8.
 *
 * Gap-free, as etcd's documentation describes it: get the key, then watch from the get's revision + 1, so nothing
 * written between the two is missed. A broken stream is re-created by the client from its last revision + 1; after
 * every (re)connection the key is also read again, so nothing is lost in the short window where the client's resume
 * point runs ahead of the events still in flight. States are ordered by the key's modification revision: an answer
 * older than what was already reported is dropped. A watch cancelled because its revision was compacted away is
 * recovered by a new get and a new watch from that revision + 1. When the first read fails (etcd down at start), the
 * watch keeps trying the get with backoff and starts from whatever it finally reads.
 */
import { AgentError, errorMessage } from '../../../core/errors.js';
import { ExponentialBackoff } from '../../../core/backoff.js';
import type { Logger } from '../../../telemetry/logger.js';
import { ConnectionTracker, missing, storeKey, unavailable, withTimeout } from '../common.js';
import type { ConfigDocument, ConfigStore, StoreConnection, StoreListener } from '../types.js';
import { isAuthError, openEtcd, type EtcdClientOptions, type EtcdKv, type EtcdPort, type EtcdWatch } from './client.js';

export interface EtcdStoreOptions {
  endpoints: string[];
  /** The key prefix (default /flume). */
  prefix?: string;
  agent: string;
  logger: Logger;
  auth?: EtcdClientOptions['auth'];
  tls?: EtcdClientOptions['tls'];
  /** Reconnection backoff: doubles from base (default 0.5 s) up to max (default 10 s). */
  reconnectBaseMs?: number;
  reconnectMaxMs?: number;
  /** For tests: another client. */
  open?: (o: EtcdClientOptions) => EtcdPort;
}

export class EtcdStore implements ConfigStore {
  readonly kind = 'etcd';
  readonly location: string;
  readonly key: string;
  private client?: EtcdPort;
  private readonly conn = new ConnectionTracker();
  private listener?: StoreListener;
  private watcher?: EtcdWatch;
  /** The modification revision of the state last read or reported (0 before any). */
  private known = -1n;
  /** Where the watch starts: the revision of the last get + 1. */
  private watchFrom?: bigint;
  private closed = false;
  private retryTimer?: NodeJS.Timeout;
  private readonly backoff: ExponentialBackoff;

  constructor(private readonly o: EtcdStoreOptions) {
    this.key = storeKey(o.prefix, o.agent, '--etcd-prefix');
    this.location = `etcd ${o.endpoints.join(',')} key ${this.key}`;
    this.backoff = new ExponentialBackoff(o.reconnectBaseMs ?? 500, o.reconnectMaxMs ?? 10_000);
  }

  private port(): EtcdPort {
    this.client ??= (this.o.open ?? openEtcd)({
      endpoints: this.o.endpoints,
      ...(this.o.auth ? { auth: this.o.auth } : {}),
      ...(this.o.tls ? { tls: this.o.tls } : {}),
      reconnectBaseMs: this.o.reconnectBaseMs ?? 500,
      reconnectMaxMs: this.o.reconnectMaxMs ?? 10_000,
    });
    return this.client;
  }

  private doc(kv: EtcdKv): ConfigDocument {
    let text = kv.value.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    return {
      parts: [{ name: `etcd:${this.key}`, text }],
      version: `revision ${kv.modRevision}`,
      changeId: String(kv.modRevision),
    };
  }

  private missingError(): AgentError {
    return missing(
      `key ${this.key} does not exist on etcd ${this.o.endpoints.join(',')}: put the agent configuration there ` +
        `(etcdctl put ${this.key} < ${this.o.agent}.properties)`,
    );
  }

  private failure(err: unknown): AgentError {
    if (err instanceof AgentError) return err;
    const where = `etcd ${this.o.endpoints.join(',')} (key ${this.key})`;
    if (isAuthError(err))
      return new AgentError('FLUME_ERR_CONFIG_STORE_AUTH', `${where} refused the client: ${errorMessage(err)}`, {
        cause: err,
      });
    return unavailable(`${where} cannot be read: ${errorMessage(err)}`, err);
  }

  /** One get; remembers where a watch must start. */
  private async get(timeoutMs: number): Promise<{ rev: bigint; kv?: EtcdKv }> {
    const r = await withTimeout(this.port().get(this.key, timeoutMs), timeoutMs, () =>
      unavailable(`etcd ${this.o.endpoints.join(',')} did not answer within ${timeoutMs / 1000} s (key ${this.key})`),
    ).catch((err: unknown) => {
      throw this.failure(err);
    });
    this.watchFrom = r.revision + 1n;
    return { rev: r.kv ? r.kv.modRevision : r.revision, ...(r.kv ? { kv: r.kv } : {}) };
  }

  async read(timeoutMs: number): Promise<ConfigDocument> {
    const r = await this.get(timeoutMs);
    if (r.rev > this.known) this.known = r.rev;
    if (!r.kv) throw this.missingError();
    return this.doc(r.kv);
  }

  /** Reports a state to the listener unless an equal or newer one was reported already. */
  private report(rev: bigint, kv: EtcdKv | undefined): void {
    if (rev <= this.known || this.closed) return;
    this.known = rev;
    if (kv) this.listener?.document(this.doc(kv));
    else this.listener?.missing(this.missingError());
  }

  watch(listener: StoreListener): void {
    this.listener = listener;
    this.conn.listener = listener;
    void this.establish();
  }

  /** A get when none says where to start, then the watch from there. */
  private async establish(): Promise<void> {
    const backoff = this.backoff;
    if (this.closed) return;
    if (this.watchFrom === undefined) {
      try {
        const r = await this.get(10_000);
        this.report(r.rev, r.kv);
      } catch (err) {
        if (this.closed) return;
        const wait = backoff.next();
        const e = this.failure(err);
        this.conn.set('disconnected', e.message);
        if (backoff.consecutive === 1 || backoff.consecutive % 10 === 0)
          this.o.logger.warn('etcd cannot be read; retrying, the running configuration stays', {
            key: this.key,
            error: e.message,
            retryInMs: wait,
          });
        this.retryTimer = setTimeout(() => void this.establish(), wait);
        this.retryTimer.unref();
        return;
      }
    }
    if (this.closed) return;
    const w = this.port().watch(this.key, this.watchFrom!, {
      connected: () => {
        if (this.watcher !== w) return;
        const was = this.conn.value.state;
        this.conn.set('connected');
        backoff.reset();
        if (was === 'disconnected') this.o.logger.info('etcd connection restored', { key: this.key });
        // read once more: covers what the client's resume point may have skipped
        this.get(10_000).then(
          (r) => this.report(r.rev, r.kv),
          () => undefined,
        );
      },
      disconnected: (err) => {
        if (this.watcher !== w || this.closed) return;
        if (this.conn.value.state !== 'disconnected')
          this.o.logger.warn('etcd watch stream lost; reconnecting, the running configuration stays', {
            key: this.key,
            error: errorMessage(err),
          });
        this.conn.set('disconnected', errorMessage(err));
      },
      change: (rev, kv) => {
        if (this.watcher === w) this.report(rev, kv);
      },
      failed: (err) => {
        if (this.watcher !== w || this.closed) return;
        this.o.logger.warn('etcd cancelled the watch (history compacted); reading the key again', {
          key: this.key,
          error: errorMessage(err),
        });
        this.watcher = undefined;
        void w.cancel().catch(() => undefined);
        this.watchFrom = undefined;
        this.retryTimer = setTimeout(() => void this.establish(), backoff.next());
        this.retryTimer.unref();
      },
    });
    this.watcher = w;
  }

  connection(): StoreConnection {
    return this.conn.value;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retryTimer);
    const w = this.watcher;
    this.watcher = undefined;
    // a watch left attached keeps the client reconnecting after close(): cancel it first
    if (w) await withTimeout(w.cancel(), 2000, () => unavailable('etcd watch cancel timed out')).catch(() => undefined);
    this.client?.close();
  }
}
