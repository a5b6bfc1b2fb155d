/**
 * One winston root logger; each component logs through a child carrying `component` and `type`.
 * Configured from Flume's `-Dflume.root.logger=LEVEL,console|LOGFILE`, `-Dflume.log.dir`, `-Dflume.log.file`.
 */
import winston from 'winston';
import path from 'node:path';
import fs from 'node:fs';

export type Logger = winston.Logger;

const LEVELS: Record<string, string> = {
  TRACE: 'debug',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  WARNING: 'warn',
  ERROR: 'error',
  FATAL: 'error',
  OFF: 'error',
};

export interface LogSettings {
  level: string;
  target: 'console' | 'file';
  dir: string;
  file: string;
}

/** Parses `flume.root.logger` (`INFO,console`, `DEBUG,LOGFILE`). */
export function logSettingsFrom(sys: Record<string, string>): LogSettings {
  const spec = sys['flume.root.logger'] ?? 'INFO,console';
  const [lvl = 'INFO', appender = 'console'] = spec.split(',').map((s) => s.trim());
  const level = LEVELS[lvl.toUpperCase()] ?? 'info';
  const target = appender.toLowerCase() === 'console' ? 'console' : 'file';
  return { level, target, dir: sys['flume.log.dir'] ?? './logs', file: sys['flume.log.file'] ?? 'flume.log' };
}

const lineFormat = winston.format.printf((info) => {
  // `type` is a field of every component logger; the line shows the component only
  const { level, message, timestamp, component, type: _type, ...rest } = info as Record<string, unknown>;
  const fields = Object.keys(rest)
    .filter((k) => typeof k === 'string' && k !== 'splat')
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

let root: winston.Logger = winston.createLogger({
  level: 'info',
  format: winston.format.combine(winston.format.timestamp(), lineFormat),
  transports: [new winston.transports.Console({ stderrLevels: [] })],
});

export function configureLogging(s: LogSettings): Logger {
  const transports: winston.transport[] = [];
  if (s.target === 'console') {
    transports.push(new winston.transports.Console({ stderrLevels: [] }));
  } else {
    fs.mkdirSync(s.dir, { recursive: true });
    transports.push(
      new winston.transports.File({
        filename: path.join(s.dir, s.file),
        maxsize: 100 * 1024 * 1024,
        maxFiles: 20,
        tailable: true,
      }),
    );
  }
  root = winston.createLogger({
    level: s.level,
    format: winston.format.combine(winston.format.timestamp(), lineFormat),
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
  return winston.createLogger({ silent: true, transports: [new winston.transports.Console({ silent: true })] });
}

/** Flushes and closes the root logger; resolves when the last line is written. */
export function flushLogs(timeoutMs = 2000): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, timeoutMs);
    root.on('finish', () => {
      clearTimeout(t);
      // file transports finish asynchronously after the logger
      setImmediate(resolve);
    });
    root.end();
  });
}
