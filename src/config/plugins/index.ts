/**
 * Plugins: components defined outside flume-ts, loaded by `type` (docs/plugins.md). Loading is asynchronous (module
 * imports), validation is not: loadConfigWithPlugins imports what the configuration names, then validates against
 * the built-ins and those plugins, then calls each plugin's create() once so that a throwing one is refused too.
 */
import path from 'node:path';
import { loadConfig, type LoadOptions, type LoadResult } from '../load.js';
import { PluginTable } from './table.js';
import { loadPluginsPath, loadReferenced, typeEntries } from './load.js';
import { isPathType, isPackageName } from './resolve.js';
import { findDef } from '../../registry/lookup.js';
import { trialCreate } from './trial.js';

export { PluginTable, type PluginHit, type PluginLookup } from './table.js';
export { enablePluginImports, importDefinitions, loadPluginsPath, definitionProblem } from './load.js';

export interface PluginOptions {
  /** Directories holding one package per plugin (Flume's --plugins-path; default: plugins.d next to the conf dir). */
  pluginsPath?: readonly string[];
  /** True when the directories were given on the command line: a missing one is then an error. */
  pluginsPathExplicit?: boolean;
}

/**
 * The default plugins path: `plugins.d` next to the configuration directory given with -c (Flume's layout:
 * $FLUME_HOME/conf and $FLUME_HOME/plugins.d), else `plugins.d` in the directory of the first configuration file.
 */
export function defaultPluginsPath(confDir: string | undefined, files: readonly string[]): string[] {
  if (confDir) return [path.resolve(confDir, '..', 'plugins.d')];
  return [path.resolve(files[0] ? path.dirname(path.resolve(files[0])) : '.', 'plugins.d')];
}

/** Parses `--plugins-path dir1:dir2` (relative to the working directory). */
export function parsePluginsPath(value: string): string[] {
  return value
    .split(path.delimiter)
    .filter(Boolean)
    .map((d) => path.resolve(d));
}

/** loadConfig, with the plugins the configuration uses imported first. */
export async function loadConfigWithPlugins(o: LoadOptions & PluginOptions): Promise<LoadResult> {
  const table = new PluginTable();
  await loadPluginsPath(table, o.pluginsPath ?? [], o.pluginsPathExplicit ?? false);
  let res = loadConfig({ ...o, plugins: table });
  const wanted = typeEntries(res.entries, o.agent).some(({ entry, kind }) => {
    const t = entry.value.trim();
    return !findDef(kind, t) && !table.lookup(kind, t, entry.file) && (isPathType(t) || isPackageName(t));
  });
  if (wanted) {
    await loadReferenced(table, res.entries, o.agent);
    res = loadConfig({ ...o, plugins: table });
  }
  const issues = [...table.issues, ...res.issues];
  if (res.plan) issues.push(...trialCreate(res.plan, res.entries));
  const failed = issues.some((i) => i.severity === 'error');
  return { ...res, issues, plan: failed ? undefined : res.plan };
}

/** The plugin options of a command line: --plugins-path when given, else the default next to -c or the file. */
export function pluginSettings(a: { conf?: string; pluginsPath?: string; files: readonly string[] }): PluginOptions {
  if (a.pluginsPath !== undefined) return { pluginsPath: parsePluginsPath(a.pluginsPath), pluginsPathExplicit: true };
  return { pluginsPath: defaultPluginsPath(a.conf, a.files) };
}
