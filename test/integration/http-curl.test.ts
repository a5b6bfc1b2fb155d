/**
 * The http source against real clients: curl for the common cases, Node sockets for the abusive ones
 * (reliability.md M1-M4, M9). Each agent runs in-process with a memory channel; channel depth is the proof of
 * what was (not) committed.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { startAgent } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import type { Agent } from '../../src/runtime/agent.js';
import type { Channel } from '../../src/contract/index.js';
import type { FlumeEvent } from '../../src/core/event.js';
import type { HttpSource } from '../../src/sources/http/index.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-http-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function inst<T>(r: unknown): T {
  const x = r as { sup?: { instance: T }; instance?: T };
  return (x.sup?.instance ?? x.instance)!;
}
const source = (a: Agent, n = 'r1') => inst<HttpSource>(a.sources.get(n));
const channelOf = (a: Agent, n = 'c1') => inst<Channel>(a.channels.get(n));

/** Takes everything queued, one transaction (of at most transactionCapacity events) at a time. */
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

function conf(extra = '', capacity = 10_000, tc = 1000): string {
  return `
a1.sources = r1
a1.channels = c1
a1.sources.r1.type = http
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = 0
a1.sources.r1.channels = c1
${extra}
a1.channels.c1.type = memory
a1.channels.c1.capacity = ${capacity}
a1.channels.c1.transactionCapacity = ${tc}
a1.channels.c1.keep-alive = 0
`;
}

interface CurlResult {
  status: number;
  body: string;
  headers: string;
}

function curl(args: string[]): Promise<CurlResult> {
  const hdr = path.join(tmp, `h${Math.random().toString(36).slice(2)}`);
  return new Promise((resolve, reject) => {
    execFile(
      'curl',
      ['-s', '-S', '-D', hdr, '-o', '-', '-w', '\n%{http_code}', '--max-time', '20', ...args],
      { maxBuffer: 1 << 20, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err && !/\d{3}$/.test(stdout)) return reject(new Error(`curl failed: ${stderr}`));
        const i = stdout.lastIndexOf('\n');
        const headers = fs.existsSync(hdr) ? fs.readFileSync(hdr, 'utf8') : '';
        fs.rmSync(hdr, { force: true });
        resolve({ status: Number(stdout.slice(i + 1)), body: stdout.slice(0, i), headers });
      },
    );
  });
}

const url = (a: Agent, p = '/') => `http://127.0.0.1:${source(a).port}${p}`;

test("curl: JSON arrays are committed and answered 200 with an empty body; Flume's own example works", async () => {
  const a = await startAgent(conf());
  try {
    const r = await curl(['-X', 'POST', '-d', '[{"headers":{"k1":"v1"},"body":"hello"}]', url(a)]);
    assert.equal(r.status, 200);
    assert.equal(r.body, '');
    const batch = JSON.stringify(
      Array.from({ length: 100 }, (_, i) => ({ headers: { i: String(i) }, body: `event ${i}` })),
    );
    const r2 = await curl(['-H', 'Content-Type: application/json', '--data-binary', batch, url(a, '/any/path')]);
    assert.equal(r2.status, 200);
    const evs = await takeAll(channelOf(a));
    assert.equal(evs.length, 101);
    assert.equal(evs[0]!.body.toString(), 'hello');
    assert.equal(evs[0]!.headers.k1, 'v1');
    assert.equal(evs[100]!.headers.i, '99');
    const c = source(a).ctx.counters;
    assert.equal(c.get('AppendBatchAcceptedCount'), 2);
    assert.equal(c.get('EventAcceptedCount'), 101);
  } finally {
    await a.stop(1000);
  }
});

test('curl M1: malformed JSON and a bad element at 500 of 1000 are 400 with nothing committed; TRACE/OPTIONS 403', async () => {
  const a = await startAgent(conf());
  try {
    const ch = channelOf(a);
    const r = await curl(['-d', '[{"body":"a"},', url(a)]);
    assert.equal(r.status, 400);
    assert.match(r.body, /invalid JSON/);
    const arr = Array.from({ length: 1000 }, (_, i) => (i === 500 ? { body: { bad: true } } : { body: `e${i}` }));
    const r2 = await curl(['--data-binary', JSON.stringify(arr), url(a)]);
    assert.equal(r2.status, 400);
    assert.match(r2.body, /Event 500/);
    assert.equal(ch.size(), 0);
    assert.equal((await curl(['-X', 'TRACE', url(a)])).status, 403);
    assert.equal((await curl(['-X', 'OPTIONS', url(a)])).status, 403);
    assert.equal((await curl(['-X', 'PUT', '-d', '[]', url(a)])).status, 405);
    assert.equal(
      (await curl(['-H', 'Content-Type: application/json; charset=ISO-8859-1', '-d', '[]', url(a)])).status,
      415,
    );
    assert.equal(source(a).ctx.counters.get('EventReadFail'), 3);
  } finally {
    await a.stop(1000);
  }
});

test('curl: gzip bodies, UTF-16 and UTF-32 charsets, BlobHandler with query parameters', async () => {
  const a = await startAgent(conf());
  try {
    const gz = path.join(tmp, 'body.gz');
    fs.writeFileSync(gz, zlib.gzipSync(JSON.stringify([{ body: 'zipped' }])));
    assert.equal((await curl(['-H', 'Content-Encoding: gzip', '--data-binary', `@${gz}`, url(a)])).status, 200);
    const u16 = path.join(tmp, 'u16.json');
    fs.writeFileSync(u16, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('[{"body":"caf\u00e9"}]', 'utf16le')]));
    assert.equal(
      (await curl(['-H', 'Content-Type: application/json; charset=UTF-16', '--data-binary', `@${u16}`, url(a)])).status,
      200,
    );
    const u32 = path.join(tmp, 'u32.json');
    const text = '[{"body":"\u{1F600}"}]';
    const b32 = Buffer.alloc([...text].length * 4);
    [...text].forEach((ch, i) => b32.writeUInt32BE(ch.codePointAt(0)!, i * 4));
    fs.writeFileSync(u32, b32);
    assert.equal(
      (await curl(['-H', 'Content-Type: application/json; charset=UTF-32', '--data-binary', `@${u32}`, url(a)])).status,
      200,
    );
    const evs = await takeAll(channelOf(a));
    assert.equal(evs[0]!.body.toString(), 'zipped');
    assert.deepEqual(evs[1]!.body, Buffer.from([0xfe, 0xff, 0x00, 0x63, 0x00, 0x61, 0x00, 0x66, 0x00, 0xe9]));
    assert.deepEqual(evs[2]!.body, Buffer.from([0x00, 0x01, 0xf6, 0x00]));
  } finally {
    await a.stop(1000);
  }
  const b = await startAgent(
    conf(
      'a1.sources.r1.handler = org.apache.flume.sink.solr.morphline.BlobHandler\na1.sources.r1.handler.maxBlobLength = 1000',
    ),
  );
  try {
    const blob = path.join(tmp, 'blob.bin');
    fs.writeFileSync(blob, Buffer.from([0, 1, 2, 255, 10, 13]));
    const r = await curl([
      '-H',
      'Content-Type: application/octet-stream',
      '--data-binary',
      `@${blob}`,
      url(b, '/?resourceName=x.bin&k=v'),
    ]);
    assert.equal(r.status, 200);
    const [e] = await takeAll(channelOf(b));
    assert.deepEqual(e!.body, Buffer.from([0, 1, 2, 255, 10, 13]));
    assert.deepEqual({ ...e!.headers }, { 'Content-Type': 'application/octet-stream', resourceName: 'x.bin', k: 'v' });
  } finally {
    await b.stop(1000);
  }
});

test('M4: a full channel answers 503 with Retry-After and nothing half-written; too many events per request is 413', async () => {
  const a = await startAgent(conf('', 5, 5));
  try {
    const five = JSON.stringify(Array.from({ length: 5 }, (_, i) => ({ body: `e${i}` })));
    assert.equal((await curl(['--data-binary', five, url(a)])).status, 200);
    const r = await curl(['--data-binary', '[{"body":"x"},{"body":"y"}]', url(a)]);
    assert.equal(r.status, 503);
    assert.match(r.headers, /^Retry-After: 1\r?$/im);
    assert.equal(channelOf(a).size(), 5);
    const six = JSON.stringify(Array.from({ length: 6 }, () => ({ body: 'x' })));
    const r2 = await curl(['--data-binary', six, url(a)]);
    assert.equal(r2.status, 413);
    assert.match(r2.body, /at most 5/);
    assert.equal(source(a).ctx.counters.get('ChannelWriteFail'), 1);
    // room again: the client's retry succeeds
    await takeAll(channelOf(a));
    assert.equal((await curl(['--data-binary', '[{"body":"x"},{"body":"y"}]', url(a)])).status, 200);
  } finally {
    await a.stop(1000);
  }
});

test('M2: oversized bodies are 413 before being read; a gzip bomb is 413 at the decompressed cap; memory stays bounded', async () => {
  const a = await startAgent(conf('a1.sources.r1.maxRequestBytes = 1m'));
  try {
    // declared Content-Length above the limit: curl sends Expect: 100-continue and gets 413 without uploading
    const big = path.join(tmp, 'big.json');
    fs.writeFileSync(big, Buffer.alloc(3 * 1024 * 1024, 0x20));
    assert.equal((await curl(['--data-binary', `@${big}`, url(a)])).status, 413);
    // a gzip bomb: 64 MiB of zeros in a few KB
    const bomb = path.join(tmp, 'bomb.gz');
    fs.writeFileSync(bomb, zlib.gzipSync(Buffer.alloc(64 * 1024 * 1024), { level: 9 }));
    const r = await curl(['-H', 'Content-Encoding: gzip', '--data-binary', `@${bomb}`, url(a)]);
    assert.equal(r.status, 413);
    assert.match(r.body, /Decompressed/);
    // a chunked upload of 100 MiB with no Content-Length: cut off at the limit
    const rss0 = process.memoryUsage().rss;
    // the server must not reset the connection before the client has read the 413 (lingering close)
    const status = await new Promise<number>((resolve, reject) => {
      let answered = false;
      const req = http.request(url(a), { method: 'POST', headers: { 'Transfer-Encoding': 'chunked' } }, (res) => {
        answered = true;
        res.resume();
        resolve(res.statusCode!);
        req.destroy();
      });
      req.on('error', (e) => (answered ? undefined : reject(e)));
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < 100 && !req.destroyed) {
          sent++;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!req.destroyed) req.end();
      };
      pump();
    });
    assert.equal(status, 413);
    assert.ok(process.memoryUsage().rss - rss0 < 64 * 1024 * 1024, 'RSS growth below 64 MiB');
    assert.equal(channelOf(a).size(), 0);
    // 431 for oversized headers (Node's 16 KiB limit)
    const r431 = await curl(['-H', `X-Big: ${'a'.repeat(20_000)}`, '-d', '[]', url(a)]);
    assert.equal(r431.status, 431);
    // the source still works
    assert.equal((await curl(['-d', '[{"body":"ok"}]', url(a)])).status, 200);
  } finally {
    await a.stop(1000);
  }
});

test('M2: request bodies held in memory over all requests are capped by maxBufferedBytes (503 + Retry-After)', async () => {
  const a = await startAgent(conf('a1.sources.r1.maxBufferedBytes = 64k'));
  try {
    const big = path.join(tmp, 'buffered.json');
    fs.writeFileSync(big, JSON.stringify(Array.from({ length: 100 }, () => ({ body: 'y'.repeat(1000) }))));
    const r = await curl(['--data-binary', `@${big}`, url(a)]);
    assert.equal(r.status, 503);
    assert.match(r.headers, /^Retry-After: 1\r?$/im);
    assert.equal((await curl(['-d', '[{"body":"small"}]', url(a)])).status, 200);
    assert.equal(source(a).budget.used, 0, 'budget given back');
    assert.equal(channelOf(a).size(), 1);
  } finally {
    await a.stop(1000);
  }
});

test('M3: slow clients are cut off by headersTimeout/requestTimeout while a normal client is served at once; maxConnections caps sockets', async () => {
  const a = await startAgent(
    conf('a1.sources.r1.headersTimeout = 1\na1.sources.r1.requestTimeout = 2\na1.sources.r1.maxConnections = 40'),
  );
  const socks: net.Socket[] = [];
  try {
    const port = source(a).port;
    const closed: Promise<void>[] = [];
    for (let i = 0; i < 30; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      s.resume();
      s.write('POST / HTTP/1.1\r\nHost: x\r\n');
      socks.push(s);
      closed.push(new Promise((r) => s.once('close', () => r())));
    }
    // a slow body: headers complete, body trickles
    const slowBody = net.connect(port, '127.0.0.1');
    slowBody.on('error', () => undefined);
    slowBody.resume();
    slowBody.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n[');
    socks.push(slowBody);
    closed.push(new Promise((r) => slowBody.once('close', () => r())));
    const t0 = performance.now();
    const r = await curl(['-d', '[{"body":"legit"}]', url(a)]);
    assert.equal(r.status, 200);
    assert.ok(performance.now() - t0 < 1000, 'legitimate request served within 1 s');
    // the cap: more sockets than maxConnections are closed by the server
    const extra: net.Socket[] = [];
    for (let i = 0; i < 20; i++) {
      const s = net.connect(port, '127.0.0.1');
      s.on('error', () => undefined);
      extra.push(s);
      socks.push(s);
    }
    await waitFor(() => source(a).connectionCount <= 40, 3000, 'connections capped');
    const t1 = performance.now();
    await Promise.all(closed);
    assert.ok(performance.now() - t1 < 6000, 'slow sockets closed by the timeouts');
    assert.equal(channelOf(a).size(), 1);
  } finally {
    for (const s of socks) s.destroy();
    await a.stop(1000);
  }
});

test('M9: https with a PKCS12 keystore; plaintext and TLS 1.1 clients are refused', async () => {
  const key = path.join(tmp, 'k.pem');
  const cert = path.join(tmp, 'c.pem');
  const p12 = path.join(tmp, 's.p12');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-subj',
      '/CN=localhost',
      '-days',
      '2',
    ],
    { stdio: 'ignore' },
  );
  execFileSync('openssl', ['pkcs12', '-export', '-in', cert, '-inkey', key, '-out', p12, '-passout', 'pass:secret'], {
    stdio: 'ignore',
  });
  const a = await startAgent(
    conf(
      `a1.sources.r1.ssl = true\na1.sources.r1.keystore = ${p12}\na1.sources.r1.keystore-password = secret\na1.sources.r1.sslHandshakeTimeout = 1`,
    ),
  );
  try {
    const port = source(a).port;
    const ok = await curl(['--cacert', cert, '-d', '[{"body":"tls"}]', `https://localhost:${port}/`]);
    assert.equal(ok.status, 200);
    const plain = await curl(['-d', '[{"body":"plain"}]', `http://127.0.0.1:${port}/`]).catch(() => ({ status: 0 }));
    assert.notEqual(plain.status, 200);
    const tls11 = await new Promise<number>((resolve) => {
      const p = execFile('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_1'], () =>
        resolve(p.exitCode ?? 1),
      );
      p.stdin?.end();
    });
    assert.notEqual(tls11, 0);
    const [e] = await takeAll(channelOf(a));
    assert.equal(e!.body.toString(), 'tls');
    assert.equal(channelOf(a).size(), 0);
  } finally {
    await a.stop(1000);
  }
});
