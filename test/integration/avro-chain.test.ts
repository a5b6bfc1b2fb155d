/**
 * Multi-tier topologies through the CLI, as real processes on loopback, from the examples/avro-*.properties files
 * (ports and directories rewritten for the test):
 *  - two-tier: the edge starts while the collector is absent (its sink retries with backoff), the collector comes
 *    up, every line arrives exactly once with the headers the edge added; then more lines flow through the live chain;
 *  - consolidation: two edges into one collector;
 *  - every agent of every avro example validates.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AgentProcess, freePort, ROOT, tcpExchange, tmpDir } from '../helpers/cli.js';
import { loadConfig } from '../../src/config/load.js';
import { formatIssues } from '../../src/config/issues.js';
import { waitFor } from '../helpers/wait.js';

const dirs: string[] = [];
const procs: AgentProcess[] = [];
after(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function example(name: string, replace: [string | RegExp, string][], dir: string): string {
  let text = fs.readFileSync(path.join(ROOT, 'examples', name), 'utf8');
  for (const [from, to] of replace) text = text.split(from as string).join(to);
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

function outputLines(dir: string): string[] {
  const lines: string[] = [];
  for (const n of fs.readdirSync(dir))
    lines.push(...fs.readFileSync(path.join(dir, n), 'utf8').split('\n').filter(Boolean));
  return lines;
}

async function sendLines(port: number, lines: string[]): Promise<void> {
  const reply = await tcpExchange(port, `${lines.join('\n')}\n`, {
    until: (r) => r.split('OK\n').length - 1 >= lines.length,
    timeoutMs: 15_000,
  });
  assert.equal(reply, 'OK\n'.repeat(lines.length));
}

function start(file: string, name: string): AgentProcess {
  const p = AgentProcess.agent(file, name);
  procs.push(p);
  return p;
}

test('every agent of the avro examples validates', () => {
  const agents: Record<string, string[]> = {
    'avro-two-tier.properties': ['edge', 'collector'],
    'avro-consolidation.properties': ['edge1', 'edge2', 'collector'],
    'avro-failover.properties': ['edge', 'collector1', 'collector2'],
  };
  for (const [file, names] of Object.entries(agents)) {
    assert.match(
      fs.readFileSync(path.join(ROOT, 'examples', file), 'utf8').split('\n')[0]!,
      new RegExp(`^# agent: ${names[0]}$`),
    );
    for (const n of names) {
      const r = loadConfig({ files: [path.join(ROOT, 'examples', file)], agent: n, sys: {} });
      assert.ok(r.plan, `${file} -n ${n}: ${formatIssues(r.issues)}`);
      assert.deepEqual(
        r.issues.filter((i) => i.severity === 'warning'),
        [],
        `${file} -n ${n}: no warnings`,
      );
    }
  }
});

test(
  'two-tier chain: edge first (collector absent), then the collector: every line once, headers preserved',
  { timeout: 60_000 },
  async () => {
    const dir = tmpDir('avro-chain-');
    dirs.push(dir);
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    const [netcatPort, avroPort] = [await freePort(), await freePort()];
    const file = example(
      'avro-two-tier.properties',
      [
        ['44444', String(netcatPort)],
        ['4545', String(avroPort)],
        ['/tmp/flume-collector', out],
      ],
      dir,
    );

    const edge = start(file, 'edge');
    await edge.waitForOutput(/Agent started/);
    const first = Array.from({ length: 2000 }, (_, i) => `line-${i} é`);
    await sendLines(netcatPort, first); // committed to the edge's channel
    await edge.waitForOutput(/Cannot connect to the next hop/); // the collector is not there yet

    const collector = start(file, 'collector');
    await collector.waitForOutput(/Agent started/);
    await waitFor(() => outputLines(out).length >= 2000, 20_000, 'the first 2000 lines at the collector');
    const more = Array.from({ length: 3000 }, (_, i) => `line-${2000 + i} é`);
    await sendLines(netcatPort, more);
    await waitFor(() => outputLines(out).length >= 5000, 20_000, 'all 5000 lines at the collector');

    assert.equal(await edge.stop(), 0);
    assert.equal(await collector.stop(), 0);
    const lines = outputLines(out);
    assert.equal(lines.length, 5000, 'no duplicates');
    const seen = new Set<number>();
    for (const l of lines) {
      const m = /^\{host=[^,]+, timestamp=(\d+)\} line-(\d+) é$/.exec(l);
      assert.ok(m, `header_and_text line with the edge's host and timestamp headers: ${l}`);
      seen.add(Number(m[2]));
    }
    assert.equal(seen.size, 5000);
    assert.match(edge.stdout + edge.stderr, /Connected to the next hop/);
  },
);

test('consolidation: two edges into one collector', { timeout: 60_000 }, async () => {
  const dir = tmpDir('avro-consolidation-');
  dirs.push(dir);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const [p1, p2, avroPort] = [await freePort(), await freePort(), await freePort()];
  const file = example(
    'avro-consolidation.properties',
    [
      ['44441', String(p1)],
      ['44442', String(p2)],
      ['4545', String(avroPort)],
      ['/tmp/flume-consolidated', out],
    ],
    dir,
  );
  const collector = start(file, 'collector');
  const edge1 = start(file, 'edge1');
  const edge2 = start(file, 'edge2');
  await Promise.all([collector, edge1, edge2].map((p) => p.waitForOutput(/Agent started/)));
  await Promise.all([
    sendLines(
      p1,
      Array.from({ length: 1500 }, (_, i) => `a${i}`),
    ),
    sendLines(
      p2,
      Array.from({ length: 1500 }, (_, i) => `b${i}`),
    ),
  ]);
  await waitFor(() => outputLines(out).length >= 3000, 20_000, '3000 lines at the collector');
  for (const p of [edge1, edge2, collector]) assert.equal(await p.stop(), 0);
  const lines = outputLines(out);
  assert.equal(lines.length, 3000);
  const byTier: Record<string, Set<string>> = { edge1: new Set(), edge2: new Set() };
  for (const l of lines) {
    const m = /^\{tier=(edge1|edge2)\} ([ab]\d+)$/.exec(l);
    assert.ok(m, l);
    assert.equal(m[2]![0], m[1] === 'edge1' ? 'a' : 'b');
    byTier[m[1]!]!.add(m[2]!);
  }
  assert.equal(byTier.edge1!.size, 1500);
  assert.equal(byTier.edge2!.size, 1500);
});
