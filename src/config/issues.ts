/** A configuration problem, located precisely. */
export interface ConfigIssue {
  severity: 'error' | 'warning';
  file?: string;
  line?: number;
  /** e.g. `source r1`, `channel c1`, `sinkgroup g1`, `agent a1`. */
  component?: string;
  /** The full property key as written, e.g. `a1.sources.r1.port`. */
  key?: string;
  message: string;
  hint?: string;
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.file ? `${i.file}${i.line ? `:${i.line}` : ''}: ` : '';
  const sev = i.severity === 'error' ? 'error' : 'warning';
  const comp = i.component ? `${i.component}: ` : '';
  const key = i.key ? `${i.key}: ` : '';
  const hint = i.hint ? `\n    hint: ${i.hint}` : '';
  return `${where}${sev}: ${comp}${key}${i.message}${hint}`;
}

export function formatIssues(issues: readonly ConfigIssue[]): string {
  const errors = issues.filter((i) => i.severity === 'error').length;
  const warnings = issues.length - errors;
  const lines = sortIssues(issues).map(formatIssue);
  lines.push(`${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'}`);
  return lines.join('\n');
}

export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort(
    (a, b) =>
      (a.file ?? '\uffff').localeCompare(b.file ?? '\uffff') ||
      (a.line ?? Infinity) - (b.line ?? Infinity) ||
      a.message.localeCompare(b.message),
  );
}
