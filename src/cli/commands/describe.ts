import path from 'node:path';
import { KINDS, type AnyDef, type Kind, closest } from '../../contract/index.js';
import { defsOf, explainUnknownType, findDef } from '../../registry/lookup.js';
import { describeMarkdown, describeText } from '../../registry/docs.js';
import { importDefinitions, loadPluginsPath, parsePluginsPath, PluginTable } from '../../config/plugins/index.js';
import { formatIssue } from '../../config/issues.js';
import { findPackageDir, isPathType, packageEntry } from '../../config/plugins/resolve.js';
import { EXIT } from '../exit-codes.js';

export interface DescribeArgs {
  kind?: string;
  type?: string;
  markdown: boolean;
  /** --plugin: a plugin file or installed package whose components are described. */
  plugin?: string;
  /** --plugins-path: plugin directories whose components are listed with the built-ins. */
  pluginsPath?: string;
}

/** The plugin definitions named on the command line, or the reason they could not be loaded. */
async function pluginDefs(a: DescribeArgs): Promise<AnyDef[] | string> {
  const out: AnyDef[] = [];
  if (a.pluginsPath !== undefined) {
    const table = new PluginTable();
    await loadPluginsPath(table, parsePluginsPath(a.pluginsPath), true);
    const errors = table.issues.filter((i) => i.severity === 'error');
    if (errors.length) return errors.map(formatIssue).join('\n');
    out.push(...table.defs());
  }
  if (a.plugin !== undefined) {
    let file = path.resolve(a.plugin);
    if (!isPathType(a.plugin)) {
      const dir = findPackageDir(a.plugin, process.cwd());
      if (!dir) return `plugin package '${a.plugin}' is not installed (looked up in node_modules from here upwards)`;
      file = packageEntry(dir);
    }
    const r = await importDefinitions(file);
    if ('error' in r) return r.error;
    out.push(...r.defs);
  }
  return out;
}

export async function runDescribe(a: DescribeArgs): Promise<number> {
  const plugins = await pluginDefs(a);
  if (typeof plugins === 'string') {
    process.stderr.write(`flume-ng describe: ${plugins}\n`);
    return EXIT.CONFIG;
  }
  const all = (k: Kind) => [...defsOf(k), ...plugins.filter((d) => d.kind === k)];
  if (!a.kind) {
    if (a.plugin !== undefined && plugins.length === 1) return print(plugins[0]!, a.markdown);
    for (const k of KINDS) {
      const defs = a.plugin !== undefined ? plugins.filter((d) => d.kind === k) : all(k);
      if (defs.length) process.stdout.write(`${k}: ${defs.map((d) => d.type).join(', ')}\n`);
    }
    process.stdout.write('\nflume-ng describe <kind> <type> prints the keys of one component.\n');
    return EXIT.OK;
  }
  const kind = a.kind.replace(/s$/, '').replace(/^sinkgroup$/, 'processor') as Kind;
  if (!KINDS.includes(kind)) {
    const g = closest(a.kind, KINDS);
    process.stderr.write(
      `flume-ng describe: unknown kind '${a.kind}'${g ? ` (did you mean '${g}'?)` : ''}; kinds: ${KINDS.join(', ')}\n`,
    );
    return EXIT.USAGE;
  }
  if (!a.type) {
    for (const d of all(kind)) process.stdout.write(`${d.type.padEnd(20)} ${d.summary}\n`);
    return EXIT.OK;
  }
  const lower = a.type.toLowerCase();
  const def = findDef(kind, a.type) ?? plugins.find((d) => d.kind === kind && d.type.toLowerCase() === lower);
  if (!def) {
    const miss = explainUnknownType(kind, a.type);
    process.stderr.write(`flume-ng describe: ${miss.message}${miss.hint ? ` (${miss.hint})` : ''}\n`);
    return EXIT.USAGE;
  }
  return print(def, a.markdown);
}

function print(def: AnyDef, markdown: boolean): number {
  const origin = def.plugin ? `(plugin: ${def.plugin})\n` : '';
  process.stdout.write(`${markdown ? describeMarkdown(def) : describeText(def)}\n${origin}`);
  return EXIT.OK;
}
