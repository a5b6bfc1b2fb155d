import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configFromText } from '../../src/config/load.js';
import type { ConfigIssue } from '../../src/config/issues.js';
import { componentOptions } from '../../src/config/validate/index.js';
import { opt, defineSource } from '../../src/contract/index.js';

const BASE = `
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = 44444
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = logger
a1.sinks.k1.channel = c1
`;

function check(text: string, agent = 'a1', sys: Record<string, string> = {}, env: Record<string, string> = {}) {
  return configFromText(text, { agent, sys, env, file: 'test.properties' });
}
function errors(text: string, agent = 'a1'): ConfigIssue[] {
  return check(text, agent).issues.filter((i) => i.severity === 'error');
}
function find(issues: ConfigIssue[], re: RegExp): ConfigIssue {
  const hit = issues.find((i) => re.test(i.message));
  assert.ok(hit, `no issue matching ${re}; got:\n${issues.map((i) => i.message).join('\n')}`);
  return hit;
}

test('the quick-start config is valid and planned in order', () => {
  const r = check(BASE);
  assert.deepEqual(r.issues, []);
  assert.ok(r.plan);
  assert.equal(r.plan.sources[0]!.def.type, 'netcat');
  assert.equal(r.plan.sources[0]!.options.port, 44444);
  assert.deepEqual(r.plan.sources[0]!.channels, ['c1']);
  assert.equal(r.plan.sinks[0]!.channel, 'c1');
  assert.equal(r.plan.groups.length, 1);
  assert.equal(r.plan.groups[0]!.implicit, true);
  assert.equal(r.plan.channels[0]!.options.capacity, 100);
});

test('type aliases are case-insensitive and Flume class names map to our types', () => {
  const r = check(
    BASE.replace('type = netcat', 'type = NETCAT')
      .replace('type = logger', 'type = org.apache.flume.sink.LoggerSink')
      .replace('type = memory', 'type = Memory'),
  );
  assert.ok(r.plan, JSON.stringify(r.issues));
  assert.equal(r.plan.sinks[0]!.def.type, 'logger');
});

test('misspelt keys and types get a did-you-mean with file:line', () => {
  const errs = errors(
    BASE.replace('a1.sources.r1.port', 'a1.sources.r1.prot').replace('type = logger', 'type = loger'),
  );
  const k = find(errs, /unknown property 'prot'/);
  assert.equal(k.file, 'test.properties');
  assert.equal(k.line, 7);
  assert.match(k.hint!, /did you mean 'port'/);
  const missing = find(errs, /required property 'port' is missing/);
  assert.equal(missing.key, 'a1.sources.r1.port');
  const t = find(errs, /unknown sink type 'loger'/);
  assert.match(t.hint!, /did you mean 'logger'/);
  assert.equal(t.line, 10);
});

test('a key cut short to two letters is completed when one key starts with it (po -> port)', () => {
  const errs = errors(BASE.replace('a1.sources.r1.port', 'a1.sources.r1.po'));
  assert.match(find(errs, /unknown property 'po'/).hint!, /did you mean 'port'/);
});

test('unknown channel references are errors with a suggestion', () => {
  const e = find(
    errors(BASE.replace('a1.sinks.k1.channel = c1', 'a1.sinks.k1.channel = c2')),
    /channel 'c2' is not defined/,
  );
  assert.match(e.hint!, /did you mean 'c1'/);
});

test('sources need the plural channels key, sinks the singular channel key', () => {
  const errs = errors(
    BASE.replace('a1.sources.r1.channels = c1', 'a1.sources.r1.channel = c1').replace(
      'a1.sinks.k1.channel = c1',
      'a1.sinks.k1.channels = c1',
    ),
  );
  assert.match(find(errs, /source is not connected/).hint!, /plural key: a1.sources.r1.channels = c1/);
  assert.match(find(errs, /sink has no channel/).hint!, /singular key: a1.sinks.k1.channel = c1/);
});

test('batchSize above transactionCapacity is an error naming both keys', () => {
  const e = find(
    errors(`${BASE}\na1.sinks.k1.batchSize = 500\n`),
    /batchSize 500 exceeds transactionCapacity 100 of channel c1/,
  );
  assert.equal(e.key, 'a1.sinks.k1.batchSize');
  assert.match(e.hint!, /a1.channels.c1.transactionCapacity/);
});

test('memory channel transactionCapacity above capacity is an error', () => {
  find(errors(`${BASE}\na1.channels.c1.capacity = 10\n`), /transactionCapacity 100 exceeds capacity 10/);
});

test('two components binding the same port are an error', () => {
  const text =
    BASE.replace('a1.sources = r1', 'a1.sources = r1 r2') +
    `
a1.sources.r2.type = netcat
a1.sources.r2.bind = 0.0.0.0
a1.sources.r2.port = 44444
a1.sources.r2.channels = c1
`;
  find(errors(text), /TCP port 0.0.0.0:44444 is also claimed by source r1/);
});

test('a sink in two groups and a group without processor.type are errors', () => {
  const text =
    BASE.replace('a1.sinks = k1', 'a1.sinks = k1\na1.sinkgroups = g1 g2') +
    `
a1.sinkgroups.g1.sinks = k1
a1.sinkgroups.g1.processor.type = default
a1.sinkgroups.g2.sinks = k1
`;
  const errs = errors(text);
  find(errs, /sink 'k1' is already in sink group 'g1'/);
  assert.match(find(errs, /processor.type is missing|type is missing/).hint!, /failover or load_balance/);
});

test('listed components without properties, and defined components not listed, are errors', () => {
  const errs = errors(
    BASE.replace('a1.sinks = k1', 'a1.sinks = k1 k9') + 'a1.sinks.k2.type = null\na1.sinks.k2.channel = c1\n',
  );
  find(errs, /sink 'k9' is listed but has no properties/);
  const e = find(errs, /sink 'k2' has properties but is not listed/);
  assert.match(e.hint!, /a1.sinks = k1 k9 k2|did you mean/);
});

test('stray keys under the agent are errors with a suggestion', () => {
  const e = find(errors(`${BASE}a1.source.r1.type = netcat\n`), /'source' is not a section/);
  assert.match(e.hint!, /did you mean 'a1.sources.r1.type'/);
});

test('an unknown agent name is an error, with the agents found', () => {
  const errs = errors(BASE, 'a2');
  const e = find(errs, /no configuration found for agent 'a2'/);
  assert.match(e.hint!, /did you mean -n a1/);
});

test('a config without channels, or without sources and sinks, is an error', () => {
  find(errors('a1.sources = r1\na1.sources.r1.type = seq\na1.sources.r1.channels = c1\n'), /has no channels/);
  find(errors('a1.channels = c1\na1.channels.c1.type = memory\n'), /neither sources nor sinks/);
});

test('bad values are errors with the option type in the hint', () => {
  const errs = errors(BASE.replace('port = 44444', 'port = 70000') + 'a1.channels.c1.capacity = lots\n');
  find(errs, /70000 is above the maximum 65535/);
  find(errs, /'lots' is not a whole number/);
});

test('Flume keys with no effect are warnings naming the key; config still valid', () => {
  const r = check(`${BASE}a1.sinks.k1.maxBytesToLog = 32\n`);
  assert.ok(r.plan);
});

test('substitution: ${env:X}, ${sys:X} and ${KEY} apply to values before validation', () => {
  const text =
    BASE.replace('port = 44444', 'port = ${NC_PORT}').replace('bind = 127.0.0.1', 'bind = ${sys:bind}') +
    'NC_PORT = ${env:PORT}\n';
  const r = check(text, 'a1', { bind: '127.0.0.2' }, { PORT: '5555' });
  assert.ok(r.plan, JSON.stringify(r.issues));
  assert.equal(r.plan.sources[0]!.options.port, 5555);
  assert.equal(r.plan.sources[0]!.options.bind, '127.0.0.2');
});

test('unresolved substitutions are warnings, and the value fails its own validation', () => {
  const r = check(BASE.replace('port = 44444', 'port = ${env:NOPE_PORT}'));
  assert.ok(!r.plan);
  find(
    r.issues.filter((i) => i.severity === 'warning'),
    /unresolved reference \$\{env:NOPE_PORT\}/,
  );
  find(r.issues, /not a whole number/);
});

test('selector keys without the selector. prefix get a hint', () => {
  const e = find(errors(`${BASE}a1.sources.r1.optional = c1\n`), /unknown property 'optional'/);
  assert.match(e.hint!, /a1.sources.r1.selector.optional/);
});

test('the last duplicate key wins, like java.util.Properties', () => {
  const r = check(`${BASE}a1.sources.r1.port = 5000\n`);
  assert.equal(r.plan!.sources[0]!.options.port, 5000);
});

test('other agents in the same file are ignored', () => {
  const r = check(`${BASE}a2.sources = x\na2.sources.x.type = bogus\n`);
  assert.ok(r.plan);
});

// --- every problem at once: one mistake never hides another

test('an unknown key does not hide the cross-option check of the same component', () => {
  const errs = errors(`${BASE}a1.channels.c1.capacity = 10\na1.channels.c1.keep-alivee = 3\n`);
  assert.match(find(errs, /unknown property 'keep-alivee'/).hint!, /did you mean 'keep-alive'/);
  const tc = find(errs, /transactionCapacity 100 exceeds capacity 10/);
  assert.equal(tc.key, 'a1.channels.c1.transactionCapacity');
  assert.equal(errs.length, 2);
});

test('a check that reads a value which failed to parse is skipped (no verdict on a guessed value)', () => {
  const errs = errors(`${BASE}a1.channels.c1.capacity = lots\na1.channels.c1.transactionCapacity = 1000\n`);
  find(errs, /'lots' is not a whole number/);
  assert.deepEqual(
    errs.map((e) => e.message),
    ["'lots' is not a whole number"],
  );
});

test('batchSize against transactionCapacity is checked even when the sink has other mistakes', () => {
  const errs = errors(`${BASE}a1.sinks.k1.batchSize = 500\na1.sinks.k1.maxBytesToLogg = 8\n`);
  find(errs, /unknown property 'maxBytesToLogg'/);
  assert.equal(find(errs, /batchSize 500 exceeds transactionCapacity 100 of channel c1/).line, 12);
});

test('a port claimed twice is found even when a claimant has an unrelated mistake, not when its port failed', () => {
  const second = (port: string) =>
    BASE.replace('a1.sources = r1', 'a1.sources = r1 r2') +
    `
a1.sources.r2.type = netcat
a1.sources.r2.bind = 127.0.0.1
a1.sources.r2.port = ${port}
a1.sources.r2.channels = c1
a1.sources.r2.max-line-lenght = 10
`;
  const errs = errors(second('44444'));
  find(errs, /unknown property 'max-line-lenght'/);
  find(errs, /TCP port 127.0.0.1:44444 is also claimed by source r1/);
  assert.ok(!errors(second('44444x')).some((e) => /also claimed/.test(e.message)));
});

test("selector checks run even when another of the source's channels is undefined", () => {
  const errs = errors(
    BASE.replace('a1.sources.r1.channels = c1', 'a1.sources.r1.channels = c1 c9') +
      `
a1.sources.r1.selector.type = multiplexing
a1.sources.r1.selector.mapping.x = c1 c3
a1.sources.r1.selector.default = c1
`,
  );
  find(errs, /channel 'c9' is not defined/);
  assert.equal(find(errs, /channel 'c3' in selector\.mapping\.x is not one of the source's channels/).line, 14);
});

test('a bad selector.unmatched value does not hide a mapping to an unknown channel', () => {
  const errs = errors(
    BASE +
      `a1.sources.r1.selector.type = multiplexing
a1.sources.r1.selector.unmatched = dropp
a1.sources.r1.selector.mapping.x = c3
a1.sources.r1.selector.default = c1
`,
  );
  find(errs, /'dropp' is not one of default, drop/);
  find(errs, /channel 'c3' in selector\.mapping\.x is not one of the source's channels/);
});

test('the seed multiplexing config reports every mistake in one run, each at its key with a hint', () => {
  const seed =
    BASE.replace('a1.channels = c1', 'a1.channels = c1 c2').replace(
      'a1.sources.r1.channels = c1',
      `a1.sources.r1.channels = c1 c2
a1.sources.r1.selector.type = multiplexing
a1.sources.r1.selector.head = state
a1.sources.r1.selector.mapping.READ = c1
a1.sources.r1.selector.mapping.WRITE = c2
a1.sources.r1.selector.default = c`,
    ) + 'a1.channels.c2.type = memory\n';
  const errs = errors(seed);
  assert.deepEqual(
    errs.map((e) => [e.line, e.key, e.hint]),
    [
      [10, 'a1.sources.r1.selector.head', "did you mean 'header'?"],
      [13, 'a1.sources.r1.selector.default', "did you mean 'c1'?"],
    ],
  );
  assert.match(errs[0]!.message, /unknown property 'head' for selector type 'multiplexing'/);
  assert.match(errs[1]!.message, /channel 'c' in selector\.default is not one of the source's channels \(c1, c2\)/);
});

test('a key cut short gets the one key it starts; a selector key without its prefix still gets the prefix hint', () => {
  const e = find(errors(`${BASE}a1.sources.r1.max-line = 10\n`), /unknown property 'max-line'/);
  assert.match(e.hint!, /did you mean 'max-line-length'/);
  const sel = find(errors(`${BASE}a1.sources.r1.optional = c1\n`), /unknown property 'optional'/);
  assert.match(sel.hint!, /selector keys need the prefix/);
});

test('a misspelt old spelling is pointed to the new key, not to the old one', () => {
  const def = defineSource({
    type: 't',
    summary: 's',
    options: {
      'keystore-password': opt.string({ doc: 'Password.' }),
      keystorePassword: opt.renamed({ to: 'keystore-password' }),
    },
    create: () => ({ start: async () => {}, close: async () => {} }),
  });
  const r = componentOptions(def, { keystorePasword: 'pw' });
  assert.equal(r.options, undefined);
  assert.equal(r.issues[0]!.hint, "did you mean 'keystore-password'?");
});
