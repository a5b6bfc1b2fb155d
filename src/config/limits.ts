/**
 * What one load of a configuration takes at most, from any store: its bytes and its keys. A configuration past
 * them is a mistake (a generated file gone wrong, the wrong file), refused in milliseconds instead of minutes and
 * gigabytes. -Dflume.config.maxBytes (64m, ...) and -Dflume.config.maxKeys raise them.
 */
import { parseSize } from '../contract/index.js';
import type { ConfigIssue } from './issues.js';

export const CONFIG_LIMITS = { maxBytes: 16 * 1024 * 1024, maxKeys: 250_000 };

/** The limits -D properties set; a value that is not a positive number is an issue (and the default applies). */
export function configLimits(sys: Record<string, string> = {}, issues?: ConfigIssue[]): typeof CONFIG_LIMITS {
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
    else issues?.push({ severity: 'error', key: `-D${prop}`, message: `'${raw}' is not a positive number` });
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

/** The issue of a configuration past the byte limit; `what` says how far it got ('not read' for files). */
export function tooLarge(file: string, bytes: number, limit: number, what: string): ConfigIssue {
  return {
    severity: 'error',
    file,
    message:
      `configuration of ${mib(bytes)} is larger than the limit of ${mib(limit)}; ${what} ` +
      '(raise the limit with -Dflume.config.maxBytes=SIZE)',
  };
}
