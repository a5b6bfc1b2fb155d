/** The definition, interceptor and sink checks of flume-ts/testing (index.ts). */
import assert from 'node:assert/strict';
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import type { AnyDef, InterceptorDef, SinkDef } from '../contract/index.js';
import { makeEvent, type FlumeEvent } from '../core/event.js';
import { systemClock } from '../core/clock.js';
import { isRetriable } from '../core/errors.js';
import { sinkCounters } from '../telemetry/counters.js';
import { silentLogger } from '../telemetry/logger.js';
import { componentOptions } from '../config/validate/index.js';
import { formatIssues } from '../config/issues.js';
import { definitionProblem } from '../config/plugins/index.js';

/** Checks that `def` is a definition the agent loads (what `type = ./my-plugin.mjs` checks first). */
export function checkDefinition(def: unknown): asserts def is AnyDef {
  const problem = definitionProblem(def);
  assert.equal(problem, undefined, problem);
}

/**
 * The resolved options of `def` for the keys of one component (as written after `a1.sinks.k1.`), through its options
 * table exactly as the agent validates them. Throws listing every problem.
 */
export function optionsFor<D extends AnyDef>(def: D, props: Record<string, string> = {}): Parameters<D['create']>[0] {
  const r = componentOptions(def, props);
  const errors = r.issues.filter((i) => i.severity === 'error');
  assert.ok(
    r.options && errors.length === 0,
    `options of ${def.kind} ${def.type} are invalid:\n${formatIssues(errors)}`,
  );
  return r.options as Parameters<D['create']>[0];
}

/** A batch with what interceptors look at: empty and set headers, UTF-8 text, empty and binary bodies. */
export function sampleBatch(): FlumeEvent[] {
  return [
    makeEvent('keep-1 alpha'),
    makeEvent('drop-2 beta', { seq: '2', timestamp: '5', host: 'h0', 'x-a': '1' }),
    makeEvent('keep-3 ключ é', { ключ: 'значение' }),
    makeEvent(''),
    makeEvent(Buffer.from([0x64, 0x72, 0x6f, 0x70, 0xff, 0x00, 0x0a, 0x65]), { 'x-b': '2' }),
  ];
}

function isEvent(x: unknown): x is FlumeEvent {
  if (typeof x !== 'object' || x === null) return false;
  const e = x as FlumeEvent;
  return (
    typeof e.headers === 'object' &&
    e.headers !== null &&
    Buffer.isBuffer(e.body) &&
    Object.values(e.headers).every((v) => typeof v === 'string')
  );
}

export interface InterceptorCheck {
  /** The component's keys (default: none). */
  props?: Record<string, string>;
  /** The input batch (default: sampleBatch()). */
  events?: () => FlumeEvent[];
}

/**
 * The interceptor contract: it never mutates its input (events, header objects and the array are frozen, bodies
 * compared byte for byte), returns only events (string headers, Buffer bodies), none twice, and maps an empty batch to
 * an empty one. Returns the output of the first run for the caller's own assertions.
 */
export function checkInterceptor(def: InterceptorDef<any>, c: InterceptorCheck = {}): FlumeEvent[] {
  checkDefinition(def);
  assert.equal(def.kind, 'interceptor');
  const make = () => def.create(optionsFor(def, c.props), { name: 'i1', logger: silentLogger() });
  const events = (c.events ?? sampleBatch)();
  for (const e of events) {
    Object.freeze(e.headers);
    Object.freeze(e);
  }
  Object.freeze(events);
  const snapshot = () => events.map((e) => ({ headers: { ...e.headers }, body: Buffer.from(e.body) }));
  const before = snapshot();
  let out: FlumeEvent[];
  try {
    out = make().intercept(events);
  } catch (err) {
    assert.fail(`intercept() threw on a frozen batch (does it mutate its input?): ${String(err)}`);
  }
  assert.deepEqual(snapshot(), before, 'intercept() must not change its input events, headers or body bytes');
  assert.ok(Array.isArray(out), 'intercept() returns an array');
  assert.ok(out.every(isEvent), 'intercept() returns events: string headers and a Buffer body');
  assert.equal(new Set(out).size, out.length, 'no event is returned twice');
  assert.deepEqual(make().intercept(Object.freeze([]) as unknown as FlumeEvent[]), [], 'an empty batch stays empty');
  return out;
}

export interface SinkCheck {
  /** The component's keys; a function receives a fresh temporary directory (removed afterwards). */
  props?: Record<string, string> | ((dir: string) => Record<string, string>);
  /** Checks that the bodies were handed on (e.g. read the sink's output). */
  verify?: (dir: string, bodies: string[]) => void | Promise<void>;
}

/**
 * The sink contract: batchSize >= 1, start, deliver two batches, close twice, destroy, and close a sink never started.
 * Transactions are the agent's (the sink runner rolls back on a throw), so a sink only has to throw when it did not
 * hand a batch on: retriable errors are retried, others too after a longer backoff; nothing is dropped.
 */
export async function checkSink(def: SinkDef<any>, c: SinkCheck = {}): Promise<void> {
  checkDefinition(def);
  assert.equal(def.kind, 'sink');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `sink-${def.type}-`));
  try {
    const props = typeof c.props === 'function' ? c.props(dir) : (c.props ?? {});
    const o = optionsFor(def, props);
    const batchSize = def.batchSize(o);
    assert.ok(Number.isInteger(batchSize) && batchSize >= 1, `batchSize() is a positive integer (got ${batchSize})`);
    const ctx = (name: string) => ({
      name,
      logger: silentLogger(),
      clock: systemClock,
      counters: sinkCounters(name),
      agentDir: dir,
    });
    const sink = def.create(o, ctx('k1'));
    await sink.start();
    const bodies = ['one', 'two', 'three', 'four'];
    for (const part of [bodies.slice(0, 2), bodies.slice(2)]) {
      try {
        await sink.deliver(
          part.map((b) => makeEvent(b)),
          new AbortController().signal,
        );
      } catch (err) {
        assert.fail(`deliver() failed (${isRetriable(err) ? 'retriable' : 'permanent'}): ${String(err)}`);
      }
    }
    await sink.close();
    await sink.close();
    sink.destroy?.();
    await c.verify?.(dir, bodies);
    await def.create(o, ctx('k2')).close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
