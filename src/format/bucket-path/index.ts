/**
 * Flume's BucketPath escapes (`%{header}`, `%[localhost]`, `%Y-%m-%d`, ...): one engine for every component that
 * names something per event - the hdfs sink's path and file prefix, and the topic and index names of the kafka and
 * elasticsearch sinks. Time fields honour IANA zones (the strftime packages ignore them).
 *
 * Use: `BucketTemplate.compile(text)` at configuration time (throws OptionError naming unknown escapes), an
 * `EventTime` for the timestamp (header or local clock, rounding, zone), `hostNames()` once at start, then
 * `template.render(event.headers, time, hosts)` per event.
 */
export { BucketTemplate, LETTERS, type HostNames, type RenderOptions, type RenderTime } from './template.js';
export { EventTime, type EventTimeOptions, type TimeFallback, type TimeRounding } from './event-time.js';
export { ZonedTime, localTimeZone, parseTimeZone, type RoundUnit, type ZonedFields } from './zoned-time.js';
export { hostNames } from './hosts.js';
