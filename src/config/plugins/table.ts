/** The plugins one configuration can use, as validation looks them up (synchronously, after they were imported). */
import path from 'node:path';
import type { AnyDef, Kind } from '../../contract/index.js';
import type { ConfigIssue } from '../issues.js';
import { isPathType } from './resolve.js';

/** What a `type` names among the plugins: a definition, or why it could not be loaded. */
export interface PluginHit {
  def?: AnyDef;
  error?: string;
  hint?: string;
}

/** The lookup validation needs (config/validate/ depends on this interface only). */
export interface PluginLookup {
  /** The plugin `type` names, written in `fromFile`; undefined when it names none (an unknown type). */
  lookup(kind: Kind, type: string, fromFile?: string): PluginHit | undefined;
}

/** Key of a `type` written as a file or a package name: files by absolute path, packages by name. */
export function refKey(kind: Kind, type: string, fromFile?: string, baseDir?: string): string {
  const t = type.trim();
  if (!isPathType(t)) return `${kind}\0package\0${t}`;
  return `${kind}\0file\0${path.resolve(typeBase(fromFile, baseDir), t)}`;
}

/**
 * The directory a `type` written as a relative path resolves against: `baseDir` when given (a configuration from
 * ZooKeeper or etcd: the working directory), else the directory of the configuration file that names it.
 */
export function typeBase(fromFile: string | undefined, baseDir?: string): string {
  if (baseDir !== undefined) return path.resolve(baseDir);
  return fromFile && fromFile !== '<string>' ? path.dirname(path.resolve(fromFile)) : process.cwd();
}

export class PluginTable implements PluginLookup {
  /** Types registered by the packages of the plugins path: `kind\0type` (lower case). */
  private readonly named = new Map<string, AnyDef>();
  /** Types written as a file or a package name (refKey). */
  private readonly refs = new Map<string, PluginHit>();
  /** Problems of the plugins path itself (a package that fails to load, a type defined twice). */
  readonly issues: ConfigIssue[] = [];

  /** `baseDir`: where relative `type` paths resolve when not next to a configuration file (typeBase). */
  constructor(readonly baseDir?: string) {}

  /**
   * Registers the definition's type, aliases and Flume class names (so a plugin that replaces a custom Java class can
   * declare its class name, and the old configuration runs unchanged). Returns the definition that already had one
   * of those names, if any (nothing is registered then).
   */
  register(def: AnyDef): AnyDef | undefined {
    const keys = [def.type, ...(def.aliases ?? []), ...(def.classNames ?? [])].map(
      (n) => `${def.kind}\0${n.toLowerCase()}`,
    );
    for (const k of keys) {
      const had = this.named.get(k);
      if (had) return had;
    }
    for (const k of keys) this.named.set(k, def);
    return undefined;
  }

  setRef(key: string, hit: PluginHit): void {
    this.refs.set(key, hit);
  }

  hasRef(key: string): boolean {
    return this.refs.has(key);
  }

  lookup(kind: Kind, type: string, fromFile?: string): PluginHit | undefined {
    const named = this.named.get(`${kind}\0${type.trim().toLowerCase()}`);
    if (named) return { def: named };
    return this.refs.get(refKey(kind, type, fromFile, this.baseDir));
  }

  /** Every definition loaded, plugins-path ones first (for describe). */
  defs(): AnyDef[] {
    const out = [...new Set(this.named.values())];
    for (const h of this.refs.values()) if (h.def && !out.includes(h.def)) out.push(h.def);
    return out;
  }
}
