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
import type { Plan, PlannedChannel, PlannedSource } from '../config/validate/index.js';
import type { Channel, Lifecycle, SinkProcessor } from '../contract/index.js';
import { ChannelCounters, sinkCounters, sourceCounters, type CounterGroup } from '../telemetry/counters.js';
import { componentLogger, type Logger } from '../telemetry/logger.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ChannelProcessor } from './channel-processor.js';
import { SinkDriver, SinkRunner, type SinkRunnerOptions } from './sink-runner.js';
import { AgentError, errorMessage } from '../core/errors.js';
import {
  Supervised,
  type RunningChannel,
  type RunningGroup,
  type RunningSink,
  type RunningSource,
} from './supervised.js';
import {
  healthOf,
  snapshotOf,
  type AgentSnapshot,
  type AgentState,
  type ComponentHealth,
  type RunningGraph,
} from './snapshot.js';

export type { ComponentState } from './supervised.js';
export type { AgentSnapshot, AgentState, ComponentHealth } from './snapshot.js';

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

export interface ReloadReport {
  kept: string[];
  started: string[];
  stopped: string[];
  reconfigured: string[];
}

export class Agent implements RunningGraph {
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
      this.log(`${kind}.${name}`, type),
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

    // --- new channels are created and checked before anything stops: a store another process holds refuses the
    // whole plan (first start: the agent exits; hot reload: the running pipeline stays as it is)
    const created = new Map<string, RunningChannel>();
    for (const p of next.channels) {
      if (keptChannels.has(p.name)) continue;
      const counters = new ChannelCounters(p.name);
      const instance = p.def.create(p.options, {
        name: p.name,
        logger: this.log(`channel.${p.name}`, p.def.type),
        clock: this.clock,
        agentDir: this.agentDir,
        counters,
      });
      const sup = this.supervised('channel', p.name, p.def.type, instance, () => undefined);
      created.set(p.name, { planned: p, sup, counters });
    }
    await preflight([...created.values()].map((c) => c.sup.instance));

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
      const running = created.get(p.name)!;
      this.channels.set(p.name, running);
      await running.sup.start();
      if (!prev && running.sup.state === 'failed' && heldElsewhere(running.sup.lastError)) {
        // at first start, a store another process holds is fatal (as in Filebeat and Vector), not retried forever
        await Promise.all([...this.channels.values()].map((c) => c.sup.close()));
        this.channels.clear();
        throw running.sup.lastError;
      }
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
    this.agentLog.debug('Plan applied', {
      started: report.started.join(','),
      stopped: report.stopped.join(','),
      kept: report.kept.join(','),
      reconfigured: report.reconfigured.join(','),
    });
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
    return healthOf(this, this.opts.unhealthyAfterMs ?? 30_000);
  }

  /** A JSON-friendly picture of the running agent, for the status page and tools. */
  snapshot(): AgentSnapshot {
    return snapshotOf(this);
  }
}

/** An error that says another process holds what a component needs (retrying cannot help while it runs). */
function heldElsewhere(err: unknown): boolean {
  return err instanceof AgentError && err.code === 'FLUME_ERR_CHANNEL_LOCKED';
}

/** Runs the channels' preflight checks; rejects with every problem found. */
async function preflight(channels: Channel[]): Promise<void> {
  const results = await Promise.allSettled(channels.map((c) => c.preflight?.() ?? Promise.resolve()));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failed.length === 0) return;
  if (failed.length === 1) throw failed[0];
  const first = failed[0];
  throw new AgentError(
    first instanceof AgentError ? first.code : 'FLUME_ERR_RUNTIME',
    failed.map(errorMessage).join('; '),
    {
      cause: first,
      retriable: false,
    },
  );
}
