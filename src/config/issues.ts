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

/** Problems found beyond the ones kept (ISSUE_LIMIT): counted, not listed. */
export interface OmittedIssues {
  errors: number;
  warnings: number;
}

/**
 * Most problems one load keeps and reports; the rest are counted. A generated file with a million mistakes must
 * fail in seconds with a readable answer, not print hundreds of megabytes.
 */
export const ISSUE_LIMIT = 100;

/** Collects problems: the first `limit` are kept, every one is counted. */
export class IssueCollector {
  readonly issues: ConfigIssue[] = [];
  errors = 0;
  warnings = 0;

  constructor(readonly limit = ISSUE_LIMIT) {}

  add(i: ConfigIssue): void {
    if (i.severity === 'error') this.errors++;
    else this.warnings++;
    if (this.issues.length < this.limit) this.issues.push(i);
  }

  /** Further problems are only counted: skip work that only serves their text (hints, "did you mean"). */
  get full(): boolean {
    return this.issues.length >= this.limit;
  }

  get hasErrors(): boolean {
    return this.errors > 0;
  }

  /** What was counted but not kept, or undefined when everything was kept. */
  get omitted(): OmittedIssues | undefined {
    let errors = this.errors;
    let warnings = this.warnings;
    for (const i of this.issues) {
      if (i.severity === 'error') errors--;
      else warnings--;
    }
    return errors || warnings ? { errors, warnings } : undefined;
  }
}

export function formatIssue(i: ConfigIssue): string {
  const where = i.file ? `${i.file}${i.line ? `:${i.line}` : ''}: ` : '';
  const sev = i.severity === 'error' ? 'error' : 'warning';
  const comp = i.component ? `${i.component}: ` : '';
  const key = i.key ? `${i.key}: ` : '';
  const hint = i.hint ? `\n    hint: ${i.hint}` : '';
  return `${where}${sev}: ${comp}${key}${i.message}${hint}`;
}

const plural = (n: number, word: string) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;

/** The problems, sorted by place, and a last line with the totals (including those not listed). */
export function formatIssues(issues: readonly ConfigIssue[], omitted?: OmittedIssues): string {
  let errors = issues.filter((i) => i.severity === 'error').length;
  let warnings = issues.length - errors;
  const lines = sortIssues(issues).map(formatIssue);
  if (omitted && omitted.errors + omitted.warnings > 0) {
    lines.push(
      `... and ${plural(omitted.errors, 'more error')}, ${plural(omitted.warnings, 'more warning')} not listed ` +
        `(only the first ${issues.length} problems found are shown)`,
    );
    errors += omitted.errors;
    warnings += omitted.warnings;
  }
  lines.push(`${plural(errors, 'error')}, ${plural(warnings, 'warning')}`);
  return lines.join('\n');
}

export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort(
    (a, b) =>
      cmp(a.file ?? '\uffff', b.file ?? '\uffff') ||
      (a.line ?? Infinity) - (b.line ?? Infinity) ||
      cmp(a.message, b.message),
  );
}

function cmp(a: string, b: string): number {
  return a === b ? 0 : a.localeCompare(b);
}
