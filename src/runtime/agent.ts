/**
 * Turns a validated plan into running components: channels first, then sink runners, then sources;
 * stopping goes in reverse (sources stop intake, sinks drain the channels until empty or a timeout, channels close).
 */
import type { Plan, PlannedSource } from '../config/validate.js';
import type { Channel, Sink, Source, SinkProcessor } from '../registry/define.js';
import { ChannelCounters, sinkCounters, sourceCounters, type CounterGroup, type SinkCounters, type SourceCounters } from '../telemetry/counters.js';
import { componentLogger, type Logger } from '../telemetry/logger.js';
import { systemClock, type Clock } from '../core/clock.js';
import { ChannelProcessor } from './channel-processor.js';
import { SinkDriver, SinkRunner, type SinkRunnerOptions } from './sink-runner.js';
import { AgentError, errorMessage } from '../core/errors.js';

export interface AgentOptions {
  clock?: Clock;
  agentDir?: string;
  /** How long stop() lets sinks drain the channels (default 30 s). */
  shutdownTimeoutMs?: number;
  logger?: (component: string, type: string) => Logger;
  sinkRunner?: SinkRunnerOptions;
}

interface Running<T, C> {
  name: string;
  type: string;
  instance: T;
  counters: C;
  started: boolean;
}

export type AgentState = 'new' | 'starting' | 'running' | 'stopping' | 'stopped' | 'failed';

export class Agent {
  state: AgentState = 'new';
  readonly channels = new Map<string, Running<Channel, ChannelCounters>>();
  readonly sinks = new Map<string, Running<Sink, SinkCounters> & { driver: SinkDriver }>();
  readonly runners = new Map<string, SinkRunner>();
  readonly sources = new Map<string, Running<Source, SourceCounters> & { processor: ChannelProcessor }>();
  private readonly clock: Clock;
  private readonly agentDir: string;
  private readonly log: (component: string, type: string) => Logger;

  constructor(readonly plan: Plan, private readonly opts: AgentOptions = {}) {
    this.clock = opts.clock ?? systemClock;
    this.agentDir = opts.agentDir ?? process.cwd();
    this.log = opts.logger ?? componentLogger;
  }

  /** Creates every component (pure) and starts them in order. On failure, stops what started and rejects. */
  async start(): Promise<void> {
    if (this.state !== 'new') throw new Error(`agent already ${this.state}`);
    this.state = 'starting';
    const log = this.log(`agent.${this.plan.agent}`, 'agent');
    try {
      for (const p of this.plan.channels) {
        const counters = new ChannelCounters(p.name);
        const instance = p.def.create(p.options, { name: p.name, logger: this.log(`channel.${p.name}`, p.def.type), clock: this.clock, agentDir: this.agentDir, counters });
        const r = { name: p.name, type: p.def.type, instance, counters, started: false };
        this.channels.set(p.name, r);
        await instance.start();
        r.started = true;
      }
      for (const p of this.plan.sinks) {
        const counters = sinkCounters(p.name);
        const instance = p.def.create(p.options, { name: p.name, logger: this.log(`sink.${p.name}`, p.def.type), clock: this.clock, counters, agentDir: this.agentDir });
        const driver = new SinkDriver(p.name, instance, this.channels.get(p.channel)!.instance, counters);
        const r = { name: p.name, type: p.def.type, instance, counters, started: false, driver };
        this.sinks.set(p.name, r);
        await instance.start();
        counters.started(this.clock.nowMs());
        r.started = true;
      }
      for (const g of this.plan.groups) {
        const drivers = g.sinks.map((s) => this.sinks.get(s)!.driver);
        const logger = this.log(g.implicit ? `sink.${g.name}` : `sinkgroup.${g.name}`, g.processor.def.type);
        const processor: SinkProcessor = g.processor.def.create(g.processor.options, { group: g.name, sinks: drivers, logger, clock: this.clock });
        const runner = new SinkRunner(g.name, processor, drivers, logger, this.opts.sinkRunner);
        this.runners.set(g.name, runner);
        runner.start();
      }
      for (const p of this.plan.sources) await this.startSource(p);
      this.state = 'running';
      log.info('Agent started', { channels: this.channels.size, sinks: this.sinks.size, sources: this.sources.size });
    } catch (err) {
      this.state = 'failed';
      log.error('Agent failed to start; stopping the components that did start', { error: errorMessage(err) });
      await this.stop(0).catch(() => {});
      this.state = 'failed';
      throw err;
    }
  }

  private async startSource(p: PlannedSource): Promise<void> {
    const logger = this.log(`source.${p.name}`, p.def.type);
    const chans = new Map<string, Channel>();
    for (const c of p.channels) chans.set(c, this.channels.get(c)!.instance);
    const selector = p.selector.def.create(p.selector.options, { source: p.name, channels: p.channels, logger });
    const interceptors = p.interceptors.map((i) => i.def.create(i.options, { name: i.name, logger }));
    const processor = new ChannelProcessor(interceptors, selector, chans, logger);
    const counters = sourceCounters(p.name);
    const instance = p.def.create(p.options, { name: p.name, logger, clock: this.clock, counters, emit: processor.emit, maxBatchSize: processor.maxBatchSize });
    const r = { name: p.name, type: p.def.type, instance, counters, started: false, processor };
    this.sources.set(p.name, r);
    try {
      await instance.start();
    } catch (err) {
      throw err instanceof AgentError ? err : new AgentError('FLUME_ERR_SOURCE_START', `source ${p.name} could not start: ${errorMessage(err)}`, { cause: err });
    }
    counters.started(this.clock.nowMs());
    r.started = true;
  }

  /**
   * Graceful stop: sources stop intake; sink runners deliver until the channels are empty or `timeoutMs`
   * passes; sinks and channels close. Resolves with the number of events left in channels.
   */
  async stop(timeoutMs = this.opts.shutdownTimeoutMs ?? 30_000): Promise<number> {
    if (this.state === 'stopped') return 0;
    this.state = 'stopping';
    const log = this.log(`agent.${this.plan.agent}`, 'agent');
    const now = () => this.clock.nowMs();
    await Promise.all([...this.sources.values()].map(async (s) => {
      try {
        if (s.started) await s.instance.close();
      } catch (err) {
        log.warn('Source did not close cleanly', { source: s.name, error: errorMessage(err) });
      }
      s.counters.stopped(now());
    }));
    await Promise.all([...this.runners.values()].map((r) => r.drainAndStop(timeoutMs)));
    await Promise.all([...this.sinks.values()].map(async (s) => {
      try {
        if (s.started) await s.instance.close();
      } catch (err) {
        log.warn('Sink did not close cleanly', { sink: s.name, error: errorMessage(err) });
      }
      s.counters.stopped(now());
    }));
    let left = 0;
    for (const c of this.channels.values()) {
      left += c.instance.size();
      try {
        if (c.started) await c.instance.close();
      } catch (err) {
        log.warn('Channel did not close cleanly', { channel: c.name, error: errorMessage(err) });
      }
      c.counters.stopped(now());
    }
    this.state = 'stopped';
    if (left > 0) log.warn('Stopped with events still in channels', { events: left });
    return left;
  }

  /** Aborts everything now (second signal). */
  destroy(): void {
    for (const s of this.sources.values()) s.instance.destroy?.();
    for (const r of this.runners.values()) void r.stop();
    for (const s of this.sinks.values()) s.instance.destroy?.();
    for (const c of this.channels.values()) c.instance.destroy?.();
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
}
