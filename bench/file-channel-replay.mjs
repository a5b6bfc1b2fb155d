#!/usr/bin/env node
// File channel figures (not part of npm test): put and take throughput of the channel alone (200-byte events,
// sync per commit), the same loop on the memory channel for comparison, and the start-up time with 1,000,000
// events queued (open -> first take answered), for several put batch sizes.
//
//   npm run build && node bench/file-channel-replay.mjs [--events 1000000] [--batches 1000,100] [--dir /tmp/x]
//
// The store is written under --dir (default: a temp dir, removed at the end). Use a directory on the disk you want
// to measure; /tmp may be a tmpfs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = (p) => pathToFileURL(path.join(ROOT, 'dist', 'src', p)).href;
const { FileChannel } = await import(dist('channels/file/index.js'));
const fileDef = (await import(dist('channels/file/index.js'))).default;
const memoryDef = (await import(dist('channels/memory.js'))).default;
const { componentOptions } = await import(dist('config/validate/index.js'));
const { ChannelCounters } = await import(dist('telemetry/counters.js'));
const { silentLogger } = await import(dist('telemetry/logger.js'));

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const EVENTS = Number(arg('events', '1000000'));
const BATCHES = arg('batches', '1000,100').split(',').map(Number);
const base = arg('dir', undefined) ?? fs.mkdtempSync(path.join(os.tmpdir(), 'fc-bench-'));
const ownDir = !arg('dir', undefined);
fs.mkdirSync(base, { recursive: true });
const clock = { monotonicMs: () => performance.now(), nowMs: () => Date.now() };

// log-like 200-byte bodies (words drawn at random: compressible about as much as real logs), built up front so the
// figures measure the channel, not the generator; a pool of 200,000 events is reused cyclically
const WORDS =
  'GET POST user id=42 status=200 latency_ms bytes /api/v1/items /login session ERROR WARN INFO cache miss hit retry upstream timeout db query rows ok'.split(
    ' ',
  );
let seed = 1;
const rnd = (n) => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n;
const POOL = 200_000;
const pool = new Array(POOL);
for (let i = 0; i < POOL; i++) {
  let line = `${String(i).padStart(8, '0')} ${new Date(1.7e12 + i * 1000).toISOString()} host-${rnd(50)} `;
  while (line.length < 200) line += `${WORDS[rnd(WORDS.length)]}${rnd(4) === 0 ? `=${rnd(100000)}` : ''} `;
  pool[i] = { headers: {}, body: Buffer.from(line.slice(0, 200)) };
}
const makeBatch = (n, from) => {
  const s = from % POOL;
  return s + n <= POOL ? pool.slice(s, s + n) : Array.from({ length: n }, (_, i) => pool[(from + i) % POOL]);
};

function ctx(name) {
  return { name, logger: silentLogger(), clock, agentDir: base, counters: new ChannelCounters(name) };
}
function fileChannel(dir, props = {}) {
  const o = componentOptions(fileDef, {
    dataDirs: path.join(dir, 'data'),
    checkpointDir: path.join(dir, 'cp'),
    capacity: '2000000',
    transactionCapacity: '10000',
    minimumRequiredSpace: '1m',
    ...props,
  }).options;
  return new FileChannel(o, ctx('c1'));
}

async function putAll(ch, total, batch) {
  const t0 = performance.now();
  for (let i = 0; i < total; i += batch) {
    const tx = ch.begin();
    tx.put(makeBatch(Math.min(batch, total - i), i));
    await tx.commit();
  }
  return performance.now() - t0;
}
async function takeAll(ch, batch) {
  const t0 = performance.now();
  let n = 0;
  for (;;) {
    const tx = ch.begin();
    const got = await tx.take(batch);
    await tx.commit();
    if (got.length === 0) break;
    n += got.length;
  }
  return { ms: performance.now() - t0, n };
}
const rate = (n, ms) => `${Math.round(n / (ms / 1000)).toLocaleString('en-US')} ev/s`;
const fsType = () => {
  const r = spawnSync('df', ['-T', base], { encoding: 'utf8' });
  return r.stdout.split('\n')[1]?.split(/\s+/)[1] ?? '?';
};

console.log(
  `file channel bench: ${EVENTS.toLocaleString('en-US')} events of 200 B, dir ${base} (${fsType()}), node ${process.version}, ${os.cpus().length} cpus`,
);

// 1. throughput of the channel alone, batch 1000, sync per commit; memory channel for comparison
{
  const N = Math.min(EVENTS, 500_000);
  const dir = path.join(base, 'tput');
  const ch = fileChannel(dir);
  await ch.start();
  const putMs = await putAll(ch, N, 1000);
  const take = await takeAll(ch, 1000);
  await ch.close();
  const mo = componentOptions(memoryDef, {
    capacity: '2000000',
    transactionCapacity: '10000',
    byteCapacity: '0',
  }).options;
  const mem = memoryDef.create(mo, ctx('m1'));
  await mem.start();
  const mPut = await putAll(mem, N, 1000);
  const mTake = await takeAll(mem, 1000);
  await mem.close();
  console.log(
    `batch 1000, sync: put ${rate(N, putMs)}, take ${rate(take.n, take.ms)} | memory channel: put ${rate(N, mPut)}, take ${rate(mTake.n, mTake.ms)}`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

// 2. start-up with EVENTS queued
for (const batch of BATCHES) {
  const dir = path.join(base, `replay-${batch}`);
  let ch = fileChannel(dir, batch < 100 ? { fsyncPerTransaction: 'false' } : {});
  await ch.start();
  const fillMs = await putAll(ch, EVENTS, batch);
  await ch.close();
  // second process-like start: a fresh channel object on the same store
  ch = fileChannel(dir);
  const t0 = performance.now();
  await ch.start();
  const readyMs = performance.now() - t0;
  const tx = ch.begin();
  const got = await tx.take(1000);
  await tx.commit();
  const firstMs = performance.now() - t0;
  const size = ch.size() + got.length;
  const drain = await takeAll(ch, 1000);
  await ch.close();
  const du = spawnSync('du', ['-sh', path.join(dir, 'data')], { encoding: 'utf8' }).stdout.split('\t')[0];
  console.log(
    `put batch ${batch}: fill ${rate(EVENTS, fillMs)} (${(fillMs / 1000).toFixed(1)} s, store ${du}); restart with ${size.toLocaleString('en-US')} queued: ready in ${readyMs.toFixed(0)} ms, first take in ${firstMs.toFixed(0)} ms; drain ${rate(drain.n + got.length, drain.ms)}`,
  );
  if (drain.n + got.length !== EVENTS) throw new Error(`expected ${EVENTS} events, drained ${drain.n + got.length}`);
  fs.rmSync(dir, { recursive: true, force: true });
}
if (ownDir) fs.rmSync(base, { recursive: true, force: true });
