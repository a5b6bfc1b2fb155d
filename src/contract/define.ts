/**
 * The component contract. Every component file default-exports one definition made by a define* helper.
 * `create()` is pure: no I/O until `start()`.
 */
import type { FlumeEvent } from '../core/event.js';
import type { Clock } from '../core/clock.js';
import type { OptionTable, Resolved } from './options.js';
import type { Logger } from '../telemetry/logger.js';
import type { ChannelCounters, SinkCounters, SourceCounters } from '../telemetry/counters.js';

export type Kind = 'source' | 'channel' | 'sink' | 'interceptor' | 'selector' | 'processor';
export const KINDS: readonly Kind[] = ['source', 'channel', 'sink', 'interceptor', 'selector', 'processor'];

/** Something a component claims exclusively; two claims of the same resource are a config error. */
export interface Claim {
  resource: 'tcp' | 'udp' | 'dir';
  /** `host:port` for sockets, absolute path for directories. */
  id: string;
  /** Option key that holds it, for the error message. */
  key: string;
}

export interface Problem {
  key?: string;
  message: string;
  hint?: string;
  /** 'warning': reported, the component still runs (e.g. a client property that has no effect). Default: error. */
  severity?: 'error' | 'warning';
}

export interface Lifecycle {
  /** Opens sockets/files/timers. Rejects when the component cannot start. */
  start(): Promise<void>;
  /** Graceful: finish in-flight work, then release everything. Idempotent. */
  close(): Promise<void>;
  /** Abort now. Idempotent. */
  destroy?(): void;
}

// ----------------------------------------------------------------------------------------------- channels

export interface ChannelTransaction {
  readonly state: 'open' | 'committed' | 'rolledback';
  /** Stages events for the put side; throws FLUME_ERR_CHANNEL_TX_CAPACITY past transactionCapacity. */
  put(events: readonly FlumeEvent[]): void;
  /** Takes up to `max` events from the head (fewer, or none, when fewer are queued). */
  take(max: number): FlumeEvent[] | Promise<FlumeEvent[]>;
  /** Makes puts visible (may wait up to keep-alive for space, then ChannelFullError) and forgets takes. */
  commit(): Promise<void>;
  /** Drops staged puts; returns taken events to the head in their original order. */
  rollback(): Promise<void>;
}

/**
 * What a channel knows about its own fill is part of its contract: a local queue (memory, file, spillablememory) has
 * a `capacity` and counts its events in `size()`; a remote one (Kafka: the events and the bound are the broker's)
 * answers `undefined` to both, or to the one it cannot know. The answer is fixed per channel: always a number or
 * always undefined, from construction on (the channel contract suite checks both). The runtime never waits on, nor
 * orders by, what a channel cannot know: a drain ends at the first take that finds nothing, puts to such a channel
 * commit after those with a known shortage of room, and telemetry reports the value as unknown.
 */
export interface Channel extends Lifecycle {
  readonly name: string;
  /** Most events the channel holds; undefined when the bound is remote or absent. */
  readonly capacity: number | undefined;
  readonly transactionCapacity: number;
  readonly counters: ChannelCounters;
  begin(): ChannelTransaction;
  /** Events currently committed and not taken; undefined when they are held remotely. Callable before start(). */
  size(): number | undefined;
  /** Resolves when events may be available, after `ms`, or when `signal` aborts. Never rejects. */
  waitForEvents(ms: number, signal?: AbortSignal): Promise<void>;
  /** Hot reload: applies new options in place, keeping the queued events (memory channel resize). */
  reconfigure?(options: any): void;
  /**
   * Checked before the agent stops or starts anything (first start and hot reload): rejects with the error start()
   * would meet because another process holds what this channel needs (the file channel's directory lock,
   * FLUME_ERR_CHANNEL_LOCKED). At first start the agent then exits; a hot reload is refused and the running
   * pipeline kept. No side effects when it resolves.
   */
  preflight?(): Promise<void>;
  /** Runtime health beyond "started" (e.g. disk floor reached). */
  health?(): { ok: boolean; reason?: string };
  /**
   * Set by channels whose put commit waits on I/O (the file channel's fsync) and that order puts: commits are
   * applied in the order commit() was called, and when one fails with a retriable error every put submitted
   * after it fails too. A producer may then keep this many put transactions in flight (retrying failures in
   * order) without reordering its events. Absent: 1.
   */
  readonly putsInFlight?: number;
}

export interface ChannelContext {
  name: string;
  logger: Logger;
  clock: Clock;
  /** Working directory of the agent, for default data locations. */
  agentDir: string;
  counters: ChannelCounters;
}

// ----------------------------------------------------------------------------------------------- sources

export interface SourceContext {
  name: string;
  logger: Logger;
  clock: Clock;
  counters: SourceCounters;
  /**
   * Puts one batch through interceptors and the selector into the channels; resolves when every required
   * channel committed it. Rejects with ChannelFullError (retriable) when a required channel is full.
   * A batch must not exceed `maxBatchSize`.
   *
   * Every emit is counted here, the source counts none of it (Flume's semantics): EventReceivedCount += the
   * batch's events, EventAcceptedCount += them once committed, ChannelWriteFail += 1 per refused emit. A retry
   * is the same array emitted again: its events are not received twice (and a partial put is resumed).
   */
  emit(batch: FlumeEvent[], opts?: EmitOptions): Promise<void>;
  /** The largest batch `emit` accepts: the smallest transactionCapacity of the source's channels. */
  readonly maxBatchSize: number;
  /**
   * How many `emit`s one producer (a connection, a file) may keep in flight: emits started in order commit in
   * that order, and when one fails every later one still in flight fails too. 1 (or absent) unless every
   * channel the batches reach orders its puts (Channel.putsInFlight).
   */
  readonly pipelineDepth?: number;
}

export interface EmitOptions {
  /**
   * false: a refusal is not counted in ChannelWriteFail because the source counts its losses itself (the UDP
   * sources retry while datagrams queue, and count the datagrams they drop). Default true.
   */
  readonly countRefusal?: boolean;
}

export type Source = Lifecycle;

// ----------------------------------------------------------------------------------------------- sinks

export interface Sink extends Lifecycle {
  /** Most events per take transaction. */
  readonly batchSize: number;
  /**
   * Resolves when the batch is durably handed on; throws a retriable error (rolled back, backed off,
   * retried) or a permanent one (AgentError with retriable=false; also rolled back - nothing is dropped).
   * It may resolve with a report when not every event of the batch counts as drained (see DeliveryReport).
   */
  deliver(batch: FlumeEvent[], signal: AbortSignal): Promise<void | DeliveryReport>;
}

/**
 * What a sink tells the runner about a batch it handled (the batch is committed either way). Without a report,
 * every event counts in EventDrainSuccessCount.
 */
export interface DeliveryReport {
  /**
   * Events of the batch to count in EventDrainSuccessCount: fewer than the batch when some were handled without
   * being delivered (an elasticsearch item written to the dead-letter file, an http response configured with
   * incrementMetrics = false). The sink counts those in its own counters.
   */
  readonly drained: number;
}

export interface SinkContext {
  name: string;
  logger: Logger;
  clock: Clock;
  counters: SinkCounters;
  agentDir: string;
}

// ----------------------------------------------------------------------------------------------- routing

export interface Interceptor {
  /** Returns the events to keep, possibly new objects; never mutates its input. */
  intercept(events: FlumeEvent[]): FlumeEvent[];
  close?(): void;
}
export interface InterceptorContext {
  name: string;
  logger: Logger;
}

export interface Selection {
  readonly required: readonly string[];
  readonly optional: readonly string[];
}
export interface ChannelSelector {
  /** When set, every event goes to this selection (lets the hot path skip per-event calls). */
  readonly fixed?: Selection;
  select(event: FlumeEvent): Selection;
}
export interface SelectorContext {
  source: string;
  /** The channels the source writes to, in configured order. */
  channels: readonly string[];
  logger: Logger;
}

/** One sink as seen by a processor: a single take-deliver-commit cycle against the sink's channel. */
export interface SinkHandle {
  readonly name: string;
  /** 'ready' when events moved, 'backoff' when the channel was empty; throws when delivery failed (rolled back). */
  process(signal: AbortSignal): Promise<'ready' | 'backoff'>;
  /** Waits until the sink's channel may have events. */
  waitForEvents(ms: number, signal?: AbortSignal): Promise<void>;
}
export interface SinkProcessor {
  process(signal: AbortSignal): Promise<'ready' | 'backoff'>;
  waitForEvents(ms: number, signal?: AbortSignal): Promise<void>;
}
export interface ProcessorContext {
  group: string;
  sinks: readonly SinkHandle[];
  logger: Logger;
  clock: Clock;
}

// ----------------------------------------------------------------------------------------------- definitions

interface DefBase<O extends OptionTable> {
  type: string;
  /** Other accepted spellings (matched case-insensitively). */
  aliases?: readonly string[];
  /** Flume fully-qualified class names that map to this component. */
  classNames?: readonly string[];
  summary: string;
  options: O;
  /** Cross-option checks: true/undefined when fine, otherwise problems. */
  check?: (o: Resolved<O>) => true | undefined | string | Problem | Problem[];
  /** Exclusive resources (ports, directories) for the "claimed twice" check. */
  claims?: (o: Resolved<O>) => Claim[];
  /** Set by the plugin loader, never by a definition: the file or package a plugin's definition came from. */
  readonly plugin?: string;
}

export interface ChannelDef<O extends OptionTable = OptionTable> extends DefBase<O> {
  kind: 'channel';
  transactionCapacity: (o: Resolved<O>) => number;
  create: (o: Resolved<O>, ctx: ChannelContext) => Channel;
}
export interface SourceDef<O extends OptionTable = OptionTable> extends DefBase<O> {
  kind: 'source';
  /** Events per put transaction the source is configured for, checked against channel transactionCapacity. */
  batchSize?: (o: Resolved<O>) => number | undefined;
  /** Name of the batch-size key, for error messages. */
  batchSizeKey?: string;
  create: (o: Resolved<O>, ctx: SourceContext) => Source;
}
export interface SinkDef<O extends OptionTable = OptionTable> extends DefBase<O> {
  kind: 'sink';
  batchSize: (o: Resolved<O>) => number;
  batchSizeKey?: string;
  create: (o: Resolved<O>, ctx: SinkContext) => Sink;
}
export interface InterceptorDef<O extends OptionTable = OptionTable> extends DefBase<O> {
  kind: 'interceptor';
  create: (o: Resolved<O>, ctx: InterceptorContext) => Interceptor;
}
export interface SelectorDef<O extends OptionTable = OptionTable> extends DefBase<O> {
  kind: 'selector';
  /** Checks against the source's channel list (e.g. mappings naming unknown channels). */
  checkChannels?: (o: Resolved<O>, channels: readonly string[]) => Problem[];
  create: (o: Resolved<O>, ctx: SelectorContext) => ChannelSelector;
}
export interface ProcessorDef<O extends OptionTable = OptionTable> extends DefBase<O> {
  kind: 'processor';
  checkSinks?: (o: Resolved<O>, sinks: readonly string[]) => Problem[];
  create: (o: Resolved<O>, ctx: ProcessorContext) => SinkProcessor;
}

export type AnyDef =
  ChannelDef<any> | SourceDef<any> | SinkDef<any> | InterceptorDef<any> | SelectorDef<any> | ProcessorDef<any>;

export function defineChannel<O extends OptionTable>(d: Omit<ChannelDef<O>, 'kind'>): ChannelDef<O> {
  return { kind: 'channel', ...d };
}
export function defineSource<O extends OptionTable>(d: Omit<SourceDef<O>, 'kind'>): SourceDef<O> {
  return { kind: 'source', ...d };
}
export function defineSink<O extends OptionTable>(d: Omit<SinkDef<O>, 'kind'>): SinkDef<O> {
  return { kind: 'sink', ...d };
}
export function defineInterceptor<O extends OptionTable>(d: Omit<InterceptorDef<O>, 'kind'>): InterceptorDef<O> {
  return { kind: 'interceptor', ...d };
}
export function defineSelector<O extends OptionTable>(d: Omit<SelectorDef<O>, 'kind'>): SelectorDef<O> {
  return { kind: 'selector', ...d };
}
export function defineProcessor<O extends OptionTable>(d: Omit<ProcessorDef<O>, 'kind'>): ProcessorDef<O> {
  return { kind: 'processor', ...d };
}
