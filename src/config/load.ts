/** Loads a configuration (files, or the texts a store read), applies substitution, and validates one agent. */
import { parseProperties, mergeProperties, PropertiesSyntaxError, type PropEntry } from './properties.js';
import { substitute } from './substitute.js';
import { buildAgentSpec } from './agent-spec.js';
import { validateAgent, type Plan } from './validate/index.js';
import { IssueCollector, type ConfigIssue, type OmittedIssues } from './issues.js';
import { CONFIG_LIMITS, configLimits, tooLarge } from './limits.js';
import { readConfigFiles } from './stores/file.js';
import type { ConfigDocument } from './stores/types.js';
import type { PluginLookup } from './plugins/table.js';

export interface LoadOptions {
  files: string[];
  agent: string;
  sys?: Record<string, string>;
  env?: Record<string, string | undefined>;
  /** Plugin types, imported beforehand (config/plugins/: loadDocumentWithPlugins). */
  plugins?: PluginLookup;
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

export { CONFIG_LIMITS };

/** Reads the files (refusing them unread past -Dflume.config.maxBytes), then loads them as one document. */
export function loadConfig(o: LoadOptions): LoadResult {
  return loadDocument(readConfigFiles(o.files, configLimits(o.sys).maxBytes), o);
}

/**
 * Parses, merges (later parts win key by key), substitutes and validates a document read from any store (files,
 * ZooKeeper, etcd): the byte and key limits apply to all of them.
 */
export function loadDocument(doc: Pick<ConfigDocument, 'parts' | 'issues'>, o: Omit<LoadOptions, 'files'>): LoadResult {
  const issues: ConfigIssue[] = [...(doc.issues ?? [])];
  const limits = configLimits(o.sys, issues);
  if (issues.length) return { issues, entries: [] };
  let bytes = 0;
  for (const part of doc.parts) {
    if ((bytes += Buffer.byteLength(part.text)) > limits.maxBytes)
      return { issues: [tooLarge(part.name, bytes, limits.maxBytes, 'not parsed')], entries: [] };
  }
  const parsed = [];
  let keys = 0;
  for (const part of doc.parts) {
    try {
      const r = parseProperties(part.text, part.name, limits.maxKeys - keys);
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
  const res = validateAgent(spec, o.plugins);
  return res.omitted
    ? { plan: res.plan, issues: res.issues, omitted: res.omitted, entries }
    : { plan: res.plan, issues: res.issues, entries };
}
