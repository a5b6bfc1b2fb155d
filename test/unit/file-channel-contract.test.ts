/**
 * Channel contract, run against memory, file and spillablememory (memory-first and spilling): put/take/commit/
 * rollback, FIFO, transactionCapacity, capacity + keep-alive, waitForEvents, counters, transaction states.
 */
import { describe, test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import memoryDef from '../../src/channels/memory.js';
import fileDef from '../../src/channels/file/index.js';
import spillDef from '../../src/channels/spillable-memory.js';
import { componentOptions } from '../../src/config/validate.js';
import { formatIssues } from '../../src/config/issues.js';
import type { Channel, ChannelDef } from '../../src/registry/define.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { systemClock } from '../../src/core/clock.js';
import { ChannelCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { AgentError } from '../../src/core/errors.js';

const CAP = 10;
const TX = 4;
const KEEP_ALIVE = '300ms';

interface Variant {
  name: string;
  def: ChannelDef<any>;
  props: (dir: string) => Record<string, string>;
}

const VARIANTS: Variant[] = [
  { name: 'memory', def: memoryDef, props: () => ({ capacity: String(CAP), transactionCapacity: String(TX), 'keep-alive': KEEP_ALIVE }) },
  {
    name: 'file', def: fileDef,
    props: (dir) => ({ capacity: String(CAP), transactionCapacity: String(TX), 'keep-alive': KEEP_ALIVE, dataDirs: path.join(dir, 'data'), checkpointDir: path.join(dir, 'cp'), minimumRequiredSpace: '1m' }),
  },
  {
    name: 'spillablememory (memory first)', def: spillDef,
    props: (dir) => ({ memoryCapacity: '6', overflowCapacity: String(CAP - 6), overflowTimeout: '0', transactionCapacity: String(TX), 'keep-alive': KEEP_ALIVE, dataDirs: path.join(dir, 'data'), checkpointDir: path.join(dir, 'cp'), minimumRequiredSpace: '1m' }),
  },
  {
    name: 'spillablememory (all overflow)', def: spillDef,
    props: (dir) => ({ memoryCapacity: '0', overflowCapacity: String(CAP), transactionCapacity: String(TX), 'keep-alive': KEEP_ALIVE, dataDirs: path.join(dir, 'data'), checkpointDir: path.join(dir, 'cp'), minimumRequiredSpace: '1m' }),
  },
];

const ev = (i: number): FlumeEvent => makeEvent(Buffer.from(`e${i}`), i % 3 === 0 ? { seq: String(i), 'ключ': 'значение' } : undefined);
const bodies = (evs: readonly FlumeEvent[]) => evs.map((e) => e.body.toString());
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

for (const v of VARIANTS) {
  describe(`channel contract: ${v.name}`, () => {
    const open: Channel[] = [];
    const dirs: string[] = [];
    afterEach(async () => {
      for (const c of open.splice(0)) await c.close();
      for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
    });

    async function make(): Promise<Channel> {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fc-contract-'));
      dirs.push(dir);
      const r = componentOptions(v.def, v.props(dir));
      if (!r.options) throw new Error(formatIssues(r.issues));
      const ch = v.def.create(r.options, { name: 'c1', logger: silentLogger(), clock: systemClock, agentDir: dir, counters: new ChannelCounters('c1') });
      await ch.start();
      open.push(ch);
      return ch;
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

    test('committed puts come out in order with headers and bytes intact', async () => {
      const ch = await make();
      await put(ch, [0, 1, 2]);
      await put(ch, [3, 4]);
      assert.equal(ch.size(), 5);
      const got = await takeAll(ch);
      assert.deepEqual(bodies(got), ['e0', 'e1', 'e2', 'e3', 'e4']);
      assert.equal(got[0]!.headers.seq, '0');
      assert.equal(got[0]!.headers['ключ'], 'значение');
      assert.equal(got[3]!.headers.seq, '3');
      assert.deepEqual(Object.keys(got[1]!.headers), []);
      assert.equal(ch.size(), 0);
    });

    test('a rolled-back put leaves nothing behind', async () => {
      const ch = await make();
      const tx = ch.begin();
      tx.put([ev(1), ev(2)]);
      await tx.rollback();
      assert.equal(tx.state, 'rolledback');
      assert.equal(ch.size(), 0);
      assert.deepEqual(await takeAll(ch), []);
    });

    test('rolled-back takes return to the head in their original order', async () => {
      const ch = await make();
      await put(ch, [0, 1, 2, 3]);
      await put(ch, [4, 5]);
      const t1 = ch.begin();
      assert.deepEqual(bodies(await t1.take(3)), ['e0', 'e1', 'e2']);
      assert.equal(ch.size(), 3);
      await t1.rollback();
      assert.equal(ch.size(), 6);
      await put(ch, [6]);
      assert.deepEqual(bodies(await takeAll(ch)), range(0, 7).map((i) => `e${i}`));
    });

    test('two open take transactions: commit one, roll back the other', async () => {
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

    test('FIFO over many transactions of mixed sizes', async () => {
      const ch = await make();
      let next = 0;
      let expect = 0;
      const seen: string[] = [];
      for (let round = 0; round < 30; round++) {
        const n = 1 + (round % TX);
        if (ch.size() + n <= CAP) {
          await put(ch, range(next, next + n));
          next += n;
        }
        const tx = ch.begin();
        const got = await tx.take(1 + ((round * 7) % TX));
        if (round % 5 === 4) {
          await tx.rollback();
        } else {
          await tx.commit();
          seen.push(...bodies(got));
          expect += got.length;
        }
      }
      seen.push(...bodies(await takeAll(ch)));
      assert.deepEqual(seen, range(0, next).map((i) => `e${i}`));
      assert.ok(expect > 0);
    });

    test('transactionCapacity bounds a put and a take', async () => {
      const ch = await make();
      assert.equal(ch.transactionCapacity, TX);
      const tx = ch.begin();
      assert.throws(() => tx.put(range(0, TX + 1).map(ev)), (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_CHANNEL_TX_CAPACITY');
      tx.put(range(0, TX).map(ev));
      assert.throws(() => tx.put([ev(99)]), (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_CHANNEL_TX_CAPACITY');
      await tx.commit();
      await put(ch, [10, 11]);
      const t = ch.begin();
      assert.equal((await t.take(100)).length, TX);
      assert.deepEqual(await t.take(0), []);
      await t.commit();
      assert.equal(ch.size(), 2);
    });

    test('a full channel makes a put wait keep-alive, then fail with ChannelFullError', async () => {
      const ch = await make();
      for (let i = 0; i < CAP; i += 2) await put(ch, [i, i + 1]);
      assert.equal(ch.size(), CAP);
      const t0 = performance.now();
      const tx = ch.begin();
      tx.put([ev(100)]);
      await assert.rejects(tx.commit(), (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_CHANNEL_FULL');
      assert.ok(performance.now() - t0 >= 250, 'waited about keep-alive');
      await tx.rollback();
      assert.equal(ch.size(), CAP);
      assert.deepEqual(bodies(await takeAll(ch)), range(0, CAP).map((i) => `e${i}`));
    });

    test('a put waiting for space succeeds when takes commit within keep-alive', async () => {
      const ch = await make();
      for (let i = 0; i < CAP; i += 2) await put(ch, [i, i + 1]);
      const tx = ch.begin();
      tx.put([ev(100)]);
      const pending = tx.commit();
      const drained = await takeAll(ch);
      await pending;
      assert.equal(drained.length + (await takeAll(ch)).length, CAP + 1);
    });

    test('waitForEvents: resolves on a put, on timeout, and on abort', async () => {
      const ch = await make();
      const t0 = performance.now();
      await ch.waitForEvents(30);
      assert.ok(performance.now() - t0 >= 25);
      const ac = new AbortController();
      const aborted = ch.waitForEvents(60_000, ac.signal);
      ac.abort();
      await aborted;
      const woken = ch.waitForEvents(60_000);
      await put(ch, [1]);
      await woken;
      const t1 = performance.now();
      await ch.waitForEvents(60_000);
      assert.ok(performance.now() - t1 < 1000, 'resolves at once when events are queued');
    });

    test('counters follow Flume: attempts per call, successes at commit, size and capacity', async () => {
      const ch = await make();
      const c = ch.counters;
      assert.equal(c.get('ChannelCapacity'), CAP);
      await put(ch, [0, 1, 2]);
      assert.equal(c.get('EventPutAttemptCount'), 3);
      assert.equal(c.get('EventPutSuccessCount'), 3);
      assert.equal(c.get('ChannelSize'), 3);
      const tx = ch.begin();
      await tx.take(2);
      const attempts = c.get('EventTakeAttemptCount');
      assert.ok(attempts >= 1);
      assert.equal(c.get('EventTakeSuccessCount'), 0);
      await tx.commit();
      assert.equal(c.get('EventTakeSuccessCount'), 2);
      assert.equal(c.get('ChannelSize'), 1);
      const rb = ch.begin();
      rb.put([ev(5)]);
      await rb.rollback();
      assert.equal(c.get('EventPutAttemptCount'), 4);
      assert.equal(c.get('EventPutSuccessCount'), 3);
      const empty = ch.begin();
      await takeAll(ch);
      await empty.commit();
      assert.equal(c.get('ChannelSize'), 0);
      assert.equal(c.toFlumeJson().ChannelFillPercentage, '0.0');
    });

    test('transaction states: nothing after commit or rollback', async () => {
      const ch = await make();
      const tx = ch.begin();
      tx.put([ev(1)]);
      await tx.commit();
      assert.equal(tx.state, 'committed');
      await assert.rejects(tx.commit(), (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_CHANNEL_TX_STATE');
      assert.throws(() => tx.put([ev(2)]), (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_CHANNEL_TX_STATE');
      await assert.rejects(tx.rollback(), (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_CHANNEL_TX_STATE');
      const empty = ch.begin();
      await empty.commit();
      assert.equal(empty.state, 'committed');
      assert.equal(ch.size(), 1);
    });
  });
}
