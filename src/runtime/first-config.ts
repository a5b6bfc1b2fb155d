/**
 * The configuration an agent starts with, from any store. Files: read and validated once. ZooKeeper or etcd:
 * - the znode or key is missing: an error naming it (exit 78);
 * - the store cannot be reached: the last good configuration cached on disk, or, without one, wait and retry with
 *   backoff, saying so in the log at every attempt, until the store answers or the agent is told to stop (never
 *   exit silently, never start empty);
 * - the stored configuration is invalid: the cached one when there is one (the refused version is reported as a
 *   refused reload would be), otherwise every problem is listed and the agent does not start (exit 78).
 */
import type { LoadResult } from '../config/load.js';
import { loadDocumentWithPlugins, type PluginOptions } from '../config/plugins/index.js';
import type { ConfigCache, ConfigDocument, ConfigStore } from '../config/stores/index.js';
import type { Plan } from '../config/validate/index.js';
import { formatIssue, formatIssues } from '../config/issues.js';
import { ExponentialBackoff } from '../core/backoff.js';
import { errorMessage, type AgentError } from '../core/errors.js';
import type { Logger } from '../telemetry/logger.js';
import type { ConfigSourceStatus } from './reload.js';

export type FirstConfig =
  | {
      plan: Plan;
      doc: ConfigDocument;
      result: LoadResult;
      fromCache?: boolean;
      refused?: ConfigSourceStatus['refused'];
    }
  /** Nothing to start: the reason was printed; exit with this code. */
  | { exit: 'config' | 'failure' | 'stopped' };

export interface FirstConfigOptions {
  store: ConfigStore;
  agentName: string;
  sys: Record<string, string>;
  logger: Logger;
  cache?: ConfigCache;
  /** How long one read waits for the store. */
  timeoutMs: number;
  /** Aborted when the agent is told to stop while waiting for the store. */
  signal: AbortSignal;
  /** Where messages for the operator go when nothing starts (stderr). */
  print: (text: string) => void;
  /** Waits between attempts (default 1 s doubling to 30 s). */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Where plugins are looked up (the agent's --plugins-path): imported before every validation. */
  plugins?: PluginOptions;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    signal.addEventListener('abort', done);
  });
}

/** The cached configuration when it exists, belongs to this store and is valid. */
async function fromCache(
  o: FirstConfigOptions,
): Promise<{ doc: ConfigDocument; result: LoadResult; savedAt: number } | undefined> {
  if (!o.cache) return undefined;
  const c = o.cache.load(o.store.location);
  if (!c) return undefined;
  if ('problem' in c) {
    o.logger.warn('The configuration cache cannot be used', { problem: c.problem });
    return undefined;
  }
  const result = await loadDocumentWithPlugins(c.doc, { agent: o.agentName, sys: o.sys, ...o.plugins });
  if (!result.plan) {
    o.logger.warn('The cached configuration is not valid any more; not using it', {
      file: o.cache.file,
      errors: result.issues.filter((i) => i.severity === 'error').length,
    });
    return undefined;
  }
  return { doc: c.doc, result, savedAt: c.savedAt };
}

export async function firstConfig(o: FirstConfigOptions): Promise<FirstConfig> {
  const remote = o.store.kind !== 'file';
  const backoff = new ExponentialBackoff(o.retryBaseMs ?? 1000, o.retryMaxMs ?? 30_000);
  let cacheTried = false;
  for (;;) {
    let doc: ConfigDocument;
    try {
      doc = await o.store.read(o.timeoutMs);
    } catch (e) {
      const err = e as AgentError;
      if (err.code === 'FLUME_ERR_CONFIG_STORE_MISSING') {
        o.print(`Configuration of agent '${o.agentName}' not found; nothing was started.\n${err.message}\n`);
        return { exit: 'config' };
      }
      if (err.code !== 'FLUME_ERR_CONFIG_STORE_UNAVAILABLE') {
        o.print(`Cannot read the configuration of agent '${o.agentName}': ${errorMessage(err)}\n`);
        return { exit: 'failure' };
      }
      if (!cacheTried) {
        cacheTried = true;
        const c = await fromCache(o);
        if (c) {
          o.logger.warn('Configuration store unreachable; starting from the cached configuration', {
            from: o.store.location,
            error: err.message,
            cache: o.cache!.file,
            version: c.doc.version,
            savedAt: new Date(c.savedAt).toISOString(),
          });
          return { plan: c.result.plan!, doc: c.doc, result: c.result, fromCache: true };
        }
      }
      if (o.signal.aborted) return { exit: 'stopped' };
      const wait = backoff.next();
      o.logger.warn('Configuration store unreachable and no cached configuration; waiting for the store', {
        from: o.store.location,
        error: err.message,
        cache: o.cache ? o.cache.file : 'off',
        attempt: backoff.consecutive,
        retryInMs: wait,
      });
      await sleep(wait, o.signal);
      if (o.signal.aborted) return { exit: 'stopped' };
      continue;
    }
    const result = await loadDocumentWithPlugins(doc, { agent: o.agentName, sys: o.sys, ...o.plugins });
    if (result.plan) return { plan: result.plan, doc, result };
    if (remote) {
      const c = await fromCache(o);
      if (c) {
        const issues = result.issues.filter((i) => i.severity === 'error').map(formatIssue);
        const more = result.omitted?.errors ?? 0;
        const listed = issues.length;
        if (more) issues.push(`... and ${more} more errors not listed`);
        o.logger.error('The stored configuration is invalid; starting from the cached configuration', {
          from: o.store.location,
          version: doc.version,
          cachedVersion: c.doc.version,
          errors: listed + more,
        });
        for (const line of issues) o.logger.error(line);
        return {
          plan: c.result.plan!,
          doc: c.doc,
          result: c.result,
          fromCache: true,
          refused: { version: doc.version, at: Date.now(), issues },
        };
      }
    }
    o.print(
      `Configuration of agent '${o.agentName}' has errors; nothing was started.\n${formatIssues(result.issues, result.omitted)}\n`,
    );
    return { exit: 'config' };
  }
}
