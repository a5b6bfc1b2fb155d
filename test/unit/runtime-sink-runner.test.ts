import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryChannel } from '../../src/channels/memory.js';
import { SinkDriver, SinkRunner } from '../../src/runtime/sink-runner.js';
import { ChannelProcessor, putAll } from '../../src/runtime/channel-processor.js';
import { ChannelCounters, sinkCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { AgentError, ChannelFullError } from '../../src/core/errors.js';
import type { Sink } from '../../src/contract/index.js';
import { waitFor } from '../helpers/wait.js';

function channel(capacity = 100, tx = 10, keepAliveMs = 0): MemoryChannel {
  const ch = new MemoryChannel(
    { capacity, transactionCapacity: tx, 'keep-alive': keepAliveMs, byteCapacity: 0, byteCapacityBufferPercentage: 20 },
    { name: 'c1', logger: silentLogger(), clock: systemClock, agentDir: '.', counters: new ChannelCounters('c1') },
  );
  void ch.start();
  return ch;
}

/** Test double: a sink that fails while `failing` is true and records what it delivered. */
class FlakySink implements Sink {
  readonly batchSize = 4;
  failing = true;
  attempts = 0;
  delivered: string[] = [];
  async start() {}
  async close() {}
  async deliver(batch: FlumeEvent[]) {
    this.attempts++;
    if (this.failing) throw new AgentError('FLUME_ERR_SINK_DELIVERY', 'downstream down');
    this.delivered.push(...batch.map((e) => e.body.toString()));
  }
}

const ev = (n: number) => Array.from({ length: n }, (_, i) => makeEvent(`e${i}`));

test('a failed delivery rolls the batch back; it is retried in order once the sink recovers', async () => {
  const ch = channel();
  await putAll(ch, ev(10));
  const sink = new FlakySink();
  const counters = sinkCounters('k1');
  const driver = new SinkDriver('k1', sink, ch, counters);
  await assert.rejects(driver.process(new AbortController().signal), /downstream down/);
  assert.equal(ch.size(), 10, 'rolled back into the channel');
  assert.equal(counters.get('EventWriteFail'), 1);
  const runner = new SinkRunner(
    'k1',
    { process: (s) => driver.process(s), waitForEvents: (ms, s) => driver.waitForEvents(ms, s) },
    [driver],
    silentLogger(),
    { errorBaseMs: 5, errorMaxMs: 20, emptyIncrementMs: 10, emptyMaxMs: 20 },
  );
  runner.start();
  await waitFor(() => sink.attempts >= 3, 2000, 'retries');
  assert.ok(runner.failure, 'the runner reports the failure');
  sink.failing = false;
  await waitFor(() => sink.delivered.length === 10, 2000, 'delivery after recovery');
  assert.deepEqual(
    sink.delivered,
    ev(10).map((e) => e.body.toString()),
  );
  assert.equal(counters.get('EventDrainSuccessCount'), 10);
  assert.equal(ch.size(), 0);
  await runner.stop();
});

test('drainAndStop delivers what is queued, then stops; it gives up after the timeout when the sink is down', async () => {
  const ch = channel(1000, 10);
  for (let i = 0; i < 10; i++) await putAll(ch, ev(10));
  const sink = new FlakySink();
  sink.failing = false;
  const driver = new SinkDriver('k1', sink, ch, sinkCounters('k1'));
  const runner = new SinkRunner(
    'k1',
    { process: (s) => driver.process(s), waitForEvents: (ms, s) => driver.waitForEvents(ms, s) },
    [driver],
    silentLogger(),
  );
  runner.start();
  assert.equal(await runner.drainAndStop(5000), true);
  assert.equal(sink.delivered.length, 100);

  await putAll(ch, ev(5));
  const down = new FlakySink();
  const d2 = new SinkDriver('k2', down, ch, sinkCounters('k2'));
  const r2 = new SinkRunner(
    'k2',
    { process: (s) => d2.process(s), waitForEvents: (ms, s) => d2.waitForEvents(ms, s) },
    [d2],
    silentLogger(),
    { errorBaseMs: 5, errorMaxMs: 10 },
  );
  r2.start();
  const t0 = Date.now();
  assert.equal(await r2.drainAndStop(200), false);
  assert.ok(Date.now() - t0 < 2000);
  assert.equal(ch.size(), 5, 'undelivered events stay in the channel');
});

test('memory channel: commit waits keep-alive for space, then fails with ChannelFullError; rollback restores order', async () => {
  const ch = channel(5, 5, 50);
  await putAll(ch, ev(5));
  const t0 = performance.now();
  await assert.rejects(putAll(ch, ev(1)), ChannelFullError);
  assert.ok(performance.now() - t0 >= 45);
  // space freed while a put waits lets it through
  const waiting = putAll(ch, [makeEvent('late')]);
  const tx = ch.begin();
  const taken = await tx.take(2);
  await tx.commit();
  await waiting;
  assert.deepEqual(
    taken.map((e) => e.body.toString()),
    ['e0', 'e1'],
  );
  const tx2 = ch.begin();
  assert.deepEqual(
    (await tx2.take(3)).map((e) => e.body.toString()),
    ['e2', 'e3', 'e4'],
  );
  await tx2.rollback();
  const tx3 = ch.begin();
  assert.deepEqual(
    (await tx3.take(5)).map((e) => e.body.toString()),
    ['e2', 'e3', 'e4', 'late'],
  );
  await tx3.commit();
  assert.equal(ch.counters.get('ChannelSize'), 0);
});

test('a transaction larger than transactionCapacity is refused; a used transaction cannot be reused', async () => {
  const ch = channel(100, 3);
  const tx = ch.begin();
  assert.throws(
    () => tx.put(ev(4)),
    (e: AgentError) => e.code === 'FLUME_ERR_CHANNEL_TX_CAPACITY',
  );
  await tx.rollback();
  assert.throws(
    () => tx.put(ev(1)),
    (e: AgentError) => e.code === 'FLUME_ERR_CHANNEL_TX_STATE',
  );
});

test('byteCapacity bounds body bytes', async () => {
  const ch = new MemoryChannel(
    { capacity: 100, transactionCapacity: 10, 'keep-alive': 0, byteCapacity: 1000, byteCapacityBufferPercentage: 0 },
    { name: 'c1', logger: silentLogger(), clock: systemClock, agentDir: '.', counters: new ChannelCounters('c1') },
  );
  await ch.start();
  await putAll(ch, [makeEvent(Buffer.alloc(600))]);
  await assert.rejects(putAll(ch, [makeEvent(Buffer.alloc(600))]), /byteCapacity/);
  await putAll(ch, [makeEvent(Buffer.alloc(400))]);
});

test('channel processor: a required channel failure rejects; an optional failure is counted, not fatal', async () => {
  const c1 = channel(100, 10);
  const full = channel(1, 1);
  const proc = new ChannelProcessor(
    [],
    { fixed: { required: ['c1'], optional: ['c2'] }, select: () => ({ required: ['c1'], optional: ['c2'] }) },
    new Map([
      ['c1', c1],
      ['c2', full],
    ]),
    silentLogger(),
  );
  assert.equal(proc.maxBatchSize, 1);
  await proc.emit([makeEvent('a')]);
  await proc.emit([makeEvent('b')]);
  assert.equal(c1.size(), 2);
  assert.equal(proc.optionalFailures, 1);
  const req = new ChannelProcessor(
    [],
    { fixed: { required: ['c2'], optional: [] }, select: () => ({ required: ['c2'], optional: [] }) },
    new Map([['c2', full]]),
    silentLogger(),
  );
  await assert.rejects(req.emit([makeEvent('c')]), ChannelFullError);
});

test('memory channel pacing: a producer far ahead of an active sink waits briefly; a stalled sink lets the channel fill', async () => {
  const ch = channel(5000, 10, 0); // soft limit = max(10 x 10, 1000) = 1000
  for (let i = 0; i < 120; i++) await putAll(ch, ev(10)); // no takes yet: fills past the soft limit at once
  assert.equal(ch.size(), 1200);
  const tx = ch.begin();
  await tx.take(10);
  await tx.commit(); // the sink is now "active"
  const t0 = performance.now();
  await putAll(ch, ev(10)); // above the soft limit while a sink drains: paced, never refused
  const waited = performance.now() - t0;
  assert.ok(waited >= 40 && waited < 1000, `paced for ${waited} ms`);
  assert.equal(ch.size(), 1200);
});
