/** What a log4j file in the configuration directory says, in the terms flume-ts can honour. */
import type { ConfigIssue } from '../../config/issues.js';
import type { AppenderDef } from '../../telemetry/logger.js';

export interface LogConf {
  file: string;
  /** The root logger: `LEVEL, appender, ...` as written (may hold `${flume.root.logger}`). */
  root?: { spec: string; line: number };
  /** Plain properties of the file (log4j 1: `flume.log.dir = ./logs`), defaults for `${...}`. */
  props: Record<string, string>;
  appenders: Map<string, AppenderDef>;
  /** Notes about one appender, reported only when the root logger uses it. */
  appenderNotes: Map<string, ConfigIssue[]>;
  notes: ConfigIssue[];
}

export const LAYOUT_NOTE =
  'flume-ts writes every line as `<timestamp> LEVEL [component] message key=value` (-Dflume.log.timezone=local for ' +
  'local time)';

export function emptyLogConf(file: string): LogConf {
  return { file, props: {}, appenders: new Map(), appenderNotes: new Map(), notes: [] };
}

export function appenderNote(c: LogConf, name: string, line: number, message: string, hint?: string): void {
  let a = c.appenderNotes.get(name);
  if (!a) c.appenderNotes.set(name, (a = []));
  a.push({ severity: 'warning', file: c.file, line, message: `appender ${name}: ${message}`, hint });
}

/** One note for a group of lines: at the first line, naming the others. */
export function groupNote(c: LogConf, lines: number[], message: string, hint?: string): void {
  if (lines.length === 0) return;
  const more = lines.length > 1 ? ` (also line${lines.length > 2 ? 's' : ''} ${lines.slice(1).join(', ')})` : '';
  c.notes.push({ severity: 'warning', file: c.file, line: lines[0], message: `${message}${more}`, hint });
}
