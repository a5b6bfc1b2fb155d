import path from 'node:path';
import { loadConfig } from '../../config/load.js';
import { formatIssues } from '../../config/issues.js';
import { EXIT } from '../exit-codes.js';

export function runValidate(a: {
  name: string;
  confFile: string[];
  sys: Record<string, string>;
  json: boolean;
}): number {
  const res = loadConfig({ files: a.confFile.map((f) => path.resolve(f)), agent: a.name, sys: a.sys });
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
