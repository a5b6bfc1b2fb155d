/**
 * flume-ts/testing, the contract checks offered to plugin authors: built-ins pass them, and components that break
 * the contract (mutate their input, a bad batch size, oversized batches) fail them with a message saying so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkChannel, checkInterceptor, checkSink, checkSource, makeEvent } from '../../src/testing/index.js';
import { defineInterceptor, defineSink, defineSource, opt } from '../../src/index.js';
import type { ChannelDef, InterceptorDef, SinkDef, SourceDef } from '../../src/contract/index.js';
import { findDef } from '../../src/registry/lookup.js';

test('built-ins pass the checks: memory channel, seq source, timestamp interceptor, null sink', async () => {
  await checkChannel(findDef('channel', 'memory') as ChannelDef, {
    props: { capacity: '10', transactionCapacity: '4', 'keep-alive': '100ms' },
  });
  const got = await checkSource(findDef('source', 'seq') as SourceDef, {
    props: { totalEvents: '20', batchSize: '5' },
    events: 20,
  });
  assert.deepEqual(
    got.map((e) => e.body.toString()),
    Array.from({ length: 20 }, (_, i) => String(i)),
  );
  const out = checkInterceptor(findDef('interceptor', 'timestamp') as InterceptorDef);
  assert.ok(out.every((e) => 'timestamp' in e.headers));
  await checkSink(findDef('sink', 'null') as SinkDef);
});

test('an interceptor that mutates its input fails checkInterceptor', () => {
  const mutating = defineInterceptor({
    type: 'mutating',
    summary: 's',
    options: {},
    create: () => ({
      intercept: (events) => {
        for (const e of events) e.body[0] = 0x21;
        return events;
      },
    }),
  });
  assert.throws(() => checkInterceptor(mutating), /must not change its input/);
  const adding = defineInterceptor({
    type: 'adding',
    summary: 's',
    options: {},
    create: () => ({
      intercept: (events) => {
        for (const e of events) e.headers.x = '1';
        return events;
      },
    }),
  });
  assert.throws(() => checkInterceptor(adding, { events: () => [makeEvent('a', { h: '1' })] }), /does it mutate/);
});

test('a sink with a bad batch size, and a source emitting oversized batches, fail their checks', async () => {
  const sink = defineSink({
    type: 'zero',
    summary: 's',
    options: { batchSize: opt.int({ default: 0, doc: 'd' }) },
    batchSize: (o) => o.batchSize,
    create: (o) => ({ batchSize: o.batchSize, start: async () => {}, close: async () => {}, deliver: async () => {} }),
  });
  await assert.rejects(checkSink(sink), /batchSize\(\) is a positive integer/);
  const source = defineSource({
    type: 'greedy',
    summary: 's',
    options: {},
    create: (_o, ctx) => {
      let timer: NodeJS.Timeout | undefined;
      const tick = () => {
        ctx.emit(Array.from({ length: 9 }, () => makeEvent('x'))).then(
          () => undefined,
          () => undefined,
        );
        timer = setTimeout(tick, 5);
      };
      return {
        start: async () => tick(),
        close: async () => clearTimeout(timer),
      };
    },
  });
  await assert.rejects(checkSource(source), /larger than maxBatchSize/);
});
