/**
 * Configuration stores: where a configuration comes from (files, ZooKeeper, etcd) and its watch, behind one
 * interface (types.ts), plus the on-disk cache of the last good configuration from a remote store (cache.ts).
 */
import fs from 'node:fs';
import { AgentError, errorMessage } from '../../core/errors.js';
import type { Logger } from '../../telemetry/logger.js';
import { FileStore } from './file.js';
import type { ConfigStore } from './types.js';

export type { ConfigDocument, ConfigStore, StoreConnection, StoreKind, StoreListener } from './types.js';
export { ConfigCache, defaultCacheDir, type CacheLoad } from './cache.js';
export { FileStore, readConfigFiles } from './file.js';

export type StoreSpec =
  | { kind: 'file'; files: string[]; pollMs?: number }
  | { kind: 'zookeeper'; connect: string; basePath?: string }
  | {
      kind: 'etcd';
      endpoints: string[];
      prefix?: string;
      user?: string;
      password?: string;
      /** PEM files: the CA of the servers, a client certificate and its key. */
      cacert?: string;
      cert?: string;
      key?: string;
    };

function readPem(file: string | undefined, flag: string): Buffer | undefined {
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file);
  } catch (err) {
    throw new AgentError('FLUME_ERR_USAGE', `${flag}: cannot read ${file}: ${errorMessage(err)}`);
  }
}

/** http:// is assumed for an endpoint without a scheme, https:// when TLS files were given. */
export function etcdEndpoints(list: string, tls: boolean): string[] {
  const out = list
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '')
    .map((e) => (/^https?:\/\//.test(e) ? e : `${tls ? 'https' : 'http'}://${e}`));
  if (out.length === 0) throw new AgentError('FLUME_ERR_USAGE', '--etcd: give at least one endpoint (host:port)');
  for (const e of out) {
    let u: URL;
    try {
      u = new URL(e);
    } catch {
      throw new AgentError('FLUME_ERR_USAGE', `--etcd: '${e}' is not an endpoint URL (http[s]://host:port)`);
    }
    if (u.pathname !== '/' || !u.port)
      throw new AgentError('FLUME_ERR_USAGE', `--etcd: '${e}' must be http[s]://host:port, with the port and no path`);
  }
  return out;
}

/**
 * Builds the store a command line describes (nothing connects until read or watch). Rejects on bad flags. The
 * ZooKeeper and etcd clients are loaded only when used: an agent configured from files never pays for them.
 */
export async function openStore(spec: StoreSpec, agent: string, logger: Logger): Promise<ConfigStore> {
  switch (spec.kind) {
    case 'file':
      return new FileStore(spec.files, spec.pollMs);
    case 'zookeeper': {
      if (!spec.connect.trim()) throw new AgentError('FLUME_ERR_USAGE', '-z/--zkConnString: give host:port[,...]');
      const { ZooKeeperStore } = await import('./zookeeper/index.js');
      return new ZooKeeperStore({ connect: spec.connect.trim(), basePath: spec.basePath, agent, logger });
    }
    case 'etcd': {
      const ca = readPem(spec.cacert, '--etcd-cacert');
      const cert = readPem(spec.cert, '--etcd-cert');
      const key = readPem(spec.key, '--etcd-key');
      if (!!cert !== !!key) throw new AgentError('FLUME_ERR_USAGE', '--etcd-cert and --etcd-key go together');
      if (spec.user === undefined && spec.password !== undefined)
        throw new AgentError('FLUME_ERR_USAGE', 'an etcd password was given without --etcd-user');
      const endpoints = etcdEndpoints(spec.endpoints.join(','), !!(ca || cert));
      const { EtcdStore } = await import('./etcd/index.js');
      return new EtcdStore({
        endpoints,
        prefix: spec.prefix,
        agent,
        logger,
        ...(spec.user !== undefined ? { auth: { username: spec.user, password: spec.password ?? '' } } : {}),
        ...(ca || cert ? { tls: { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) } } : {}),
      });
    }
  }
}
