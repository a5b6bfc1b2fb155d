/**
 * Huge configurations (issue 17 item 9): the problems reported are capped with a count of the rest, validation is
 * linear in the number of keys (no pairwise comparison of names, claims or "did you mean" over every name), and a
 * configuration past the size or key limits is refused before it is parsed. The 50 MB figures: bench/huge-config.mjs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { configFromText, loadConfig, loadDocument } from '../../src/config/load.js';
import { formatIssues, ISSUE_LIMIT } from '../../src/config/issues.js';
import { tmpDir } from '../helpers/cli.js';

const HEAD =
  'a1.channels = c1\na1.channels.c1.type = memory\na1.sinks = k1\na1.sinks.k1.type = null\na1.sinks.k1.channel = c1\n';

function load(text: string) {
  return configFromText(text, { agent: 'a1', sys: {}, env: {}, file: 'huge.properties' });
}

test('a config with 30,000 mistakes lists the first problems and counts the rest', { timeout: 60_000 }, () => {
  const n = 5000; // 6 mistakes each
  const lines = [HEAD];
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    names.push(`r${i}`);
    lines.push(
      `a1.sources.r${i}.type = netcat\na1.sources.r${i}.bind = 127.0.0.1\na1.sources.r${i}.port = x${i}\n` +
        `a1.sources.r${i}.channels = nope${i}\na1.sources.r${i}.batchSise = 10\na1.sources.r${i}.maxConnections = 0\n` +
        `a1.sources.r${i}.encoding = nope\na1.sources.r${i}.ack-every-event = maybe\n`,
    );
  }
  lines.push(`a1.sources = ${names.join(' ')}\n`);
  const res = load(lines.join(''));
  assert.equal(res.plan, undefined);
  assert.equal(res.issues.length, ISSUE_LIMIT);
  assert.ok(res.omitted, 'the rest is counted');
  assert.equal(res.issues.length + res.omitted.errors + res.omitted.warnings, 6 * n);
  const text = formatIssues(res.issues, res.omitted);
  assert.match(text, new RegExp(`and ${(6 * n - ISSUE_LIMIT).toLocaleString('en-US')} more errors, 0 more warnings`));
  assert.match(text, new RegExp(`${(6 * n).toLocaleString('en-US')} errors, 0 warnings$`));
  assert.ok(text.length < 40_000, `a short report (${text.length} chars)`);
});

test(
  'listed-but-undefined and defined-but-unlisted names are matched without comparing every pair',
  { timeout: 60_000 },
  () => {
    // 20,000 names listed and 20,000 others defined: "did you mean" over every pair took minutes
    const n = 20_000;
    const listed: string[] = [];
    const lines = [HEAD];
    for (let i = 0; i < n; i++) {
      listed.push(`src${i}`);
      lines.push(`a1.sources.other${i}.type = seq\n`);
    }
    lines.push(`a1.sources = ${listed.join(' ')}\n`);
    const res = load(lines.join(''));
    assert.equal(res.plan, undefined);
    assert.equal(res.issues.length + (res.omitted?.errors ?? 0), 2 * n);
    for (const i of res.issues) assert.ok((i.hint ?? '').length < 300, `a hint never lists every name: ${i.hint}`);
  },
);

test('30,000 sources claiming one port: one error each, not one per pair', { timeout: 60_000 }, () => {
  const n = 30_000;
  const lines = [HEAD];
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    names.push(`r${i}`);
    lines.push(`a1.sources.r${i}.type = netcat\na1.sources.r${i}.bind = 0.0.0.0\na1.sources.r${i}.port = 4444\n`);
    lines.push(`a1.sources.r${i}.channels = c1\n`);
  }
  lines.push(`a1.sources = ${names.join(' ')}\n`);
  const res = load(lines.join(''));
  assert.equal(res.issues.length + (res.omitted?.errors ?? 0), n - 1);
  assert.match(res.issues[0]!.message, /TCP port 0\.0\.0\.0:4444 is also claimed by source r0/);
});

test('a source with 40,000 interceptors is planned in one pass over its keys', { timeout: 60_000 }, () => {
  const n = 40_000;
  const ics: string[] = [];
  const lines = [HEAD, 'a1.sources = r1\na1.sources.r1.type = seq\na1.sources.r1.channels = c1\n'];
  for (let i = 0; i < n; i++) {
    ics.push(`i${i}`);
    lines.push(`a1.sources.r1.interceptors.i${i}.type = host\n`);
  }
  lines.push(`a1.sources.r1.interceptors = ${ics.join(' ')}\n`);
  const res = load(lines.join(''));
  assert.ok(res.plan, formatIssues(res.issues, res.omitted));
  assert.equal(res.plan.sources[0]!.interceptors.length, n);
});

test('a configuration past the byte or key limit is refused before it is parsed', () => {
  const dir = tmpDir();
  const f = path.join(dir, 'big.properties');
  fs.writeFileSync(f, `${HEAD}${'a1.x.y = 1\n'.repeat(2000)}`);
  const bytes = loadConfig({ files: [f], agent: 'a1', sys: { 'flume.config.maxBytes': '8k' } });
  assert.equal(bytes.plan, undefined);
  assert.equal(bytes.issues.length, 1);
  assert.match(bytes.issues[0]!.message, /larger than the limit of 0\.0 MiB; not read .*-Dflume\.config\.maxBytes/);
  const keys = loadConfig({ files: [f], agent: 'a1', sys: { 'flume.config.maxKeys': '1000' } });
  assert.equal(keys.issues.length, 1);
  assert.match(keys.issues[0]!.message, /more than 1000 keys.*-Dflume\.config\.maxKeys/);
  assert.equal(keys.issues[0]!.line, 1001);
  const bad = loadConfig({ files: [f], agent: 'a1', sys: { 'flume.config.maxKeys': 'lots' } });
  assert.match(bad.issues[0]!.message, /'lots' is not a positive number/);
  // under the limits it loads (and reports the bad keys)
  const ok = loadConfig({ files: [f], agent: 'a1', sys: {} });
  assert.ok(ok.issues.length > 0);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the limits apply to a configuration read from ZooKeeper or etcd (the same text -> plan path)', () => {
  const name = 'zookeeper 127.0.0.1:2181/flume/a1';
  const doc = { parts: [{ name, text: `${HEAD}${'a1.x.y = 1\n'.repeat(2000)}` }] };
  const bytes = loadDocument(doc, { agent: 'a1', sys: { 'flume.config.maxBytes': '8k' } });
  assert.equal(bytes.plan, undefined);
  assert.equal(bytes.issues.length, 1);
  assert.equal(bytes.issues[0]!.file, name);
  assert.match(bytes.issues[0]!.message, /larger than the limit of 0\.0 MiB; not parsed .*-Dflume\.config\.maxBytes/);
  const keys = loadDocument(doc, { agent: 'a1', sys: { 'flume.config.maxKeys': '1000' } });
  assert.equal(keys.issues.length, 1);
  assert.match(keys.issues[0]!.message, /more than 1000 keys.*-Dflume\.config\.maxKeys/);
  // the default limits hold for a store too: 250,001 keys are refused
  const many = loadDocument(
    { parts: [{ name, text: 'a1.k = v\n'.repeat(1).concat(manyKeys(250_001)) }] },
    {
      agent: 'a1',
      sys: {},
    },
  );
  assert.equal(many.issues.length, 1);
  assert.match(many.issues[0]!.message, /more than 250000 keys/);
});

function manyKeys(n: number): string {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(`a1.k${i} = v\n`);
  return out.join('');
}
