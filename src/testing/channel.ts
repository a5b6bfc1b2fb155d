/** The channel contract for plugin channels (a compact form of test/contract/channels.test.ts). */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Channel, ChannelDef } from '../contract/index.js';
import { makeEvent, type FlumeEvent } from '../core/event.js';
import { systemClock } from '../core/clock.js';
import { AgentError } from '../core/errors.js';
import { ChannelCounters } from '../telemetry/counters.js';
import { silentLogger } from '../telemetry/logger.js';
import { checkDefinition, optionsFor } from './checks.js';

export interface ChannelCheck {
  /** The component's keys; a function receives a fresh temporary directory (removed afterwards). */
  props?: Record<string, string> | ((dir: string) => Record<string, string>);
}

const bodies = (evs: readonly FlumeEvent[]) => evs.map((e) => e.body.toString());
const isCode = (code: string) => (e: unknown) => e instanceof AgentError && e.code === code;

/**
 * The channel contract: a put past transactionCapacity throws FLUME_ERR_CHANNEL_TX_CAPACITY; committed puts are taken
 * in order; a rolled-back take gives the same events back in the same order; a rolled-back put leaves nothing; a take
 * from an empty channel gives []; size() follows (where the channel knows it); with a known capacity up to 1,000, a
 * put past it fails its commit with ChannelFullError (after the channel's keep-alive: keep it short in `props`);
 * close() is idempotent. Use a small capacity and transactionCapacity.
 */
export async function checkChannel(def: ChannelDef<any>, c: ChannelCheck = {}): Promise<void> {
  checkDefinition(def);
  assert.equal(def.kind, 'channel');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `channel-${def.type}-`));
  let ch: Channel | undefined;
  try {
    const props = typeof c.props === 'function' ? c.props(dir) : (c.props ?? {});
    const o = optionsFor(def, props);
    const ctx = {
      name: 'c1',
      logger: silentLogger(),
      clock: systemClock,
      agentDir: dir,
      counters: new ChannelCounters('c1'),
    };
    ch = def.create(o, ctx);
    assert.equal(ch.transactionCapacity, def.transactionCapacity(o), 'transactionCapacity is what the definition says');
    const knowsSize = ch.size() !== undefined;
    const sizeIs = (n: number, what: string) => assert.equal(ch!.size(), knowsSize ? n : undefined, what);
    await ch.start();
    const tx = ch.transactionCapacity;
    let seq = 0;
    const next = (n: number) => Array.from({ length: n }, () => makeEvent(`e${seq++}`, { seq: String(seq) }));

    let t = ch.begin();
    assert.throws(() => t.put(next(tx + 1)), isCode('FLUME_ERR_CHANNEL_TX_CAPACITY'), 'a put past transactionCapacity');
    await t.rollback();

    const n = Math.min(tx, 3);
    const first = next(n);
    t = ch.begin();
    t.put(first);
    await t.commit();
    assert.equal(t.state, 'committed');
    sizeIs(n, 'size() after a committed put');

    t = ch.begin();
    t.put(next(2));
    await t.rollback();
    assert.equal(t.state, 'rolledback');
    sizeIs(n, 'a rolled-back put leaves nothing');

    t = ch.begin();
    assert.deepEqual(bodies(await t.take(n)), bodies(first), 'committed puts are taken in order');
    await t.rollback();
    t = ch.begin();
    assert.deepEqual(bodies(await t.take(n)), bodies(first), 'a rolled-back take returns its events, in order');
    await t.commit();
    sizeIs(0, 'size() after a committed take');

    t = ch.begin();
    assert.deepEqual(await t.take(n), [], 'a take from an empty channel');
    await t.commit();

    const cap = ch.capacity;
    if (cap !== undefined && cap <= 1000) {
      const all: string[] = [];
      for (let left = cap; left > 0; left -= Math.min(tx, left)) {
        const evs = next(Math.min(tx, left));
        all.push(...bodies(evs));
        t = ch.begin();
        t.put(evs);
        await t.commit();
      }
      sizeIs(cap, 'full');
      t = ch.begin();
      t.put(next(1));
      await assert.rejects(t.commit(), isCode('FLUME_ERR_CHANNEL_FULL'), 'a put past capacity fails its commit');
      if (t.state === 'open') await t.rollback();
      const taken: string[] = [];
      while (taken.length < cap) {
        t = ch.begin();
        const got = await t.take(tx);
        await t.commit();
        assert.ok(got.length > 0, 'every committed event can be taken');
        taken.push(...bodies(got));
      }
      assert.deepEqual(taken, all, 'FIFO up to capacity, and the refused event is not there');
    }
    await ch.close();
    await ch.close();
  } finally {
    ch?.destroy?.();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
