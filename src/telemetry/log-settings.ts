/**
 * Where the log goes, from Flume's system properties: `flume.root.logger` (`LEVEL,appender[,appender...]`),
 * `flume.log.dir`, `flume.log.file`, plus flume-ts's `flume.log.maxFileSize`, `flume.log.maxBackupIndex` and
 * `flume.log.timezone`. Appender names are Flume's (`console`, `LOGFILE`, `DAILY`) or those a log4j file in the conf
 * directory defines (cli/conf-dir reads it into `AppenderDef`s).
 */
/** winston levels, most severe first (winston's own `npm` levels have no `trace`). */
export const LOG_LEVELS = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 } as const;
export type LogLevel = keyof typeof LOG_LEVELS;

/** log4j's level names -> ours. */
const LEVEL_NAMES: Record<string, LogLevel | 'off'> = {
  ALL: 'trace',
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
  FATAL: 'error',
  OFF: 'off',
};

/** What an appender name stands for. `file` is a path template (`${flume.log.dir}/${flume.log.file}`). */
export type AppenderDef =
  { kind: 'console' } | { kind: 'file'; file: string; daily: boolean; maxBytes?: number; maxFiles?: number };

export interface ConsoleAppender {
  kind: 'console';
  name: string;
}
export interface FileAppender {
  kind: 'file';
  name: string;
  /** The live file; rolled files sit next to it. */
  path: string;
  /** Roll at midnight (of `LogSettings.timezone`): `flume.log.2026-05-01`. */
  daily: boolean;
  /** Roll when the file would pass this size; 0 = never by size. */
  maxBytes: number;
  /** Rolled files kept (the oldest beyond this are deleted). */
  maxFiles: number;
}
export type Appender = ConsoleAppender | FileAppender;

export interface LogSettings {
  level: LogLevel | 'off';
  appenders: Appender[];
  /** Timestamps (and the daily roll) in UTC, the default, or in the machine's local time. */
  timezone: 'utc' | 'local';
}

export const DEFAULT_ROOT_LOGGER = 'INFO,console';
const DEFAULT_MAX_BYTES = 100 * 1024 * 1024;
const DEFAULT_MAX_FILES = 20;

/** Flume's own appender names (its log4j.properties): console, a size-rolled LOGFILE, a daily-rolled DAILY. */
export const BUILTIN_APPENDERS: ReadonlyMap<string, AppenderDef> = new Map<string, AppenderDef>([
  ['console', { kind: 'console' }],
  ['LOGFILE', { kind: 'file', file: '${flume.log.dir}/${flume.log.file}', daily: false }],
  ['DAILY', { kind: 'file', file: '${flume.log.dir}/${flume.log.file}', daily: true }],
]);

export interface LogSettingsInput {
  sys: Record<string, string>;
  /** Appender names as a log4j file in the conf directory defines them (default: Flume's built-in ones). */
  appenders?: ReadonlyMap<string, AppenderDef>;
  /**
   * The root logger spec when no `-Dflume.root.logger` was given (from a log4j file). Problems in it are warnings
   * (returned), not errors: the agent logs to the console instead of what it cannot honour.
   */
  fileRoot?: string;
}

export interface LogSettingsResult {
  settings: LogSettings;
  /**
   * What the -D options get wrong (unknown level or appender in `flume.root.logger`, a bad `flume.log.*` value): the
   * command line refuses them (exit 64). `settings` then holds what could be read.
   */
  errors: string[];
  /** What a log4j file asked for that cannot be honoured (messages without file:line; the caller adds them). */
  warnings: string[];
}

/** Parses the logging system properties; problems come back as `errors` (-D options) and `warnings` (log4j file). */
export function logSettingsFrom(inp: LogSettingsInput): LogSettingsResult {
  const sys = inp.sys;
  const defs = inp.appenders ?? BUILTIN_APPENDERS;
  const warnings: string[] = [];
  const errors: string[] = [];
  const fromCommandLine = sys['flume.root.logger'] !== undefined;
  const spec = sys['flume.root.logger'] ?? inp.fileRoot ?? DEFAULT_ROOT_LOGGER;
  const fail = (msg: string): void => {
    if (fromCommandLine) errors.push(`-Dflume.root.logger=${spec}: ${msg}`);
    else warnings.push(msg);
  };
  const parts = spec.split(',').map((s) => s.trim());
  const levelName = parts[0] ?? '';
  let level: LogLevel | 'off' = 'info';
  if (levelName !== '') {
    const l = LEVEL_NAMES[levelName.toUpperCase()];
    if (l === undefined) fail(`unknown level '${levelName}' (levels: ${Object.keys(LEVEL_NAMES).join(', ')})`);
    else level = l;
  }
  const names = parts.slice(1).filter((n) => n !== '');
  const file = fileSettings(sys, errors);
  const appenders: Appender[] = [];
  for (const name of names) {
    const key = defs.has(name) ? name : [...defs.keys()].find((k) => k.toLowerCase() === name.toLowerCase());
    const def = key === undefined ? undefined : defs.get(key);
    if (key === undefined || def === undefined) {
      fail(`unknown appender '${name}' (appenders: ${[...defs.keys()].join(', ')})`);
      continue;
    }
    if (def.kind === 'console') {
      if (!appenders.some((a) => a.kind === 'console')) appenders.push({ kind: 'console', name: key });
      continue;
    }
    const path = substituteSys(def.file, sys);
    const same = appenders.find((a): a is FileAppender => a.kind === 'file' && a.path === path);
    const maxBytes = file.maxBytes ?? def.maxBytes ?? (def.daily ? 0 : DEFAULT_MAX_BYTES);
    if (same) {
      // LOGFILE and DAILY on one file: one file rolled at midnight and by size
      same.daily ||= def.daily;
      if (same.maxBytes === 0 || (maxBytes > 0 && maxBytes < same.maxBytes)) same.maxBytes = maxBytes;
      continue;
    }
    appenders.push({
      kind: 'file',
      name: key,
      path,
      daily: def.daily,
      maxBytes,
      maxFiles: file.maxFiles ?? def.maxFiles ?? DEFAULT_MAX_FILES,
    });
  }
  if (appenders.length === 0) appenders.push({ kind: 'console', name: 'console' });
  return { settings: { level, appenders, timezone: timezoneOf(sys, errors) }, warnings, errors };
}

function fileSettings(sys: Record<string, string>, errors: string[]): { maxBytes?: number; maxFiles?: number } {
  const out: { maxBytes?: number; maxFiles?: number } = {};
  const size = sys['flume.log.maxFileSize'];
  if (size !== undefined) {
    const n = parseLogFileSize(size);
    if (n === undefined) errors.push(`-Dflume.log.maxFileSize=${size} is not a size (e.g. 100MB, 512KB, 0)`);
    else out.maxBytes = n;
  }
  const files = sys['flume.log.maxBackupIndex'];
  if (files !== undefined) {
    if (!/^\d+$/.test(files.trim())) errors.push(`-Dflume.log.maxBackupIndex=${files} is not a whole number`);
    else out.maxFiles = Number(files.trim());
  }
  return out;
}

function timezoneOf(sys: Record<string, string>, errors: string[]): 'utc' | 'local' {
  const tz = (sys['flume.log.timezone'] ?? 'utc').trim().toLowerCase();
  if (tz === 'utc' || tz === 'local') return tz;
  errors.push(`-Dflume.log.timezone=${sys['flume.log.timezone']}: use utc or local`);
  return 'utc';
}

/** log4j's file sizes: a number of bytes, or with KB, MB, GB (1024-based); `100 MB` as log4j2 writes it. */
export function parseLogFileSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|kb?|mb?|gb?)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase()[0]!;
  const mult = unit === 'k' ? 1024 : unit === 'm' ? 1024 ** 2 : unit === 'g' ? 1024 ** 3 : 1;
  return Math.floor(Number(m[1]) * mult);
}

/** `${name}` (and `${sys:name}`, `${name:-default}`) against the system properties; unknown names stay empty. */
export function substituteSys(template: string, sys: Record<string, string>): string {
  const defaults: Record<string, string> = { 'flume.log.dir': './logs', 'flume.log.file': 'flume.log' };
  return template.replace(/\$\{(?:sys:)?([^}:]+)(?::-([^}]*))?\}/g, (_m, name: string, dflt?: string) => {
    return sys[name] ?? dflt ?? defaults[name] ?? '';
  });
}
