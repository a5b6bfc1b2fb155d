#!/usr/bin/env node
// Issue 17 item 5, full size: 1,100 files of 50 lines matched by one taildir group, the agent under
// `ulimit -n 1024` (taildir -> memory channel -> file_roll). Prints the lines delivered after a time limit, the
// agent's peak open descriptors and RSS, and how often it logged EMFILE.
//
//   node bench/taildir-files.mjs [--root DIR] [--files 1100] [--lines 50] [--seconds 30]
// --root runs another build (e.g. /work/main for the figures before the fix); default this checkout.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const ROOT = path.resolve(arg('root', path.join(path.dirname(fileURLToPath(import.meta.url)), '..')));
const FILES = Number(arg('files', '1100'));
const LINES = Number(arg('lines', '50'));
const SECONDS = Number(arg('seconds', '30'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-tailfiles-'));
const logs = path.join(dir, 'logs');
const out = path.join(dir, 'out');
fs.mkdirSync(logs);
fs.mkdirSync(out);
for (let i = 0; i < FILES; i++)
  fs.writeFileSync(path.join(logs, `f${i}.log`), Array.from({ length: LINES }, (_, j) => `f${i}-${j}\n`).join(''));
const conf = path.join(dir, 'agent.properties');
fs.writeFileSync(
  conf,
  `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = TAILDIR
a1.sources.r1.filegroups = g
a1.sources.r1.filegroups.g = ${logs}/.*\\.log
a1.sources.r1.positionFile = ${dir}/pos.json
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000000
a1.channels.c1.transactionCapacity = 1000
a1.sinks.k1.type = file_roll
a1.sinks.k1.sink.directory = ${out}
a1.sinks.k1.sink.rollInterval = 0
a1.sinks.k1.channel = c1
`,
);
const cmd = `ulimit -n 1024 && exec ${process.execPath} ${path.join(ROOT, 'bin/flume-ng')} agent -n a1 -f ${conf}`;
const agent = spawn('sh', ['-c', cmd], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
let log = '';
agent.stdout.on('data', (d) => (log += d));
agent.stderr.on('data', (d) => (log += d));
const count = () => {
  let n = 0;
  for (const f of fs.readdirSync(out)) {
    const t = fs.readFileSync(path.join(out, f), 'utf8');
    for (let i = t.indexOf('\n'); i >= 0; i = t.indexOf('\n', i + 1)) n++;
  }
  return n;
};
const want = FILES * LINES;
let peakFds = 0;
let peakRss = 0;
const t0 = Date.now();
let delivered;
let doneAt = -1;
while (Date.now() - t0 < SECONDS * 1000) {
  await sleep(250);
  try {
    peakFds = Math.max(peakFds, fs.readdirSync(`/proc/${agent.pid}/fd`).length);
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${agent.pid}/status`, 'utf8'));
    if (m) peakRss = Math.max(peakRss, Number(m[1]) / 1024);
  } catch {
    // exited
  }
  delivered = count();
  if (delivered >= want) {
    doneAt = (Date.now() - t0) / 1000;
    break;
  }
}
agent.kill('SIGTERM');
await new Promise((r) => agent.once('exit', r));
delivered = count();
const emfile = (log.match(/EMFILE/g) ?? []).length;
console.log(
  `build ${ROOT}: ${FILES} files x ${LINES} lines under ulimit -n 1024: ${delivered} of ${want} lines delivered` +
    `${doneAt >= 0 ? ` in ${doneAt.toFixed(1)} s` : ` after ${SECONDS} s`}; peak ${peakFds} descriptors, ` +
    `peak RSS ${peakRss.toFixed(0)} MB; ${emfile} EMFILE mentions in the log`,
);
fs.rmSync(dir, { recursive: true, force: true });
