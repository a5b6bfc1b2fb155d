import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import winston from 'winston';
import nullSinkDef from '../../src/sinks/null.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { systemClock } from '../../src/core/clock.js';
import { sinkCounters } from '../../src/telemetry/counters.js';
import type { SinkDef, OptionTable } from '../../src/contract/index.js';

function resolveOptions(def: SinkDef<any>, raw: Record<string, string>): any {
  const out: Record<string, unknown> = {};
  const used = new Set<string>();
  for (const [key, spec] of Object.entries(def.options as OptionTable)) {
    if (key in raw) {
      out[key] = spec.parse(raw[key]!.trim());
      used.add(key);
    } else {
      if (spec.required) throw new Error(`missing required ${key}`);
      out[key] = spec.default;
    }
  }
  for (const k of Object.keys(raw)) if (!used.has(k)) throw new Error(`unknown key ${k}`);
  return out;
}

function capturingLogger(): { logger: winston.Logger; messages: string[] } {
  const messages: string[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: { level: string; message: string }, _enc, cb) {
      messages.push(`${info.level}: ${info.message}`);
      cb();
    },
  });
  return {
    logger: winston.createLogger({ level: 'info', transports: [new winston.transports.Stream({ stream })] }),
    messages,
  };
}

const events = (n: number): FlumeEvent[] => Array.from({ length: n }, (_, i) => makeEvent(String(i)));
const signal = new AbortController().signal;

test('defaults: batchSize 100, logEveryNEvents 10000', async () => {
  const def = nullSinkDef as SinkDef<any>;
  const o = resolveOptions(def, {});
  assert.equal(def.batchSize(o), 100);
  assert.equal(o.logEveryNEvents, 10000);
  assert.deepEqual(def.classNames, ['org.apache.flume.sink.NullSink']);
  const { logger, messages } = capturingLogger();
  const sink = def.create(o, { name: 'k9', logger, clock: systemClock, counters: sinkCounters('k9'), agentDir: '.' });
  await sink.start();
  for (let i = 0; i < 99; i++) await sink.deliver(events(100), signal);
  assert.deepEqual(messages, []);
  await sink.deliver(events(100), signal);
  assert.deepEqual(messages, ['info: Null sink k9 successful processed 10000 events.']);
  await sink.close();
});

test('logs every N events, including several multiples within one batch', async () => {
  const def = nullSinkDef as SinkDef<any>;
  const o = resolveOptions(def, { batchSize: '5', logEveryNEvents: '3' });
  assert.equal(def.batchSize(o), 5);
  const { logger, messages } = capturingLogger();
  const sink = def.create(o, { name: 'n1', logger, clock: systemClock, counters: sinkCounters('n1'), agentDir: '.' });
  await sink.start();
  await sink.deliver(events(2), signal);
  assert.deepEqual(messages, []);
  await sink.deliver(events(2), signal); // 4: crossed 3
  await sink.deliver([], signal);
  await sink.deliver(events(5), signal); // 9: crossed 6 and 9
  assert.deepEqual(messages, [
    'info: Null sink n1 successful processed 3 events.',
    'info: Null sink n1 successful processed 6 events.',
    'info: Null sink n1 successful processed 9 events.',
  ]);
  await sink.close();
});

test('option ranges', () => {
  const def = nullSinkDef as SinkDef<any>;
  assert.throws(() => resolveOptions(def, { batchSize: '0' }), /below the minimum 1/);
  assert.throws(() => resolveOptions(def, { logEveryNEvents: '0' }), /below the minimum 1/);
  assert.throws(() => resolveOptions(def, { batchsize: '10' }), /unknown key/);
});
