/**
 * A log4j 1.x `log4j.properties` (Flume up to 1.9): the root logger (`log4j.rootLogger = ${flume.root.logger}`),
 * the file's properties (`flume.root.logger`, `flume.log.dir`, `flume.log.file`) as defaults, and the appenders
 * flume-ts can honour: ConsoleAppender, FileAppender, RollingFileAppender (File, MaxFileSize, MaxBackupIndex),
 * DailyRollingFileAppender and log4j-extras' RollingFileAppender with a TimeBasedRollingPolicy. The rest is noted.
 */
import { parseProperties, PropertiesSyntaxError } from '../../config/properties.js';
import { parseLogFileSize } from '../../telemetry/log-settings.js';
import { appenderNote, emptyLogConf, groupNote, LAYOUT_NOTE, type LogConf } from './log-conf.js';

/** Properties of an appender flume-ts reads, by appender kind. */
const READ = new Set(['File', 'MaxFileSize', 'MaxBackupIndex', 'rollingPolicy', 'rollingPolicy.ActiveFileName']);

export function parseLog4jProperties(text: string, file: string): LogConf {
  const c = emptyLogConf(file);
  let entries;
  try {
    entries = [...parseProperties(text, file).entries.values()];
  } catch (err) {
    if (!(err instanceof PropertiesSyntaxError)) throw err;
    c.notes.push({ severity: 'warning', file, line: err.line, message: `not read: ${err.message}` });
    return c;
  }
  const loggers: number[] = [];
  const other: number[] = [];
  const byAppender = new Map<string, { cls?: string; line: number; keys: Map<string, { v: string; line: number }> }>();
  for (const e of entries) {
    const k = e.key.trim();
    const v = e.value.trim();
    if (k === 'log4j.rootLogger' || k === 'log4j.rootCategory') {
      c.root = { spec: v, line: e.line };
    } else if (k.startsWith('log4j.appender.')) {
      const rest = k.slice('log4j.appender.'.length);
      const dot = rest.indexOf('.');
      const name = dot < 0 ? rest : rest.slice(0, dot);
      let a = byAppender.get(name);
      if (!a) byAppender.set(name, (a = { line: e.line, keys: new Map() }));
      if (dot < 0) a.cls = v;
      else a.keys.set(rest.slice(dot + 1), { v, line: e.line });
    } else if (k.startsWith('log4j.logger.') || k.startsWith('log4j.category.') || k.startsWith('log4j.additivity.')) {
      loggers.push(e.line);
    } else if (k.startsWith('log4j.')) {
      other.push(e.line);
    } else {
      c.props[k] = v;
    }
  }
  groupNote(
    c,
    loggers,
    'per-logger levels are ignored: flume-ts has one level for the whole agent (flume.root.logger)',
  );
  groupNote(c, other, 'log4j settings ignored');
  for (const [name, a] of byAppender) {
    const cls = (a.cls ?? '').replace(/^org\.apache\.log4j\./, '');
    const key = (k: string) => a.keys.get(k)?.v;
    const policy = (key('rollingPolicy') ?? '').replace(/^org\.apache\.log4j\.rolling\./, '');
    if (cls === 'ConsoleAppender') {
      c.appenders.set(name, { kind: 'console' });
      const target = key('target') ?? key('Target');
      if (target && !/System\.out/i.test(target))
        appenderNote(c, name, a.keys.get('target')?.line ?? a.line, `target ${target} ignored: the console is stdout`);
    } else if (cls === 'RollingFileAppender' || cls === 'FileAppender' || cls === 'DailyRollingFileAppender') {
      const size = key('MaxFileSize');
      const backups = key('MaxBackupIndex');
      const maxBytes = cls === 'RollingFileAppender' ? parseLogFileSize(size ?? '10MB') : 0;
      c.appenders.set(name, {
        kind: 'file',
        file: key('File') ?? '${flume.log.dir}/${flume.log.file}',
        daily: cls === 'DailyRollingFileAppender',
        maxBytes,
        maxFiles: backups !== undefined && /^\d+$/.test(backups) ? Number(backups) : undefined,
      });
      const pattern = key('DatePattern');
      if (pattern && !/^'\.'yyyy-MM-dd$/.test(pattern))
        appenderNote(c, name, a.keys.get('DatePattern')!.line, `DatePattern ${pattern} ignored: the file rolls daily`);
    } else if (cls === 'rolling.RollingFileAppender' && policy === 'TimeBasedRollingPolicy') {
      c.appenders.set(name, {
        kind: 'file',
        file: key('rollingPolicy.ActiveFileName') ?? key('File') ?? '${flume.log.dir}/${flume.log.file}',
        daily: true,
      });
      a.keys.delete('rollingPolicy.FileNamePattern');
      appenderNote(
        c,
        name,
        a.line,
        'rolled files are named <file>.yyyy-MM-dd next to the live file (FileNamePattern is not read)',
      );
    } else {
      appenderNote(
        c,
        name,
        a.line,
        `${a.cls ?? 'no class'} is not an appender flume-ts can write`,
        'flume-ts writes to the console (ConsoleAppender) or a file (File, RollingFile, DailyRollingFile appenders)',
      );
      continue;
    }
    const ignored = [...a.keys].filter(([k]) => !READ.has(k) && k !== 'target' && k !== 'DatePattern');
    const layout = ignored.filter(([k]) => k.startsWith('layout'));
    const rest = ignored.filter(([k]) => !k.startsWith('layout'));
    if (layout.length) appenderNote(c, name, layout[0]![1].line, 'layout ignored', LAYOUT_NOTE);
    if (rest.length) appenderNote(c, name, rest[0]![1].line, `settings ignored: ${rest.map(([k]) => k).join(', ')}`);
  }
  return c;
}
