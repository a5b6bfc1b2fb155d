/**
 * Flume's counter names, declared once. Values are plain integers bumped per batch; /metrics renders them as
 * strings in Flume's JSON shape.
 */
export const SOURCE_COUNTERS = [
  'EventReceivedCount',
  'EventAcceptedCount',
  'AppendReceivedCount',
  'AppendAcceptedCount',
  'AppendBatchReceivedCount',
  'AppendBatchAcceptedCount',
  'OpenConnectionCount',
  'EventReadFail',
  'ChannelWriteFail',
  'GenericProcessingFail',
] as const;
export const CHANNEL_COUNTERS = [
  'ChannelSize',
  'ChannelCapacity',
  'EventPutAttemptCount',
  'EventPutSuccessCount',
  'EventTakeAttemptCount',
  'EventTakeSuccessCount',
] as const;
export const SINK_COUNTERS = [
  'ConnectionCreatedCount',
  'ConnectionClosedCount',
  'ConnectionFailedCount',
  'BatchEmptyCount',
  'BatchUnderflowCount',
  'BatchCompleteCount',
  'EventDrainAttemptCount',
  'EventDrainSuccessCount',
  'EventWriteFail',
  'ChannelReadFail',
] as const;

export type ComponentType = 'SOURCE' | 'CHANNEL' | 'SINK';

export class CounterGroup<N extends string> {
  readonly values: Record<string, number> = Object.create(null);
  StartTime = 0;
  StopTime = 0;
  constructor(
    readonly type: ComponentType,
    readonly name: string,
    names: readonly N[],
  ) {
    for (const n of names) this.values[n] = 0;
  }
  add(name: N | string, n = 1): void {
    this.values[name] = (this.values[name] ?? 0) + n;
  }
  set(name: N | string, v: number): void {
    this.values[name] = v;
  }
  get(name: N | string): number {
    return this.values[name] ?? 0;
  }
  started(now = Date.now()): void {
    this.StartTime = now;
    this.StopTime = 0;
  }
  stopped(now = Date.now()): void {
    this.StopTime = now;
  }
  /** Flume's JSON shape: every value a string. */
  toFlumeJson(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const k of Object.keys(this.values)) out[k] = String(this.values[k]);
    out.StartTime = String(this.StartTime);
    out.StopTime = String(this.StopTime);
    out.Type = this.type;
    return out;
  }
}

export type SourceCounters = CounterGroup<(typeof SOURCE_COUNTERS)[number]>;
export type SinkCounters = CounterGroup<(typeof SINK_COUNTERS)[number]>;

export class ChannelCounters extends CounterGroup<(typeof CHANNEL_COUNTERS)[number]> {
  constructor(name: string) {
    super('CHANNEL', name, CHANNEL_COUNTERS);
  }
  override toFlumeJson(): Record<string, string> {
    const out = super.toFlumeJson();
    const cap = this.get('ChannelCapacity');
    out.ChannelFillPercentage = javaDouble(cap === 0 ? Number.MAX_VALUE : (this.get('ChannelSize') / cap) * 100);
    return out;
  }
}

export function sourceCounters(name: string): SourceCounters {
  return new CounterGroup('SOURCE', name, SOURCE_COUNTERS);
}
export function sinkCounters(name: string): SinkCounters {
  return new CounterGroup('SINK', name, SINK_COUNTERS);
}

/** Java's Double.toString for the values we produce (always has a fractional part). */
export function javaDouble(n: number): string {
  if (n === Number.MAX_VALUE) return '1.7976931348623157E308';
  return Number.isInteger(n) ? `${n}.0` : String(n);
}

/**
 * The values that go up and down (Prometheus `gauge`); every other Flume value only grows while the component runs
 * (`counter`). Flume's names do not say which: `OpenConnectionCount` is a gauge.
 */
export const GAUGES: ReadonlySet<string> = new Set([
  'OpenConnectionCount',
  'ChannelSize',
  'ChannelCapacity',
  'ChannelFillPercentage',
  'Open',
  'Closed',
  'Unhealthy',
  'StartTime',
  'StopTime',
]);

/** The Prometheus type of a Flume value (a name outside COUNTER_DOCS: by its suffix). */
export function metricKind(name: string): 'counter' | 'gauge' {
  if (GAUGES.has(name)) return 'gauge';
  if (name in COUNTER_DOCS) return 'counter';
  return /(Count|Fail)$/.test(name) ? 'counter' : 'gauge';
}

/** What each counter means (docs/metrics.md is generated from this table). */
export const COUNTER_DOCS: Record<string, string> = {
  EventReceivedCount: 'Events the source read or was sent (before the channel put).',
  EventAcceptedCount: 'Events the channels committed.',
  AppendReceivedCount: 'Single-event appends received (avro source).',
  AppendAcceptedCount: 'Single-event appends committed (avro source).',
  AppendBatchReceivedCount: 'Batches received.',
  AppendBatchAcceptedCount: 'Batches committed.',
  OpenConnectionCount: 'Client connections open now.',
  EventReadFail: 'Input the source could not turn into events (oversize lines, malformed frames or requests).',
  ChannelWriteFail:
    'Puts a channel refused (channel full or closed); the source backed off, answered FAILED/503, or retried.',
  GenericProcessingFail: 'Other processing failures.',
  ChannelSize:
    'Events in the channel now. 0 for a channel that cannot count them (remote, e.g. Kafka), as in ' +
    'Flume; the Prometheus exposition leaves it out.',
  ChannelCapacity:
    'The channel capacity. 0 when the bound is remote or absent (as in Flume); the Prometheus ' +
    'exposition leaves it out.',
  ChannelFillPercentage:
    'ChannelSize / ChannelCapacity x 100; Double.MAX_VALUE when the capacity is 0 (as in Flume). ' +
    'Left out of the Prometheus exposition when the size or the capacity is unknown.',
  EventPutAttemptCount: 'Events offered to the channel in put transactions.',
  EventPutSuccessCount: 'Events committed into the channel.',
  EventTakeAttemptCount: 'Take calls, including those that found the channel empty (as Flume counts).',
  EventTakeSuccessCount: 'Events taken and committed (delivered by a sink).',
  ConnectionCreatedCount: 'Connections (or files) the sink opened.',
  ConnectionClosedCount: 'Connections (or files) the sink closed.',
  ConnectionFailedCount: 'Connections (or files) the sink failed to open or close.',
  BatchEmptyCount: 'Take transactions that found the channel empty.',
  BatchUnderflowCount: 'Batches smaller than the sink batch size.',
  BatchCompleteCount: 'Batches of exactly the sink batch size.',
  EventDrainAttemptCount: 'Events handed to the sink for delivery.',
  EventDrainSuccessCount: 'Events delivered and committed.',
  EventWriteFail: 'Failed deliveries (the batch was rolled back and retried).',
  ChannelReadFail: 'Failed takes from the channel.',
  Open: 'file channel: 1 while the store is open (Flume reports "true").',
  Closed: 'file channel: 1 once the store is closed.',
  Unhealthy: 'file channel: 1 while the store cannot be used (failed write, disk floor).',
  EventPutErrorCount: 'file channel: put commits that failed in the store.',
  EventTakeErrorCount: 'file channel: takes that failed in the store.',
  CheckpointWriteErrorCount: 'file channel: failed writes of checkpoint.json.',
  CheckpointBackupWriteErrorCount: 'file channel: always 0 (no backup checkpoint; kept for Flume dashboards).',
  OversizeLineCount:
    'taildir, spooldir, exec: lines longer than the maximum line length (truncated or skipped by policy).',
  PartialLineCount:
    'taildir: unterminated last lines delivered on their own after the file was rotated away and went idle.',
  TimestampFallbackCount:
    'hdfs: events whose `timestamp` header was missing or not a number; their time escapes used the time they were ' +
    'written (Flume blocks the sink on such an event).',
  TruncationCount: 'taildir: files found truncated (copytruncate or truncation); reading restarted at byte 0.',
  DeadLetterCount:
    'elasticsearch sink: documents Elasticsearch refused for good (mapping errors and other 4xx), written to the ' +
    'dead-letter file; not counted in EventDrainSuccessCount.',
  ItemRetryCount: 'elasticsearch sink: documents sent again because Elasticsearch refused them for now (429, 5xx).',
  NotJsonBodyCount:
    'elasticsearch sink, serializer json: bodies that were not a JSON object, indexed as {"message": body}.',
  TimestampInvalidCount:
    'elasticsearch sink: events whose timestamp header is not a number (the index date uses the time of delivery).',
  KafkaEventSendTimer: 'kafka sink and channel: milliseconds spent waiting for Kafka to acknowledge sends (total).',
  KafkaEventGetTimer: 'kafka source and channel: milliseconds spent waiting for records (total).',
  KafkaCommitTimer: 'kafka source and channel: milliseconds spent committing consumer offsets (total).',
  KafkaEmptyCount: 'kafka source: polls that found no record.',
  RollbackCount: 'kafka sink and channel: transactions rolled back (failed sends, given-back takes).',
  EventRejectedCount:
    'kafka sink: events that can never be sent (bad partition header, illegal topic, record too large), dropped ' +
    'by badEventPolicy = drop (and written to deadLetterFile when set).',
  StartTime: 'When the component started (epoch milliseconds).',
  StopTime: 'When the component stopped (epoch milliseconds; 0 while running).',
  Type: 'SOURCE, CHANNEL or SINK.',
};
