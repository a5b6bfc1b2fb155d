#!/usr/bin/env node
// Load generator for the forward-memory-null bench pipeline (bench/run.mjs); a separate process so its CPU is not
// the agent's. Builds PackedForward requests first (entries `[EventTime, {"message": <200-byte body>}]`, written
// by hand, as fluent-logger clients send them), prints `ready`, waits for SIGUSR2 (the parent starts its clock
// when it sends it), then sends them over `--connections` connections, each one request at a time with a `chunk`
// and waiting for its ack (`{"ack": chunk}`, which the source gives only once the channel committed). Prints one
// line `result {json}` and waits for SIGTERM (then exits 0); a failure exits 1 at once.
//
// Usage: node bench/forward-client.mjs --port P --events N [--connections 4] [--batch 1000] [--body-bytes 200]
import net from 'node:net';
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
  process.stderr.write(`forward-client: ${msg}\n`);
  process.exit(1);
}

const host = arg('host', '127.0.0.1');
const port = Number(arg('port'));
const events = Number(arg('events'));
const connections = Number(arg('connections', 4));
const batch = Number(arg('batch', 1000));
const bodyBytes = Number(arg('body-bytes', 200));
if (!(port > 0 && events > 0 && connections > 0 && batch > 0 && bodyBytes >= 14 && bodyBytes < 256))
  fail('bad arguments');

// ---------------------------------------------------------------- payloads
// A pool of distinct entry blobs, cycled; every request gets its own chunk id (24 ASCII bytes) in its options.
const POOL = 16;
const next = prng(0xf0d);
// printable ASCII without `"` and `\`, as bench/http-client.mjs: every body is copied into its JSON unescaped
const printable = [];
for (let c = 0x20; c <= 0x7e; c++) if (c !== 0x22 && c !== 0x5c) printable.push(c);
const TAG = Buffer.from([0xa5, ...Buffer.from('bench')]);
const MESSAGE = Buffer.from([0x81, 0xa7, ...Buffer.from('message'), 0xd9, bodyBytes]);
function entries(n, seed) {
  const entry = 1 + 10 + MESSAGE.length + bodyBytes;
  const buf = Buffer.alloc(n * entry);
  const sec = 1_767_000_000;
  let off = 0;
  for (let i = 0; i < n; i++) {
    buf[off++] = 0x92;
    buf[off++] = 0xd7;
    buf[off++] = 0x00;
    off = buf.writeUInt32BE(sec + i, off);
    off = buf.writeUInt32BE((i % 1000) * 1_000_000, off);
    off += MESSAGE.copy(buf, off);
    off += buf.write(String(seed * batch + i).padStart(12, '0'), off, 'latin1');
    for (let k = 12; k < bodyBytes; k++) buf[off++] = printable[next() % printable.length];
  }
  return buf;
}
/** `[tag, bin entries, {"size": n, "chunk": <24 bytes>}]`; the chunk's 24 bytes are at the returned offset. */
function request(blob, n) {
  const head = Buffer.from([0x93, ...TAG, 0xc6, 0, 0, 0, 0]);
  head.writeUInt32BE(blob.length, head.length - 4);
  const opt = Buffer.from([
    0x82,
    0xa4,
    ...Buffer.from('size'),
    0xcd,
    n >> 8,
    n & 0xff,
    0xa5,
    ...Buffer.from('chunk'),
    0xb8,
  ]);
  const buf = Buffer.concat([head, blob, opt, Buffer.alloc(24)]);
  return { buf, chunkAt: buf.length - 24 };
}
const pool = Array.from({ length: POOL }, (_, i) => entries(batch, i));
const fullRequests = Math.floor(events / batch);
const tail = events % batch;
const tailBlob = tail > 0 ? entries(tail, POOL) : undefined;
const requests = fullRequests + (tail > 0 ? 1 : 0);

// ---------------------------------------------------------------- sending

let nextReq = 0;
let sentEvents = 0;
let okRequests = 0;

function connect() {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port }, () => resolve(s));
    s.once('error', reject);
    s.setNoDelay(true);
  });
}

async function worker(w) {
  const s = await connect();
  let pending;
  let got = Buffer.alloc(0);
  s.on('data', (d) => {
    got = got.length ? Buffer.concat([got, d]) : d;
    if (got.length >= 30 && pending) {
      const p = pending;
      pending = undefined;
      const answer = got.subarray(0, 30);
      got = got.subarray(30);
      p(answer);
    }
  });
  s.on('error', (err) => fail(`connection ${w}: ${err.message}`));
  s.on('close', () => pending && fail(`connection ${w} closed before an ack`));
  const reqs = new Map();
  for (;;) {
    const idx = nextReq++;
    if (idx >= requests) break;
    const isTail = idx === fullRequests;
    const n = isTail ? tail : batch;
    const key = isTail ? -1 : idx % POOL;
    let r = reqs.get(key);
    if (!r) reqs.set(key, (r = request(isTail ? tailBlob : pool[idx % POOL], n)));
    const chunk = `c${String(w).padStart(3, '0')}-${String(idx).padStart(19, '0')}`;
    r.buf.write(chunk, r.chunkAt, 'latin1');
    const answer = new Promise((resolve) => (pending = resolve));
    s.write(r.buf);
    const a = await answer;
    if (a.subarray(6).toString('latin1') !== chunk || a[0] !== 0x81)
      fail(`request ${idx}: unexpected answer ${a.toString('hex')}`);
    okRequests++;
    sentEvents += n;
  }
  s.end();
}

async function main() {
  const go = new Promise((resolve) => process.once('SIGUSR2', resolve));
  process.stdout.write(`ready ${requests} requests of ${batch} events\n`);
  await go;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, (_, w) => worker(w)));
  const seconds = (performance.now() - t0) / 1000;
  process.stdout.write(`result ${JSON.stringify({ sentEvents, okRequests, retries503: 0, seconds })}\n`);
}

process.once('SIGTERM', () => process.exit(0));
main().catch((err) => fail(err.stack ?? String(err)));
setInterval(() => {}, 1 << 30);
