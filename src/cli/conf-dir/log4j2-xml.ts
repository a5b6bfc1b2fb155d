/**
 * A log4j2.xml (Flume 1.10+): `<Properties>` for `${NAME}`, the appenders flume-ts can honour (Console; File;
 * RollingFile and RollingRandomAccessFile with a SizeBasedTriggeringPolicy, a time-based or midnight cron policy and
 * DefaultRolloverStrategy max) and the `<Root level>` with its AppenderRefs. The rest is noted.
 */
import { parseLogFileSize } from '../../telemetry/log-settings.js';
import { appenderNote, emptyLogConf, groupNote, LAYOUT_NOTE, type LogConf } from './log-conf.js';
import { parseXml, XmlError, type XmlElement } from './xml.js';

const FILE_APPENDERS = new Set(['File', 'RandomAccessFile', 'RollingFile', 'RollingRandomAccessFile']);

export function parseLog4j2Xml(text: string, file: string): LogConf {
  const c = emptyLogConf(file);
  let doc: XmlElement;
  try {
    doc = parseXml(text);
  } catch (err) {
    if (!(err instanceof XmlError)) throw err;
    c.notes.push({ severity: 'warning', file, line: err.line, message: `not read: ${err.message}` });
    return c;
  }
  const props: Record<string, string> = {};
  const sub = (s: string) =>
    s.replace(/\$\{(?:(sys|env):)?([^}:]+)(?::-([^}]*))?\}/g, (m, scope: string | undefined, n: string, d?: string) => {
      if (scope === 'sys') return `\${sys:${n}${d !== undefined ? `:-${d}` : ''}}`; // resolved with the -D values
      if (scope === 'env') return process.env[n] ?? d ?? '';
      return props[n] ?? d ?? m;
    });
  const ignored: number[] = [];
  for (const top of doc.children) {
    if (top.name === 'Properties') {
      for (const p of top.children) if (p.name === 'Property' && p.attrs.name) props[p.attrs.name] = sub(p.text.trim());
    } else if (top.name === 'Appenders') {
      for (const a of top.children) readAppender(c, a, sub);
    } else if (top.name === 'Loggers') {
      const loggers: number[] = [];
      for (const l of top.children) {
        if (l.name !== 'Root' && l.name !== 'AsyncRoot') {
          loggers.push(l.line);
          continue;
        }
        const refs = l.children.filter((r) => r.name === 'AppenderRef').map((r) => r.attrs.ref ?? '');
        c.root = { spec: [l.attrs.level ?? 'ERROR', ...refs].join(','), line: l.line };
      }
      groupNote(
        c,
        loggers,
        'per-logger levels are ignored: flume-ts has one level for the whole agent (the Root level)',
      );
    } else {
      ignored.push(top.line);
    }
  }
  if (doc.attrs.monitorInterval) ignored.unshift(doc.line);
  groupNote(c, ignored, 'log4j2 settings ignored (only Properties, Appenders and the Root logger are read)');
  return c;
}

function readAppender(c: LogConf, a: XmlElement, sub: (s: string) => string): void {
  const name = a.attrs.name ?? a.name;
  const children = a.children;
  if (a.name === 'Console') {
    c.appenders.set(name, { kind: 'console' });
    if (a.attrs.target && a.attrs.target !== 'SYSTEM_OUT')
      appenderNote(c, name, a.line, `target ${a.attrs.target} ignored: the console is stdout`);
  } else if (FILE_APPENDERS.has(a.name)) {
    const policies = children.find((x) => x.name === 'Policies')?.children ?? [];
    const direct = children.filter((x) => /TriggeringPolicy$/.test(x.name));
    const all = [...policies, ...direct];
    const size = all.find((p) => p.name === 'SizeBasedTriggeringPolicy')?.attrs.size;
    const cron = all.find((p) => p.name === 'CronTriggeringPolicy');
    const daily =
      all.some((p) => p.name === 'TimeBasedTriggeringPolicy') ||
      (cron !== undefined && isMidnight(cron.attrs.schedule));
    const max = children.find((x) => x.name === 'DefaultRolloverStrategy')?.attrs.max;
    const rolling = a.name.startsWith('Rolling');
    c.appenders.set(name, {
      kind: 'file',
      file: sub(a.attrs.fileName ?? '${sys:flume.log.dir}/${sys:flume.log.file}'),
      daily: rolling && daily,
      maxBytes: rolling && size ? (parseLogFileSize(size) ?? 0) : 0,
      maxFiles: max !== undefined && /^\d+$/.test(max) ? Number(max) : undefined,
    });
    if (cron && !isMidnight(cron.attrs.schedule))
      appenderNote(
        c,
        name,
        cron.line,
        `CronTriggeringPolicy ${cron.attrs.schedule} ignored: only a midnight roll is supported`,
      );
    if (a.attrs.filePattern)
      appenderNote(
        c,
        name,
        a.line,
        'rolled files are named <file>.1 ... (size) or <file>.yyyy-MM-dd (daily) next to the live file; filePattern is not read',
      );
    const strategy = children.find((x) => x.name === 'DefaultRolloverStrategy');
    if (strategy?.children.length)
      appenderNote(c, name, strategy.children[0]!.line, `${strategy.children[0]!.name} ignored: max files are kept`);
  } else {
    appenderNote(
      c,
      name,
      a.line,
      `<${a.name}> is not an appender flume-ts can write`,
      'flume-ts writes to the console (Console) or a file (File, RollingFile)',
    );
    return;
  }
  const layout = children.find((x) => /Layout$/.test(x.name));
  if (layout) appenderNote(c, name, layout.line, `${layout.name} ignored`, LAYOUT_NOTE);
}

/** Quartz cron at midnight: `0 0 0 * * ?`. */
function isMidnight(schedule: string | undefined): boolean {
  return schedule !== undefined && /^0\s+0\s+0\s+\*\s+\*\s+[?*]/.test(schedule.trim());
}
