import path from 'node:path';
import { loadConfigWithPlugins, pluginSettings } from '../../config/plugins/index.js';
import { formatIssues } from '../../config/issues.js';
import { EXIT } from '../exit-codes.js';
import { checkAddresses } from '../../config/addresses.js';

export async function runValidate(a: {
  name: string;
  confFile: string[];
  sys: Record<string, string>;
  json: boolean;
  conf?: string;
  pluginsPath?: string;
}): Promise<number> {
  const files = a.confFile.map((f) => path.resolve(f));
  const plugins = pluginSettings({ conf: a.conf, pluginsPath: a.pluginsPath, files });
  const loaded = await loadConfigWithPlugins({ files, agent: a.name, sys: a.sys, ...plugins });
  // what would fail at start: a bind address of another host (error), a name that does not resolve (warning)
  const more = loaded.plan ? await checkAddresses(loaded.plan) : [];
  const failed = more.some((i) => i.severity === 'error');
  const res = { plan: failed ? undefined : loaded.plan, issues: [...loaded.issues, ...more] };
  if (a.json) {
    process.stdout.write(`${JSON.stringify({ valid: !!res.plan, issues: res.issues }, null, 2)}\n`);
  } else if (res.issues.length) {
    (res.plan ? process.stdout : process.stderr).write(`${formatIssues(res.issues)}\n`);
  }
  if (!res.plan) return EXIT.CONFIG;
  if (!a.json) {
    const p = res.plan;
    process.stdout.write(
      `Configuration of agent '${a.name}' is valid: ${p.sources.length} source(s), ${p.channels.length} channel(s), ${p.sinks.length} sink(s), ${p.groups.filter((g) => !g.implicit).length} sink group(s).\n`,
    );
  }
  return EXIT.OK;
}
