import { test } from 'node:test';
import assert from 'node:assert/strict';
import { opt, OptionError, closest, parseSize, parseDurationMs } from '../../src/contract/index.js';

test('int parses whole numbers and enforces ranges', () => {
  const o = opt.int({ default: 1, min: 1, max: 10, doc: '' });
  assert.equal(o.parse('7'), 7);
  assert.throws(() => o.parse('0'), OptionError);
  assert.throws(() => o.parse('11'), /above the maximum/);
  assert.throws(() => o.parse('1.5'), /not a whole number/);
  assert.throws(() => o.parse('lots'), /not a whole number/);
});

test('bool accepts only true/false, case-insensitively', () => {
  const o = opt.bool({ default: false, doc: '' });
  assert.equal(o.parse('TRUE'), true);
  assert.equal(o.parse('false'), false);
  assert.throws(() => o.parse('yes'), /not true or false/);
});

test('enum is case-insensitive, returns the canonical spelling and suggests', () => {
  const o = opt.enum({ values: ['DEFAULT', 'ROLLTIME'] as const, default: 'DEFAULT', doc: '' });
  assert.equal(o.parse('rolltime'), 'ROLLTIME');
  try {
    o.parse('ROLTIME');
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof OptionError);
    assert.match(e.hint ?? '', /did you mean 'ROLLTIME'/);
  }
});

test('size and duration units', () => {
  assert.equal(parseSize('64k'), 65536);
  assert.equal(parseSize('512m'), 512 * 1024 * 1024);
  assert.equal(parseSize('100'), 100);
  assert.throws(() => parseSize('12q'));
  assert.equal(parseDurationMs('3', 's'), 3000);
  assert.equal(parseDurationMs('250ms', 's'), 250);
  assert.equal(parseDurationMs('2m', 's'), 120000);
  const d = opt.duration({ default: 30, unit: 's', min: 0, doc: '' });
  assert.equal(d.default, 30000);
  assert.equal(d.parse('0'), 0);
  assert.throws(() => d.parse('-1'));
});

test('list splits on whitespace', () => {
  assert.deepEqual(opt.list({ doc: '' }).parse('a  b\tc'), ['a', 'b', 'c']);
});

test('closest finds typos but not unrelated words', () => {
  assert.equal(closest('max-line-lenght', ['max-line-length', 'bind', 'port']), 'max-line-length');
  assert.equal(closest('capcity', ['capacity', 'transactionCapacity']), 'capacity');
  assert.equal(closest('batchsize', ['batchSize']), 'batchSize');
  assert.equal(closest('zzz', ['capacity', 'bind']), undefined);
});

test('renamed: an old spelling warns, names the new key and resolves as it; the new spelling wins when both are set', async () => {
  const { componentOptions } = await import('../../src/config/validate/index.js');
  const { defineSource } = await import('../../src/contract/index.js');
  const { describeText } = await import('../../src/registry/docs.js');
  const def = defineSource({
    type: 't',
    summary: 's',
    options: {
      'keystore-password': opt.string({ doc: 'Password.' }),
      keystorePassword: opt.renamed({ to: 'keystore-password' }),
    },
    create: () => ({ start: async () => {}, close: async () => {} }),
  });
  const old = componentOptions(def, { keystorePassword: 'pw' });
  assert.deepEqual(old.options, { 'keystore-password': 'pw' });
  assert.equal(old.issues.length, 1);
  assert.equal(old.issues[0]!.severity, 'warning');
  assert.match(old.issues[0]!.message, /'keystorePassword' is an old spelling of 'keystore-password'/);
  const both = componentOptions(def, { keystorePassword: 'old', 'keystore-password': 'new' });
  assert.deepEqual(both.options, { 'keystore-password': 'new' });
  assert.match(both.issues[0]!.message, /'keystore-password' is set too and wins/);
  const none = componentOptions(def, {});
  assert.deepEqual(none.options, { 'keystore-password': undefined });
  // describe lists the old spelling with the key it was renamed to, not as a key of its own
  const text = describeText(def);
  assert.doesNotMatch(text, /^\s+keystorePassword\s/m);
  assert.match(text, /Old spelling, accepted with a warning: keystorePassword/);
});
