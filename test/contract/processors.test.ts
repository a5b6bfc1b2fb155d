/**
 * Contract every registered sink processor must honour, for each of its fixtures. Its SinkHandles are real
 * SinkDrivers (take, deliver, commit or roll back) over one memory channel, driving fake sinks that fail on command:
 * every batch is delivered exactly once and in order when the sinks succeed; a failed delivery is rolled back and
 * delivered later, never lost nor duplicated, whatever fails; an empty channel is 'backoff'. Each fixture also
 * states its own behaviour (failover moves on and back after the penalty, load_balance spreads round robin or at
 * random and backs failed sinks off when configured). A processor type without fixtures fails the suite.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Channel, ProcessorDef, Sink, SinkProcessor } from '../../src/contract/index.js';
import type { Clock } from '../../src/core/clock.js';
import { AgentError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { optionsFor } from '../helpers/agent.js';
import { forEachFixture } from '../helpers/contract.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { systemClock } from '../../src/core/clock.js';
import { ChannelCounters, sinkCounters } from '../../src/telemetry/counters.js';
import { SinkDriver } from '../../src/runtime/sink-runner.js';
import { putAll } from '../../src/runtime/channel-processor.js';
import memoryDef from '../../src/channels/memory.js';

class ManualClock implements Clock {
  t = 1_000_000;
  monotonicMs(): number {
    return this.t;
  }
  nowMs(): number {
    return this.t;
  }
}

/** What reached the sinks: event numbers in delivery order, and which sink delivered each batch. */
class Delivered {
  events: number[] = [];
  by: string[] = [];
}

/** A sink that delivers, or fails the n-th delivery when told to; a SinkDriver owns its transaction. */
class FakeSink implements Sink {
  readonly batchSize = BATCH;
  /** Whether the n-th delivery (1-based) fails. */
  fails: (call: number) => boolean = () => false;
  calls = 0;
  failures = 0;
  constructor(
    readonly name: string,
    private readonly out: Delivered,
  ) {}
  async start(): Promise<void> {}
  async close(): Promise<void> {}
  async deliver(batch: FlumeEvent[]): Promise<void> {
    this.calls++;
    if (this.fails(this.calls)) {
      this.failures++;
      throw new AgentError('FLUME_ERR_SINK_DELIVERY', `${this.name} failed`);
    }
    this.out.events.push(...batch.map((e) => Number(e.body.toString())));
    this.out.by.push(this.name);
  }
}

interface World {
  proc: SinkProcessor;
  sinks: Record<string, FakeSink>;
  /** The group's channel, shared by its sinks. */
  ch: Channel;
  /** Puts n batches of BATCH numbered events. */
  fill(n: number): Promise<void>;
  out: Delivered;
  clock: ManualClock;
}

interface Fixture {
  props: Record<string, string>;
  sinks: string[];
  /** What this configuration does beyond the common contract. */
  behaviour: Record<string, (w: World) => Promise<void>>;
}

const signal = new AbortController().signal;
const BATCH = 3;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const K3 = ['k1', 'k2', 'k3'];

/** Calls process() n times, each expected to deliver. */
async function deliver(w: World, n: number): Promise<void> {
  for (let i = 0; i < n; i++) assert.equal(await w.proc.process(signal), 'ready');
}

const FIXTURES: Record<string, Fixture[]> = {
  default: [
    {
      props: {},
      sinks: ['k1'],
      behaviour: {
        "drives its one sink; a failure is the runner's to back off": async (w) => {
          await w.fill(2);
          w.sinks.k1!.fails = (call) => call === 1;
          await assert.rejects(w.proc.process(signal), AgentError);
          await deliver(w, 2);
          assert.deepEqual(w.out.by, ['k1', 'k1']);
        },
      },
    },
  ],
  failover: [
    {
      props: { 'priority.k1': '10', 'priority.k2': '5', 'priority.k3': '1', maxpenalty: '4000' },
      sinks: K3,
      behaviour: {
        'moves on to the next sink by priority in the same call, and back after the penalty': async (w) => {
          await w.fill(5);
          await deliver(w, 1);
          let k1Down = true;
          w.sinks.k1!.fails = () => k1Down;
          await deliver(w, 1);
          const k1Calls = w.sinks.k1!.calls;
          await deliver(w, 1);
          assert.equal(w.sinks.k1!.calls, k1Calls, 'a sink cooling down is not tried');
          k1Down = false;
          w.clock.t += 999;
          await deliver(w, 1);
          assert.equal(w.out.by.at(-1), 'k2', 'not before the penalty (1 s) passed');
          w.clock.t += 1;
          await deliver(w, 1);
          assert.deepEqual(w.out.by, ['k1', 'k2', 'k2', 'k2', 'k1']);
        },
      },
    },
  ],
  load_balance: [
    {
      props: {},
      sinks: K3,
      behaviour: {
        'spreads batches round robin': async (w) => {
          await w.fill(7);
          await deliver(w, 7);
          assert.deepEqual(w.out.by, ['k1', 'k2', 'k3', 'k1', 'k2', 'k3', 'k1']);
        },
        'without backoff a failed sink is tried again at once': async (w) => {
          await w.fill(4);
          w.sinks.k1!.fails = () => true;
          await deliver(w, 4);
          assert.equal(w.sinks.k1!.calls, w.sinks.k1!.failures);
          assert.ok(w.sinks.k1!.calls >= 2, 'k1 keeps being tried');
          assert.ok(!w.out.by.includes('k1'));
        },
      },
    },
    {
      props: { selector: 'random' },
      sinks: K3,
      behaviour: {
        'spreads batches at random over every sink': async (w) => {
          await w.fill(150);
          await deliver(w, 150);
          for (const k of K3) assert.ok(w.out.by.includes(k), `${k} delivered some batches`);
        },
      },
    },
    {
      props: { backoff: 'true', 'selector.maxTimeOut': '4000' },
      sinks: K3,
      behaviour: {
        'backs a failed sink off for 1 s, doubling up to selector.maxTimeOut': async (w) => {
          await w.fill(40);
          const k1 = w.sinks.k1!;
          k1.fails = () => true;
          const triedAfter = async (ms: number) => {
            const before = k1.calls;
            w.clock.t += ms;
            await deliver(w, 3);
            return k1.calls > before;
          };
          await deliver(w, 1);
          assert.equal(k1.calls, 1);
          assert.equal(await triedAfter(0), false, 'excluded right after the failure');
          assert.equal(await triedAfter(999), false, 'still excluded before 1 s');
          assert.equal(await triedAfter(1), true, 'tried again after 1 s, fails again');
          assert.equal(await triedAfter(1999), false, 'excluded for 2 s now');
          assert.equal(await triedAfter(1), true);
          assert.equal(await triedAfter(3999), false, 'excluded for 4 s now');
          assert.equal(await triedAfter(1), true);
          assert.equal(await triedAfter(3999), false, 'capped at selector.maxTimeOut (4 s, not 8 s)');
          k1.fails = () => false;
          assert.equal(await triedAfter(1), true, 'delivers again');
          assert.ok(!w.out.by.slice(0, -3).includes('k1'));
        },
      },
    },
    {
      props: { selector: 'random', backoff: 'true' },
      sinks: K3,
      behaviour: {
        'random with backoff skips the failed sink': async (w) => {
          await w.fill(60);
          w.sinks.k2!.fails = () => true;
          await deliver(w, 60);
          assert.equal(w.sinks.k2!.calls, 1, 'tried once, then backed off');
          assert.ok(w.out.by.includes('k1') && w.out.by.includes('k3'));
        },
      },
    },
  ],
};

const open: Channel[] = [];
after(async () => {
  for (const c of open) await c.close();
});

async function world(def: ProcessorDef<any>, f: Fixture): Promise<World> {
  const counters = new ChannelCounters('c1');
  const ctx = { name: 'c1', logger: silentLogger(), clock: systemClock, agentDir: '.', counters };
  const ch = memoryDef.create(optionsFor(memoryDef, { capacity: '10000', transactionCapacity: '100' }), ctx);
  await ch.start();
  open.push(ch);
  let next = 0;
  const fill = async (n: number) => {
    for (let b = 0; b < n; b++)
      await putAll(
        ch,
        range(BATCH).map(() => makeEvent(String(next++))),
      );
  };
  const clock = new ManualClock();
  const out = new Delivered();
  const sinks = f.sinks.map((n) => new FakeSink(n, out));
  const drivers = sinks.map((s) => new SinkDriver(s.name, s, ch, sinkCounters(s.name)));
  const proc = def.create(optionsFor(def, f.props), { group: 'g1', sinks: drivers, logger: silentLogger(), clock });
  return { proc, sinks: Object.fromEntries(sinks.map((s) => [s.name, s])), ch, fill, out, clock };
}

forEachFixture<ProcessorDef, Fixture>('processor', FIXTURES, 'test/contract/processors.test.ts', (def, f) => {
  const label = `processor ${def.type} ${JSON.stringify(f.props)}`;

  test(`${label}: is a valid group of ${f.sinks.join(' ')}`, () => {
    assert.deepEqual(def.checkSinks?.(optionsFor(def, f.props), f.sinks) ?? [], []);
  });

  test(`${label}: every batch is delivered once, in order, when the sinks succeed; empty is backoff`, async () => {
    const w = await world(def, f);
    assert.equal(await w.proc.process(signal), 'backoff');
    await w.fill(30);
    await deliver(w, 30);
    assert.equal(await w.proc.process(signal), 'backoff');
    assert.deepEqual(w.out.events, range(30 * BATCH));
    await w.proc.waitForEvents(10, signal);
  });

  test(`${label}: a failed delivery is never lost nor duplicated`, async () => {
    const w = await world(def, f);
    // every sink fails now and then, at different rhythms; the clock moves on so penalties expire
    for (const [i, s] of Object.values(w.sinks).entries()) s.fails = (call) => call % (i + 2) === 0;
    await w.fill(50);
    let errors = 0;
    for (let i = 0; i < 1000 && w.out.events.length < 50 * BATCH; i++) {
      w.clock.t += 700;
      await w.proc.process(signal).catch(() => errors++);
    }
    assert.equal(await w.proc.process(signal), 'backoff', 'nothing left behind');
    assert.deepEqual(w.out.events, range(50 * BATCH), 'every event delivered exactly once, in order');
    assert.ok(Object.values(w.sinks).reduce((n, s) => n + s.failures, 0) > 0, 'deliveries did fail');
    assert.ok(errors <= Object.values(w.sinks).reduce((n, s) => n + s.failures, 0));
  });

  for (const [name, fn] of Object.entries(f.behaviour)) {
    test(`${label}: ${name}`, async () => fn(await world(def, f)));
  }
});
