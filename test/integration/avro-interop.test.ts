/**
 * Interoperability with an independent Avro implementation: test/helpers/flume_avro_peer.py, built on Apache's
 * Avro for Python (Debian python3-avro) with the Netty framing written by hand, in both directions.
 *  - python client -> our avro source: Java's handshake (no protocol text first -> NONE -> resend), appendBatch
 *    messages split into 8 KiB buffers as Java does, append, non-ASCII headers, binary-safe bodies.
 *  - our avro sink -> python server: our handshake against a server that does not know our protocol hash (NONE
 *    path), FAILED answers retried without loss or duplicates, headers (set by a static interceptor) preserved.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AvroSource } from '../../src/sources/avro.js';
import type { Channel } from '../../src/contract/index.js';
import type { FlumeEvent } from '../../src/core/event.js';
import { startAgent } from '../helpers/agent.js';
import { ROOT } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const PY = '/usr/bin/python3';
const PEER = path.join(ROOT, 'test', 'helpers', 'flume_avro_peer.py');
const havePeer = spawnSync(PY, ['-c', 'import avro.ipc, avro.io, avro.protocol']).status === 0;
const inst = <T>(r: unknown): T => (r as { sup?: { instance: T } }).sup?.instance ?? (r as { instance: T }).instance;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'avro-interop-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function runPeer(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(PY, [PEER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => (stdout += d));
    p.stderr.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** What the python peer sends as event i (see make_event in flume_avro_peer.py). */
function expectedBody(i: number, size: number): Buffer {
  let b = Buffer.concat([Buffer.from(`event-${i} `), Buffer.from('é漢🚀', 'utf8')]);
  if (size > b.length) b = Buffer.concat([b, Buffer.alloc(size - b.length, 'x')]);
  return b;
}

async function takeAll(ch: Channel): Promise<FlumeEvent[]> {
  const out: FlumeEvent[] = [];
  for (;;) {
    const tx = ch.begin();
    const evs = await tx.take(ch.transactionCapacity);
    await tx.commit();
    if (evs.length === 0) return out;
    out.push(...evs);
  }
}

describe(
  'python3-avro peer',
  { skip: havePeer ? false : `${PY} cannot import avro (install Debian python3-avro)` },
  () => {
    test('python client -> our avro source: appendBatch (multi-buffer frames) and append, NONE handshake, UTF-8 headers', async () => {
      const agent = await startAgent(`
a1.sources = r1
a1.channels = c1
a1.sources.r1.type = org.apache.flume.source.AvroSource
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = 0
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 10000
a1.channels.c1.transactionCapacity = 1000
`);
      try {
        const src = inst<AvroSource>(agent.sources.get('r1'));
        const ch = inst<Channel>(agent.channels.get('c1'));
        const port = String(src.port);
        const r1 = await runPeer([
          'client',
          '--port',
          port,
          '--count',
          '250',
          '--batch',
          '100',
          '--body-size',
          '20000',
        ]);
        assert.equal(r1.code, 0, r1.stderr);
        const out1 = JSON.parse(r1.stdout);
        assert.deepEqual(out1.statuses, { OK: 3 });
        // Java's handshake: the first request carries no protocol text, our server answers NONE, the retry carries it
        assert.deepEqual(out1.handshake, ['NONE', 'sent-protocol']);
        const r2 = await runPeer(['client', '--port', port, '--count', '5', '--start', '250', '--append']);
        assert.equal(r2.code, 0, r2.stderr);
        assert.deepEqual(JSON.parse(r2.stdout).statuses, { OK: 5 });

        const got = await takeAll(ch);
        assert.equal(got.length, 255);
        got.forEach((e, i) => {
          assert.deepEqual({ ...e.headers }, { seq: String(i), ключ: 'значение-ü', emoji: '🚀' });
          assert.deepEqual(e.body, expectedBody(i, i < 250 ? 20000 : 0));
        });
        const c = agent.sources.get('r1')!.counters;
        assert.equal(c.get('AppendBatchAcceptedCount'), 3);
        assert.equal(c.get('AppendAcceptedCount'), 5);
        assert.equal(c.get('EventAcceptedCount'), 255);
        assert.equal(c.get('EventReadFail'), 0);
      } finally {
        await agent.stop(1000);
      }
    });

    test("python client with Python's zlib -> our avro source with compression-type = deflate", async () => {
      const agent = await startAgent(`
a1.sources = r1
a1.channels = c1
a1.sources.r1.type = avro
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = 0
a1.sources.r1.compression-type = deflate
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 10000
a1.channels.c1.transactionCapacity = 1000
`);
      try {
        const port = String(inst<AvroSource>(agent.sources.get('r1')).port);
        const r = await runPeer([
          'client',
          '--deflate',
          '--port',
          port,
          '--count',
          '300',
          '--batch',
          '100',
          '--body-size',
          '5000',
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout).statuses, { OK: 3 });
        const got = await takeAll(inst<Channel>(agent.channels.get('c1')));
        assert.equal(got.length, 300);
        got.forEach((e, i) => assert.deepEqual(e.body, expectedBody(i, 5000)));
      } finally {
        await agent.stop(1000);
      }
    });

    for (const deflate of [false, true]) {
      const what = deflate ? 'deflate, ' : '';
      test(`our avro sink -> python server (${what}NONE handshake path): FAILED answers retried, every event once with its headers`, async () => {
        const out = path.join(tmp, `received-${deflate}.jsonl`);
        const server: ChildProcess = spawn(
          PY,
          [PEER, 'server', '--out', out, '--fail-first', '2', ...(deflate ? ['--deflate'] : [])],
          { stdio: ['ignore', 'pipe', 'inherit'] },
        );
        try {
          const port = await new Promise<number>((resolve, reject) => {
            server.stdout!.once('data', (d) => resolve(Number(/PORT (\d+)/.exec(String(d))?.[1])));
            server.once('exit', (code) => reject(new Error(`python server exited with ${code}`)));
          });
          const agent = await startAgent(`
a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = 500
a1.sources.r1.batchSize = 50
a1.sources.r1.channels = c1
a1.sources.r1.interceptors = i1
a1.sources.r1.interceptors.i1.type = static
a1.sources.r1.interceptors.i1.key = ключ
a1.sources.r1.interceptors.i1.value = значение-ü 🚀
a1.channels.c1.type = memory
a1.channels.c1.capacity = 10000
a1.channels.c1.transactionCapacity = 1000
a1.sinks.k1.type = avro
a1.sinks.k1.channel = c1
a1.sinks.k1.hostname = 127.0.0.1
a1.sinks.k1.port = ${port}
a1.sinks.k1.batch-size = 100
a1.sinks.k1.compression-type = ${deflate ? 'deflate' : 'none'}
`);
          try {
            const lines = () => (fs.existsSync(out) ? fs.readFileSync(out, 'utf8').split('\n').filter(Boolean) : []);
            await waitFor(() => lines().length >= 500, 15_000, '500 events at the python server');
            const k = agent.sinks.get('k1')!.counters;
            await waitFor(() => k.get('EventDrainSuccessCount') === 500, 5000, 'all batches committed');
            const recs = lines().map((l) => JSON.parse(l) as { headers: Record<string, string>; body_b64: string });
            assert.equal(recs.length, 500, 'no duplicates');
            const bodies = recs.map((r) => Buffer.from(r.body_b64, 'base64').toString('utf8'));
            assert.deepEqual(
              [...bodies].sort((a, b) => Number(a) - Number(b)),
              Array.from({ length: 500 }, (_, i) => String(i)),
            );
            for (const r of recs) assert.deepEqual(r.headers, { ключ: 'значение-ü 🚀' });
            assert.equal(k.get('EventWriteFail'), 2, 'the two FAILED answers were failures (rolled back, retried)');
            assert.equal(k.get('ConnectionCreatedCount'), 1, 'a FAILED answer keeps the connection');
          } finally {
            await agent.stop(2000);
          }
        } finally {
          server.kill('SIGTERM');
        }
      });
    }
  },
);
