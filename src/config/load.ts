/** Loads configuration files, applies substitution, and validates one agent. */
import fs from 'node:fs';
import { parseProperties, mergeProperties, PropertiesSyntaxError, type PropEntry } from './properties.js';
import { substitute } from './substitute.js';
import { parseSize } from '../contract/index.js';
import { buildAgentSpec } from './agent-spec.js';
import { validateAgent, type Plan } from './validate/index.js';
import { IssueCollector, type ConfigIssue, type OmittedIssues } from './issues.js';

export interface LoadOptions {
  files: string[];
  agent: string;
  sys?: Record<string, string>;
  env?: Record<string, string | undefined>;
}

export interface LoadResult {
  plan?: Plan;
  /** The first ISSUE_LIMIT problems found (formatIssues(issues, omitted) prints them with the count of the rest). */
  issues: ConfigIssue[];
  /** Problems found beyond those, counted. */
  omitted?: OmittedIssues;
  /** The merged, substituted entries (for backups and reload diffs). */
  entries: PropEntry[];
}

/**
 * What one load reads at most: the files' bytes (checked before reading) and keys (counted while parsing). A
 * configuration past them is a mistake (a generated file gone wrong, the wrong file), refused in milliseconds
 * instead of minutes and gigabytes. -Dflume.config.maxBytes (64m, ...) and -Dflume.config.maxKeys raise them.
 */
export const CONFIG_LIMITS = { maxBytes: 16 * 1024 * 1024, maxKeys: 250_000 };

function limitsFrom(sys: Record<string, string>, issues: ConfigIssue[]): typeof CONFIG_LIMITS {
  const out = { ...CONFIG_LIMITS };
  const read = (prop: string, parse: (raw: string) => number, set: (n: number) => void) => {
    const raw = sys[prop];
    if (raw === undefined) return;
    let n = NaN;
    try {
      n = parse(raw.trim());
    } catch {
      // reported below
    }
    if (Number.isFinite(n) && n >= 1) set(n);
    else issues.push({ severity: 'error', key: `-D${prop}`, message: `'${raw}' is not a positive number` });
  };
  read('flume.config.maxBytes', parseSize, (n) => (out.maxBytes = n));
  read(
    'flume.config.maxKeys',
    (r) => (/^\d+$/.test(r) ? Number(r) : NaN),
    (n) => (out.maxKeys = n),
  );
  return out;
}

const mib = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;

export function loadConfig(o: LoadOptions): LoadResult {
  const issues: ConfigIssue[] = [];
  const limits = limitsFrom(o.sys ?? {}, issues);
  if (issues.length) return { issues, entries: [] };
  const parsed = [];
  let bytes = 0;
  let keys = 0;
  for (const f of o.files) {
    let text: string;
    try {
      const size = fs.statSync(f).size;
      if ((bytes += size) > limits.maxBytes) {
        issues.push({
          severity: 'error',
          file: f,
          message:
            `configuration of ${mib(bytes)} is larger than the limit of ${mib(limits.maxBytes)}; not read ` +
            '(raise the limit with -Dflume.config.maxBytes=SIZE)',
        });
        break;
      }
      text = fs.readFileSync(f, 'utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a UTF-8 BOM is not part of the first key
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      issues.push({
        severity: 'error',
        file: f,
        message:
          code === 'ENOENT'
            ? 'configuration file not found'
            : code === 'EACCES'
              ? 'configuration file is not readable (permission denied)'
              : `cannot read configuration file: ${(err as Error).message}`,
      });
      continue;
    }
    try {
      const r = parseProperties(text, f, limits.maxKeys - keys);
      keys += r.entries.size + r.duplicates.length;
      parsed.push(r);
    } catch (err) {
      if (err instanceof PropertiesSyntaxError)
        issues.push({ severity: 'error', file: err.file, line: err.line, message: err.message });
      else throw err;
    }
  }
  if (issues.length) return { issues, entries: [] };
  return configFromEntries(mergeProperties(parsed).entries.values(), o, new IssueCollector());
}

export function configFromText(text: string, o: Omit<LoadOptions, 'files'> & { file?: string }): LoadResult {
  try {
    return configFromEntries(parseProperties(text, o.file ?? '<string>').entries.values(), o, new IssueCollector());
  } catch (err) {
    if (err instanceof PropertiesSyntaxError)
      return { issues: [{ severity: 'error', file: err.file, line: err.line, message: err.message }], entries: [] };
    throw err;
  }
}

/** Substitution, then the agent's key tree, then validation: each one pass over the entries. */
function configFromEntries(
  merged: Iterable<PropEntry>,
  o: Omit<LoadOptions, 'files'>,
  issues: IssueCollector,
): LoadResult {
  const raw = [...merged];
  // the keys by trimmed name, for ${KEY} references: built on the first one
  let byKey: Map<string, PropEntry> | undefined;
  const lookupKey = (k: string): string | undefined => {
    if (!byKey) {
      byKey = new Map();
      for (const e of raw) byKey.set(e.key.trim(), e);
    }
    return byKey.get(k)?.value;
  };
  const ctx = { env: o.env ?? process.env, sys: o.sys ?? {}, lookupKey };
  const entries: PropEntry[] = new Array<PropEntry>(raw.length);
  for (let n = 0; n < raw.length; n++) {
    const e = raw[n]!;
    if (!e.value.includes('${')) {
      entries[n] = e;
      continue;
    }
    const r = substitute(e.value, ctx);
    const k = e.key.trim();
    if (r.unresolved.length && (k.startsWith(`${o.agent}.`) || !k.includes('.'))) {
      issues.add({
        severity: 'warning',
        file: e.file,
        line: e.line,
        key: k,
        message: `unresolved reference${r.unresolved.length > 1 ? 's' : ''} ${r.unresolved.map((u) => `\${${u}}`).join(', ')} left as written`,
        hint: 'define the environment variable, pass -Dname=value, or add the key',
      });
    }
    entries[n] = r.value === e.value ? e : { ...e, value: r.value };
  }
  const spec = buildAgentSpec(entries, o.agent, issues);
  const res = validateAgent(spec);
  return res.omitted
    ? { plan: res.plan, issues: res.issues, omitted: res.omitted, entries }
    : { plan: res.plan, issues: res.issues, entries };
}
