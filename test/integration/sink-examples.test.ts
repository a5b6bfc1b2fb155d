/**
 * The examples of the elasticsearch and http sinks, as real agent processes through the CLI (ports and
 * directories rewritten for the test):
 *  - every agent of both files validates without a warning;
 *  - http-forwarder: edge (netcat -> http sink, Flume JSON) -> collector (http source -> file_roll), headers kept;
 *  - tail-to-elasticsearch: taildir -> file channel -> elasticsearch, against EsDouble, a protocol-level DOUBLE of
 *    Elasticsearch's _bulk API (no real Elasticsearch can run here), with one poison document dead-lettered.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AgentProcess, freePort, ROOT, tcpExchange, tmpDir } from '../helpers/cli.js';
import { loadConfig } from '../../src/config/load.js';
import { formatIssues } from '../../src/config/issues.js';
import { waitFor } from '../helpers/wait.js';
import { EsDouble } from '../helpers/es-double.js';

const dirs: string[] = [];
const procs: AgentProcess[] = [];
after(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function example(name: string, replace: [string, string][], dir: string): string {
  let text = fs.readFileSync(path.join(ROOT, 'examples', name), 'utf8');
  for (const [from, to] of replace) text = text.split(from).join(to);
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}

function start(file: string, name: string): AgentProcess {
  const p = AgentProcess.agent(file, name);
  procs.push(p);
  return p;
}

test('every agent of the elasticsearch and http examples validates without warnings', () => {
  const agents: Record<string, string[]> = {
    'tail-to-elasticsearch.properties': ['a1'],
    'http-forwarder.properties': ['edge', 'collector'],
  };
  for (const [file, names] of Object.entries(agents)) {
    for (const n of names) {
      const r = loadConfig({ files: [path.join(ROOT, 'examples', file)], agent: n, sys: {}, env: {} });
      assert.ok(r.plan, `${file} -n ${n}: ${formatIssues(r.issues)}`);
      assert.deepEqual(
        r.issues.filter((i) => i.severity === 'warning'),
        [],
        `${file} -n ${n}: no warnings`,
      );
    }
  }
});

test('http-forwarder: every line reaches the collector once, with the edge headers', { timeout: 120_000 }, async () => {
  const dir = tmpDir('http-forwarder-');
  dirs.push(dir);
  const out = path.join(dir, 'out');
  fs.mkdirSync(out);
  const [netcatPort, httpPort] = [await freePort(), await freePort()];
  const file = example(
    'http-forwarder.properties',
    [
      ['44445', String(netcatPort)],
      ['5081', String(httpPort)],
      ['/tmp/flume-http-collector', out],
    ],
    dir,
  );
  const collector = start(file, 'collector');
  const edge = start(file, 'edge');
  await collector.waitForOutput(/Agent started/, 60_000);
  await edge.waitForOutput(/Agent started/, 60_000);
  const lines = Array.from({ length: 1500 }, (_, i) => `line-${i} é`);
  const reply = await tcpExchange(netcatPort, `${lines.join('\n')}\n`, {
    until: (r) => r.split('OK\n').length - 1 >= lines.length,
    timeoutMs: 15_000,
  });
  assert.equal(reply, 'OK\n'.repeat(lines.length));
  const written = () =>
    fs.readdirSync(out).flatMap((n) => fs.readFileSync(path.join(out, n), 'utf8').split('\n').filter(Boolean));
  await waitFor(() => written().length >= 1500, 20_000, '1500 lines at the collector');
  assert.equal(await edge.stop(), 0);
  assert.equal(await collector.stop(), 0);
  const got = written();
  assert.equal(got.length, 1500, 'no duplicates');
  for (let i = 0; i < got.length; i++) {
    const m = /^\{(.*)\} line-(\d+) é$/.exec(got[i]!);
    assert.ok(m, got[i]);
    assert.equal(Number(m[2]), i, 'in order');
    assert.match(m[1]!, /host=[^,]+/);
    assert.match(m[1]!, /timestamp=\d+/);
  }
});

test(
  'tail-to-elasticsearch: lines become logstash documents in the daily index; a poison one is dead-lettered',
  { timeout: 120_000 },
  async () => {
    const es = new EsDouble({
      itemFault: (a) =>
        a.doc!['@message'] === 'poison'
          ? { status: 400, error: { type: 'document_parsing_exception', reason: '[1:2] failed to parse' } }
          : undefined,
    });
    await es.listen();
    try {
      const dir = tmpDir('tail-es-');
      dirs.push(dir);
      const logs = path.join(dir, 'logs');
      fs.mkdirSync(logs);
      const file = example(
        'tail-to-elasticsearch.properties',
        [
          ['/var/log/myapp', logs],
          ['/var/lib/flume-ts', dir],
          ['127.0.0.1:9200', es.url.replace('http://', '')],
        ],
        dir,
      );
      const agent = start(file, 'a1');
      await agent.waitForOutput(/Agent started/, 60_000);
      const lines = Array.from({ length: 300 }, (_, i) => (i === 150 ? 'poison' : `request ${i} served`));
      fs.writeFileSync(path.join(logs, 'app.log'), lines.map((l) => `${l}\n`).join(''));
      await waitFor(() => es.count >= 299, 20_000, '299 documents in the double');
      const dead = path.join(dir, 'es-dead-letter.jsonl');
      await waitFor(() => fs.existsSync(dead) && fs.readFileSync(dead, 'utf8').includes('poison'), 10_000);
      assert.equal(await agent.stop(), 0);
      assert.equal(es.count, 299);
      const [name] = [...es.indices.keys()];
      assert.match(name!, /^myapp-\d{4}-\d\d-\d\d$/);
      const doc = es.docs('myapp')[0]!;
      assert.equal(doc['@message'], 'request 0 served');
      assert.equal(doc['@type'], 'myapp');
      assert.equal(doc['@source_path'], path.join(logs, 'app.log'));
      assert.equal(typeof doc['@source_host'], 'string');
      assert.match(String(doc['@timestamp']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(es.requests[0]!['content-encoding'], 'gzip');
      const letter = JSON.parse(fs.readFileSync(dead, 'utf8'));
      assert.equal(letter.reason, 'document_parsing_exception: [1:2] failed to parse');
      assert.equal(letter.body, 'poison');
    } finally {
      await es.close();
    }
  },
);
