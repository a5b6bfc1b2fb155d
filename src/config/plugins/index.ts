/**
 * Plugins: components defined outside flume-ts, loaded by `type` (docs/plugins.md). Loading is asynchronous (module
 * imports), validation is not: loadConfigWithPlugins imports what the configuration names, then validates against
 * the built-ins and those plugins, then calls each plugin's create() once so that a throwing one is refused too.
 */
import path from 'node:path';
import { loadDocument, type LoadOptions, type LoadResult } from '../load.js';
import { readConfigFiles } from '../stores/file.js';
import type { ConfigDocument, StoreSpec } from '../stores/index.js';
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
  /**
   * Where a `type` written as a relative path resolves: unset for files (the directory of the file that names it);
   * the working directory for a configuration read from ZooKeeper or etcd.
   */
  baseDir?: string;
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
export function loadConfigWithPlugins(o: LoadOptions & PluginOptions): Promise<LoadResult> {
  return loadDocumentWithPlugins(readConfigFiles(o.files), o);
}

/**
 * loadDocument (a configuration read from any store: files, ZooKeeper, etcd), with the plugins it uses imported
 * first: the plugins path, then each `type` written as a file or a package name. Used at start, on every reload,
 * by validate and by --dryrun.
 */
export async function loadDocumentWithPlugins(
  doc: Pick<ConfigDocument, 'parts' | 'issues'>,
  o: Omit<LoadOptions, 'files' | 'plugins'> & PluginOptions,
): Promise<LoadResult> {
  const table = new PluginTable(o.baseDir);
  await loadPluginsPath(table, o.pluginsPath ?? [], o.pluginsPathExplicit ?? false);
  const base = { agent: o.agent, sys: o.sys, env: o.env, plugins: table };
  let res = loadDocument(doc, base);
  const wanted = typeEntries(res.entries, o.agent).some(({ entry, kind }) => {
    const t = entry.value.trim();
    return !findDef(kind, t) && !table.lookup(kind, t, entry.file) && (isPathType(t) || isPackageName(t));
  });
  if (wanted) {
    await loadReferenced(table, res.entries, o.agent);
    res = loadDocument(doc, base);
  }
  const issues = [...table.issues, ...res.issues];
  if (res.plan) issues.push(...trialCreate(res.plan, res.entries));
  const failed = issues.some((i) => i.severity === 'error');
  return { ...res, issues, plan: failed ? undefined : res.plan };
}

/**
 * The plugin options of a command line: --plugins-path when given, else plugins.d next to the -c directory, else
 * (files) plugins.d next to the first configuration file or (ZooKeeper, etcd) plugins.d in the working directory.
 * A relative `type` path in a configuration from ZooKeeper or etcd resolves against the working directory.
 */
export function pluginSettings(a: { conf?: string; pluginsPath?: string; store: StoreSpec }): PluginOptions {
  const files = a.store.kind === 'file' ? a.store.files : [];
  const baseDir = a.store.kind === 'file' ? {} : { baseDir: process.cwd() };
  if (a.pluginsPath !== undefined)
    return { pluginsPath: parsePluginsPath(a.pluginsPath), pluginsPathExplicit: true, ...baseDir };
  return { pluginsPath: defaultPluginsPath(a.conf, files), ...baseDir };
}
