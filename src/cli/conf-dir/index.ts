/**
 * `-c/--conf DIR`: what Flume's launcher takes from its configuration directory, read as text (nothing is executed):
 *  - flume-env.sh: the -D options of JAVA_OPTS / FLUME_JAVA_OPTS (monitoring, logging, ${sys:X}), below the command
 *    line's own -D options;
 *  - log4j2.xml (Flume 1.10+) or else log4j.properties (up to 1.9): the root level and appenders, flume.log.dir and
 *    flume.log.file, as defaults below every -D option.
 * Everything else in them is reported once, with its file and line (`ConfigIssue` warnings).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ConfigIssue } from '../../config/issues.js';
import {
  BUILTIN_APPENDERS,
  logSettingsFrom,
  substituteSys,
  type AppenderDef,
  type LogSettings,
  type LogSettingsResult,
} from '../../telemetry/log-settings.js';
import { AgentError } from '../../core/errors.js';
import { parseFlumeEnv } from './flume-env.js';
import { parseLog4jProperties } from './log4j-properties.js';
import { parseLog4j2Xml } from './log4j2-xml.js';
import type { LogConf } from './log-conf.js';

export interface ConfDir {
  dir: string;
  /** Files read, relative to dir. */
  read: string[];
  /** -D options of flume-env.sh. */
  sys: Record<string, string>;
  log?: LogConf;
  notes: ConfigIssue[];
}

/** Log4j 2 formats flume-ts does not read. */
const UNREAD = ['log4j2.properties', 'log4j2.yaml', 'log4j2.yml', 'log4j2.json', 'log4j2.jsn', 'log4j.xml'];

export function readConfDir(dir: string, env: Record<string, string | undefined> = process.env): ConfDir {
  const out: ConfDir = { dir, read: [], sys: {}, notes: [] };
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    out.notes.push({
      severity: 'warning',
      file: dir,
      message:
        code === 'ENOENT'
          ? 'configuration directory (-c) does not exist'
          : `configuration directory not read (${code})`,
    });
    return out;
  }
  const read = (name: string): string | undefined => {
    const p = path.join(dir, name);
    try {
      const text = fs.readFileSync(p, 'utf8');
      out.read.push(name);
      return text;
    } catch (err) {
      out.notes.push({ severity: 'warning', file: p, message: `not read: ${(err as Error).message}` });
      return undefined;
    }
  };
  if (names.includes('flume-env.sh')) {
    const text = read('flume-env.sh');
    if (text !== undefined) {
      const e = parseFlumeEnv(text, path.join(dir, 'flume-env.sh'), env);
      out.sys = e.sys;
      out.notes.push(...e.notes);
    }
  }
  if (names.includes('log4j2.xml')) {
    const text = read('log4j2.xml');
    if (text !== undefined) out.log = parseLog4j2Xml(text, path.join(dir, 'log4j2.xml'));
    if (names.includes('log4j.properties'))
      out.notes.push({
        severity: 'warning',
        file: path.join(dir, 'log4j.properties'),
        message: 'not read: log4j2.xml is read instead (as Flume 1.10+ does)',
      });
  } else if (names.includes('log4j.properties')) {
    const text = read('log4j.properties');
    if (text !== undefined) out.log = parseLog4jProperties(text, path.join(dir, 'log4j.properties'));
  }
  for (const n of UNREAD.filter((u) => names.includes(u)))
    out.notes.push({
      severity: 'warning',
      file: path.join(dir, n),
      message: 'not read: flume-ts reads log4j2.xml or log4j.properties',
    });
  return out;
}

export interface Effective {
  /** System properties: flume-env.sh's -D options, then the command line's (later wins). */
  sys: Record<string, string>;
  logging: LogSettings;
  /** Every warning about the configuration directory, to report once. */
  notes: ConfigIssue[];
}

/**
 * Combines the command line's -D options with the configuration directory. Throws FLUME_ERR_USAGE for a bad
 * logging -D option (flume-env.sh's count as the command line's, as in Flume).
 */
export function effectiveSettings(cliSys: Record<string, string>, conf?: ConfDir): Effective {
  const sys = { ...conf?.sys, ...cliSys };
  const log = conf?.log;
  const notes = [...(conf?.notes ?? []), ...(log?.notes ?? [])];
  if (!log) return { sys, logging: refused(logSettingsFrom({ sys })).settings, notes };
  const { 'flume.root.logger': fileRootProp, ...fileProps } = log.props;
  const logSys = { ...fileProps, ...sys };
  const rootSpec = log.root?.spec ?? fileRootProp;
  const fileRoot = rootSpec === undefined ? undefined : substituteSys(rootSpec, { ...log.props, ...sys });
  const appenders = new Map<string, AppenderDef>([...BUILTIN_APPENDERS, ...log.appenders]);
  const r = refused(logSettingsFrom({ sys: logSys, appenders, fileRoot }));
  for (const w of r.warnings)
    notes.push({ severity: 'warning', file: log.file, line: log.root?.line, message: `root logger: ${w}` });
  for (const a of r.settings.appenders) notes.push(...(log.appenderNotes.get(a.name) ?? []));
  return { sys, logging: r.settings, notes };
}

/** Bad logging -D options are a usage error (exit 64), all of them in one message. */
function refused(r: LogSettingsResult): LogSettingsResult {
  if (r.errors.length) throw new AgentError('FLUME_ERR_USAGE', r.errors.join('; '));
  return r;
}
