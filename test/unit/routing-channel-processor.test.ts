import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChannelProcessor, countEmits } from '../../src/runtime/channel-processor.js';
import memory from '../../src/channels/memory.js';
import replicating from '../../src/selectors/replicating.js';
import multiplexing, { MultiplexingSelector } from '../../src/selectors/multiplexing.js';
import loadBalancing from '../../src/selectors/load-balancing.js';
import staticIc from '../../src/interceptors/static.js';
import regexFilter from '../../src/interceptors/regex-filter.js';
import { ChannelCounters, sourceCounters } from '../../src/telemetry/counters.js';
import { systemClock } from '../../src/core/clock.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { AgentError, ChannelFullError } from '../../src/core/errors.js';
import { optionsFor } from '../helpers/agent.js';
import type {
  Channel,
  ChannelSelector,
  ChannelTransaction,
  Interceptor,
  SelectorDef,
} from '../../src/contract/index.js';

async function mem(name: string, capacity = 100, tx = Math.min(100, capacity)): Promise<Channel> {
  const ch = memory.create(
    optionsFor(memory, { capacity: String(capacity), transactionCapacity: String(tx), 'keep-alive': '0' }),
    {
      name,
      logger: silentLogger(),
      clock: systemClock,
      agentDir: '.',
      counters: new ChannelCounters(name),
    },
  );
  await ch.start();
  return ch;
}

/** A channel whose next `failCommits` commits throw (after the put was staged), as a failing disk would. */
class FlakyChannel implements Channel {
  failCommits = 0;
  constructor(private readonly inner: Channel) {}
  get name() {
    return this.inner.name;
  }
  get capacity() {
    return this.inner.capacity;
  }
  get transactionCapacity() {
    return this.inner.transactionCapacity;
  }
  get counters() {
    return this.inner.counters;
  }
  start() {
    return this.inner.start();
  }
  close() {
    return this.inner.close();
  }
  size() {
    return this.inner.size();
  }
  waitForEvents(ms: number, s?: AbortSignal) {
    return this.inner.waitForEvents(ms, s);
  }
  begin(): ChannelTransaction {
    const tx = this.inner.begin();
    return {
      get state() {
        return tx.state;
      },
      put: (e) => tx.put(e),
      take: (n) => tx.take(n),
      commit: async () => {
        if (this.failCommits > 0) {
          this.failCommits--;
          throw new AgentError('FLUME_ERR_CHANNEL_CLOSED', `${this.name} storage failed`);
        }
        return tx.commit();
      },
      rollback: () => tx.rollback(),
    };
  }
}

async function drain(ch: Channel): Promise<string[]> {
  const tx = ch.begin();
  const evs = await tx.take(1000);
  await tx.commit();
  return evs.map((e) => e.body.toString());
}
function selector(def: SelectorDef<any>, props: Record<string, string>, channels: string[]): ChannelSelector {
  return def.create(optionsFor(def, props), { source: 'r1', channels, logger: silentLogger() });
}
function proc(interceptors: Interceptor[], sel: ChannelSelector, chans: Channel[]): ChannelProcessor {
  return new ChannelProcessor(interceptors, sel, new Map(chans.map((c) => [c.name, c])), silentLogger());
}
const batch = (...bodies: string[]) => bodies.map((b) => makeEvent(b));

test('replicating: every required channel gets the batch; maxBatchSize is the smallest transactionCapacity', async () => {
  const c1 = await mem('c1', 100, 50);
  const c2 = await mem('c2', 100, 20);
  const p = proc([], selector(replicating, {}, ['c1', 'c2']), [c1, c2]);
  assert.equal(p.maxBatchSize, 20);
  await p.emit(batch('a', 'b'));
  assert.deepEqual(await drain(c1), ['a', 'b']);
  assert.deepEqual(await drain(c2), ['a', 'b']);
});

test('an optional channel that fails is counted and never fails the put (TestChannelProcessor)', async () => {
  const c1 = await mem('c1');
  const c2 = new FlakyChannel(await mem('c2'));
  c2.failCommits = 1;
  const p = proc([], selector(replicating, { optional: 'c2' }, ['c1', 'c2']), [c1, c2]);
  await p.emit(batch('a'));
  assert.equal(p.optionalFailures, 1);
  assert.deepEqual(await drain(c1), ['a']);
  assert.deepEqual(await drain(c2), []);
});

test('a full required channel is committed first, so nothing is written anywhere and a retry cannot duplicate', async () => {
  const roomy = await mem('c1', 100);
  const full = await mem('c2', 5);
  await proc([], selector(replicating, {}, ['c2']), [full]).emit(batch('0', '1', '2', '3', '4'));
  const p = proc([], selector(replicating, {}, ['c1', 'c2']), [roomy, full]);
  await assert.rejects(p.emit(batch('x', 'y')), ChannelFullError);
  assert.equal(roomy.size(), 0, 'the roomy channel was not committed');
  assert.equal(p.partialCommits, 0);
  await drain(full);
  await p.emit(batch('x', 'y'));
  assert.deepEqual(await drain(roomy), ['x', 'y']);
  assert.deepEqual(await drain(full), ['x', 'y']);
});

test('a batch one channel refuses at staging (transactionCapacity) is committed nowhere', async () => {
  const big = await mem('c1', 100, 100);
  const small = await mem('c2', 100, 2);
  const p = proc([], selector(replicating, {}, ['c1', 'c2']), [big, small]);
  await assert.rejects(
    p.emit(batch('a', 'b', 'c')),
    (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_CHANNEL_TX_CAPACITY',
  );
  assert.equal(big.size(), 0);
});

test('partial commit: a retry of the same batch writes only the channels that failed, with the events as first intercepted', async () => {
  const c1 = await mem('c1', 10); // less room: committed first
  const c2 = new FlakyChannel(await mem('c2', 100));
  let intercepted = 0;
  const counting: Interceptor = {
    intercept: (evs) => {
      intercepted += evs.length;
      return evs.map((e, i) => makeEvent(e.body, { n: String(intercepted - evs.length + i) }));
    },
  };
  const p = proc([counting], selector(replicating, {}, ['c1', 'c2']), [c1, c2]);
  const b = batch('a', 'b');
  c2.failCommits = 1;
  await assert.rejects(p.emit(b), /c2 storage failed/);
  assert.equal(c1.size(), 2);
  assert.equal(p.partialCommits, 1);
  await p.emit(b); // the source retries the same batch
  assert.equal(p.resumedBatches, 1);
  assert.equal(intercepted, 2, 'interceptors ran once');
  assert.deepEqual(await drain(c1), ['a', 'b'], 'no duplicates in c1');
  const tx = c2.begin();
  const got = await tx.take(10);
  await tx.commit();
  assert.deepEqual(
    got.map((e) => [e.body.toString(), e.headers.n]),
    [
      ['a', '0'],
      ['b', '1'],
    ],
  );
  // a rebuilt batch (new event objects) is a new put: duplicates in the channels that had committed, as in Flume
  c2.failCommits = 1;
  await assert.rejects(p.emit(batch('c')));
  await p.emit(batch('c'));
  assert.deepEqual(await drain(c1), ['c', 'c']);
  assert.deepEqual(await drain(c2), ['c']);
});

test('every emit is counted: received once per batch (a retry is the same array), accepted, refused', async () => {
  const counters = sourceCounters('r1');
  let refuse = 2;
  const emit = countEmits(async () => {
    if (refuse-- > 0) throw new ChannelFullError('full');
  }, counters);
  const b = batch('a', 'b', 'c');
  await assert.rejects(emit(b), ChannelFullError);
  assert.deepEqual([counters.get('EventReceivedCount'), counters.get('EventAcceptedCount')], [3, 0]);
  await assert.rejects(emit(b), ChannelFullError);
  await emit(b);
  assert.equal(counters.get('EventReceivedCount'), 3, 'a retried batch is not received again');
  assert.equal(counters.get('EventAcceptedCount'), 3);
  assert.equal(counters.get('ChannelWriteFail'), 2);
  await emit(b); // committed before: emitting it again is new input
  assert.equal(counters.get('EventReceivedCount'), 6);
  refuse = 1;
  const c = batch('d');
  await assert.rejects(emit(c, { countRefusal: false }), ChannelFullError);
  assert.equal(counters.get('ChannelWriteFail'), 2, 'countRefusal: false leaves ChannelWriteFail to the source');
  await emit(c, { countRefusal: false });
  assert.deepEqual([counters.get('EventReceivedCount'), counters.get('EventAcceptedCount')], [7, 7]);
});

test('a processor with the source counters counts its emits; a resumed partial put is received once', async () => {
  const c1 = await mem('c1', 10);
  const c2 = new FlakyChannel(await mem('c2', 100));
  const counters = sourceCounters('r1');
  const p = new ChannelProcessor(
    [],
    selector(replicating, {}, ['c1', 'c2']),
    new Map([
      ['c1', c1],
      ['c2', c2],
    ]),
    silentLogger(),
    counters,
  );
  const b = batch('a', 'b');
  c2.failCommits = 1;
  await assert.rejects(p.emit(b));
  await p.emit(b);
  assert.equal(p.resumedBatches, 1);
  assert.equal(counters.get('EventReceivedCount'), 2);
  assert.equal(counters.get('EventAcceptedCount'), 2);
  assert.equal(counters.get('ChannelWriteFail'), 1);
});

test('multiplexing: events are grouped per channel; unmatched events are dropped and counted when confirmed', async () => {
  const [c1, c2, c3] = await Promise.all([mem('c1'), mem('c2'), mem('c3')]);
  const sel = selector(
    multiplexing,
    { header: 'color', 'mapping.red': 'c1', 'mapping.blue': 'c2', 'optional.red': 'c3', unmatched: 'drop' },
    ['c1', 'c2', 'c3'],
  );
  const p = proc([], sel, [c1, c2, c3]);
  await p.emit([
    makeEvent('r1', { color: 'red' }),
    makeEvent('b1', { color: 'blue' }),
    makeEvent('g1', { color: 'green' }),
    makeEvent('r2', { color: 'red' }),
    makeEvent('none'),
  ]);
  assert.deepEqual(await drain(c1), ['r1', 'r2']);
  assert.deepEqual(await drain(c2), ['b1']);
  assert.deepEqual(await drain(c3), ['r1', 'r2']);
  assert.equal((sel as MultiplexingSelector).dropped, 2);
});

test('load_balancing selector: a batch is split over the channels', async () => {
  const [c1, c2] = await Promise.all([mem('c1'), mem('c2')]);
  const p = proc([], selector(loadBalancing, {}, ['c1', 'c2']), [c1, c2]);
  await p.emit(batch('0', '1', '2', '3', '4'));
  assert.deepEqual(await drain(c1), ['0', '2', '4']);
  assert.deepEqual(await drain(c2), ['1', '3']);
});

test('interceptors run in order; an empty result stops the chain and writes nothing', async () => {
  const c1 = await mem('c1');
  const tag = staticIc.create(optionsFor(staticIc, { key: 'k', value: 'v' }), { name: 'i1', logger: silentLogger() });
  const keep = regexFilter.create(optionsFor(regexFilter, { regex: '^keep' }), { name: 'i2', logger: silentLogger() });
  let after = 0;
  const spy: Interceptor = {
    intercept: (evs: FlumeEvent[]) => {
      after++;
      return evs;
    },
  };
  const p = proc([tag, keep, spy], selector(replicating, {}, ['c1']), [c1]);
  const input = batch('keep 1', 'drop 2');
  await p.emit(input);
  assert.deepEqual(
    input.map((e) => e.headers.k),
    [undefined, undefined],
    'input events are not mutated',
  );
  const tx = c1.begin();
  const got = await tx.take(10);
  await tx.commit();
  assert.deepEqual(
    got.map((e) => [e.body.toString(), e.headers.k]),
    [['keep 1', 'v']],
  );
  await p.emit(batch('drop 3'));
  assert.equal(after, 1, 'the chain stops at an empty list');
  assert.equal(c1.size(), 0);
});
