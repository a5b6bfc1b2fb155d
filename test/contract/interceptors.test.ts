/**
 * Contract every registered interceptor must honour, for each of its fixtures: it never mutates its input (events,
 * header objects and the array are frozen, bodies compared byte for byte with copies taken before), it returns only
 * events (kept or new objects, none twice), keeps or drops exactly as configured, in input order, and maps an empty
 * batch to an empty one. An interceptor type without fixtures fails the suite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { InterceptorDef } from '../../src/contract/index.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { optionsFor } from '../helpers/agent.js';
import { forEachFixture } from '../helpers/contract.js';

interface Fixture {
  props: Record<string, string>;
  /** Which input events are kept, by body text (default: every one). */
  keeps?: (body: string) => boolean;
  /** The body text of a kept event afterwards (default: the same bytes). */
  body?: (body: string) => string;
}

const FIXTURES: Record<string, Fixture[]> = {
  timestamp: [{ props: {} }, { props: { headerName: 'ts', preserveExisting: 'true' } }],
  host: [{ props: {} }, { props: { useIP: 'false', hostHeader: 'h', preserveExisting: 'true' } }],
  static: [{ props: { key: 'key', value: 'v' } }, { props: { key: 'seq', value: 'v', preserveExisting: 'false' } }],
  remove_header: [{ props: { withName: 'host', fromList: 'seq, id', matching: 'x-.*' } }, { props: {} }],
  uuid: [{ props: {} }, { props: { headerName: 'id', preserveExisting: 'false', prefix: 'p-' } }],
  search_replace: [
    { props: { searchPattern: 'e', replaceString: 'E' }, body: (b) => b.replaceAll('e', 'E') },
    {
      props: { searchPattern: '(\\w+)-(\\d)', replaceString: '$2:$1' },
      body: (b) => b.replace(/(\w+)-(\d)/g, '$2:$1'),
    },
  ],
  regex_filter: [
    { props: {} },
    { props: { regex: 'keep' }, keeps: (b) => b.includes('keep') },
    { props: { regex: 'keep', excludeEvents: 'true' }, keeps: (b) => !b.includes('keep') },
  ],
  regex_extractor: [
    {
      props: {
        regex: '(\\w+)-(\\d+)',
        serializers: 's1 s2',
        'serializers.s1.name': 'word',
        'serializers.s2.name': 'seq',
      },
    },
  ],
};

/** A batch with what interceptors look at: shared empty headers, headers they set or remove, text and bytes. */
function batch(): FlumeEvent[] {
  return [
    makeEvent('keep-1 alpha'),
    makeEvent('drop-2 beta', {
      seq: '2',
      timestamp: '5',
      host: 'h0',
      key: 'k0',
      id: 'given',
      ts: '1',
      h: 'x',
      'x-a': '1',
    }),
    makeEvent('keep-3 ключ é', { ключ: 'значение', word: 'w' }),
    makeEvent(''),
    makeEvent(Buffer.from([0x64, 0x72, 0x6f, 0x70, 0xff, 0x00, 0x0a, 0x65]), { 'x-b': '2' }),
    makeEvent('drop-6 keep', { seq: '6' }),
  ];
}

/** Freezes what an interceptor could mutate in place; bodies cannot be frozen, so their copies are returned. */
function freeze(events: FlumeEvent[]): { events: FlumeEvent[]; snapshot: () => unknown } {
  for (const e of events) {
    Object.freeze(e.headers);
    Object.freeze(e);
  }
  Object.freeze(events);
  const snap = () => events.map((e) => ({ e, headers: { ...e.headers }, body: Buffer.from(e.body) }));
  return { events, snapshot: snap };
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

forEachFixture<InterceptorDef, Fixture>('interceptor', FIXTURES, 'test/contract/interceptors.test.ts', (def, f) => {
  const label = `interceptor ${def.type} ${JSON.stringify(f.props)}`;
  const make = () => def.create(optionsFor(def, f.props), { name: 'i1', logger: silentLogger() });

  test(`${label}: never mutates its input`, () => {
    const { events, snapshot } = freeze(batch());
    const before = snapshot();
    const out = make().intercept(events);
    assert.deepEqual(snapshot(), before, 'input events, headers and body bytes unchanged');
    assert.ok(Array.isArray(out));
  });

  test(`${label}: returns only events, kept or dropped as configured, in input order`, () => {
    const { events } = freeze(batch());
    const out = make().intercept(events);
    assert.ok(out.every(isEvent), 'every element is an event');
    assert.equal(new Set(out).size, out.length, 'no event returned twice');
    const kept = events.filter((e) => (f.keeps ?? (() => true))(e.body.toString()));
    assert.equal(out.length, kept.length, 'events kept');
    for (let i = 0; i < kept.length; i++) {
      const want = kept[i]!.body;
      const got = out[i]!.body;
      if (f.body) assert.equal(got.toString(), f.body(want.toString()), `body of event ${i}`);
      else assert.ok(got.equals(want), `event ${i} is the kept input event, same bytes, same place`);
    }
  });

  test(`${label}: an empty batch gives an empty batch`, () => {
    assert.deepEqual(make().intercept(Object.freeze([]) as unknown as FlumeEvent[]), []);
  });
});
