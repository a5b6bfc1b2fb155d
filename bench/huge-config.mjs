#!/usr/bin/env node
// Issue 17 item 9: a huge properties file through `flume-ng validate` (no network, nothing started). Generates
// the file (default ~50 MB, 1.6 M keys), runs the real CLI under /usr/bin/time, prints wall time, peak RSS and
// the bytes of problems printed.
//
//   node bench/huge-config.mjs [--mb 50] [--kind broken|valid|unlisted] [-- CLI args: -Dflume.config.maxBytes=64m]
//
// kinds: broken   - every source listed, each with a bad port, an unknown key and an undefined channel
//        valid    - a valid agent with many components (validate succeeds)
//        unlisted - components defined but not listed, and keys outside any section
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : def;
};
const mb = Number(arg('mb', '50'));
const kind = arg('kind', 'broken');

function generate(file) {
  const fd = fs.openSync(file, 'w');
  let bytes = 0;
  let keys = 0;
  const target = mb * 1024 * 1024;
  const out = [];
  const flush = () => {
    const s = out.join('');
    out.length = 0;
    fs.writeSync(fd, s);
    bytes += Buffer.byteLength(s);
  };
  // components come in blocks of 8 keys (~32 bytes each); the name lists are written last
  const per = 8 * 31;
  const n = Math.floor(target / per);
  const sources = [];
  for (let i = 0; i < n; i++) {
    const r = `r${i}`;
    if (kind === 'valid') {
      out.push(
        `a1.sources.${r}.type = seq\n`,
        `a1.sources.${r}.channels = c${i % 100}\n`,
        `a1.sources.${r}.totalEvents = 1\n`,
        `a1.sources.${r}.batchSize = 10\n`,
        `a1.sources.${r}.interceptors = i1\n`,
        `a1.sources.${r}.interceptors.i1.type = host\n`,
        `a1.sources.${r}.interceptors.i1.preserveExisting = true\n`,
        `a1.sources.${r}.selector.type = replicating\n`,
      );
    } else if (kind === 'unlisted') {
      out.push(
        `a1.sources.${r}.type = netcat\n`,
        `a1.sources.${r}.bind = 127.0.0.1\n`,
        `a1.sources.${r}.port = ${1024 + (i % 60000)}\n`,
        `a1.sources.${r}.channels = c1\n`,
        `a1.sorces.${r}.type = netcat\n`,
        `a1.sources.${r}.batchSize = 10\n`,
        `a1.sources.${r}.maxConnections = 5\n`,
        `a2.sources.${r}.type = netcat\n`,
      );
    } else {
      out.push(
        `a1.sources.${r}.type = netcat\n`,
        `a1.sources.${r}.bind = 127.0.0.1\n`,
        `a1.sources.${r}.port = x${i}\n`,
        `a1.sources.${r}.channels = nope${i}\n`,
        `a1.sources.${r}.batchSise = 10\n`,
        `a1.sources.${r}.maxConnections = 0\n`,
        `a1.sources.${r}.encoding = nope\n`,
        `a1.sources.${r}.ack-every-event = maybe\n`,
      );
    }
    keys += 8;
    sources.push(r);
    if (out.length > 8000) flush();
  }
  if (kind !== 'unlisted') out.push(`a1.sources = ${sources.join(' ')}\n`);
  if (kind === 'valid') {
    const chans = Array.from({ length: 100 }, (_, i) => `c${i}`);
    for (const c of chans)
      out.push(`a1.channels.${c}.type = memory\n`, `a1.sinks.k${c}.type = null\n`, `a1.sinks.k${c}.channel = ${c}\n`);
    out.push(`a1.channels = ${chans.join(' ')}\n`, `a1.sinks = ${chans.map((c) => `k${c}`).join(' ')}\n`);
    keys += 300;
  } else {
    out.push(
      'a1.channels = c1\na1.channels.c1.type = memory\na1.sinks = k1\na1.sinks.k1.type = null\na1.sinks.k1.channel = c1\n',
    );
  }
  keys += 2;
  flush();
  fs.closeSync(fd);
  return { bytes, keys, components: n };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-huge-'));
const file = path.join(dir, 'huge.properties');
const g = generate(file);
console.log(`generated ${kind}: ${(g.bytes / 1048576).toFixed(1)} MB, ${g.keys} keys, ${g.components} components`);
const outFile = path.join(dir, 'out.txt');
const timeFile = path.join(dir, 'time.txt');
const fd = fs.openSync(outFile, 'w');
const t0 = performance.now();
// anything after `--` goes to the CLI (e.g. -- -Dflume.config.maxBytes=64m -Dflume.config.maxKeys=2000000)
const extra = process.argv.includes('--') ? process.argv.slice(process.argv.indexOf('--') + 1) : [];
const cli = [process.execPath, path.join(ROOT, 'bin/flume-ng'), 'validate', '-n', 'a1', '-f', file, ...extra];
const r = spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%M %U %S', ...cli], {
  stdio: ['ignore', fd, fd],
  timeout: 900_000,
});
const secs = (performance.now() - t0) / 1000;
fs.closeSync(fd);
const [rssKb, user, sys] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
// baseline in the same run: the least any loader does - read the file, split it in lines, a Map of key -> line
const baseline = `const fs = require('fs'); const m = new Map(); const t = fs.readFileSync(${JSON.stringify(file)}, 'utf8');
for (const l of t.split('\\n')) { const i = l.indexOf('='); if (i > 0) m.set(l.slice(0, i).trim(), l.slice(i + 1)); }`;
spawnSync('/usr/bin/time', ['-o', timeFile, '-f', '%M %U %S', process.execPath, '-e', baseline], { stdio: 'inherit' });
const [bRss, bUser, bSys] = fs.readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number);
const cpu = user + sys;
const bCpu = bUser + bSys;
const printed = fs.statSync(outFile).size;
const text = fs.readFileSync(outFile, 'utf8');
const lines = text.trimEnd().split('\n');
console.log(
  `exit ${r.status}  wall ${secs.toFixed(1)} s  cpu ${cpu.toFixed(1)} s  peak RSS ${(rssKb / 1024).toFixed(0)} MB  ` +
    `printed ${(printed / 1048576).toFixed(2)} MB (${lines.length} lines)`,
);
console.log(
  `baseline (read + split + Map): cpu ${bCpu.toFixed(1)} s, peak RSS ${(bRss / 1024).toFixed(0)} MB -> ` +
    `cpu x${(cpu / bCpu).toFixed(1)}, RSS x${(rssKb / bRss).toFixed(1)}`,
);
console.log(`last lines:\n${lines.slice(-4).join('\n').slice(0, 2000)}`);
if (!process.env.KEEP) fs.rmSync(dir, { recursive: true, force: true });
