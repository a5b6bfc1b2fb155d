import { componentOptions } from '../../src/config/validate/index.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import replicating from '../../src/selectors/replicating.js';
import multiplexing, { MultiplexingSelector } from '../../src/selectors/multiplexing.js';
import loadBalancing from '../../src/selectors/load-balancing.js';
import { makeEvent } from '../../src/core/event.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { optionsFor } from '../helpers/agent.js';
import type { SelectorDef } from '../../src/contract/index.js';
import { configFromText } from '../../src/config/load.js';

const CH = ['ch1', 'ch2', 'ch3', 'ch4'];
function make(def: SelectorDef<any>, props: Record<string, string>, channels = CH) {
  const o = optionsFor(def, props);
  return {
    o,
    sel: def.create(o, { source: 'r1', channels, logger: silentLogger() }),
    problems: def.checkChannels?.(o, channels) ?? [],
  };
}
const ev = (h?: Record<string, string>) => makeEvent('x', h);

// --- replicating (TestReplicatingChannelSelector)

test('replicating: every channel is required, selection is fixed', () => {
  const { sel } = make(replicating, {});
  assert.deepEqual(sel.fixed, { required: CH, optional: [] });
  assert.deepEqual(sel.select(ev()).required, CH);
});

test('replicating: optional channels (duplicates written once) are not required', () => {
  const { sel, problems } = make(replicating, { optional: 'ch2 ch4 ch2' });
  assert.deepEqual(problems, []);
  assert.deepEqual(sel.fixed!.required, ['ch1', 'ch3']);
  assert.deepEqual(sel.fixed!.optional, ['ch2', 'ch4']);
});

test('replicating: an optional channel the source does not write to is a problem with a did-you-mean', () => {
  const { problems } = make(replicating, { optional: 'ch5 chh1' });
  assert.equal(problems.length, 2);
  assert.match(problems[1]!.hint!, /did you mean 'ch1'/);
});

// --- multiplexing (TestMultiplexingChannelSelector)

const MUX = {
  header: 'myheader',
  'mapping.foo': 'ch1 ch2',
  'mapping.bar': 'ch2 ch3',
  'mapping.xyz': 'ch1 ch2 ch3',
  default: 'ch4',
};

test('multiplexing: exact mapping, default for absent/blank/unmapped/different-case values', () => {
  const { sel, problems } = make(multiplexing, MUX);
  assert.deepEqual(problems, []);
  assert.equal(sel.fixed, undefined);
  assert.deepEqual(sel.select(ev({ myheader: 'foo' })).required, ['ch1', 'ch2']);
  assert.deepEqual(sel.select(ev({ myheader: 'bar' })).required, ['ch2', 'ch3']);
  assert.deepEqual(sel.select(ev({ myheader: 'xyz' })).required, ['ch1', 'ch2', 'ch3']);
  assert.deepEqual(sel.select(ev({ myheader: 'FOO' })).required, ['ch4'], 'matching is case-sensitive');
  assert.deepEqual(sel.select(ev({ myheader: 'foo ' })).required, ['ch4'], 'values are not trimmed');
  assert.deepEqual(sel.select(ev({ myheader: '  ' })).required, ['ch4']);
  assert.deepEqual(sel.select(ev({ other: 'foo' })).required, ['ch4']);
  assert.deepEqual(sel.select(ev()).optional, []);
});

test('multiplexing: the default header name is flume.selector.header', () => {
  const { sel } = make(multiplexing, { 'mapping.a': 'ch1', default: 'ch2' });
  assert.deepEqual(sel.select(ev({ 'flume.selector.header': 'a' })).required, ['ch1']);
});

test('multiplexing: optional channels minus the required ones; optional for unmapped values go with the default', () => {
  const { sel } = make(multiplexing, {
    ...MUX,
    'optional.foo': 'ch2 ch3',
    'optional.zebra': 'ch2 ch4',
    'optional.xyz': 'ch1 ch4',
  });
  let s = sel.select(ev({ myheader: 'foo' }));
  assert.deepEqual([s.required, s.optional], [['ch1', 'ch2'], ['ch3']]);
  s = sel.select(ev({ myheader: 'xyz' }));
  assert.deepEqual([s.required, s.optional], [['ch1', 'ch2', 'ch3'], ['ch4']]);
  s = sel.select(ev({ myheader: 'zebra' }));
  assert.deepEqual(
    [s.required, s.optional],
    [['ch4'], ['ch2']],
    'unmapped value: default required, its optional channels minus the default',
  );
  s = sel.select(ev({ myheader: 'bar' }));
  assert.deepEqual(s.optional, []);
});

test('multiplexing: no default is refused unless the drop is confirmed; drops are counted', () => {
  // the option check (not checkChannels: it needs no channel list, and a bad unmatched value must not hide those)
  const bad = componentOptions(multiplexing, { header: 'h', 'mapping.a': 'ch1' }).issues;
  assert.equal(bad.length, 1);
  assert.match(bad[0]!.message, /would be silently dropped/);
  assert.match(bad[0]!.hint!, /selector\.unmatched = drop/);
  const ok = make(multiplexing, { header: 'h', 'mapping.a': 'ch1', 'optional.b': 'ch2', unmatched: 'drop' });
  assert.deepEqual(ok.problems, []);
  const sel = ok.sel as MultiplexingSelector;
  assert.deepEqual(sel.select(ev({ h: 'zzz' })), { required: [], optional: [] });
  assert.deepEqual(sel.select(ev()), { required: [], optional: [] });
  assert.deepEqual(sel.select(ev({ h: 'b' })), { required: [], optional: ['ch2'] }, 'optional-only is not a drop');
  assert.deepEqual(sel.select(ev({ h: 'a' })).required, ['ch1']);
  assert.equal(sel.dropped, 2);
  const both = componentOptions(multiplexing, { header: 'h', 'mapping.a': 'ch1', default: 'ch2', unmatched: 'drop' });
  assert.match(both.issues[0]!.message, /contradicts selector\.default/);
});

test('multiplexing: channels outside the source are problems keyed to their property', () => {
  const { problems } = make(multiplexing, {
    header: 'h',
    'mapping.a': 'ch1 chx',
    default: 'ch9',
    'optional.a': 'ch22',
  });
  assert.deepEqual(
    problems.map((p) => p.key),
    ['mapping.a', 'optional.a', 'default'],
  );
  assert.match(problems[0]!.message, /channel 'chx' in selector\.mapping\.a is not one of the source's channels/);
});

// --- load_balancing (TestLoadBalancingChannelSelector)

test('load_balancing: round robin per event over all channels, one channel each', () => {
  const { sel } = make(loadBalancing, {}, ['c1', 'c2', 'c3']);
  const got = Array.from({ length: 7 }, () => sel.select(ev()));
  assert.deepEqual(
    got.map((s) => s.required[0]),
    ['c1', 'c2', 'c3', 'c1', 'c2', 'c3', 'c1'],
  );
  assert.ok(got.every((s) => s.required.length === 1 && s.optional.length === 0));
});

test('load_balancing: random policy uses every channel; needs two channels', () => {
  const { sel } = make(loadBalancing, { policy: 'RANDOM' }, ['c1', 'c2', 'c3']);
  const seen = new Set<string>();
  for (let i = 0; i < 300; i++) seen.add(sel.select(ev()).required[0]!);
  assert.deepEqual([...seen].sort(), ['c1', 'c2', 'c3']);
  assert.match(make(loadBalancing, {}, ['c1']).problems[0]!.message, /at least 2 channels/);
});

// --- through the config validator

const BASE = `
a1.sources = r1
a1.channels = c1 c2
a1.sinks = k1 k2
a1.sources.r1.type = seq
a1.sources.r1.channels = c1 c2
a1.channels.c1.type = memory
a1.channels.c2.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
a1.sinks.k2.type = null
a1.sinks.k2.channel = c2
`;
const errorsOf = (text: string) =>
  configFromText(text, { agent: 'a1', sys: {}, env: {}, file: 't.properties' }).issues.filter(
    (i) => i.severity === 'error',
  );

test('validation: multiplexing config errors point at the key with a hint', () => {
  const errs = errorsOf(`${BASE}a1.sources.r1.selector.type = multiplexing
a1.sources.r1.selector.head = color
a1.sources.r1.selector.mapping.red = c1 c3
a1.sources.r1.mapping.blue = c2
`);
  const head = errs.find((e) => /unknown property 'head'/.test(e.message));
  assert.ok(head, JSON.stringify(errs));
  // closest() allows 1 edit for a 4-letter word; 'head' is 'header' cut short, the one key it starts
  assert.match(head.hint!, /did you mean 'header'/);
  const prefix = errs.find((e) => /unknown property 'mapping\.blue'/.test(e.message));
  assert.ok(prefix);
  assert.match(prefix.hint!, /selector keys need the prefix: a1\.sources\.r1\.selector\.mapping\.blue/);
  // the unknown key does not hide the channel checks (c3 is reported in the same run)
  assert.ok(
    errs.some((e) => /'c3' in selector\.mapping\.red/.test(e.message)),
    JSON.stringify(errs),
  );
  const errs2 = errorsOf(`${BASE}a1.sources.r1.selector.type = multiplexing
a1.sources.r1.selector.header = color
a1.sources.r1.selector.mapping.red = c1 c3
`);
  const c3 = errs2.find((e) => /'c3' in selector\.mapping\.red/.test(e.message));
  assert.ok(c3, JSON.stringify(errs2));
  assert.equal(c3.line, 15);
  assert.ok(errs2.some((e) => /would be silently dropped/.test(e.message)));
});

test('validation: a complete multiplexing config is accepted, load_balancing and class names too', () => {
  const ok = configFromText(
    `${BASE}a1.sources.r1.selector.type = org.apache.flume.channel.MultiplexingChannelSelector
a1.sources.r1.selector.header = color
a1.sources.r1.selector.mapping.red = c1
a1.sources.r1.selector.default = c2
`,
    { agent: 'a1', sys: {}, env: {} },
  );
  assert.ok(ok.plan, JSON.stringify(ok.issues));
  assert.equal(ok.plan.sources[0]!.selector.def.type, 'multiplexing');
  assert.deepEqual(errorsOf(`${BASE}a1.sources.r1.selector.type = load_balancing\n`), []);
});
