/**
 * Options phase: one component's keys through its option table (type, range, required, unknown keys with "did you
 * mean", old spellings), then its cross-option check. Every key is judged on its own, so one mistake never hides
 * another; a check runs on the keys that parsed and is skipped only when it reads a key whose value failed.
 */
import type { PropEntry } from '../properties.js';
import type { ConfigIssue } from '../issues.js';
import {
  closest,
  OptionError,
  type OptionSpec,
  type OptionTable,
  type AnyDef,
  type Problem,
} from '../../contract/index.js';
import { Collector } from './context.js';

/** A component's options as far as they parsed. */
export interface Resolution {
  /** Parsed values, and defaults for keys not set; a key whose value failed is absent. */
  options: Record<string, any>;
  /** Table keys whose value failed to parse, or that are required and missing. */
  failed: Set<string>;
  /** False once any error was reported for these options (unknown key, bad value, failed check). */
  ok: boolean;
}

export interface Where {
  /** Issue label, e.g. `source r1 selector`. */
  component: string;
  /** Renders a table key as written in the file, e.g. `a1.sources.r1.selector.header`. */
  fullKey: (k: string) => string;
  /** Where component-wide problems point (the type key). */
  anchor?: PropEntry;
  /** A hint for an unknown key when no table key is close (e.g. a selector key missing its prefix). */
  extraHint?: (k: string) => string | undefined;
}

const SKIP = Symbol('reads an option whose value failed');

/**
 * Runs `fn` on the parsed options. Returns undefined when `fn` reads a key whose value failed: its verdict would
 * rest on a value the user did not write. Unknown keys never count (they feed no value).
 */
export function whenParsed<T>(r: Resolution, fn: (o: Record<string, any>) => T): T | undefined {
  if (r.failed.size === 0) return fn(r.options);
  let tainted = false;
  const touch = (k: string | symbol): void => {
    if (typeof k === 'string' && r.failed.has(k)) {
      tainted = true;
      throw SKIP;
    }
  };
  const view = new Proxy(r.options, {
    get: (t, k) => (touch(k), Reflect.get(t, k)),
    has: (t, k) => (touch(k), Reflect.has(t, k)),
  });
  try {
    const out = fn(view);
    return tainted ? undefined : out;
  } catch (err) {
    if (tainted) return undefined;
    throw err;
  }
}

/** Reports a component's problems; `entryOf` finds the line of a problem's key. */
export function reportProblems(
  c: Collector,
  problems: readonly Problem[],
  component: string,
  entryOf: (p: Problem) => PropEntry | undefined,
): void {
  for (const p of problems) c.error({ ...c.at(entryOf(p)), component, message: p.message, hint: p.hint });
}

/** `props` maps keys relative to the component (as the table spells them) to their entries. */
export function resolveOptions(def: AnyDef, props: Map<string, PropEntry>, where: Where, c: Collector): Resolution {
  const table = def.options as OptionTable;
  const r: Resolution = { options: {}, failed: new Set(), ok: true };
  const seen = new Set<string>();
  for (const [written, e] of props) {
    const rel = renamed(table, written, e, props, where, c);
    if (rel !== undefined) readValue(def, rel, e, where, c, r, seen);
  }
  fillDefaults(table, seen, where, c, r);
  if (def.check) runCheck(def, props, where, c, r);
  return r;
}

/** The key `written` stands for: itself, the new spelling of an old one, or undefined when the new one wins. */
function renamed(
  table: OptionTable,
  written: string,
  e: PropEntry,
  props: Map<string, PropEntry>,
  where: Where,
  c: Collector,
): string | undefined {
  const to = table[written]?.renamedTo;
  if (to === undefined) return written;
  const both = props.has(to);
  c.warn({
    ...c.at(e),
    component: where.component,
    message: `'${written}' is an old spelling of '${to}'${both ? `; '${to}' is set too and wins` : ''}`,
    hint: `write ${where.fullKey(to)}`,
  });
  return both ? undefined : to;
}

/** The table entry for `rel`: a plain key, or a map key (`mapping.<name>`) with the entry's name. */
function specOf(
  table: OptionTable,
  rel: string,
): { key: string; spec: OptionSpec<unknown>; mapName?: string } | undefined {
  const plain = table[rel];
  if (plain && !plain.prefix) return { key: rel, spec: plain };
  for (const m of Object.keys(table)) {
    if (!table[m]!.prefix) continue;
    const p = m.endsWith('.') ? m : `${m}.`;
    if (rel.startsWith(p)) return { key: m, spec: table[m]!, mapName: rel.slice(p.length) };
  }
  return undefined;
}

function readValue(
  def: AnyDef,
  rel: string,
  e: PropEntry,
  where: Where,
  c: Collector,
  r: Resolution,
  seen: Set<string>,
): void {
  const hit = specOf(def.options as OptionTable, rel);
  const at = { ...c.at(e), component: where.component };
  if (!hit) {
    r.ok = false;
    const message = `unknown property '${rel}' for ${def.kind} type '${def.type}'`;
    c.error({ ...at, message, hint: c.full ? undefined : unknownKeyHint(def, rel, where) });
    return;
  }
  const { key, spec, mapName } = hit;
  const raw = e.value.trim();
  if (raw === '' && spec.kind !== 'string') return c.warn({ ...at, message: 'empty value is ignored (as Flume does)' });
  if (spec.ignored) {
    const message = `'${rel}' is accepted for Flume compatibility but has no effect in flume-ts`;
    return c.warn({ ...at, message, hint: spec.doc });
  }
  seen.add(key);
  try {
    const v = spec.parse(raw);
    if (mapName === undefined) r.options[key] = v;
    else if (mapName === '') throw new OptionError(`expected ${key}.<name>`);
    else (r.options[key] ??= {})[mapName] = v;
  } catch (err) {
    r.ok = false;
    r.failed.add(key);
    const oe = err instanceof OptionError ? err : new OptionError(String(err));
    c.error({ ...at, message: oe.message, hint: oe.hint ?? `${spec.typeText}: ${spec.doc}` });
  }
}

function unknownKeyHint(def: AnyDef, rel: string, where: Where): string {
  const table = def.options as OptionTable;
  // keys as a file spells them (`mapping.<name>`); an old spelling is suggested as its new one
  const shown = new Map(Object.keys(table).map((k) => [table[k]!.prefix ? `${k.replace(/\.$/, '')}.<name>` : k, k]));
  const suggest = (name: string) => `did you mean '${table[shown.get(name) ?? name]?.renamedTo ?? name}'?`;
  // closest by edit distance, or the key `rel` ends (batchSize -> sink.batchSize)
  const guess = closest(rel, shown.keys()) ?? Object.keys(table).find((k) => k.endsWith(`.${rel}`));
  if (guess) return suggest(guess);
  const extra = where.extraHint?.(rel);
  if (extra) return extra;
  const longer = completion(rel, [...shown.keys()]); // e.g. head -> header
  return longer ? suggest(longer) : `see: flume-ng describe ${def.kind} ${def.type}`;
}

/** The one key that starts with `word` (a key cut short), if there is exactly one. */
function completion(word: string, names: readonly string[]): string | undefined {
  if (word.length < 2) return undefined;
  const hits = names.filter((n) => n.toLowerCase().startsWith(word.toLowerCase()));
  return hits.length === 1 ? hits[0] : undefined;
}

function fillDefaults(table: OptionTable, seen: Set<string>, where: Where, c: Collector, r: Resolution): void {
  for (const k of Object.keys(table)) {
    const spec = table[k]!;
    if (spec.renamedTo !== undefined || r.failed.has(k)) continue;
    if (spec.prefix) {
      r.options[k] ??= {};
    } else if (seen.has(k)) {
      continue;
    } else if (spec.required) {
      r.ok = false;
      r.failed.add(k);
      c.error({
        ...c.at(where.anchor),
        key: where.fullKey(k),
        component: where.component,
        message: `required property '${k}' is missing`,
        hint: spec.doc,
      });
    } else {
      r.options[k] = spec.default;
    }
  }
}

function runCheck(def: AnyDef, props: Map<string, PropEntry>, where: Where, c: Collector, r: Resolution): void {
  const check = def.check as (o: unknown) => true | undefined | string | Problem | Problem[];
  const res = whenParsed(r, check);
  if (res === true || res === undefined) return;
  const problems = typeof res === 'string' ? [{ message: res }] : Array.isArray(res) ? res : [res];
  for (const p of problems) {
    const e = p.key ? props.get(p.key) : undefined;
    const issue = {
      ...c.at(e ?? where.anchor),
      key: p.key ? where.fullKey(p.key) : where.anchor?.key.trim(),
      component: where.component,
      message: p.message,
      hint: p.hint,
    };
    if (p.severity === 'warning') c.warn(issue);
    else c.error(issue);
  }
  if (problems.some((p) => p.severity !== 'warning')) r.ok = false;
}

/**
 * Resolves one component's options from plain `key -> value` pairs (keys relative to the component, as the
 * option table spells them). For tests and tools; the agent goes through validateAgent.
 */
export function componentOptions(
  def: AnyDef,
  props: Record<string, string>,
): {
  options?: Record<string, any>;
  issues: ConfigIssue[];
} {
  const c = new Collector('test');
  const m = new Map<string, PropEntry>();
  let line = 1;
  for (const [k, v] of Object.entries(props)) m.set(k, { key: k, value: v, file: '<test>', line: line++ });
  const r = resolveOptions(def, m, { component: `${def.kind} ${def.type}`, fullKey: (k) => k }, c);
  return { options: r.ok ? r.options : undefined, issues: c.issues };
}
