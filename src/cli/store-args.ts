/** The configuration-store flags shared by `agent` and `validate`: -f files, -z/-p ZooKeeper, --etcd... etcd. */
import fs from 'node:fs';
import path from 'node:path';
import type { StoreSpec } from '../config/stores/index.js';
import { UsageError } from './args.js';

export const storeOptions = {
  zkConnString: {
    alias: 'z',
    type: 'string',
    describe:
      'ZooKeeper connect string host:port[,host:port...][/chroot]: the znode <zkBasePath>/<name> holds the configuration',
  },
  zkBasePath: { alias: 'p', type: 'string', describe: 'Parent znode of the agent configurations (default /flume)' },
  etcd: {
    type: 'string',
    describe: 'etcd endpoints http[s]://host:port[,...]: the key <etcd-prefix>/<name> holds the configuration',
  },
  'etcd-prefix': { type: 'string', describe: 'Key prefix of the agent configurations in etcd (default /flume)' },
  'etcd-user': { type: 'string', describe: 'etcd user (password from --etcd-password-file or $FLUME_ETCD_PASSWORD)' },
  'etcd-password-file': { type: 'string', describe: 'File holding the etcd password (its first line)' },
  'etcd-cacert': { type: 'string', describe: 'PEM file of the CA that signed the etcd servers certificates' },
  'etcd-cert': { type: 'string', describe: 'PEM client certificate for etcd (with --etcd-key)' },
  'etcd-key': { type: 'string', describe: 'PEM private key of --etcd-cert' },
  'store-timeout': {
    type: 'string',
    default: '10',
    describe: 'Seconds one read of ZooKeeper or etcd may take before the store counts as unreachable',
  },
} as const;

export interface StoreArgs {
  'conf-file'?: string[];
  zkConnString?: string;
  zkBasePath?: string;
  etcd?: string;
  'etcd-prefix'?: string;
  'etcd-user'?: string;
  'etcd-password-file'?: string;
  'etcd-cacert'?: string;
  'etcd-cert'?: string;
  'etcd-key'?: string;
  'store-timeout'?: string;
}

/** The store the flags name (exactly one of -f, -z, --etcd), and the read timeout in ms. Throws UsageError. */
export function storeSpecFrom(
  a: StoreArgs,
  env: NodeJS.ProcessEnv = process.env,
): { spec: StoreSpec; timeoutMs: number } {
  const given = [
    a['conf-file']?.length ? '-f/--conf-file' : undefined,
    a.zkConnString !== undefined ? '-z/--zkConnString' : undefined,
    a.etcd !== undefined ? '--etcd' : undefined,
  ].filter((g) => g !== undefined);
  if (given.length === 0)
    throw new UsageError(
      'no configuration was provided: pass -f/--conf-file <file>, -z/--zkConnString <host:port> or --etcd <endpoints>',
    );
  if (given.length > 1) throw new UsageError(`give one configuration source, not ${given.join(' and ')}`);
  const timeout = Number(a['store-timeout'] ?? '10');
  if (!Number.isFinite(timeout) || timeout <= 0)
    throw new UsageError(`--store-timeout: '${a['store-timeout']}' is not a positive number of seconds`);
  const timeoutMs = timeout * 1000;
  const etcdOnly = (['etcd-prefix', 'etcd-user', 'etcd-password-file', 'etcd-cacert', 'etcd-cert', 'etcd-key'] as const)
    .filter((k) => a[k] !== undefined)
    .map((k) => `--${k}`);
  if (a.etcd === undefined && etcdOnly.length) throw new UsageError(`${etcdOnly.join(', ')} need --etcd`);
  if (a.zkConnString === undefined && a.zkBasePath !== undefined) throw new UsageError('-p/--zkBasePath needs -z');
  if (a['conf-file']?.length)
    return { spec: { kind: 'file', files: a['conf-file'].map((f) => path.resolve(f)) }, timeoutMs };
  if (a.zkConnString !== undefined)
    return { spec: { kind: 'zookeeper', connect: a.zkConnString, basePath: a.zkBasePath }, timeoutMs };
  let password = env.FLUME_ETCD_PASSWORD;
  const pwFile = a['etcd-password-file'];
  if (pwFile !== undefined) {
    try {
      password = fs.readFileSync(pwFile, 'utf8').split(/\r?\n/)[0];
    } catch (err) {
      throw new UsageError(`--etcd-password-file: cannot read ${pwFile}: ${(err as Error).message}`);
    }
  }
  if (a['etcd-user'] === undefined && pwFile !== undefined)
    throw new UsageError('--etcd-password-file needs --etcd-user');
  return {
    spec: {
      kind: 'etcd',
      endpoints: [a.etcd!],
      prefix: a['etcd-prefix'],
      ...(a['etcd-user'] !== undefined ? { user: a['etcd-user'], password: password ?? '' } : {}),
      ...(a['etcd-cacert'] !== undefined ? { cacert: a['etcd-cacert'] } : {}),
      ...(a['etcd-cert'] !== undefined ? { cert: a['etcd-cert'] } : {}),
      ...(a['etcd-key'] !== undefined ? { key: a['etcd-key'] } : {}),
    },
    timeoutMs,
  };
}
