#!/usr/bin/env node
// Load generator for the http-memory-null bench pipeline (bench/run.mjs); a separate process so its CPU is not
// the agent's. Builds its request bodies first, prints `ready`, waits for SIGUSR2 (the parent starts its clock
// when it sends it), then POSTs JSON arrays of events to the agent's http source over `--connections` keep-alive
// connections, each one request at a time, as fast as the agent answers. 200 counts the request's events as
// sent; 503 (channel full) is retried after a short pause; any other answer is a failure. Prints one line
// `result {json}` and waits for SIGTERM (then exits 0); a failure exits 1 at once.
//
// Usage: node bench/http-client.mjs --port P --events N [--connections 8] [--batch 100] [--body-bytes 200] [--host
// 127.0.0.1]
import http from 'node:http';
import { prng } from './lib.mjs';

function arg(name, def) {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) {
    if (def === undefined) fail(`--${name} is required`);
    return def;
  }
  return process.argv[i + 1];
}
function fail(msg) {
  process.stderr.write(`http-client: ${msg}\n`);
  process.exit(1);
}

const host = arg('host', '127.0.0.1');
const port = Number(arg('port'));
const events = Number(arg('events'));
const connections = Number(arg('connections', 8));
const batch = Number(arg('batch', 100));
const bodyBytes = Number(arg('body-bytes', 200));
if (!(port > 0 && events > 0 && connections > 0 && batch > 0 && bodyBytes >= 14)) fail('bad arguments');

// ---------------------------------------------------------------- payloads
// A pool of distinct request bodies, cycled: building 20,000 unique 25 KB bodies would cost the client more
// than the agent. Bodies are printable ASCII without `"` and `\`, so every event body is exactly bodyBytes bytes.
const POOL = 64;
const next = prng(0x4771);
const printable = [];
for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x22 && c !== 0x5c) printable.push(String.fromCharCode(c));
function payload(n, seed) {
  const parts = new Array(n);
  for (let i = 0; i < n; i++) {
    let body = String(seed * batch + i).padStart(12, '0');
    while (body.length < bodyBytes) body += printable[next() % printable.length];
    parts[i] = `{"headers":{"src":"bench"},"body":"${body}"}`;
  }
  return Buffer.from(`[${parts.join(',')}]`, 'latin1');
}
const pool = Array.from({ length: POOL }, (_, i) => payload(batch, i));
const fullRequests = Math.floor(events / batch);
const tail = events % batch;
const tailPayload = tail > 0 ? payload(tail, POOL) : undefined;
const requests = fullRequests + (tail > 0 ? 1 : 0);

// ---------------------------------------------------------------- sending

const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
let nextReq = 0;
let sentEvents = 0;
let okRequests = 0;
let retries503 = 0;

function post(body) {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host,
        port,
        method: 'POST',
        path: '/',
        agent,
        headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': body.length },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

async function worker() {
  for (;;) {
    const idx = nextReq++;
    if (idx >= requests) return;
    const isTail = idx === fullRequests;
    const body = isTail ? tailPayload : pool[idx % POOL];
    const n = isTail ? tail : batch;
    let delay = 5;
    for (;;) {
      const status = await post(body);
      if (status === 200) break;
      if (status !== 503) throw new Error(`request ${idx} answered ${status}`);
      retries503++;
      await pause(delay); // Retry-After is whole seconds; a bench retries sooner, backing off to 200 ms
      delay = Math.min(delay * 2, 200);
    }
    okRequests++;
    sentEvents += n;
  }
}

async function main() {
  const go = new Promise((resolve) => process.once('SIGUSR2', resolve));
  process.stdout.write(`ready ${requests} requests of ${batch} events\n`);
  await go;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const seconds = (performance.now() - t0) / 1000;
  agent.destroy();
  process.stdout.write(`result ${JSON.stringify({ sentEvents, okRequests, retries503, seconds })}\n`);
}

// Stays alive (waiting for SIGUSR2, then after printing the result) until the parent sends SIGTERM: the parent
// may see 'exit' before the last stdout bytes, so the result line must come before the process ends.
const keepAlive = setInterval(() => {}, 1 << 30);
process.on('SIGTERM', () => process.exit(0));
main().then(
  () => {},
  (err) => {
    clearInterval(keepAlive);
    fail(err?.stack ?? String(err));
  },
);
