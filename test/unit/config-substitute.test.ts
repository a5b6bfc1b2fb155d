import { test } from 'node:test';
import assert from 'node:assert/strict';
import { substitute } from '../../src/config/substitute.js';

const ctx = (
  keys: Record<string, string> = {},
  env: Record<string, string> = {},
  sys: Record<string, string> = {},
) => ({
  env,
  sys,
  lookupKey: (k: string) => keys[k],
});

test('env, sys and key references resolve', () => {
  const c = ctx({ NC_PORT: '44444' }, { HOST: 'example' }, { 'flume.port': '9' });
  assert.equal(substitute('${env:HOST}:${sys:flume.port}:${NC_PORT}', c).value, 'example:9:44444');
});

test('nested references resolve inside out, like ${${sys:env}_BIND}', () => {
  const c = ctx({ PROD_BIND: '10.0.0.1', DEV_BIND: '127.0.0.1' }, {}, { env: 'DEV' });
  assert.equal(substitute('${${sys:env}_BIND}', c).value, '127.0.0.1');
});

test('forward and chained key references resolve against the whole key set', () => {
  const c = ctx({ A: '${B}-a', B: '${C}-b', C: 'c' });
  assert.equal(substitute('${A}', c).value, 'c-b-a');
});

test('unresolvable references stay verbatim and are reported', () => {
  const r = substitute('x${env:NOPE}y${missing}', ctx());
  assert.equal(r.value, 'x${env:NOPE}y${missing}');
  assert.deepEqual(r.unresolved, ['env:NOPE', 'missing']);
});

test('$${x} escapes to a literal ${x}', () => {
  assert.equal(substitute('a$${HOME}b', ctx({ HOME: 'no' })).value, 'a${HOME}b');
});

test('reference cycles do not loop', () => {
  const r = substitute('${A}', ctx({ A: '${B}', B: '${A}' }));
  assert.ok(r.unresolved.length > 0);
});

test('values without ${ are returned as is', () => {
  assert.equal(substitute('plain $ value {x}', ctx()).value, 'plain $ value {x}');
});
