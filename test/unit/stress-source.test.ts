import { test } from 'node:test';
import assert from 'node:assert/strict';
import stress, { StressSource } from '../../src/sources/stress.js';
import { MemoryChannel } from '../../src/channels/memory.js';
import { ChannelCounters, sourceCounters, type SourceCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import type { Resolved, SourceContext } from '../../src/contract/index.js';
import type { FlumeEvent } from '../../src/core/event.js';
import { countEmits } from '../../src/runtime/channel-processor.js';
import { waitFor } from '../helpers/wait.js';

type Opts = Resolved<typeof stress.options>;

function options(raw: Record<string, string | number> = {}): Opts {
  const out: Record<string, unknown> = {};
  for (const [k, spec] of Object.entries(stress.options))
    out[k] = raw[k] !== undefined ? spec.parse(String(raw[k])) : spec.default;
  return out as Opts;
}

function recordingCtx(opts: { maxBatchSize?: number; emit?: (b: FlumeEvent[]) => Promise<void> } = {}) {
  const batches: FlumeEvent[][] = [];
  const counters: SourceCounters = sourceCounters('r1');
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
  return { ctx, counters, batches };
}

test('stress: maxTotalEvents, batch sizes, one shared body of size bytes of 0x7F', async () => {
  const h = recordingCtx();
  const src = stress.create(options({ size: 100, maxTotalEvents: 7, batchSize: 3 }), h.ctx) as StressSource;
  await src.start();
  await src.finished();
  assert.deepEqual(
    h.batches.map((b) => b.length),
    [3, 3, 1],
  );
  const events = h.batches.flat();
  assert.equal(events.length, 7);
  for (const e of events) {
    assert.equal(e.body, src.body);
    assert.equal(Object.keys(e.headers).length, 0);
  }
  assert.equal(src.body.length, 100);
  assert.ok(src.body.every((b) => b === 0x7f));
  assert.deepEqual(src.stats, { total: 7, successful: 7, failed: 0 });
  assert.equal(h.counters.get('EventAcceptedCount'), 7);
  assert.equal(h.counters.get('EventReceivedCount'), 7);
  await src.close();
});

test('stress: defaults as Flume', () => {
  const o = options();
  assert.equal(o.size, 500);
  assert.equal(o.maxTotalEvents, -1);
  assert.equal(o.maxSuccessfulEvents, -1);
  assert.equal(o.batchSize, 1);
  assert.equal(o.maxEventsPerSecond, 0);
  const src = stress.create(o, recordingCtx().ctx) as StressSource;
  assert.equal(src.body.length, 500);
  assert.ok(stress.classNames!.includes('org.apache.flume.source.StressSource'));
});

test('stress: maxSuccessfulEvents stops after that many committed events', async () => {
  const h = recordingCtx();
  const src = stress.create(options({ size: 1, maxSuccessfulEvents: 5, batchSize: 2 }), h.ctx) as StressSource;
  await src.start();
  await src.finished();
  assert.equal(h.batches.flat().length, 5);
});

test('stress: refused batches count as failed (not retried) and toward maxTotalEvents', async () => {
  const ch = new MemoryChannel(
    { capacity: 4, transactionCapacity: 4, 'keep-alive': 0, byteCapacity: 0, byteCapacityBufferPercentage: 20 },
    { name: 'c1', logger: silentLogger(), clock: systemClock, agentDir: '.', counters: new ChannelCounters('c1') },
  );
  await ch.start();
  const h = recordingCtx({
    maxBatchSize: 4,
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
  const src = stress.create(
    options({ size: 10, maxTotalEvents: 10, batchSize: 2, backoffSleepIncrement: 1, maxBackoffSleep: 2 }),
    h.ctx,
  ) as StressSource;
  await src.start();
  await src.finished();
  assert.deepEqual(src.stats, { total: 10, successful: 4, failed: 6 });
  assert.equal(ch.size(), 4);
  assert.equal(h.counters.get('ChannelWriteFail'), 3);
  assert.equal(h.counters.get('EventAcceptedCount'), 4);
  await ch.close();
});

test('stress: close() stops an unlimited source', async () => {
  const h = recordingCtx();
  const src = stress.create(options({ size: 8, batchSize: 50 }), h.ctx) as StressSource;
  await src.start();
  await waitFor(() => h.batches.length >= 10, 5000, 'batches');
  await src.close();
  const n = h.batches.length;
  await new Promise((r) => setImmediate(r));
  assert.equal(h.batches.length, n);
});

test('stress: maxEventsPerSecond spaces the events out', async () => {
  const h = recordingCtx();
  const src = stress.create(options({ size: 1, maxTotalEvents: 20, maxEventsPerSecond: 200 }), h.ctx) as StressSource;
  const t0 = performance.now();
  await src.start();
  await src.finished();
  const elapsed = performance.now() - t0;
  assert.equal(h.batches.flat().length, 20);
  // 19 gaps of 5 ms; a loose lower bound only (never an upper bound: CI machines are slow)
  assert.ok(elapsed >= 70, `took ${elapsed} ms`);
});
