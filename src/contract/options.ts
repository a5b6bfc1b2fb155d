/**
 * Option builders (`opt.*`). An option table is the single source of truth for a component's keys: it parses
 * and checks `.properties` values, infers the TypeScript type of the resolved options, prints
 * `flume-ng describe`, and generates docs/components/**.
 */

import { AgentError } from '../core/errors.js';

/** A value that does not fit its option; `hint` says what would. */
export class OptionError extends AgentError {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    // a value that does not parse is an answer, not a bug: no stack (a generated config may have a million)
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super('FLUME_ERR_CONFIG_OPTION', message);
    Error.stackTraceLimit = limit;
    this.name = 'OptionError';
  }
}

export type OptionKind =
  'int' | 'number' | 'bool' | 'enum' | 'string' | 'size' | 'duration' | 'list' | 'map' | 'ignored' | 'renamed';

export interface OptionSpec<T> {
  readonly kind: OptionKind;
  readonly doc: string;
  readonly required: boolean;
  readonly default: T | undefined;
  /** Human text of the default for docs (e.g. `80% of the heap limit`). */
  readonly defaultText?: string;
  /** Short type description for docs: `int >= 1`, `one of: a, b`. */
  readonly typeText: string;
  /** For `map` options: the key is a prefix, `key.<name>` entries collect into a record. */
  readonly prefix: boolean;
  /** Accepted for Flume compatibility but has no effect here: setting it is a warning. */
  readonly ignored: boolean;
  /**
   * An old spelling of another key of the same table: setting it is a warning naming the new key, and the value is
   * parsed and resolved as that key (the new spelling wins when both are set). Never present in resolved options.
   */
  readonly renamedTo?: string;
  /** Parses one raw value (already trimmed). Throws OptionError. */
  parse(raw: string): T;
  /** Extra validation after parsing (range checks). Returns an error message or undefined. */
  /** Phantom for type inference. */
  readonly __type?: T;
}

export type OptionTable = Record<string, OptionSpec<any>>;
export type Resolved<O extends OptionTable> = {
  -readonly [K in keyof O]: O[K] extends OptionSpec<infer T> ? T : never;
};

interface Common<T> {
  doc: string;
  default?: T;
  defaultText?: string;
  required?: boolean;
}
type Out<T, D> = D extends { default: unknown } ? T : D extends { required: true } ? T : T | undefined;

function spec<T>(
  kind: OptionKind,
  o: Common<T>,
  typeText: string,
  parse: (raw: string) => T,
  extra: Partial<OptionSpec<T>> = {},
): OptionSpec<any> {
  return {
    kind,
    doc: o.doc,
    required: o.required ?? false,
    default: o.default,
    defaultText: o.defaultText,
    typeText,
    prefix: false,
    ignored: false,
    parse,
    ...extra,
  };
}

function parseJavaLong(raw: string): number {
  if (!/^[+-]?\d+$/.test(raw)) throw new OptionError(`'${raw}' is not a whole number`);
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) throw new OptionError(`'${raw}' is too large`);
  return n;
}

function range(n: number, min: number | undefined, max: number | undefined, unit = ''): number {
  if (min !== undefined && n < min) throw new OptionError(`${n}${unit} is below the minimum ${min}${unit}`);
  if (max !== undefined && n > max) throw new OptionError(`${n}${unit} is above the maximum ${max}${unit}`);
  return n;
}

function rangeText(base: string, min?: number, max?: number): string {
  if (min !== undefined && max !== undefined) return `${base} ${min}..${max}`;
  if (min !== undefined) return `${base} >= ${min}`;
  if (max !== undefined) return `${base} <= ${max}`;
  return base;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
};
const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseSize(raw: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(raw);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined)
    throw new OptionError(`'${raw}' is not a size`, 'write bytes, or a number with k, m or g (e.g. 64k, 512m)');
  return Math.floor(Number(m[1]) * unit);
}

export function parseDurationMs(raw: string, defaultUnit: keyof typeof DURATION_UNITS): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(raw);
  const unit = m ? (m[2] === '' ? DURATION_UNITS[defaultUnit] : DURATION_UNITS[m[2]!.toLowerCase()]) : undefined;
  if (!m || unit === undefined)
    throw new OptionError(
      `'${raw}' is not a duration`,
      `write a number of ${unitName(defaultUnit)}, or add a unit (ms, s, m, h)`,
    );
  return Math.round(Number(m[1]) * unit);
}

function unitName(u: string): string {
  return (
    (
      { ms: 'milliseconds', s: 'seconds', m: 'minutes', min: 'minutes', h: 'hours', d: 'days' } as Record<
        string,
        string
      >
    )[u] ?? u
  );
}

export const opt = {
  int<D extends Common<number> & { min?: number; max?: number }>(o: D): OptionSpec<Out<number, D>> {
    return spec('int', o, rangeText('int', o.min, o.max), (raw) => range(parseJavaLong(raw), o.min, o.max));
  },
  number<D extends Common<number> & { min?: number; max?: number }>(o: D): OptionSpec<Out<number, D>> {
    return spec('number', o, rangeText('number', o.min, o.max), (raw) => {
      const n = Number(raw);
      if (raw === '' || !Number.isFinite(n)) throw new OptionError(`'${raw}' is not a number`);
      return range(n, o.min, o.max);
    });
  },
  bool<D extends Common<boolean>>(o: D): OptionSpec<Out<boolean, D>> {
    return spec('bool', o, 'bool', (raw) => {
      const v = raw.toLowerCase();
      if (v === 'true') return true;
      if (v === 'false') return false;
      throw new OptionError(
        `'${raw}' is not true or false`,
        'Flume would read anything but "true" as false; write true or false',
      );
    });
  },
  /** Enum, matched case-insensitively; the resolved value is the canonical spelling from `values`. */
  enum<V extends string, D extends Common<V> & { values: readonly V[] }>(o: D): OptionSpec<Out<V, D>> {
    return spec('enum', o, `one of: ${o.values.join(', ')}`, (raw) => {
      const hit = o.values.find((v) => v.toLowerCase() === raw.toLowerCase());
      if (hit === undefined)
        throw new OptionError(`'${raw}' is not one of ${o.values.join(', ')}`, didYouMeanHint(raw, o.values));
      return hit;
    });
  },
  string<D extends Common<string> & { pattern?: RegExp; patternText?: string; nonEmpty?: boolean }>(
    o: D,
  ): OptionSpec<Out<string, D>> {
    return spec('string', o, 'string', (raw) => {
      if (o.nonEmpty && raw === '') throw new OptionError('must not be empty');
      if (o.pattern && !o.pattern.test(raw))
        throw new OptionError(`'${raw}' is not ${o.patternText ?? `matching ${o.pattern}`}`);
      return raw;
    });
  },
  /** Byte size: bare number = bytes (or `unit`), or with k/m/g suffix. */
  size<D extends Common<number> & { min?: number; max?: number }>(o: D): OptionSpec<Out<number, D>> {
    return spec('size', o, rangeText('size', o.min, o.max), (raw) => range(parseSize(raw), o.min, o.max, ' bytes'));
  },
  /** Duration resolved to milliseconds; a bare number is in `unit` (the unit Flume uses for that key). */
  duration<D extends Common<number> & { unit: 'ms' | 's' | 'm' | 'h'; min?: number; max?: number }>(
    o: D,
  ): OptionSpec<Out<number, D>> {
    // defaults and min/max are given in `unit`; the resolved value is in milliseconds
    const mult = DURATION_UNITS[o.unit]!;
    const s = spec(
      'duration',
      { ...o, default: o.default === undefined ? undefined : o.default * mult },
      rangeText(`duration (bare number = ${unitName(o.unit)})`, o.min, o.max),
      (raw) => {
        const ms = parseDurationMs(raw, o.unit);
        range(ms / mult, o.min, o.max, o.unit);
        return ms;
      },
    );
    return { ...s, defaultText: o.defaultText ?? (o.default === undefined ? undefined : `${o.default}`) };
  },
  /** Whitespace-separated list. */
  list<D extends Common<string[]> & { separator?: RegExp }>(o: D): OptionSpec<Out<string[], D>> {
    const sep = o.separator ?? /\s+/;
    return spec('list', o, 'list', (raw) => (raw === '' ? [] : raw.split(sep).filter((x) => x !== '')));
  },
  /** `key.<name> = value` entries collected into a record; `of` parses each value. */
  map<T = string>(o: { doc: string; of?: OptionSpec<T>; keyText?: string }): OptionSpec<Record<string, T>> {
    const inner = o.of;
    return {
      ...spec(
        'map',
        { doc: o.doc, default: {} as Record<string, T> },
        `map of ${inner ? inner.typeText : 'string'}`,
        (raw) => (inner ? inner.parse(raw) : raw) as unknown as Record<string, T>,
      ),
      prefix: true,
      defaultText: '',
    };
  },
  /**
   * An old spelling of `to` (another key of the same table): accepted with a warning that names the new key; the value
   * is resolved as `to` unless `to` is set too.
   */
  renamed(o: { to: string; doc?: string }): OptionSpec<undefined> {
    const doc = o.doc ?? `Old spelling of ${o.to}; accepted with a warning.`;
    return { ...spec('renamed', { doc }, `old spelling of ${o.to}`, () => undefined), renamedTo: o.to };
  },
  /** A key Flume knows that has no effect here: accepted with a warning naming it. */
  ignored(o: { doc: string }): OptionSpec<string | undefined> {
    return { ...spec('ignored', { doc: o.doc }, 'accepted, no effect', (raw) => raw), ignored: true };
  },
};

// ---------------------------------------------------------------------------------------------------------------
// "Did you mean": Damerau-Levenshtein (optimal string alignment), case-insensitive.

export function editDistance(a: string, b: string): number {
  return boundedDistance(a.toLowerCase(), b.toLowerCase(), Infinity);
}

/** Optimal string alignment distance of lower-cased `a` and `b`, or `max + 1` as soon as it must exceed `max`. */
function boundedDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  const n = b.length;
  // three rolling rows: i-2, i-1, i
  let prev2 = new Array<number>(n + 1).fill(0);
  let prev = new Array<number>(n + 1);
  let cur = new Array<number>(n + 1);
  for (let j = 0; j <= n; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    let rowMin = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  return prev[n]!;
}

/**
 * Most candidates `closest` looks at: a suggestion among more names than this is of little help, and a generated
 * configuration with a million names must not cost a million comparisons per mistake.
 */
export const CLOSEST_MAX_CANDIDATES = 10_000;

export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const w = word.toLowerCase();
  const limit = Math.max(1, Math.min(3, Math.floor(word.length / 3)));
  let best: string | undefined;
  let bestD = Infinity;
  let seen = 0;
  for (const c of candidates) {
    if (++seen > CLOSEST_MAX_CANDIDATES) break;
    const lc = c.toLowerCase();
    if (lc === w) return c;
    const dist = boundedDistance(w, lc, Math.min(limit, bestD - 1));
    if (dist < bestD) {
      bestD = dist;
      best = c;
    }
  }
  return best !== undefined && bestD <= limit ? best : undefined;
}

export function didYouMeanHint(word: string, candidates: Iterable<string>): string | undefined {
  const c = closest(word, candidates);
  return c === undefined ? undefined : `did you mean '${c}'?`;
}
