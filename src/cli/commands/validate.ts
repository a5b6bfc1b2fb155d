import { loadDocumentWithPlugins, pluginSettings } from '../../config/plugins/index.js';
import { formatIssues } from '../../config/issues.js';
import type { StoreSpec } from '../../config/stores/index.js';
import { checkAddresses } from '../../config/addresses.js';
import { EXIT } from '../exit-codes.js';
import { readOnce } from './read-once.js';

export async function runValidate(a: {
  name: string;
  store: StoreSpec;
  /** How long the read of ZooKeeper or etcd may take. */
  timeoutMs: number;
  sys: Record<string, string>;
  json: boolean;
  /** -c: the configuration directory (plugins.d next to it is the default plugins path). */
  conf?: string;
  pluginsPath?: string;
}): Promise<number> {
  const read = await readOnce(a.store, a.name, a.timeoutMs, a.sys);
  if ('exit' in read) {
    if (a.json && read.exit !== EXIT.USAGE) {
      const issue = { severity: 'error', file: read.location, message: read.message };
      process.stdout.write(`${JSON.stringify({ valid: false, issues: [issue] }, null, 2)}\n`);
    } else {
      process.stderr.write(`flume-ng: ${read.message}\n`);
    }
    return read.exit;
  }
  const plugins = pluginSettings({ conf: a.conf, pluginsPath: a.pluginsPath, store: a.store });
  const loaded = await loadDocumentWithPlugins(read.doc, { agent: a.name, sys: a.sys, ...plugins });
  // what would fail at start: a bind address of another host (error), a name that does not resolve (warning)
  const more = loaded.plan ? await checkAddresses(loaded.plan) : [];
  const failed = more.some((i) => i.severity === 'error');
  const res = { plan: failed ? undefined : loaded.plan, issues: [...loaded.issues, ...more], omitted: loaded.omitted };
  if (a.json) {
    const out = { valid: !!res.plan, issues: res.issues, ...(res.omitted ? { omitted: res.omitted } : {}) };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else if (res.issues.length) {
    (res.plan ? process.stdout : process.stderr).write(`${formatIssues(res.issues, res.omitted)}\n`);
  }
  if (!res.plan) return EXIT.CONFIG;
  if (!a.json) {
    const p = res.plan;
    const from = read.kind === 'file' ? '' : ` (${read.location}, ${read.doc.version})`;
    process.stdout.write(
      `Configuration of agent '${a.name}'${from} is valid: ${p.sources.length} source(s), ${p.channels.length} channel(s), ${p.sinks.length} sink(s), ${p.groups.filter((g) => !g.implicit).length} sink group(s).\n`,
    );
  }
  return EXIT.OK;
}
