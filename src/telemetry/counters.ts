/**
 * Flume's counter names, declared once. Values are plain integers bumped per batch; /metrics renders them as
 * strings in Flume's JSON shape.
 */
export const SOURCE_COUNTERS = [
  'EventReceivedCount', 'EventAcceptedCount', 'AppendReceivedCount', 'AppendAcceptedCount',
  'AppendBatchReceivedCount', 'AppendBatchAcceptedCount', 'OpenConnectionCount', 'EventReadFail',
  'ChannelWriteFail', 'GenericProcessingFail',
] as const;
export const CHANNEL_COUNTERS = [
  'ChannelSize', 'ChannelCapacity', 'EventPutAttemptCount', 'EventPutSuccessCount',
  'EventTakeAttemptCount', 'EventTakeSuccessCount',
] as const;
export const SINK_COUNTERS = [
  'ConnectionCreatedCount', 'ConnectionClosedCount', 'ConnectionFailedCount', 'BatchEmptyCount',
  'BatchUnderflowCount', 'BatchCompleteCount', 'EventDrainAttemptCount', 'EventDrainSuccessCount',
  'EventWriteFail', 'ChannelReadFail',
] as const;

export type ComponentType = 'SOURCE' | 'CHANNEL' | 'SINK';

export class CounterGroup<N extends string> {
  readonly values: Record<string, number> = Object.create(null);
  StartTime = 0;
  StopTime = 0;
  constructor(readonly type: ComponentType, readonly name: string, names: readonly N[]) {
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
