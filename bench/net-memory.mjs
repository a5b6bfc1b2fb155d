#!/usr/bin/env node
// Issue 17 items 3 and 4, full size, against a real agent process (flume-ng agent):
//   memory  - N connections to the avro source each send a frame header declaring 63 MiB, then 60 MiB of it,
//             without a handshake: the agent's peak RSS, its RSS after they closed, how many it closed itself
//   idle    - 1,000 silent connections to the netcat source (maxConnections 1000), then a well-behaved client:
//             time until its line is answered OK, and the WARN lines the agent printed meanwhile
//
//   node bench/net-memory.mjs [--root DIR] [--conns 20] [--mib 60]
// --root runs another build (e.g. /work/main for the figures before the fix); default this checkout. The
// baseline of the same run is the agent's RSS when idle, before the first connection.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const ROOT = path.resolve(arg('root', path.join(path.dirname(fileURLToPath(import.meta.url)), '..')));
const CONNS = Number(arg('conns', '20'));
const MIB = Number(arg('mib', '60'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const freePort = () =>
  new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });

const rssMb = (pid) => {
  const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
};

const avroPort = await freePort();
const netcatPort = await freePort();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-netmem-'));
const conf = path.join(dir, 'agent.properties');
fs.writeFileSync(
  conf,
  `a1.sources = av nc
a1.channels = c1
a1.sinks = k1
a1.sources.av.type = avro
a1.sources.av.bind = 127.0.0.1
a1.sources.av.port = ${avroPort}
a1.sources.av.channels = c1
a1.sources.nc.type = netcat
a1.sources.nc.bind = 127.0.0.1
a1.sources.nc.port = ${netcatPort}
a1.sources.nc.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 100000
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
`,
);
const agent = spawn(process.execPath, [path.join(ROOT, 'bin/flume-ng'), 'agent', '-n', 'a1', '-f', conf], {
  cwd: dir,
  stdio: ['ignore', 'pipe', 'pipe'],
});
let out = '';
agent.stdout.on('data', (d) => (out += d));
agent.stderr.on('data', (d) => (out += d));
const deadline = Date.now() + 30_000;
while (!/Netcat source listening/.test(out) || !/Avro source listening/.test(out)) {
  if (Date.now() > deadline || agent.exitCode !== null) throw new Error(`agent did not start:\n${out}`);
  await sleep(100);
}
await sleep(500);
const baseline = rssMb(agent.pid);
console.log(`build ${ROOT}: agent RSS at rest ${baseline.toFixed(0)} MB (baseline)`);

// ---------------------------------------------------------------- item 3: partial messages on many connections
// two rounds: the second shows whether memory freed by the first is reused (bounded) or grows
for (let round = 1; round <= 2; round++) {
  let peak = rssMb(agent.pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssMb(agent.pid))), 50);
  let closedByAgent = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONNS }, async () => {
      const s = net.connect({ host: '127.0.0.1', port: avroPort });
      s.setMaxListeners(0);
      s.on('error', () => {});
      let closed = false;
      s.on('close', () => (closed = true));
      await new Promise((r) => s.once('connect', r));
      const h = Buffer.alloc(12);
      h.writeInt32BE(1, 0);
      h.writeInt32BE(1, 4);
      h.writeInt32BE(63 * 1024 * 1024, 8);
      s.write(h);
      const chunk = Buffer.alloc(1024 * 1024, 7);
      for (let i = 0; i < MIB && !closed; i++) {
        if (!s.write(chunk)) await new Promise((r) => (s.once('drain', r), s.once('close', r)));
      }
      await sleep(1000);
      if (closed) closedByAgent++;
      s.destroy();
    }),
  );
  const sendSecs = (performance.now() - t0) / 1000;
  await sleep(3000);
  clearInterval(sampler);
  const after = rssMb(agent.pid);
  console.log(
    `memory round ${round}: ${CONNS} connections x ${MIB} MiB of a declared 63 MiB frame, no handshake: peak RSS ` +
      `${peak.toFixed(0)} MB (x${(peak / baseline).toFixed(1)} the baseline), ${after.toFixed(0)} MB 3 s after they ` +
      `closed (x${(after / baseline).toFixed(1)}); ${closedByAgent} of ${CONNS} closed by the agent; ${sendSecs.toFixed(1)} s`,
  );
}

// ---------------------------------------------------------------- item 4: idle connections and a new client
const warnsBefore = (out.match(/WARN/g) ?? []).length;
const idle = [];
for (let i = 0; i < 1000; i++) {
  const s = net.connect({ host: '127.0.0.1', port: netcatPort });
  s.on('error', () => {});
  idle.push(s);
}
await Promise.all(idle.map((s) => new Promise((r) => (s.once('connect', r), s.once('close', r)))));
// a flood of further connections beyond the cap
const flood = [];
for (let i = 0; i < 3000; i++) {
  const s = net.connect({ host: '127.0.0.1', port: netcatPort });
  s.on('error', () => {});
  flood.push(new Promise((r) => (s.once('close', r), setTimeout(() => (s.destroy(), r()), 3000))));
}
await Promise.all(flood);
await sleep(1200);
const t1 = performance.now();
let answered = -1;
while (performance.now() - t1 < 15_000 && answered < 0) {
  const reply = await new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: netcatPort });
    let got = '';
    s.on('error', () => {});
    s.on('data', (d) => {
      got += d;
      if (got.includes('\n')) (s.destroy(), resolve(got));
    });
    s.on('close', () => resolve(got));
    s.on('connect', () => s.write('hello\n'));
    setTimeout(() => (s.destroy(), resolve(got)), 2000);
  });
  if (reply.startsWith('OK')) answered = (performance.now() - t1) / 1000;
  else await sleep(500);
}
const warns = (out.match(/WARN/g) ?? []).length - warnsBefore;
console.log(
  `idle: 1000 silent connections + 3000 refused: a new client ${answered >= 0 ? `answered OK after ${answered.toFixed(1)} s` : 'got no answer in 15 s'}; ` +
    `${warns} WARN lines for the flood`,
);
for (const s of idle) s.destroy();
agent.kill('SIGTERM');
await new Promise((r) => agent.once('exit', r));
fs.rmSync(dir, { recursive: true, force: true });
