/**
 * `flume-ng validate` on configs with several mistakes inside one sub-component (selector, interceptors, sink
 * processors): every mistake in one run, pinned by golden files (file:line, key, message, hint). A misspelt key
 * used to hide the checks that read the component's other keys. UPDATE_GOLDEN=1 rewrites the golden files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { runCli, ROOT } from '../helpers/cli.js';

const FIXTURES = path.join('test', 'fixtures', 'configs');

function validateAgainstGolden(name: string): string {
  const fixture = path.join(FIXTURES, `${name}.properties`);
  const r = runCli(['validate', '-n', 'a1', '-f', fixture]);
  assert.equal(r.code, 78, r.stdout + r.stderr);
  const actual = r.stderr.split(path.resolve(ROOT, fixture)).join(fixture);
  const goldenFile = path.join(ROOT, FIXTURES, `${name}.expected.txt`);
  if (process.env.UPDATE_GOLDEN) fs.writeFileSync(goldenFile, actual);
  assert.equal(actual, fs.readFileSync(goldenFile, 'utf8'));
  return actual;
}

test('the seed multiplexing config: selector.head and the unknown default channel in one run (golden)', () => {
  const out = validateAgainstGolden('multiplexing-seed');
  assert.match(out, /:13: error: source r1 selector: a1\.sources\.r1\.selector\.head: unknown property 'head'/);
  assert.match(out, /unknown property 'head'.*\n {4}hint: did you mean 'header'\?/);
  assert.match(out, /:16: error: .*selector\.default: channel 'c' in selector\.default is not one of the source's/);
  assert.match(out, /\n2 errors, 0 warnings\n$/);
});

test('the seed multiplexing config as JSON: each issue with its file, line, key, message and hint', () => {
  const fixture = path.join(FIXTURES, 'multiplexing-seed.properties');
  const r = runCli(['validate', '-n', 'a1', '-f', fixture, '--json']);
  assert.equal(r.code, 78);
  const res = JSON.parse(r.stdout) as { valid: boolean; issues: Record<string, unknown>[] };
  assert.equal(res.valid, false);
  const file = path.resolve(ROOT, fixture);
  assert.deepEqual(res.issues.map((i) => [i.severity, i.file, i.line, i.key, i.hint]).sort(), [
    ['error', file, 13, 'a1.sources.r1.selector.head', "did you mean 'header'?"],
    ['error', file, 16, 'a1.sources.r1.selector.default', "did you mean 'c1'?"],
  ]);
});

test('interceptors: misspelt keys do not hide the serializer count or a replacement naming a missing group', () => {
  const out = validateAgainstGolden('interceptor-mistakes');
  assert.match(out, /interceptors\.ts\.header: unknown property 'header'.*\n {4}hint: did you mean 'headerName'\?/);
  assert.match(out, /interceptors\.ext\.serializers: 2 serializers but the regex has 1 group/);
  assert.match(out, /interceptors\.cut\.replaceString: replacement '\$2' refers to group 2/);
  assert.match(out, /\n5 errors, 0 warnings\n$/);
});

test('processors: a misspelt key hides no duplicate priority, foreign sink or one-sink load_balance', () => {
  const out = validateAgainstGolden('processor-mistakes');
  assert.match(out, /processor\.maxpenality: unknown property/);
  assert.match(out, /sinks 'k1' and 'k2' both have priority 10/);
  assert.match(out, /priority\.k4: sink 'k4' is not in this group/);
  assert.match(out, /processor\.backof: unknown property/);
  assert.match(out, /load_balance needs at least 2 sinks, this group has 1/);
  assert.match(out, /\n5 errors, 0 warnings\n$/);
});
