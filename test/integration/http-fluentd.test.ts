/**
 * The http source with `handler = fluentd` (Fluentd in_http's request format) against curl, the client Fluentd's own
 * documentation uses: tag from the path, json=/ndjson=/msgpack= fields, JSON/NDJSON/msgpack bodies, time from the
 * query or the record; 400 with nothing committed for a malformed request; 503 on a full channel.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Packr } from 'msgpackr';
import { startAgent } from '../helpers/agent.js';
import type { Agent } from '../../src/runtime/agent.js';
import type { Channel } from '../../src/contract/index.js';
import type { FlumeEvent } from '../../src/core/event.js';
import type { HttpSource } from '../../src/sources/http/index.js';
import { formFields, tagOfPath } from '../../src/sources/http/fluentd-handler.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-fluentd-http-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function inst<T>(r: unknown): T {
  const x = r as { sup?: { instance: T }; instance?: T };
  return (x.sup?.instance ?? x.instance)!;
}
const source = (a: Agent) => inst<HttpSource>(a.sources.get('r1'));
const channel = (a: Agent) => inst<Channel>(a.channels.get('c1'));

async function takeAll(ch: Channel): Promise<FlumeEvent[]> {
  const all: FlumeEvent[] = [];
  for (;;) {
    const tx = ch.begin();
    const evs = await tx.take(ch.transactionCapacity);
    await tx.commit();
    if (evs.length === 0) return all;
    all.push(...evs);
  }
}

const conf = (capacity = 1000) => `
a1.sources = r1
a1.channels = c1
a1.sources.r1.type = http
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = 0
a1.sources.r1.handler = fluentd
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = ${capacity}
a1.channels.c1.transactionCapacity = ${Math.min(capacity, 100)}
a1.channels.c1.keep-alive = 0
`;

function curl(args: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-s', '-S', '-o', '-', '-w', '\n%{http_code}', '--max-time', '20', ...args],
      { maxBuffer: 1 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && !/\d{3}$/.test(stdout)) return reject(new Error(`curl failed: ${stderr}`));
        const i = stdout.lastIndexOf('\n');
        resolve({ status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i) });
      },
    );
  });
}
const url = (a: Agent, p: string) => `http://127.0.0.1:${source(a).port}${p}`;
const view = (e: FlumeEvent) => [e.headers.tag, e.headers.timestamp, JSON.parse(e.body.toString()) as unknown];

test('tag from the path; form fields as bytes', () => {
  assert.equal(tagOfPath('/app/web'), 'app.web');
  assert.equal(tagOfPath('/app.log/'), 'app.log');
  assert.equal(tagOfPath('/a%2Fb'), 'a%2Fb');
  const f = formFields(Buffer.from('json=%7B%22a%22%3A+1%7D&msgpack=%81%a1a%01&x'));
  assert.equal(f.get('json')!.toString(), '{"a": 1}');
  assert.deepEqual([...f.get('msgpack')!], [0x81, 0xa1, 0x61, 0x01]);
  assert.equal(f.get('x')!.length, 0);
});

test('curl: json= form (curl -d), JSON and NDJSON bodies, msgpack body; time from the query or the record', async () => {
  const a = await startAgent(conf());
  try {
    // Fluentd's documented example
    let r = await curl(['-X', 'POST', '-d', 'json={"action":"login","user":2}', url(a, '/test.tag.here')]);
    assert.deepEqual([r.status, r.body], [200, '']);
    r = await curl(['-d', 'json=[{"a":1},{"a":2,"time":1700000000.5}]', url(a, '/app/web?time=0')]);
    assert.equal(r.status, 200);
    r = await curl([
      '-H',
      'Content-Type: application/json',
      '--data-binary',
      '[{"b":1,"time":1700000000.25},{"b":2}]',
      url(a, '/j'),
    ]);
    assert.equal(r.status, 200);
    r = await curl([
      '-H',
      'Content-Type: application/x-ndjson',
      '--data-binary',
      '{"n":1}\n{"n":2}\n',
      url(a, '/nd?time=1700000001'),
    ]);
    assert.equal(r.status, 200);
    const mp = path.join(tmp, 'body.msgpack');
    const packr = new Packr({ useRecords: false });
    fs.writeFileSync(mp, Buffer.concat([packr.pack({ m: 'x', time: 1700000002 }), packr.pack([{ m: 'y' }])]));
    r = await curl(['-H', 'Content-Type: application/msgpack', '--data-binary', `@${mp}`, url(a, '/mp')]);
    assert.equal(r.status, 200);
    const before = Date.now();
    const evs = (await takeAll(channel(a))).map(view);
    const nowish = (ts: unknown) => Math.abs(Number(ts) - before) < 60_000;
    assert.deepEqual(evs[0]![0], 'test.tag.here');
    assert.deepEqual(evs[0]![2], { action: 'login', user: 2 });
    assert.ok(nowish(evs[0]![1]));
    // time=0 is now, for every record, and the record's own time stays in the record
    assert.deepEqual(evs[1]![2], { a: 1 });
    assert.deepEqual(evs[2]![2], { a: 2, time: 1700000000.5 });
    assert.ok(nowish(evs[2]![1]));
    assert.deepEqual(evs.slice(3), [
      ['j', '1700000000250', { b: 1 }],
      ['j', evs[4]![1], { b: 2 }],
      ['nd', '1700000001000', { n: 1 }],
      ['nd', '1700000001000', { n: 2 }],
      ['mp', '1700000002000', { m: 'x' }],
      ['mp', evs[8]![1], { m: 'y' }],
    ]);
    assert.equal(evs.length, 9);
  } finally {
    await a.stop(1000);
  }
});

test('curl: malformed requests are 400 and commit nothing; GET is a health check; a full channel is 503', async () => {
  const a = await startAgent(conf(3));
  try {
    for (const args of [
      ['-d', 'json={"a":', url(a, '/t')],
      ['-d', 'json=[{"a":1},2]', url(a, '/t')],
      ['-d', 'nothing=1', url(a, '/t')],
      ['-d', 'json={"a":1}', url(a, '/t?time=yesterday')],
      ['-H', 'Content-Type: application/json', '--data-binary', '{"a":1,"time":"x"}', url(a, '/t')],
      ['-H', 'Content-Type: application/msgpack', '--data-binary', '\u00dd\u00ff\u00ff', url(a, '/t')],
    ]) {
      const r = await curl(args);
      assert.equal(r.status, 400, `${args.join(' ')}: ${r.body}`);
    }
    assert.equal((await curl(['-F', 'json={"a":1}', url(a, '/t')])).status, 415);
    assert.equal((await curl([url(a, '/t')])).status, 200);
    assert.equal((await takeAll(channel(a))).length, 0);
    assert.equal((await curl(['-d', 'json=[{"a":1},{"a":2},{"a":3}]', url(a, '/t')])).status, 200);
    const full = await curl(['-d', 'json={"a":4}', url(a, '/t')]);
    assert.equal(full.status, 503);
    assert.equal((await takeAll(channel(a))).length, 3);
  } finally {
    await a.stop(1000);
  }
});
