/**
 * Index names, as Flume 1.9's index name builders make them: `TimeBasedIndexNameBuilder` (the default) gives
 * `<indexName>-<date>`, the date formatted with `indexNameBuilder.dateFormat` (yyyy-MM-dd) in
 * `indexNameBuilder.timeZone` (Etc/UTC) from the event time; `SimpleIndexNameBuilder` gives `<indexName>`. In both,
 * indexName goes through Flume's BucketPath escapes first (the shared engine, src/format/bucket-path/): `%{header}`,
 * `%[localhost]`, the date letters... The escapes' time is the event time below, in the agent's zone as Flume's
 * BucketPath.escapeString(String, Map) uses the JVM's (indexNameBuilder.timeZone is for the date suffix only).
 */
import type { FlumeEvent } from '../../core/event.js';
import { OptionError } from '../../contract/index.js';
import { SimpleDateFormat } from '../../compat/java/simple-date-format.js';
import {
  BucketTemplate,
  ZonedTime,
  hostNames,
  type HostNames,
  type RenderTime,
  type ZonedFields,
} from '../../format/bucket-path/index.js';

/** The escapes whose output has upper-case letters whatever the event (names of days and months, AM/PM). */
const UPPER_CASE_ESCAPE = /%[aAbBcp]/;
/** Every BucketPath escape (Flume's pattern), to find the literal text of a template. */
const ESCAPE = /%(\w|%)|%\{[\w.-]+\}|%\[\w+\]/g;
const NO_HOSTS: HostNames = { localhost: '', ip: '', fqdn: '' };

/** Compiles indexName; throws OptionError naming unknown escapes or escapes that always give upper case. */
export function compileIndexName(indexName: string): BucketTemplate {
  const t = BucketTemplate.compile(indexName);
  const upper = UPPER_CASE_ESCAPE.exec(indexName.replace(/%%/g, ''));
  if (upper) {
    throw new OptionError(
      `the escape '${upper[0]}' renders upper-case letters (Jan, Mon, AM); Elasticsearch refuses such index names`,
      'use the numeric escapes (%m, %d, %H; see docs/escapes.md)',
    );
  }
  return t;
}

/** indexName without its escapes: the letters written as they are. */
export function literalText(indexName: string): string {
  return indexName.replace(ESCAPE, '');
}

/** The event time Flume's TimestampedEvent uses: header `timestamp`, else `@timestamp`, else now (epoch ms). */
export function eventTime(e: FlumeEvent, now: number): { ms: number; raw: string | undefined; valid: boolean } {
  let raw = e.headers.timestamp;
  if (raw === undefined || raw.trim() === '') raw = e.headers['@timestamp'];
  if (raw === undefined || raw.trim() === '') return { ms: now, raw: undefined, valid: true };
  const t = raw.trim();
  if (/^[+-]?\d{1,16}$/.test(t)) return { ms: Number(t), raw: t, valid: true };
  return { ms: now, raw: undefined, valid: false };
}

/** A RenderTime whose calendar fields are computed when an escape asks for them. */
class EscapeTime implements RenderTime {
  private f: ZonedFields | undefined;
  constructor(
    private readonly zone: ZonedTime,
    readonly ts: number,
    readonly raw: string,
  ) {}
  get fields(): ZonedFields {
    return (this.f ??= this.zone.fields(this.ts));
  }
}

export class IndexNamer {
  private readonly template: BucketTemplate;
  private readonly dateFormat: SimpleDateFormat | undefined;
  private readonly zone: ZonedTime;
  private hosts = NO_HOSTS;

  /** `escapeZone`: the zone of the escapes' date letters (default: the agent's, as Flume's JVM default). */
  constructor(builder: 'time' | 'simple', indexName: string, dateFormat: string, zone: string, escapeZone?: string) {
    this.template = compileIndexName(indexName);
    this.dateFormat = builder === 'time' ? new SimpleDateFormat(dateFormat, zone) : undefined;
    this.zone = new ZonedTime(escapeZone);
  }

  /** Looks up this host's names when indexName uses %[localhost], %[IP] or %[FQDN] (once, as Flume). */
  async start(): Promise<void> {
    if (/%\[/.test(this.template.source)) this.hosts = await hostNames();
  }

  /** The index for one event; `invalidTime` is called when its timestamp header is not a number (now is used). */
  name(e: FlumeEvent, now: number, invalidTime: () => void): string {
    const t = this.template;
    const needsTime = t.needsTime || this.dateFormat !== undefined;
    const time = needsTime ? eventTime(e, now) : undefined;
    if (time && !time.valid) invalidTime();
    const prefix = t.constant
      ? t.render(e.headers, undefined, this.hosts)
      : t.render(
          e.headers,
          time && t.needsTime ? new EscapeTime(this.zone, time.ms, time.raw ?? String(time.ms)) : undefined,
          this.hosts,
        );
    return this.dateFormat ? `${prefix}-${this.dateFormat.format(time!.ms)}` : prefix;
  }
}
