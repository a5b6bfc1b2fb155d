/**
 * Imports plugin modules before validation: the packages of the plugins path (each registers its types), and every
 * `type` of the configuration written as a .js/.mjs file or naming an installed npm package. Every failure is kept as
 * the reason its `type` does not resolve, so validation reports it where the type is written (file:line, exit 78).
 */
import fs from 'node:fs';
import path from 'node:path';
import { register } from 'node:module';
import { pathToFileURL } from 'node:url';
import { KINDS, type AnyDef, type Kind } from '../../contract/index.js';
import { errorMessage } from '../../core/errors.js';
import { findDef } from '../../registry/lookup.js';
import type { PropEntry } from '../properties.js';
import { PluginTable, refKey, typeBase, type PluginHit } from './table.js';
import { findPackageDir, isPackageName, isPathType, packageEntry } from './resolve.js';

let hooked = false;

/** Makes `import 'flume-ts'` (and 'flume-ts/testing') in any plugin resolve to this agent. Idempotent. */
export function enablePluginImports(): void {
  if (hooked) return;
  hooked = true;
  const entries = {
    'flume-ts': new URL('../../index.js', import.meta.url).href,
    'flume-ts/testing': new URL('../../testing/index.js', import.meta.url).href,
  };
  register('./hooks.js', import.meta.url, { data: { entries } });
}

/** What is wrong with a value exported as a definition, or undefined when it is one. */
export function definitionProblem(x: unknown): string | undefined {
  if (typeof x !== 'object' || x === null) return `the default export is ${x === null ? 'null' : typeof x}`;
  const d = x as Partial<AnyDef> & Record<string, unknown>;
  if (!KINDS.includes(d.kind as Kind)) return 'the default export is not made by a define* helper (it has no kind)';
  if (typeof d.type !== 'string' || !d.type.trim()) return `the ${d.kind} definition has no type name`;
  if (typeof d.create !== 'function') return `${d.kind} '${d.type}' has no create() function`;
  if (typeof d.options !== 'object' || d.options === null) return `${d.kind} '${d.type}' has no options table`;
  for (const [k, o] of Object.entries(d.options as Record<string, unknown>)) {
    if (typeof (o as { parse?: unknown } | null)?.parse !== 'function')
      return `${d.kind} '${d.type}': option '${k}' is not made by an opt.* builder`;
  }
  if (d.kind === 'sink' && typeof d.batchSize !== 'function') return `sink '${d.type}' has no batchSize() function`;
  if (d.kind === 'channel' && typeof d.transactionCapacity !== 'function')
    return `channel '${d.type}' has no transactionCapacity() function`;
  return undefined;
}

/** Imports `file` (or a package directory's entry point) and returns its definitions: one definition or an array. */
export async function importDefinitions(file: string): Promise<{ defs: AnyDef[] } | { error: string }> {
  if (!fs.existsSync(file)) return { error: `plugin file not found: ${file}` };
  if (fs.statSync(file).isDirectory()) {
    try {
      file = packageEntry(file); // a package directory: its entry point
    } catch (err) {
      return { error: `plugin package ${file}: ${errorMessage(err)}` };
    }
    if (!fs.existsSync(file)) return { error: `plugin file not found: ${file} (the package's entry point)` };
  }
  enablePluginImports();
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    return { error: `plugin ${file} failed to import: ${errorMessage(err)}` };
  }
  if (mod.default === undefined) return { error: `plugin ${file} has no default export (export default define...)` };
  const list = Array.isArray(mod.default) ? (mod.default as unknown[]) : [mod.default];
  const defs: AnyDef[] = [];
  for (const x of list) {
    const p = definitionProblem(x);
    if (p) return { error: `plugin ${file}: ${p}` };
    defs.push(Object.freeze({ ...(x as AnyDef), plugin: file }));
  }
  if (!defs.length) return { error: `plugin ${file} exports an empty list of definitions` };
  return { defs };
}

/** The one definition of `kind` among a module's, or why there is none. */
function pick(kind: Kind, file: string, defs: readonly AnyDef[]): PluginHit {
  const mine = defs.filter((d) => d.kind === kind);
  if (mine.length === 1) return { def: mine[0] };
  if (mine.length > 1)
    return {
      error: `plugin ${file} defines ${mine.length} ${kind}s (${mine.map((d) => d.type).join(', ')}): which one is meant is ambiguous`,
      hint: 'put the package on the plugins path and use the type names',
    };
  return {
    error: `plugin ${file} exports ${defs.map((d) => `a ${d.kind} (${d.type})`).join(', ')}, not a ${kind}`,
  };
}

const PLUGINS_HINT = 'see docs/plugins.md';

/**
 * Loads each package directory of each plugins-path directory: `<dir>/<plugin>/` with a package.json (or an
 * index.mjs/index.js). A missing default directory is fine; a missing explicit one is an error.
 */
export async function loadPluginsPath(table: PluginTable, dirs: readonly string[], explicit: boolean): Promise<void> {
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) {
      if (explicit) table.issues.push({ severity: 'error', file: dir, message: 'plugins directory not found' });
      continue;
    }
    const subs = fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .map((e) => path.join(dir, e.name))
      .sort();
    for (const sub of subs) await loadPackage(table, sub);
  }
}

async function loadPackage(table: PluginTable, dir: string): Promise<void> {
  const has = (f: string) => fs.existsSync(path.join(dir, f));
  if (!has('package.json') && !has('index.mjs') && !has('index.js')) {
    if (has('lib') || has('libext') || has('native'))
      table.issues.push({
        severity: 'warning',
        file: dir,
        message: 'a Flume Java plugin (lib/, libext/, native/): flume-ts cannot load Java classes; skipped',
        hint: PLUGINS_HINT,
      });
    else
      table.issues.push({
        severity: 'error',
        file: dir,
        message: 'a plugins-path entry must be a package: no package.json, index.mjs or index.js',
        hint: PLUGINS_HINT,
      });
    return;
  }
  let entry: string;
  try {
    entry = packageEntry(dir);
  } catch (err) {
    table.issues.push({ severity: 'error', file: path.join(dir, 'package.json'), message: errorMessage(err) });
    return;
  }
  const r = await importDefinitions(entry);
  if ('error' in r) {
    table.issues.push({ severity: 'error', file: entry, message: r.error, hint: PLUGINS_HINT });
    return;
  }
  for (const def of r.defs) {
    const names = [def.type, ...(def.aliases ?? []), ...(def.classNames ?? [])];
    const builtIn = names.map((n) => findDef(def.kind, n)).find((d) => d !== undefined);
    const twice = builtIn ? undefined : table.register(def);
    if (builtIn || twice)
      table.issues.push({
        severity: 'error',
        file: entry,
        message: `plugin ${def.kind} type '${def.type}' (or one of its aliases or class names) is already defined by ${builtIn ? 'flume-ts itself' : twice!.plugin}`,
        hint: 'give the plugin type another name',
      });
  }
}

const TYPE_KEYS: readonly [RegExp, Kind][] = [
  [/^sources\.[^.]+\.type$/, 'source'],
  [/^channels\.[^.]+\.type$/, 'channel'],
  [/^sinks\.[^.]+\.type$/, 'sink'],
  [/^sources\.[^.]+\.interceptors\.[^.]+\.type$/, 'interceptor'],
  [/^sources\.[^.]+\.selector\.type$/, 'selector'],
  [/^sinkgroups\.[^.]+\.processor\.type$/, 'processor'],
];

/** The `type` keys of agent `agent` with the kind each one names. */
export function typeEntries(entries: readonly PropEntry[], agent: string): { entry: PropEntry; kind: Kind }[] {
  const out: { entry: PropEntry; kind: Kind }[] = [];
  const prefix = `${agent}.`;
  for (const e of entries) {
    const k = e.key.trim();
    if (!k.startsWith(prefix)) continue;
    const rest = k.slice(prefix.length);
    const m = TYPE_KEYS.find(([re]) => re.test(rest));
    if (m && e.value.trim()) out.push({ entry: e, kind: m[1] });
  }
  return out;
}

/**
 * Imports what the configuration's `type`s name that is neither built in nor on the plugins path: a file (relative
 * to the directory of the configuration file that names it), or an installed package (looked up in node_modules
 * from that directory upwards). Types that are neither are left alone: validation calls them unknown.
 */
export async function loadReferenced(table: PluginTable, entries: readonly PropEntry[], agent: string): Promise<void> {
  const modules = new Map<string, Promise<{ defs: AnyDef[] } | { error: string }>>();
  const once = (file: string) => {
    let p = modules.get(file);
    if (!p) modules.set(file, (p = importDefinitions(file)));
    return p;
  };
  for (const { entry, kind } of typeEntries(entries, agent)) {
    const type = entry.value.trim();
    if (findDef(kind, type) || table.lookup(kind, type, entry.file)) continue;
    const key = refKey(kind, type, entry.file, table.baseDir);
    const base = typeBase(entry.file, table.baseDir);
    let file: string;
    if (isPathType(type)) file = path.resolve(base, type);
    else if (isPackageName(type)) {
      const dir = findPackageDir(type, base) ?? findPackageDir(type, process.cwd());
      if (!dir) continue;
      try {
        file = packageEntry(dir);
      } catch (err) {
        table.setRef(key, { error: `plugin package ${dir}: ${errorMessage(err)}` });
        continue;
      }
    } else continue;
    const r = await once(file);
    table.setRef(key, 'error' in r ? { error: r.error, hint: PLUGINS_HINT } : pick(kind, file, r.defs));
  }
}
