/**
 * One winston root logger; each component logs through a child carrying `component` and `type`.
 * Configured from Flume's system properties (telemetry/log-settings.ts): `-Dflume.root.logger=LEVEL,appender,...`
 * with the appenders console (stdout), LOGFILE (rolled by size) and DAILY (rolled at midnight), `-Dflume.log.dir`,
 * `-Dflume.log.file`. Levels are log4j's: TRACE, DEBUG, INFO, WARN, ERROR (FATAL = ERROR, ALL = TRACE, OFF).
 */
import winston from 'winston';
import { LOG_LEVELS, type LogSettings } from './log-settings.js';
import { RollingFileTransport } from './rolling-file.js';

export type Logger = winston.Logger;
export {
  logSettingsFrom,
  BUILTIN_APPENDERS,
  DEFAULT_ROOT_LOGGER,
  type LogSettings,
  type AppenderDef,
} from './log-settings.js';

const lineFormat = winston.format.printf((info) => {
  // `type` is a field of every component logger; the line shows the component only
  const { level, message, timestamp, component, type: _type, ...rest } = info as Record<string, unknown>;
  const fields = Object.keys(rest)
    .filter((k) => typeof k === 'string' && k !== 'splat' && rest[k] !== undefined)
    .map((k) => `${k}=${fmt(rest[k])}`)
    .join(' ');
  const comp = component ? ` [${String(component)}]` : '';
  return `${String(timestamp)} ${String(level).toUpperCase()}${comp} ${String(message)}${fields ? ` ${fields}` : ''}`;
});

function fmt(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'string') return /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

/** ISO 8601 in local time with its offset: 2026-05-01T14:02:11.123+02:00. */
export function localTimestamp(d: Date): string {
  const p = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return (
    `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:` +
    `${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}${sign}${p(Math.trunc(off / 60))}:${p(off % 60)}`
  );
}

function formatFor(tz: 'utc' | 'local'): winston.Logform.Format {
  const ts =
    tz === 'utc' ? winston.format.timestamp() : winston.format.timestamp({ format: () => localTimestamp(new Date()) });
  return winston.format.combine(ts, lineFormat);
}

let root: winston.Logger = winston.createLogger({
  levels: LOG_LEVELS,
  level: 'info',
  format: formatFor('utc'),
  transports: [new winston.transports.Console({ stderrLevels: [] })],
});
let files: RollingFileTransport[] = [];

export function configureLogging(s: LogSettings): Logger {
  const transports: winston.transport[] = [];
  files = [];
  for (const a of s.appenders) {
    if (a.kind === 'console') {
      transports.push(new winston.transports.Console({ stderrLevels: [] }));
    } else {
      const t = new RollingFileTransport({ ...a, timezone: s.timezone });
      files.push(t);
      transports.push(t);
    }
  }
  root = winston.createLogger({
    levels: LOG_LEVELS,
    level: s.level === 'off' ? 'error' : s.level,
    silent: s.level === 'off',
    format: formatFor(s.timezone),
    transports,
  });
  return root;
}

export function rootLogger(): Logger {
  return root;
}

export function componentLogger(component: string, type: string): Logger {
  return root.child({ component, type });
}

/** A logger that discards everything (tests, describe). */
export function silentLogger(): Logger {
  return winston.createLogger({
    levels: LOG_LEVELS,
    silent: true,
    transports: [new winston.transports.Console({ silent: true })],
  });
}

/** Logs at TRACE (winston's typings know only the npm levels). */
export function trace(log: Logger, message: string, fields?: Record<string, unknown>): void {
  if (log.isLevelEnabled('trace')) log.log('trace', message, fields);
}

/** Root loggers already closed by flushLogs. */
const ended = new WeakSet<winston.Logger>();

/**
 * Flushes and closes the root logger; resolves when the last line is written (or after `timeoutMs`). A component
 * still running (an aborted stop) may log afterwards: such late lines are dropped instead of failing with `write
 * after end`.
 */
export function flushLogs(timeoutMs = 2000): Promise<void> {
  const ending = root;
  if (ended.has(ending)) return Promise.resolve();
  ended.add(ending);
  ending.on('error', () => undefined);
  const fileDone = files.map((f) => f.finished);
  return new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    ending.on('finish', () => {
      // the transports finish after the logger (file transports once their lines are on disk)
      void Promise.all(fileDone).then(() => {
        clearTimeout(t);
        setImmediate(resolve);
      });
    });
    ending.end();
  });
}
