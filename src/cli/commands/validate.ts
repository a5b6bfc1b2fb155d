import { loadDocument } from '../../config/load.js';
import { formatIssues } from '../../config/issues.js';
import { openStore, type StoreSpec } from '../../config/stores/index.js';
import { AgentError, errorMessage } from '../../core/errors.js';
import { silentLogger } from '../../telemetry/logger.js';
import { EXIT } from '../exit-codes.js';

export async function runValidate(a: {
  name: string;
  store: StoreSpec;
  /** How long the read of ZooKeeper or etcd may take. */
  timeoutMs: number;
  sys: Record<string, string>;
  json: boolean;
}): Promise<number> {
  let store;
  try {
    store = await openStore(a.store, a.name, silentLogger());
  } catch (err) {
    process.stderr.write(`flume-ng: ${errorMessage(err)}\n`);
    return EXIT.USAGE;
  }
  let doc;
  try {
    doc = await store.read(a.timeoutMs);
  } catch (err) {
    const missing = err instanceof AgentError && err.code === 'FLUME_ERR_CONFIG_STORE_MISSING';
    if (a.json) {
      const issue = { severity: 'error', file: store.location, message: errorMessage(err) };
      process.stdout.write(`${JSON.stringify({ valid: false, issues: [issue] }, null, 2)}\n`);
    } else {
      process.stderr.write(`flume-ng: ${errorMessage(err)}\n`);
    }
    return missing ? EXIT.CONFIG : EXIT.FAILURE;
  } finally {
    await store.close();
  }
  const res = loadDocument(doc, { agent: a.name, sys: a.sys });
  if (a.json) {
    process.stdout.write(`${JSON.stringify({ valid: !!res.plan, issues: res.issues }, null, 2)}\n`);
  } else if (res.issues.length) {
    (res.plan ? process.stdout : process.stderr).write(`${formatIssues(res.issues)}\n`);
  }
  if (!res.plan) return EXIT.CONFIG;
  if (!a.json) {
    const p = res.plan;
    const from = store.kind === 'file' ? '' : ` (${store.location}, ${doc.version})`;
    process.stdout.write(
      `Configuration of agent '${a.name}'${from} is valid: ${p.sources.length} source(s), ${p.channels.length} channel(s), ${p.sinks.length} sink(s), ${p.groups.filter((g) => !g.implicit).length} sink group(s).\n`,
    );
  }
  return EXIT.OK;
}
