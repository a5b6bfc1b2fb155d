/**
 * Contract every registered channel selector must honour, for each of its fixtures: select() names only the
 * source's channels (none twice, never one both required and optional), `fixed`, when present, equals select() for
 * any event, and the required/optional semantics of the configuration hold (case by case, in order, or by a check
 * over many selections for random policies). A selector type without fixtures fails the suite.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Selection, SelectorDef } from '../../src/contract/index.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { optionsFor } from '../helpers/agent.js';
import { forEachFixture } from '../helpers/contract.js';

interface Case {
  headers?: Record<string, string>;
  required: string[];
  optional?: string[];
}

interface Fixture {
  channels: string[];
  props: Record<string, string>;
  /** Expected selections, one select() call per case, in this order. */
  cases?: Case[];
  /** A check over many selections (policies that are random). */
  check?: (selections: Selection[], channels: readonly string[]) => void;
}

const C3 = ['c1', 'c2', 'c3'];
const C4 = ['c1', 'c2', 'c3', 'c4'];
const every = (required: string[], optional: string[] = []): Case[] => [
  { required, optional },
  { headers: { state: 'CA' }, required, optional },
];

const FIXTURES: Record<string, Fixture[]> = {
  replicating: [
    { channels: C3, props: {}, cases: every(C3) },
    { channels: C3, props: { optional: 'c2 c2' }, cases: every(['c1', 'c3'], ['c2']) },
  ],
  multiplexing: [
    {
      channels: C4,
      props: {
        header: 'state',
        'mapping.CA': 'c1',
        'mapping.AZ': 'c2 c3',
        'mapping.NY': 'c1 c1',
        default: 'c4',
        'optional.CA': 'c2 c1',
        'optional.TX': 'c3',
      },
      cases: [
        { headers: { state: 'CA' }, required: ['c1'], optional: ['c2'] },
        { headers: { state: 'AZ' }, required: ['c2', 'c3'] },
        { headers: { state: 'NY' }, required: ['c1'] },
        { headers: { state: 'TX' }, required: ['c4'], optional: ['c3'] },
        { headers: { state: 'ca' }, required: ['c4'] },
        { headers: { state: ' ' }, required: ['c4'] },
        { headers: { state: 'XX', other: 'CA' }, required: ['c4'] },
        { required: ['c4'] },
      ],
    },
    {
      channels: C3,
      props: { header: 'h', 'mapping.a': 'c1', 'optional.b': 'c2', unmatched: 'drop' },
      cases: [
        { headers: { h: 'a' }, required: ['c1'] },
        { headers: { h: 'b' }, required: [], optional: ['c2'] },
        { headers: { h: 'z' }, required: [] },
        { required: [] },
      ],
    },
  ],
  load_balancing: [
    {
      channels: C3,
      props: {},
      cases: ['c1', 'c2', 'c3', 'c1', 'c2'].map((c) => ({ headers: { state: 'CA' }, required: [c] })),
    },
    {
      channels: C3,
      props: { policy: 'random' },
      check: (sels, channels) => {
        for (const s of sels) {
          assert.equal(s.required.length, 1, 'exactly one channel per event');
          assert.deepEqual(s.optional, []);
        }
        assert.deepEqual(new Set(sels.map((s) => s.required[0])), new Set(channels), 'every channel gets events');
      },
    },
  ],
};

/** Events every selector is probed with: absent, blank, mapped, unmapped and differently cased header values. */
function probes(): FlumeEvent[] {
  const values = [undefined, '', ' ', 'CA', 'ca', 'AZ', 'NY', 'TX', 'XX', 'a', 'b', 'z'];
  const out: FlumeEvent[] = [];
  for (let i = 0; i < 60; i++) {
    const v = values[i % values.length];
    out.push(makeEvent(`e${i}`, v === undefined ? undefined : { state: v, h: v }));
  }
  return out;
}

const plain = (s: Selection) => ({ required: [...s.required], optional: [...s.optional] });

forEachFixture<SelectorDef, Fixture>('selector', FIXTURES, 'test/contract/selectors.test.ts', (def, f) => {
  const label = `selector ${def.type} ${JSON.stringify(f.props)}`;
  const options = () => optionsFor(def, f.props);
  const make = () => def.create(options(), { source: 'r1', channels: f.channels, logger: silentLogger() });

  test(`${label}: is a valid configuration for channels ${f.channels.join(' ')}`, () => {
    assert.deepEqual(def.checkChannels?.(options(), f.channels) ?? [], []);
  });

  test(`${label}: select() names only the source's channels, each once, never required and optional`, () => {
    const sel = make();
    for (const e of probes()) {
      const s = sel.select(e);
      for (const c of [...s.required, ...s.optional]) assert.ok(f.channels.includes(c), `'${c}' is a source channel`);
      assert.equal(new Set(s.required).size, s.required.length, 'no required channel twice');
      assert.equal(new Set(s.optional).size, s.optional.length, 'no optional channel twice');
      assert.ok(
        s.optional.every((c) => !s.required.includes(c)),
        'optional excludes required',
      );
    }
  });

  test(`${label}: fixed, when present, equals select() for any event`, (t) => {
    const sel = make();
    if (!sel.fixed) return t.skip('no fixed selection');
    for (const e of probes()) assert.deepEqual(plain(sel.select(e)), plain(sel.fixed));
  });

  test(`${label}: required and optional channels as configured`, () => {
    const sel = make();
    for (const c of f.cases ?? []) {
      const got = plain(sel.select(makeEvent('x', c.headers)));
      assert.deepEqual(got, { required: c.required, optional: c.optional ?? [] }, JSON.stringify(c.headers ?? {}));
    }
    const many = [...probes(), ...probes(), ...probes(), ...probes(), ...probes()];
    if (f.check)
      f.check(
        many.map((e) => sel.select(e)),
        f.channels,
      );
    assert.ok(f.cases || f.check, 'the fixture states its semantics');
  });
});
