/**
 * The running agent: a graph of channels, sinks, sink runners and sources built from a validated Plan.
 *
 * - start(): channels first, then sinks and their runners, then sources. A component that fails to start does
 *   not stop the agent: it is retried with backoff (like Flume's supervisor) and reported by health().
 * - apply(plan): hot reload as a diff. Unchanged components keep running untouched (and keep their counters);
 *   changed, added and removed ones are stopped and started in dependency order. A memory channel whose name and
 *   type are unchanged is resized in place and keeps its events.
 * - stop(): sources stop intake, sink runners deliver until the channels are empty or a timeout, sinks and
 *   channels close.
 */
import type { Plan, PlannedChannel, PlannedGroup, PlannedSink, PlannedSource } from '../config/validate/index.js';
import type { Channel, Lifecycle, Sink, Source, SinkProcessor } from '../contract/index.js';
import {
  ChannelCounters,
  sinkCounters,
  sourceCounters,
  type CounterGroup,
  type SinkCounters,
  type SourceCounters,
} from '../telemetry/counters.js';
import { componentLogger, type Logger } from '../telemetry/logger.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ChannelProcessor } from './channel-processor.js';
import { SinkDriver, SinkRunner, type SinkRunnerOptions } from './sink-runner.js';
import { errorMessage, AgentError } from '../core/errors.js';
import { ExponentialBackoff } from '../core/backoff.js';

export interface AgentOptions {
  clock?: Clock;
  agentDir?: string;
  /** How long stop() lets sinks drain the channels (default 30 s). */
  shutdownTimeoutMs?: number;
  logger?: (component: string, type: string) => Logger;
  sinkRunner?: SinkRunnerOptions;
  /** Backoff for components that fail to start: first retry after `base`, doubling up to `max` (1 s .. 30 s). */
  restartBaseMs?: number;
  restartMaxMs?: number;
  /** A sink group failing longer than this is reported unhealthy (default 30 s). */
  unhealthyAfterMs?: number;
}

export type ComponentState = 'starting' | 'running' | 'failed' | 'stopping' | 'stopped';

/** Start/retry bookkeeping shared by every component. */
class Supervised<T extends Lifecycle> {
  state: ComponentState = 'starting';
  error?: string;
  errorSince?: number;
  attempts = 0;
  private timer?: NodeJS.Timeout;
  private backoff: ExponentialBackoff;
  private startedOnce?: Promise<void>;
  private resolveStarted!: () => void;
  private abandoned = false;

  constructor(
    readonly kind: 'source' | 'channel' | 'sink',
    readonly name: string,
    readonly type: string,
    readonly instance: T,
    private readonly log: Logger,
    baseMs: number,
    maxMs: number,
    private readonly onStarted: () => void,
  ) {
    this.backoff = new ExponentialBackoff(baseMs, maxMs);
    this.startedOnce = new Promise((r) => (this.resolveStarted = r));
  }

  /** Resolves once the component started (never rejects; may never resolve if it never starts). */
  get started(): Promise<void> {
    return this.startedOnce!;
  }

  /** Tries to start; on failure schedules a retry. Resolves after the first attempt. */
  async start(): Promise<void> {
    if (this.abandoned) return;
    this.attempts++;
    try {
      await this.instance.start();
      if (this.abandoned) {
        await this.instance.close().catch(() => undefined);
        return;
      }
      this.state = 'running';
      if (this.error) this.log.info(`${this.kind} started after ${this.attempts} attempts`, { [this.kind]: this.name });
      this.error = undefined;
      this.errorSince = undefined;
      this.onStarted();
      this.resolveStarted();
    } catch (err) {
      if (this.abandoned) return;
      const wait = this.backoff.next();
      this.state = 'failed';
      this.error = errorMessage(err);
      this.errorSince ??= Date.now();
      this.log.error(`${this.kind} failed to start; retrying`, {
        [this.kind]: this.name,
        error: this.error,
        retryInMs: wait,
        attempt: this.attempts,
      });
      this.timer = setTimeout(() => void this.start(), wait);
      this.timer.unref?.();
    }
  }

  /** Stops retrying; closes the instance if it started. */
  async close(): Promise<void> {
    this.abandoned = true;
    clearTimeout(this.timer);
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    if (wasRunning) {
      try {
        await this.instance.close();
      } catch (err) {
        this.log.warn(`${this.kind} did not close cleanly`, { [this.kind]: this.name, error: errorMessage(err) });
      }
    }
    this.state = 'stopped';
  }

  destroy(): void {
    this.abandoned = true;
    clearTimeout(this.timer);
    this.instance.destroy?.();
    this.state = 'stopped';
  }
}

interface RunningChannel {
  planned: PlannedChannel;
  sup: Supervised<Channel>;
  counters: ChannelCounters;
}
interface RunningSink {
  planned: PlannedSink;
  sup: Supervised<Sink>;
  counters: SinkCounters;
  driver: SinkDriver;
}
interface RunningGroup {
  planned: PlannedGroup;
  runner: SinkRunner;
  processor: SinkProcessor;
}
interface RunningSource {
  planned: PlannedSource;
  sup: Supervised<Source>;
  counters: SourceCounters;
  processor: ChannelProcessor;
}

export interface ReloadReport {
  kept: string[];
  started: string[];
  stopped: string[];
  reconfigured: string[];
}

export interface ComponentHealth {
  component: string;
  state: ComponentState | 'failing';
  reason: string;
  since?: number;
}

export type AgentState = 'new' | 'running' | 'stopping' | 'stopped';

export class Agent {
  state: AgentState = 'new';
  plan?: Plan;
  readonly channels = new Map<string, RunningChannel>();
  readonly sinks = new Map<string, RunningSink>();
  readonly groups = new Map<string, RunningGroup>();
  readonly sources = new Map<string, RunningSource>();
  readonly startedAt = Date.now();
  private readonly clock: Clock;
  private readonly agentDir: string;
  private readonly log: (component: string, type: string) => Logger;
  private readonly agentLog: Logger;
  private applying: Promise<unknown> = Promise.resolve();

  constructor(
    plan: Plan,
    private readonly opts: AgentOptions = {},
  ) {
    this.plan = plan;
    this.clock = opts.clock ?? systemClock;
    this.agentDir = opts.agentDir ?? process.cwd();
    this.log = opts.logger ?? componentLogger;
    this.agentLog = this.log(`agent.${plan.agent}`, 'agent');
  }

  get name(): string {
    return this.plan!.agent;
  }

  /** Builds and starts the initial plan. Component start failures are retried in the background, not thrown. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new AgentError('FLUME_ERR_RUNTIME', `agent already ${this.state}`);
    const plan = this.plan!;
    this.plan = undefined;
    await this.apply(plan);
    this.state = 'running';
    this.agentLog.info('Agent started', {
      channels: this.channels.size,
      sinks: this.sinks.size,
      sources: this.sources.size,
    });
  }

  /** Applies a new plan as a diff against the running one (hot reload). Calls are serialized. */
  apply(next: Plan): Promise<ReloadReport> {
    const run = this.applying.then(() => this.doApply(next));
    this.applying = run.catch(() => undefined);
    return run;
  }

  private supervised<T extends Lifecycle>(
    kind: 'source' | 'channel' | 'sink',
    name: string,
    type: string,
    instance: T,
    onStarted: () => void,
  ): Supervised<T> {
    return new Supervised(
      kind,
      name,
      type,
      instance,
      this.agentLog,
      this.opts.restartBaseMs ?? 1000,
      this.opts.restartMaxMs ?? 30_000,
      onStarted,
    );
  }

  private async doApply(next: Plan): Promise<ReloadReport> {
    const prev = this.plan;
    const report: ReloadReport = { kept: [], started: [], stopped: [], reconfigured: [] };
    const now = () => this.clock.nowMs();

    // --- decide what is kept
    const keptChannels = new Set<string>();
    const reconfigure: PlannedChannel[] = [];
    for (const p of next.channels) {
      const cur = this.channels.get(p.name);
      if (!cur || cur.planned.def !== p.def) continue;
      if (cur.planned.signature === p.signature) keptChannels.add(p.name);
      else if (cur.sup.instance.reconfigure && cur.sup.state === 'running') {
        keptChannels.add(p.name);
        reconfigure.push(p);
      }
    }
    const keptSinks = new Set<string>();
    for (const p of next.sinks) {
      const cur = this.sinks.get(p.name);
      if (cur && cur.planned.signature === p.signature && keptChannels.has(p.channel)) keptSinks.add(p.name);
    }
    const keptGroups = new Set<string>();
    for (const g of next.groups) {
      const cur = this.groups.get(g.name);
      if (
        cur &&
        cur.planned.signature === g.signature &&
        cur.planned.implicit === g.implicit &&
        g.sinks.every((s) => keptSinks.has(s)) &&
        cur.planned.sinks.join(' ') === g.sinks.join(' ')
      )
        keptGroups.add(g.name);
    }
    const keptSources = new Set<string>();
    for (const p of next.sources) {
      const cur = this.sources.get(p.name);
      if (cur && cur.planned.signature === p.signature && p.channels.every((c) => keptChannels.has(c)))
        keptSources.add(p.name);
    }

    // --- stop what goes away, sources first
    const closing: Promise<void>[] = [];
    for (const [name, s] of this.sources) {
      if (keptSources.has(name)) continue;
      closing.push(s.sup.close().then(() => s.counters.stopped(now())));
      this.sources.delete(name);
      report.stopped.push(`source.${name}`);
    }
    await Promise.all(closing);
    const drainMs = this.opts.shutdownTimeoutMs ?? 30_000;
    const stopping: Promise<unknown>[] = [];
    for (const [name, g] of this.groups) {
      if (keptGroups.has(name)) continue;
      // a group whose channel goes away drains it first; otherwise the new sinks carry on from the channel
      const drains = g.planned.sinks.some((s) => !keptChannels.has(this.sinks.get(s)?.planned.channel ?? ''));
      stopping.push(drains ? g.runner.drainAndStop(drainMs) : g.runner.stopGracefully());
      this.groups.delete(name);
      if (!g.planned.implicit) report.stopped.push(`sinkgroup.${name}`);
    }
    await Promise.all(stopping);
    closing.length = 0;
    for (const [name, s] of this.sinks) {
      if (keptSinks.has(name)) continue;
      closing.push(s.sup.close().then(() => s.counters.stopped(now())));
      this.sinks.delete(name);
      report.stopped.push(`sink.${name}`);
    }
    await Promise.all(closing);
    closing.length = 0;
    for (const [name, c] of this.channels) {
      if (keptChannels.has(name)) continue;
      const left = c.sup.instance.size();
      if (left !== undefined && left > 0 && prev) {
        this.agentLog.warn('Removing a channel that still holds events', { channel: name, events: left });
      }
      closing.push(c.sup.close().then(() => c.counters.stopped(now())));
      this.channels.delete(name);
      report.stopped.push(`channel.${name}`);
    }
    await Promise.all(closing);

    // --- reconfigure channels in place
    for (const p of reconfigure) {
      const cur = this.channels.get(p.name)!;
      cur.sup.instance.reconfigure!(p.options);
      cur.planned = p;
      report.reconfigured.push(`channel.${p.name}`);
    }

    // --- start what is new: channels, sinks, groups, sources
    for (const p of next.channels) {
      if (keptChannels.has(p.name)) {
        this.channels.get(p.name)!.planned = p;
        if (!reconfigure.includes(p)) report.kept.push(`channel.${p.name}`);
        continue;
      }
      const counters = new ChannelCounters(p.name);
      const instance = p.def.create(p.options, {
        name: p.name,
        logger: this.log(`channel.${p.name}`, p.def.type),
        clock: this.clock,
        agentDir: this.agentDir,
        counters,
      });
      const sup = this.supervised('channel', p.name, p.def.type, instance, () => undefined);
      this.channels.set(p.name, { planned: p, sup, counters });
      await sup.start();
      report.started.push(`channel.${p.name}`);
    }
    for (const p of next.sinks) {
      if (keptSinks.has(p.name)) {
        this.sinks.get(p.name)!.planned = p;
        report.kept.push(`sink.${p.name}`);
        continue;
      }
      const counters = sinkCounters(p.name);
      const instance = p.def.create(p.options, {
        name: p.name,
        logger: this.log(`sink.${p.name}`, p.def.type),
        clock: this.clock,
        counters,
        agentDir: this.agentDir,
      });
      const sup = this.supervised('sink', p.name, p.def.type, instance, () => counters.started(now()));
      const driver = new SinkDriver(p.name, instance, this.channels.get(p.channel)!.sup.instance, counters, () =>
        sup.state === 'running' ? undefined : `sink ${p.name} is not running${sup.error ? `: ${sup.error}` : ''}`,
      );
      this.sinks.set(p.name, { planned: p, sup, counters, driver });
      await sup.start();
      report.started.push(`sink.${p.name}`);
    }
    for (const g of next.groups) {
      if (keptGroups.has(g.name)) {
        this.groups.get(g.name)!.planned = g;
        if (!g.implicit) report.kept.push(`sinkgroup.${g.name}`);
        continue;
      }
      const drivers = g.sinks.map((s) => this.sinks.get(s)!.driver);
      const logger = this.log(g.implicit ? `sink.${g.name}` : `sinkgroup.${g.name}`, g.processor.def.type);
      const processor: SinkProcessor = g.processor.def.create(g.processor.options, {
        group: g.name,
        sinks: drivers,
        logger,
        clock: this.clock,
      });
      const runner = new SinkRunner(g.name, processor, drivers, logger, this.opts.sinkRunner);
      this.groups.set(g.name, { planned: g, runner, processor });
      runner.start();
      if (!g.implicit) report.started.push(`sinkgroup.${g.name}`);
    }
    const sourceStarts: Promise<void>[] = [];
    for (const p of next.sources) {
      if (keptSources.has(p.name)) {
        this.sources.get(p.name)!.planned = p;
        report.kept.push(`source.${p.name}`);
        continue;
      }
      sourceStarts.push(this.startSource(p));
      report.started.push(`source.${p.name}`);
    }
    await Promise.all(sourceStarts);
    this.plan = next;
    return report;
  }

  private async startSource(p: PlannedSource): Promise<void> {
    const logger = this.log(`source.${p.name}`, p.def.type);
    const chans = new Map<string, Channel>();
    for (const c of p.channels) chans.set(c, this.channels.get(c)!.sup.instance);
    const selector = p.selector.def.create(p.selector.options, { source: p.name, channels: p.channels, logger });
    const interceptors = p.interceptors.map((i) => i.def.create(i.options, { name: i.name, logger }));
    const counters = sourceCounters(p.name);
    const processor = new ChannelProcessor(interceptors, selector, chans, logger, counters);
    const instance = p.def.create(p.options, {
      name: p.name,
      logger,
      clock: this.clock,
      counters,
      emit: processor.emit,
      maxBatchSize: processor.maxBatchSize,
      pipelineDepth: processor.pipelineDepth,
    });
    const sup = this.supervised('source', p.name, p.def.type, instance, () => counters.started(this.clock.nowMs()));
    this.sources.set(p.name, { planned: p, sup, counters, processor });
    // a source starts once its channels run (a channel that cannot start yet, e.g. a locked file channel, holds it
    // back)
    const channelsUp = p.channels.map((c) => this.channels.get(c)!.sup);
    if (channelsUp.every((s) => s.state === 'running')) {
      await sup.start();
    } else {
      sup.state = 'starting';
      sup.error = `waiting for channel ${channelsUp
        .filter((s) => s.state !== 'running')
        .map((s) => s.name)
        .join(', ')}`;
      void Promise.all(channelsUp.map((s) => s.started)).then(() => sup.start());
    }
  }

  /**
   * Graceful stop: sources stop intake; sink runners deliver until the channels are empty or `timeoutMs`
   * passes; sinks and channels close. Resolves with the number of events left in the channels that can count them
   * (a remote channel keeps its events where they are).
   */
  async stop(timeoutMs = this.opts.shutdownTimeoutMs ?? 30_000): Promise<number> {
    if (this.state === 'stopped') return 0;
    this.state = 'stopping';
    await this.applying;
    const now = () => this.clock.nowMs();
    await Promise.all([...this.sources.values()].map((s) => s.sup.close().then(() => s.counters.stopped(now()))));
    await Promise.all([...this.groups.values()].map((g) => g.runner.drainAndStop(timeoutMs)));
    await Promise.all([...this.sinks.values()].map((s) => s.sup.close().then(() => s.counters.stopped(now()))));
    let left = 0;
    for (const c of this.channels.values()) {
      left += c.sup.instance.size() ?? 0;
      await c.sup.close();
      c.counters.stopped(now());
    }
    this.state = 'stopped';
    if (left > 0) this.agentLog.warn('Stopped with events still in channels', { events: left });
    return left;
  }

  /** Aborts everything now (second signal). */
  destroy(): void {
    for (const s of this.sources.values()) s.sup.destroy();
    for (const g of this.groups.values()) void g.runner.stop();
    for (const s of this.sinks.values()) s.sup.destroy();
    for (const c of this.channels.values()) c.sup.destroy();
    this.state = 'stopped';
  }

  /** Every counter group, for /metrics. */
  counterGroups(): CounterGroup<string>[] {
    return [
      ...[...this.sources.values()].map((s) => s.counters),
      ...[...this.channels.values()].map((c) => c.counters),
      ...[...this.sinks.values()].map((s) => s.counters),
    ];
  }

  /** Components that are not healthy, with the reason. Empty when all is well. */
  health(): ComponentHealth[] {
    const out: ComponentHealth[] = [];
    const failAfter = this.opts.unhealthyAfterMs ?? 30_000;
    const sup = (prefix: string, s: Supervised<Lifecycle>) => {
      if (s.state !== 'running')
        out.push({ component: `${prefix}.${s.name}`, state: s.state, reason: s.error ?? s.state, since: s.errorSince });
    };
    for (const c of this.channels.values()) {
      sup('channel', c.sup);
      const h = c.sup.instance.health?.();
      if (c.sup.state === 'running' && h && !h.ok)
        out.push({ component: `channel.${c.sup.name}`, state: 'failing', reason: h.reason ?? 'unhealthy' });
    }
    for (const s of this.sinks.values()) sup('sink', s.sup);
    for (const s of this.sources.values()) sup('source', s.sup);
    for (const g of this.groups.values()) {
      const f = g.runner.failure;
      if (f && Date.now() - f.since >= failAfter) {
        out.push({
          component: g.planned.implicit ? `sink.${g.planned.name}` : `sinkgroup.${g.planned.name}`,
          state: 'failing',
          reason: `delivery failing for ${Math.round((Date.now() - f.since) / 1000)} s: ${f.message}`,
          since: f.since,
        });
      }
    }
    return out;
  }

  /** A JSON-friendly picture of the running agent, for the status page and tools. */
  snapshot(): AgentSnapshot {
    const state = (s: Supervised<Lifecycle>) => ({ state: s.state, error: s.error });
    const groupOf = new Map<string, string>();
    for (const g of this.groups.values()) for (const s of g.planned.sinks) groupOf.set(s, g.planned.name);
    return {
      agent: this.name,
      state: this.state,
      startedAt: this.startedAt,
      sources: [...this.sources.values()].map((s) => ({
        name: s.planned.name,
        type: s.planned.def.type,
        channels: s.planned.channels,
        selector: s.planned.selector.def.type,
        interceptors: s.planned.interceptors.map((i) => i.def.type),
        ...state(s.sup),
        counters: s.counters.toFlumeJson(),
      })),
      channels: [...this.channels.values()].map((c) => ({
        name: c.planned.name,
        type: c.planned.def.type,
        size: c.sup.instance.size() ?? null,
        capacity: c.sup.instance.capacity ?? null,
        ...state(c.sup),
        counters: c.counters.toFlumeJson(),
      })),
      sinks: [...this.sinks.values()].map((s) => ({
        name: s.planned.name,
        type: s.planned.def.type,
        channel: s.planned.channel,
        group: groupOf.get(s.planned.name) ?? s.planned.name,
        ...state(s.sup),
        counters: s.counters.toFlumeJson(),
      })),
      groups: [...this.groups.values()].map((g) => ({
        name: g.planned.name,
        processor: g.planned.processor.def.type,
        sinks: g.planned.sinks,
        implicit: g.planned.implicit,
        failure: g.runner.failure,
      })),
      health: this.health(),
    };
  }
}

export interface AgentSnapshot {
  agent: string;
  state: AgentState;
  startedAt: number;
  sources: {
    name: string;
    type: string;
    channels: string[];
    selector: string;
    interceptors: string[];
    state: ComponentState;
    error?: string;
    counters: Record<string, string>;
  }[];
  /** size and capacity are null when the channel cannot know them (remote, e.g. Kafka). */
  channels: {
    name: string;
    type: string;
    size: number | null;
    capacity: number | null;
    state: ComponentState;
    error?: string;
    counters: Record<string, string>;
  }[];
  sinks: {
    name: string;
    type: string;
    channel: string;
    group: string;
    state: ComponentState;
    error?: string;
    counters: Record<string, string>;
  }[];
  groups: {
    name: string;
    processor: string;
    sinks: string[];
    implicit: boolean;
    failure?: { since: number; message: string };
  }[];
  health: ComponentHealth[];
}
