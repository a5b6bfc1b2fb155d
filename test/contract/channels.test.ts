/**
 * Contract every registered channel must honour, run against each of its fixtures (configurations whose code paths
 * differ) and against the remote test double: put/take/commit/rollback, transactionCapacity, capacity with
 * keep-alive, FIFO, rollback restoring order, close with events in flight (and a reopen for a durable one),
 * waitForEvents, counters, transaction states. What a channel cannot know (Channel.size() or capacity undefined,
 * e.g. Kafka) is skipped by that capability, never by type name. A channel type without fixtures fails the suite.
 */
import { describe, test, after, afterEach, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Channel, ChannelDef } from '../../src/contract/index.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { systemClock } from '../../src/core/clock.js';
import { ChannelCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { AgentError } from '../../src/core/errors.js';
import { optionsFor } from '../helpers/agent.js';
import { remoteChannelDef } from '../helpers/remote-channel.js';
import { forEachFixture } from '../helpers/contract.js';
import { KafkaMock, mockUnavailable } from '../helpers/kafka-mock.js';

const CAP = 10;
const TX = 4;
const KEEP_ALIVE = '300ms';

interface Fixture {
  name: string;
  /** Options; the channel keeps its storage under `dir`, a fresh directory per test (reused for a reopen). */
  props(dir: string): Record<string, string>;
  /** Committed events survive close() and a reopen on the same storage. */
  durable: boolean;
  /** Contract cases known to fail for this fixture: test name -> what fails and why (reported as todo). */
  todo?: Record<string, string>;
  /** Why the fixture cannot run on this machine (a peer is missing). */
  skip?: string;
}

const local = { capacity: String(CAP), transactionCapacity: String(TX), 'keep-alive': KEEP_ALIVE };
const store = (dir: string) => ({
  dataDirs: path.join(dir, 'data'),
  checkpointDir: path.join(dir, 'cp'),
  minimumRequiredSpace: '1m',
});
const spill = { transactionCapacity: String(TX), 'keep-alive': KEEP_ALIVE };

// the kafka channel against a real Kafka-protocol broker (librdkafka's mock cluster); topic and group per directory,
// so a reopen on the same directory resumes from the group's committed offsets; one partition keeps the order
const kafka = mockUnavailable ? undefined : await KafkaMock.start();
after(() => kafka?.stop());
const kafkaProps = (dir: string) => ({
  'kafka.bootstrap.servers': kafka?.bootstrap ?? '127.0.0.1:1',
  'kafka.topic': path.basename(dir),
  'kafka.consumer.group.id': path.basename(dir),
  'kafka.consumer.session.timeout.ms': '3000',
  'kafka.consumer.heartbeat.interval.ms': '300',
  'kafka.consumer.fetch.max.wait.ms': '20',
  'kafka.pollTimeout': '500',
  defaultPartitionId: '0',
  transactionCapacity: String(TX),
});

const FIXTURES: Record<string, Fixture[]> = {
  kafka: [{ name: 'kafka (mock broker)', props: kafkaProps, durable: true, skip: mockUnavailable }],
  memory: [{ name: 'memory', props: () => local, durable: false }],
  file: [
    { name: 'file (fsync per transaction)', props: (dir) => ({ ...local, ...store(dir) }), durable: true },
    {
      name: 'file (no fsync per transaction, housekeeping every 20 ms)',
      props: (dir) => ({ ...local, ...store(dir), fsyncPerTransaction: 'false', checkpointInterval: '20' }),
      durable: true,
    },
  ],
  spillablememory: [
    {
      name: 'spillablememory (memory first, then overflow)',
      props: (dir) => ({
        ...spill,
        ...store(dir),
        memoryCapacity: '6',
        overflowCapacity: String(CAP - 6),
        overflowTimeout: '0',
      }),
      durable: false,
    },
    {
      name: 'spillablememory (all overflow)',
      props: (dir) => ({ ...spill, ...store(dir), memoryCapacity: '0', overflowCapacity: String(CAP) }),
      durable: true,
    },
  ],
  [remoteChannelDef.type]: [
    { name: 'remote (test double)', props: (dir) => ({ broker: dir, transactionCapacity: String(TX) }), durable: true },
  ],
};

const ev = (i: number): FlumeEvent =>
  makeEvent(Buffer.from(`e${i}`), i % 3 === 0 ? { seq: String(i), ключ: 'значение' } : undefined);
const bodies = (evs: readonly FlumeEvent[]) => evs.map((e) => e.body.toString());
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);
const names = (a: number, b: number) => range(a, b).map((i) => `e${i}`);
const code = (c: string) => (e: unknown) => e instanceof AgentError && e.code === c;

/** What a channel declares it knows, read before start() (the answer is fixed from construction on). */
interface Knows {
  size: boolean;
  capacity: boolean;
}

function contract(def: ChannelDef<any>, f: Fixture): void {
  describe(`channel contract: ${f.name}`, { skip: f.skip ?? false }, () => {
    const open: Channel[] = [];
    const dirs: string[] = [];
    afterEach(async () => {
      for (const c of open.splice(0)) await c.close();
      for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
    });
    const knows = new WeakMap<Channel, Knows>();

    /** A started channel on a fresh directory, or on `dir` (a reopen). */
    async function make(dir?: string): Promise<Channel> {
      if (!dir) {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), 'channel-contract-'));
        dirs.push(dir);
      }
      const counters = new ChannelCounters('c1');
      const ctx = { name: 'c1', logger: silentLogger(), clock: systemClock, agentDir: dir, counters };
      const ch = def.create(optionsFor(def, f.props(dir)), ctx);
      knows.set(ch, { size: ch.size() !== undefined, capacity: ch.capacity !== undefined });
      await ch.start();
      open.push(ch);
      return ch;
    }
    const knowsOf = (ch: Channel) => knows.get(ch)!;
    /** Asserts the size where the channel can count, and that it keeps saying it cannot where it cannot. */
    function sizeIs(ch: Channel, n: number, what?: string): void {
      assert.equal(ch.size(), knowsOf(ch).size ? n : undefined, what);
    }
    async function put(ch: Channel, ids: number[]): Promise<void> {
      const tx = ch.begin();
      tx.put(ids.map(ev));
      await tx.commit();
    }
    async function takeAll(ch: Channel): Promise<FlumeEvent[]> {
      const out: FlumeEvent[] = [];
      for (;;) {
        const tx = ch.begin();
        const got = await tx.take(TX);
        await tx.commit();
        if (got.length === 0) return out;
        out.push(...got);
      }
    }
    /** node:test options for a case: a todo recorded for this fixture. */
    const opts = (name: string) => (f.todo?.[name] ? { todo: f.todo[name] } : {});
    const it = (name: string, fn: (t: TestContext) => Promise<void>): void => void test(name, opts(name), fn);
    const needsCapacity = (t: TestContext, ch: Channel) => {
      if (knowsOf(ch).capacity) return false;
      t.skip('the channel cannot know its capacity (remote)');
      return true;
    };

    it('declares what it knows of its fill consistently: before start, after start, with events', async () => {
      const ch = await make();
      const k = knowsOf(ch);
      assert.equal(ch.capacity !== undefined, k.capacity, 'capacity after start as before');
      if (k.capacity) assert.ok(Number.isInteger(ch.capacity) && ch.capacity! >= ch.transactionCapacity);
      sizeIs(ch, 0);
      await put(ch, [0, 1]);
      sizeIs(ch, 2);
      const tx = ch.begin();
      await tx.take(1);
      sizeIs(ch, 1, 'taken events leave the size');
      await tx.rollback();
      sizeIs(ch, 2);
    });

    it('committed puts come out in order with headers and bytes intact', async () => {
      const ch = await make();
      await put(ch, [0, 1, 2]);
      await put(ch, [3, 4]);
      const binary = makeEvent(Buffer.from([0x00, 0xff, 0x0a, 0xc3, 0x28]), { '': 'empty key', k: '' });
      const tx = ch.begin();
      tx.put([binary]);
      await tx.commit();
      sizeIs(ch, 6);
      const got = await takeAll(ch);
      assert.deepEqual(bodies(got.slice(0, 5)), names(0, 5));
      assert.equal(got[0]!.headers.seq, '0');
      assert.equal(got[0]!.headers['ключ'], 'значение');
      assert.equal(got[3]!.headers.seq, '3');
      assert.deepEqual(Object.keys(got[1]!.headers), []);
      assert.deepEqual([...got[5]!.body], [0x00, 0xff, 0x0a, 0xc3, 0x28]);
      assert.deepEqual({ ...got[5]!.headers }, { '': 'empty key', k: '' });
      sizeIs(ch, 0);
    });

    it('a rolled-back put leaves nothing behind', async () => {
      const ch = await make();
      const tx = ch.begin();
      tx.put([ev(1), ev(2)]);
      await tx.rollback();
      assert.equal(tx.state, 'rolledback');
      sizeIs(ch, 0);
      assert.deepEqual(await takeAll(ch), []);
    });

    it('rolled-back takes return to the head in their original order', async () => {
      const ch = await make();
      await put(ch, [0, 1, 2, 3]);
      await put(ch, [4, 5]);
      const t1 = ch.begin();
      assert.deepEqual(bodies(await t1.take(3)), ['e0', 'e1', 'e2']);
      sizeIs(ch, 3);
      await t1.rollback();
      sizeIs(ch, 6);
      await put(ch, [6]);
      assert.deepEqual(bodies(await takeAll(ch)), names(0, 7));
    });

    it('two open take transactions: commit one, roll back the other', async () => {
      const ch = await make();
      await put(ch, [0, 1, 2, 3]);
      await put(ch, [4, 5, 6, 7]);
      const a = ch.begin();
      const b = ch.begin();
      assert.deepEqual(bodies(await a.take(2)), ['e0', 'e1']);
      assert.deepEqual(bodies(await b.take(3)), ['e2', 'e3', 'e4']);
      await b.commit();
      await a.rollback();
      assert.deepEqual(bodies(await takeAll(ch)), ['e0', 'e1', 'e5', 'e6', 'e7']);
    });

    it('FIFO over many transactions of mixed sizes', async () => {
      const ch = await make();
      const bounded = knowsOf(ch).capacity;
      let next = 0;
      let queued = 0;
      const seen: string[] = [];
      for (let round = 0; round < 30; round++) {
        const n = 1 + (round % TX);
        if (!bounded || queued + n <= CAP) {
          await put(ch, range(next, next + n));
          next += n;
          queued += n;
        }
        sizeIs(ch, queued);
        const tx = ch.begin();
        const got = await tx.take(1 + ((round * 7) % TX));
        if (round % 5 === 4) {
          await tx.rollback();
        } else {
          await tx.commit();
          seen.push(...bodies(got));
          queued -= got.length;
        }
      }
      assert.ok(seen.length > 0);
      seen.push(...bodies(await takeAll(ch)));
      assert.deepEqual(seen, names(0, next));
    });

    it('transactionCapacity bounds a put and a take', async () => {
      const ch = await make();
      assert.equal(ch.transactionCapacity, TX);
      const tx = ch.begin();
      assert.throws(() => tx.put(range(0, TX + 1).map(ev)), code('FLUME_ERR_CHANNEL_TX_CAPACITY'));
      tx.put(range(0, TX).map(ev));
      assert.throws(() => tx.put([ev(99)]), code('FLUME_ERR_CHANNEL_TX_CAPACITY'));
      await tx.commit();
      await put(ch, [10, 11]);
      const t = ch.begin();
      assert.equal((await t.take(100)).length, TX);
      assert.deepEqual(await t.take(0), []);
      await assert.rejects(async () => t.take(1), code('FLUME_ERR_CHANNEL_TX_CAPACITY'), 'no take past it either');
      await t.commit();
      sizeIs(ch, 2);
      assert.deepEqual(bodies(await takeAll(ch)), ['e10', 'e11']);
    });

    it('a full channel makes a put wait keep-alive, then fail with ChannelFullError', async (t) => {
      const ch = await make();
      if (needsCapacity(t, ch)) return;
      for (let i = 0; i < CAP; i += 2) await put(ch, [i, i + 1]);
      sizeIs(ch, CAP);
      const t0 = performance.now();
      const tx = ch.begin();
      tx.put([ev(100)]);
      await assert.rejects(tx.commit(), code('FLUME_ERR_CHANNEL_FULL'));
      assert.ok(performance.now() - t0 >= 250, 'waited about keep-alive');
      await tx.rollback();
      sizeIs(ch, CAP);
      assert.deepEqual(bodies(await takeAll(ch)), names(0, CAP));
    });

    it('a put waiting for space succeeds when takes commit within keep-alive', async (t) => {
      const ch = await make();
      if (needsCapacity(t, ch)) return;
      for (let i = 0; i < CAP; i += 2) await put(ch, [i, i + 1]);
      const tx = ch.begin();
      tx.put([ev(100)]);
      const pending = tx.commit();
      const drained = await takeAll(ch);
      await pending;
      assert.equal(drained.length + (await takeAll(ch)).length, CAP + 1);
    });

    it('waitForEvents: resolves on timeout, on abort, on a commit (not a staged put), at once if queued', async () => {
      const ch = await make();
      const t0 = performance.now();
      await ch.waitForEvents(30);
      assert.ok(performance.now() - t0 >= 25);
      const ac = new AbortController();
      const aborted = ch.waitForEvents(60_000, ac.signal);
      ac.abort();
      await aborted;
      let woke = false;
      const woken = ch.waitForEvents(60_000).then(() => (woke = true));
      const tx = ch.begin();
      tx.put([ev(1)]);
      await new Promise((r) => setImmediate(r));
      assert.equal(woke, false, 'a put that is not committed wakes nobody');
      await tx.commit();
      await woken;
      const t1 = performance.now();
      await ch.waitForEvents(60_000);
      assert.ok(performance.now() - t1 < 1000, 'resolves at once when events are queued');
    });

    it('counters follow Flume: attempts per call, successes at commit, size and capacity where known', async () => {
      const ch = await make();
      const k = knowsOf(ch);
      const c = ch.counters;
      // what the channel cannot know reads 0, as Flume's Kafka channel reports it
      const sizeCounter = (n: number) => assert.equal(c.get('ChannelSize'), k.size ? n : 0);
      assert.equal(c.get('ChannelCapacity'), k.capacity ? CAP : 0);
      await put(ch, [0, 1, 2]);
      assert.equal(c.get('EventPutAttemptCount'), 3);
      assert.equal(c.get('EventPutSuccessCount'), 3);
      sizeCounter(3);
      const tx = ch.begin();
      await tx.take(2);
      const attempts = c.get('EventTakeAttemptCount');
      assert.ok(attempts >= 1);
      assert.equal(c.get('EventTakeSuccessCount'), 0);
      await tx.commit();
      assert.equal(c.get('EventTakeSuccessCount'), 2);
      sizeCounter(1);
      const rb = ch.begin();
      rb.put([ev(5)]);
      await rb.rollback();
      assert.equal(c.get('EventPutAttemptCount'), 4);
      assert.equal(c.get('EventPutSuccessCount'), 3);
      const empty = ch.begin();
      await takeAll(ch);
      await empty.commit();
      sizeCounter(0);
      assert.equal(c.get('EventTakeSuccessCount'), 3);
      assert.ok(c.get('EventTakeAttemptCount') > attempts, 'empty takes count as attempts');
      assert.equal(c.toFlumeJson().ChannelFillPercentage, k.capacity && k.size ? '0.0' : '1.7976931348623157E308');
    });

    it('transaction states: nothing after commit or rollback', async () => {
      const ch = await make();
      const tx = ch.begin();
      tx.put([ev(1)]);
      await tx.commit();
      assert.equal(tx.state, 'committed');
      await assert.rejects(tx.commit(), code('FLUME_ERR_CHANNEL_TX_STATE'));
      assert.throws(() => tx.put([ev(2)]), code('FLUME_ERR_CHANNEL_TX_STATE'));
      await assert.rejects(tx.rollback(), code('FLUME_ERR_CHANNEL_TX_STATE'));
      const empty = ch.begin();
      await empty.commit();
      assert.equal(empty.state, 'committed');
      sizeIs(ch, 1);
    });

    const reopen = f.durable ? ' after a reopen' : '';
    it(`close with events in flight: staged puts are dropped, open takes come back${reopen}`, async () => {
      const ch = await make();
      const dir = dirs[dirs.length - 1]!;
      await put(ch, [0, 1, 2, 3]);
      await put(ch, [4, 5]);
      const taking = ch.begin();
      assert.deepEqual(bodies(await taking.take(2)), ['e0', 'e1']);
      const putting = ch.begin();
      putting.put([ev(100)]);
      await ch.close();
      await ch.close();
      await assert.rejects(putting.commit(), code('FLUME_ERR_CHANNEL_CLOSED'));
      if (!f.durable) return;
      const again = await make(dir);
      sizeIs(again, 6);
      assert.deepEqual(bodies(await takeAll(again)), names(0, 6));
      await again.close();
      const third = await make(dir);
      assert.deepEqual(await takeAll(third), [], 'committed takes stay taken across a reopen');
    });
  });
}

const file = 'test/contract/channels.test.ts';
forEachFixture<ChannelDef<any>, Fixture>('channel', FIXTURES, file, contract, [remoteChannelDef]);
