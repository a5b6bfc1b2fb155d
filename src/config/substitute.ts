/**
 * Value substitution, as Flume 1.10+ does it (values only, never keys, after all files are merged):
 * `${env:NAME}`, `${sys:name}` (from -D), `${NAME}` (another key of the merged properties), nesting
 * (`${${sys:env}_BIND}`), `$${x}` for a literal `${x}`. Unresolvable references stay verbatim, like Flume,
 * and are reported as warnings. Unlike Flume, forward references always work (resolved against the full key set).
 */
export interface SubstitutionContext {
  env: Record<string, string | undefined>;
  sys: Record<string, string>;
  /** Other keys of the merged properties (raw values). */
  lookupKey: (key: string) => string | undefined;
}

export interface SubstitutionResult {
  value: string;
  unresolved: string[];
}

const MAX_DEPTH = 10;

export function substitute(
  value: string,
  ctx: SubstitutionContext,
  depth = 0,
  seen: Set<string> = new Set(),
): SubstitutionResult {
  const unresolved: string[] = [];
  if (!value.includes('${')) return { value, unresolved };
  let out = '';
  let i = 0;
  while (i < value.length) {
    const c = value[i]!;
    if (c === '$' && value[i + 1] === '$' && value[i + 2] === '{') {
      // escaped: `$${x}` -> literal `${x}`
      const end = findClose(value, i + 2);
      if (end < 0) {
        out += value.slice(i + 1);
        break;
      }
      out += value.slice(i + 1, end + 1);
      i = end + 1;
      continue;
    }
    if (c === '$' && value[i + 1] === '{') {
      const end = findClose(value, i + 1);
      if (end < 0) {
        out += value.slice(i);
        break;
      }
      const inner = value.slice(i + 2, end);
      // resolve nested references inside the variable name first
      const name = inner.includes('${') ? substitute(inner, ctx, depth + 1, seen) : { value: inner, unresolved: [] };
      unresolved.push(...name.unresolved);
      const resolved = depth < MAX_DEPTH ? lookup(name.value, ctx, depth, seen) : undefined;
      if (resolved === undefined) {
        unresolved.push(name.value);
        out += value.slice(i, end + 1);
      } else {
        out += resolved.value;
        unresolved.push(...resolved.unresolved);
      }
      i = end + 1;
      continue;
    }
    out += c;
    i++;
  }
  return { value: out, unresolved };
}

function findClose(s: string, open: number): number {
  // s[open] === '{'; returns the index of the matching '}'
  let depth = 0;
  for (let j = open; j < s.length; j++) {
    if (s[j] === '{') depth++;
    else if (s[j] === '}') {
      depth--;
      if (depth === 0) return j;
    }
  }
  return -1;
}

function lookup(
  name: string,
  ctx: SubstitutionContext,
  depth: number,
  seen: Set<string>,
): SubstitutionResult | undefined {
  const colon = name.indexOf(':');
  if (colon > 0) {
    const prefix = name.slice(0, colon);
    const key = name.slice(colon + 1);
    if (prefix === 'env') {
      const v = ctx.env[key];
      return v === undefined ? undefined : { value: v, unresolved: [] };
    }
    if (prefix === 'sys') {
      const v = ctx.sys[key];
      return v === undefined ? undefined : { value: v, unresolved: [] };
    }
  }
  if (seen.has(name)) return undefined; // reference cycle
  const raw = ctx.lookupKey(name);
  if (raw === undefined) return undefined;
  const next = new Set(seen);
  next.add(name);
  return substitute(raw.trim(), ctx, depth + 1, next);
}
