import { test } from 'node:test';
import assert from 'node:assert/strict';
import seq, { SequenceSource } from '../../src/sources/seq.js';
import { runPollable, type PollResult } from '../../src/sources/support/pollable.js';
import { MemoryChannel } from '../../src/channels/memory.js';
import { ChannelCounters, sourceCounters, type SourceCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { ChannelFullError } from '../../src/core/errors.js';
import type { Resolved, SourceContext } from '../../src/contract/index.js';
import type { FlumeEvent } from '../../src/core/event.js';
import { countEmits } from '../../src/runtime/channel-processor.js';
import { waitFor } from '../helpers/wait.js';

type Opts = Resolved<typeof seq.options>;

function options(raw: Record<string, string | number> = {}): Opts {
  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(seq.options))
    out[k] = raw[k] !== undefined ? spec.parse(String(raw[k])) : spec.default;
  return out as Opts;
}

interface Harness {
  ctx: SourceContext;
  counters: SourceCounters;
  batches: FlumeEvent[][];
  bodies(): string[];
}

function recordingCtx(opts: { maxBatchSize?: number; emit?: (b: FlumeEvent[]) => Promise<void> } = {}): Harness {
  const batches: FlumeEvent[][] = [];
  const counters = sourceCounters('r1');
  const ctx: SourceContext = {
    name: 'r1',
    logger: silentLogger(),
    clock: systemClock,
    counters,
    maxBatchSize: opts.maxBatchSize ?? 1000,
    emit: countEmits(
      opts.emit ??
        (async (b) => {
          batches.push(b);
        }),
      counters,
    ),
  };
  return { ctx, counters, batches, bodies: () => batches.flat().map((e) => e.body.toString('latin1')) };
}

function memoryChannel(capacity: number): MemoryChannel {
  return new MemoryChannel(
    { capacity, transactionCapacity: capacity, 'keep-alive': 0, byteCapacity: 0, byteCapacityBufferPercentage: 20 },
    { name: 'c1', logger: silentLogger(), clock: systemClock, agentDir: '.', counters: new ChannelCounters('c1') },
  );
}

const range = (n: number) => Array.from({ length: n }, (_, i) => String(i));

test('seq emits 0..N-1 in batches, then stops', async () => {
  const h = recordingCtx();
  const src = seq.create(options({ batchSize: 10, totalEvents: 25 }), h.ctx) as SequenceSource;
  await src.start();
  await src.finished();
  assert.deepEqual(h.bodies(), range(25));
  assert.deepEqual(
    h.batches.map((b) => b.length),
    [10, 10, 5],
  );
  assert.equal(Object.keys(h.batches[0]![0]!.headers).length, 0);
  assert.equal(src.sequence, 25);
  assert.equal(h.counters.get('EventReceivedCount'), 25);
  assert.equal(h.counters.get('EventAcceptedCount'), 25);
  assert.equal(h.counters.get('AppendBatchReceivedCount'), 3);
  assert.equal(h.counters.get('AppendBatchAcceptedCount'), 3);
  await src.close();
  await src.close();
});

test('seq with batchSize 1 (Flume default) counts events, not batches; batches are capped by maxBatchSize', async () => {
  const h = recordingCtx();
  const src = seq.create(options({ totalEvents: 5 }), h.ctx) as SequenceSource;
  await src.start();
  await src.finished();
  assert.deepEqual(h.bodies(), range(5));
  assert.equal(h.counters.get('EventAcceptedCount'), 5);
  assert.equal(h.counters.get('AppendBatchAcceptedCount'), 0);

  const h2 = recordingCtx({ maxBatchSize: 4 });
  const src2 = seq.create(options({ batchSize: 10, totalEvents: 10 }), h2.ctx) as SequenceSource;
  await src2.start();
  await src2.finished();
  assert.deepEqual(
    h2.batches.map((b) => b.length),
    [4, 4, 2],
  );
  assert.deepEqual(h2.bodies(), range(10));
});

test('seq options: defaults, backoff keys in ms or with a unit, batchSize check against transactionCapacity', () => {
  const o = options();
  assert.equal(o.batchSize, 1);
  assert.equal(o.totalEvents, undefined);
  assert.equal(o.backoffSleepIncrement, 1000);
  assert.equal(o.maxBackoffSleep, 5000);
  assert.equal(options({ backoffSleepIncrement: '2s' }).backoffSleepIncrement, 2000);
  assert.equal(options({ maxBackoffSleep: 250 }).maxBackoffSleep, 250);
  assert.throws(() => seq.options.batchSize.parse('0'));
  assert.equal(seq.batchSize!(options({ batchSize: 7 })), 7);
  assert.ok(seq.classNames!.includes('org.apache.flume.source.SequenceGeneratorSource'));
});

test('seq retries the same numbers on a full channel: 0..49 arrive once, in order', async () => {
  const ch = memoryChannel(5);
  await ch.start();
  const h = recordingCtx({
    maxBatchSize: 5,
    emit: async (batch) => {
      const tx = ch.begin();
      try {
        tx.put(batch);
        await tx.commit();
      } catch (err) {
        await tx.rollback();
        throw err;
      }
    },
  });
  const src = seq.create(
    options({ batchSize: 5, totalEvents: 50, backoffSleepIncrement: 5, maxBackoffSleep: 20 }),
    h.ctx,
  ) as SequenceSource;
  await src.start();
  await waitFor(() => h.counters.get('ChannelWriteFail') >= 2, 5000, 'channel full');
  assert.equal(src.sequence, 5);
  const got: string[] = [];
  while (got.length < 50) {
    await ch.waitForEvents(50);
    const tx = ch.begin();
    for (const e of await tx.take(5)) got.push(e.body.toString('latin1'));
    await tx.commit();
  }
  await src.finished();
  assert.deepEqual(got, range(50));
  assert.equal(h.counters.get('EventAcceptedCount'), 50);
  assert.equal(h.counters.get('EventReceivedCount'), 50);
  await src.close();
  await ch.close();
});

test('seq close() stops an unlimited generator after the in-flight batch', async () => {
  const h = recordingCtx();
  const src = seq.create(options({ batchSize: 100 }), h.ctx) as SequenceSource;
  await src.start();
  await waitFor(() => h.bodies().length >= 1000, 5000, 'some events');
  await src.close();
  const n = h.bodies().length;
  await new Promise((r) => setImmediate(r));
  assert.equal(h.bodies().length, n);
  assert.equal(src.sequence, n);
  assert.deepEqual(h.bodies(), range(n));
});

test('runPollable: linear backoff min(n x increment, max), reset on ready, max after an error, done ends', async () => {
  const script: (PollResult | Error)[] = [
    'backoff',
    'backoff',
    'backoff',
    'ready',
    'backoff',
    new Error('boom'),
    'done',
  ];
  const sleeps: number[] = [];
  let i = 0;
  await runPollable(
    async () => {
      const s = script[i++]!;
      if (s instanceof Error) throw s;
      return s;
    },
    {
      incrementMs: 1000,
      maxMs: 2500,
      signal: new AbortController().signal,
      logger: silentLogger(),
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    },
  );
  assert.equal(i, script.length);
  assert.deepEqual(sleeps, [1000, 2000, 2500, 1000, 2500]);
});

test('runPollable: abort ends the loop after the in-flight poll and wakes a sleep', async () => {
  const ctl = new AbortController();
  let polls = 0;
  const loop = runPollable(
    async () => {
      polls++;
      return 'backoff';
    },
    { incrementMs: 60_000, maxMs: 60_000, signal: ctl.signal, logger: silentLogger() },
  );
  await waitFor(() => polls === 1, 5000, 'first poll');
  ctl.abort();
  await loop;
  assert.equal(polls, 1);
});

test('runPollable: a poll that is always ready does not starve timers', async () => {
  const ctl = new AbortController();
  let polls = 0;
  const loop = runPollable(
    async () => {
      polls++;
      return 'ready';
    },
    { incrementMs: 1, maxMs: 1, signal: ctl.signal, logger: silentLogger() },
  );
  await new Promise((r) => setTimeout(r, 20));
  ctl.abort();
  await loop;
  assert.ok(polls > 0);
});

test('seq: a ChannelFullError is a backoff, other errors go to the runner and the batch is retried', async () => {
  let calls = 0;
  const h = recordingCtx({
    emit: async (b) => {
      calls++;
      if (calls === 1) throw new ChannelFullError('full');
      if (calls === 2) throw new Error('other');
      h.batches.push(b);
    },
  });
  const src = seq.create(
    options({ batchSize: 3, totalEvents: 3, backoffSleepIncrement: 1, maxBackoffSleep: 1 }),
    h.ctx,
  ) as SequenceSource;
  await src.start();
  await src.finished();
  assert.deepEqual(h.bodies(), ['0', '1', '2']);
  assert.equal(h.counters.get('ChannelWriteFail'), 2);
  assert.equal(h.counters.get('EventReceivedCount'), 3);
});
