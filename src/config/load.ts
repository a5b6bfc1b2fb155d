/** Loads a configuration (files, or the texts a store read), applies substitution, and validates one agent. */
import { parseProperties, mergeProperties, PropertiesSyntaxError, type PropEntry } from './properties.js';
import { substitute } from './substitute.js';
import { buildAgentSpec } from './agent-spec.js';
import { validateAgent, type Plan } from './validate/index.js';
import type { ConfigIssue } from './issues.js';
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
  issues: ConfigIssue[];
  /** The merged, substituted entries (for backups and reload diffs). */
  entries: PropEntry[];
}

export function loadConfig(o: LoadOptions): LoadResult {
  return loadDocument(readConfigFiles(o.files), o);
}

/** Parses, merges (later parts win key by key), substitutes and validates a document read from any store. */
export function loadDocument(doc: Pick<ConfigDocument, 'parts' | 'issues'>, o: Omit<LoadOptions, 'files'>): LoadResult {
  const issues: ConfigIssue[] = [...(doc.issues ?? [])];
  const parsed = [];
  for (const part of doc.parts) {
    try {
      parsed.push(parseProperties(part.text, part.name));
    } catch (err) {
      if (err instanceof PropertiesSyntaxError)
        issues.push({ severity: 'error', file: err.file, line: err.line, message: err.message });
      else throw err;
    }
  }
  if (issues.length) return { issues, entries: [] };
  return configFromEntries([...mergeProperties(parsed).entries.values()], o, issues);
}

export function configFromText(text: string, o: Omit<LoadOptions, 'files'> & { file?: string }): LoadResult {
  try {
    return configFromEntries([...parseProperties(text, o.file ?? '<string>').entries.values()], o, []);
  } catch (err) {
    if (err instanceof PropertiesSyntaxError)
      return { issues: [{ severity: 'error', file: err.file, line: err.line, message: err.message }], entries: [] };
    throw err;
  }
}

function configFromEntries(raw: PropEntry[], o: Omit<LoadOptions, 'files'>, issues: ConfigIssue[]): LoadResult {
  const byKey = new Map<string, PropEntry>();
  for (const e of raw) byKey.set(e.key.trim(), e);
  const ctx = { env: o.env ?? process.env, sys: o.sys ?? {}, lookupKey: (k: string) => byKey.get(k)?.value };
  const entries: PropEntry[] = [];
  for (const e of raw) {
    const r = substitute(e.value, ctx);
    const k = e.key.trim();
    if (r.unresolved.length && (k.startsWith(`${o.agent}.`) || !k.includes('.'))) {
      issues.push({
        severity: 'warning',
        file: e.file,
        line: e.line,
        key: k,
        message: `unresolved reference${r.unresolved.length > 1 ? 's' : ''} ${r.unresolved.map((u) => `\${${u}}`).join(', ')} left as written`,
        hint: 'define the environment variable, pass -Dname=value, or add the key',
      });
    }
    entries.push(r.value === e.value ? e : { ...e, value: r.value });
  }
  const spec = buildAgentSpec(entries, o.agent);
  const res = validateAgent(spec, o.plugins);
  return { plan: res.plan, issues: [...issues, ...res.issues], entries };
}
