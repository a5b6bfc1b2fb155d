/**
 * Hot reload, whatever the store: files (polled, like Flume, every 30 s by default), a ZooKeeper znode or an etcd
 * key (watched). A new configuration is validated as at start and applied to the running agent as a diff; SIGHUP
 * re-reads it on demand. An invalid new configuration, or a deleted znode or key, never touches the running
 * pipeline: it is refused, logged, and kept for /metrics, /health and the status page, which also say where the
 * configuration comes from and which version runs. A configuration applied from ZooKeeper or etcd is cached on disk
 * (config/stores/cache.ts) for a start while the store is down.
 */
import { loadDocumentWithPlugins, type PluginOptions } from '../config/plugins/index.js';
import { formatIssue, type ConfigIssue } from '../config/issues.js';
import { checkAddresses, type AddressCheckOptions } from '../config/addresses.js';
import type { ConfigCache, ConfigDocument, ConfigStore, StoreConnection, StoreKind } from '../config/stores/index.js';
import type { Agent, ReloadReport } from './agent.js';
import type { Logger } from '../telemetry/logger.js';
import { errorMessage, type AgentError } from '../core/errors.js';

/** Where the configuration comes from, which version runs, and which was refused last. */
export interface ConfigSourceStatus {
  store: StoreKind;
  location: string;
  /** The version running; `fromCache` when the agent started from its on-disk cache while the store was down. */
  running?: { version: string; since: number; fromCache?: boolean };
  /** The last version that was not applied (invalid, or the key deleted), until a later one applies. */
  refused?: { version: string; at: number; issues: string[] };
  /** The connection to ZooKeeper or etcd (absent for files). */
  connection?: StoreConnection;
  /** The cache file of the last good configuration (absent for files or with --no-config-cache). */
  cache?: string;
}

export interface ReloadStatus {
  /** 'never' until the first reload attempt. */
  status: 'never' | 'ok' | 'failed';
  at?: number;
  /** Problems of the last failed attempt. */
  issues?: string[];
  report?: ReloadReport;
  count: number;
  config: ConfigSourceStatus;
}

export interface ReloaderOptions {
  store: ConfigStore;
  agentName: string;
  sys: Record<string, string>;
  logger: Logger;
  /** The configuration the agent started with. */
  initial: ConfigDocument;
  /** The agent started from the on-disk cache (the store was down). */
  fromCache?: boolean;
  /** A version the store held at start that was refused (the agent then started from the cache). */
  refused?: ConfigSourceStatus['refused'];
  cache?: ConfigCache;
  /** How long a read (SIGHUP) waits for the store (default 10 s). */
  readTimeoutMs?: number;
  /** Where plugins are looked up (the agent's --plugins-path): imported before every validation. */
  plugins?: PluginOptions;
  /** The address check run on every new configuration, as at start (tests inject this host's addresses). */
  addressCheck?: AddressCheckOptions;
}

export class ConfigReloader {
  readonly status: ReloadStatus;
  private runningChange: string;
  private refusedChange?: string;
  private chain: Promise<void> = Promise.resolve();
  /** The newest document the store offered that is waiting its turn. */
  private offered?: ConfigDocument;
  private forced?: Promise<void>;

  constructor(
    private readonly agent: Agent,
    private readonly o: ReloaderOptions,
  ) {
    const s = o.store;
    this.runningChange = o.initial.changeId;
    const config: ConfigSourceStatus = {
      store: s.kind,
      location: s.location,
      running: { version: o.initial.version, since: Date.now(), ...(o.fromCache ? { fromCache: true } : {}) },
    };
    if (o.refused) config.refused = o.refused;
    const conn = s.connection();
    if (conn) config.connection = conn;
    if (o.cache && s.kind !== 'file') config.cache = o.cache.file;
    this.status = { status: 'never', count: 0, config };
  }

  /** Starts watching the store; changes are applied in order, the newest one winning when several wait. */
  watch(): void {
    this.o.store.watch({
      document: (doc) => this.offer(doc),
      missing: (err) => void this.enqueue(() => this.refuseMissing(err)),
      connection: (c) => (this.status.config.connection = c),
    });
  }

  /** Stops watching and disconnects from the store. */
  stop(): Promise<void> {
    return this.o.store.close();
  }

  /** Re-reads and applies the configuration now, even when unchanged. A reload queued and not begun is shared. */
  reload(reason: string): Promise<void> {
    this.forced ??= this.enqueue(async () => {
      this.forced = undefined;
      let doc: ConfigDocument;
      try {
        doc = await this.o.store.read(this.o.readTimeoutMs ?? 10_000);
      } catch (err) {
        if ((err as AgentError).code === 'FLUME_ERR_CONFIG_STORE_MISSING') return this.refuseMissing(err as AgentError);
        this.o.logger.error('Cannot read the configuration; the running configuration stays', {
          reason,
          from: this.o.store.location,
          error: errorMessage(err),
        });
        return;
      }
      await this.apply(doc, reason, true);
    });
    return this.forced;
  }

  private enqueue(job: () => Promise<void>): Promise<void> {
    const run = this.chain.then(job);
    this.chain = run.catch(() => undefined);
    return run;
  }

  private offer(doc: ConfigDocument): void {
    const waiting = this.offered !== undefined;
    this.offered = doc;
    if (waiting) return;
    void this.enqueue(() => {
      const d = this.offered!;
      this.offered = undefined;
      return this.apply(d, this.o.store.kind === 'file' ? 'file changed' : `changed in ${this.o.store.kind}`, false);
    });
  }

  private refuse(version: string, issues: string[]): void {
    const at = Date.now();
    this.status.count++;
    this.status.at = at;
    this.status.status = 'failed';
    this.status.issues = issues;
    this.status.report = undefined;
    this.status.config.refused = { version, at, issues };
  }

  private refuseMissing(err: AgentError): Promise<void> {
    if (this.refusedChange === 'missing') return Promise.resolve();
    this.refusedChange = 'missing';
    this.refuse('deleted', [err.message]);
    this.o.logger.error('The configuration is gone from the store; the running configuration stays', {
      from: this.o.store.location,
      error: err.message,
    });
    return Promise.resolve();
  }

  private async apply(doc: ConfigDocument, reason: string, force: boolean): Promise<void> {
    if (!force && (doc.changeId === this.runningChange || doc.changeId === this.refusedChange)) return;
    const log = this.o.logger;
    log.info('Reloading configuration', { reason, from: this.o.store.location, version: doc.version });
    const res = await loadDocumentWithPlugins(doc, { agent: this.o.agentName, sys: this.o.sys, ...this.o.plugins });
    if (!res.plan) {
      const issues = res.issues.filter((i: ConfigIssue) => i.severity === 'error').map(formatIssue);
      const more = res.omitted?.errors ?? 0;
      const listed = issues.length;
      if (more) issues.push(`... and ${more} more errors not listed`);
      this.refusedChange = doc.changeId;
      this.refuse(doc.version, issues);
      log.error('New configuration is invalid; the running configuration stays in place', {
        version: doc.version,
        errors: listed + more,
      });
      for (const line of issues) log.error(line);
      return;
    }
    for (const i of res.issues) log.warn(formatIssue(i));
    // as at start: a bind address that is not this host's, or a host name that does not resolve, is said before
    // the new plan applies (the source would otherwise retry in silence)
    for (const i of await checkAddresses(res.plan, this.o.addressCheck))
      log[i.severity === 'error' ? 'error' : 'warn'](i.message, { key: i.key, hint: i.hint, version: doc.version });
    this.status.count++;
    this.status.at = Date.now();
    try {
      const report = await this.agent.apply(res.plan);
      this.status.status = 'ok';
      this.status.issues = undefined;
      this.status.report = report;
      this.runningChange = doc.changeId;
      this.refusedChange = undefined;
      this.status.config.running = { version: doc.version, since: Date.now() };
      this.status.config.refused = undefined;
      log.info('Configuration reloaded', {
        kept: report.kept.length,
        started: report.started.join(' ') || '-',
        stopped: report.stopped.join(' ') || '-',
        reconfigured: report.reconfigured.join(' ') || '-',
        version: doc.version,
      });
      this.save(doc);
    } catch (err) {
      this.status.status = 'failed';
      this.status.issues = [errorMessage(err)];
      log.error('Applying the new configuration failed', { error: errorMessage(err) });
    }
  }

  /** Caches the configuration the agent started with (read from the store, not from the cache). */
  saveRunning(): void {
    this.save(this.o.initial);
  }

  /** Caches a configuration applied from ZooKeeper or etcd; a failure is logged, never fatal. */
  private save(doc: ConfigDocument): void {
    if (!this.o.cache || this.o.store.kind === 'file') return;
    try {
      this.o.cache.save(doc, this.o.store.location);
    } catch (err) {
      this.o.logger.warn('Cannot write the configuration cache', {
        file: this.o.cache.file,
        error: errorMessage(err),
      });
    }
  }
}
