/**
 * Index names, as Flume 1.9's index name builders make them: `TimeBasedIndexNameBuilder` (the default) gives
 * `<indexName>-<date>`, the date formatted with `indexNameBuilder.dateFormat` (yyyy-MM-dd) in
 * `indexNameBuilder.timeZone` (Etc/UTC) from the event time; `SimpleIndexNameBuilder` gives `<indexName>`. In both,
 * indexName goes through Flume's header escapes first.
 *
 * The escapes are Flume's BucketPath. Until the shared escape engine (written for the hdfs sink) is on main, this
 * sink implements only `%{header}` in escapeIndexName() below, the one function to point at that engine; the
 * option check refuses the other escapes with a message saying so, rather than writing them literally.
 */
import type { FlumeEvent } from '../../core/event.js';
import { SimpleDateFormat } from '../../compat/java/simple-date-format.js';

const HEADER_ESCAPE = /%\{([\w.-]+)\}/g;
/** The BucketPath escapes other than %{header}: %x (a word character or %), %[localhost|IP|FQDN]. */
const OTHER_ESCAPE = /%[\w%]|%\[\w+\]/;

/** `%{name}` -> the value of header `name` (a missing header -> ""), as Flume's BucketPath.escapeString. */
export function escapeIndexName(template: string, headers: Readonly<Record<string, string>>): string {
  if (!template.includes('%{')) return template;
  return template.replace(HEADER_ESCAPE, (_m, name: string) => headers[name] ?? '');
}

/** A message when `template` uses an escape escapeIndexName does not implement yet, else undefined. */
export function unsupportedEscape(template: string): string | undefined {
  const m = OTHER_ESCAPE.exec(template.replace(HEADER_ESCAPE, ''));
  if (!m) return undefined;
  return (
    `the escape '${m[0]}' is not supported in indexName yet (only %{header}); the date comes from ` +
    'indexNameBuilder.dateFormat'
  );
}

/** The event time Flume's TimestampedEvent uses: header `timestamp`, else `@timestamp`, else now (epoch ms). */
export function eventTime(e: FlumeEvent, now: number): { ms: number; valid: boolean } {
  let raw = e.headers.timestamp;
  if (raw === undefined || raw.trim() === '') raw = e.headers['@timestamp'];
  if (raw === undefined || raw.trim() === '') return { ms: now, valid: true };
  const t = raw.trim();
  if (/^[+-]?\d{1,16}$/.test(t)) return { ms: Number(t), valid: true };
  return { ms: now, valid: false };
}

export interface IndexNamer {
  /** The index for one event; `invalidTime` is called when its timestamp header is not a number (now is used). */
  name(e: FlumeEvent, now: number, invalidTime: () => void): string;
}

export function indexNamer(
  builder: 'time' | 'simple',
  indexName: string,
  dateFormat: string,
  zone: string,
): IndexNamer {
  if (builder === 'simple') return { name: (e) => escapeIndexName(indexName, e.headers) };
  const fmt = new SimpleDateFormat(dateFormat, zone);
  return {
    name(e, now, invalidTime) {
      const t = eventTime(e, now);
      if (!t.valid) invalidTime();
      return `${escapeIndexName(indexName, e.headers)}-${fmt.format(t.ms)}`;
    },
  };
}
