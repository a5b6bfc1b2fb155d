#!/usr/bin/env node
// Top self-time functions of a V8 .cpuprofile (from `node bench/run.mjs --cpu-prof ...` or `node --cpu-prof`).
// Usage: node bench/profile-top.mjs <file.cpuprofile> [--top N] [--ours]
//   --ours   only functions in this project's code (dist/src/..., shown as src/...)
import fs from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a));
const topIdx = args.indexOf('--top');
const top = topIdx >= 0 ? Number(args[topIdx + 1]) : 25;
const oursOnly = args.includes('--ours');
if (!file) {
  console.error('usage: node bench/profile-top.mjs <file.cpuprofile> [--top N] [--ours]');
  process.exit(64);
}

const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const selfUs = new Map();
for (let i = 0; i < prof.samples.length; i++) {
  const id = prof.samples[i];
  selfUs.set(id, (selfUs.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
}

const maps = new Map();
/** The .ts line of a dist/src frame through its source map (tsconfig has sourceMap: true), else undefined. */
function tsLine(url, line, column) {
  if (!maps.has(url)) {
    let map;
    try {
      map = new SourceMap(JSON.parse(fs.readFileSync(`${fileURLToPath(url)}.map`, 'utf8')));
    } catch {
      map = undefined;
    }
    maps.set(url, map);
  }
  const e = maps.get(url)?.findEntry(line, column);
  return e && typeof e.originalLine === 'number' ? e.originalLine + 1 : undefined;
}

/**
 * Where a frame lives: src/...ts:line for our code, node:..., a package name, or V8's (program)/(garbage
 * collector)/(idle).
 */
function where(cf) {
  const url = cf.url ?? '';
  const ours = /\/dist\/(src\/.*)\.js$/.exec(url);
  if (ours) {
    const line = tsLine(url, cf.lineNumber, cf.columnNumber);
    return { ours: true, loc: line ? `${ours[1]}.ts:${line}` : `dist/${ours[1]}.js:${cf.lineNumber + 1}` };
  }
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return { ours: false, loc: pkg[1] };
  if (url === '') return { ours: false, loc: '(native)' };
  return { ours: false, loc: url.replace(/^file:\/\//, '') };
}

const agg = new Map();
let total = 0;
const cat = { ours: 0, gc: 0, idle: 0, program: 0, other: 0 };
for (const [id, us] of selfUs) {
  const n = byId.get(id);
  const cf = n.callFrame;
  total += us;
  const w = where(cf);
  const name = cf.functionName || '(anonymous)';
  if (name === '(garbage collector)') cat.gc += us;
  else if (name === '(idle)') cat.idle += us;
  else if (name === '(program)') cat.program += us;
  else if (w.ours) cat.ours += us;
  else cat.other += us;
  const key = `${name}\t${w.loc}`;
  const a = agg.get(key) ?? { name, loc: w.loc, ours: w.ours, us: 0 };
  a.us += us;
  agg.set(key, a);
}

const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
const busy = total - cat.idle;
console.log(`${file}: ${(total / 1e6).toFixed(2)} s sampled, ${(busy / 1e6).toFixed(2)} s busy`);
console.log(
  `  our code ${pct(cat.ours)}  node/V8/deps ${pct(cat.other)}  GC ${pct(cat.gc)}  (program) ${pct(cat.program)}  idle ${pct(cat.idle)}`,
);
console.log(`  self time  function  (location)`);
const rows = [...agg.values()]
  .filter((a) => !oursOnly || a.ours)
  .sort((x, y) => y.us - x.us)
  .slice(0, top);
for (const r of rows) console.log(`  ${pct(r.us)} ${(r.us / 1000).toFixed(0).padStart(7)} ms  ${r.name}  (${r.loc})`);
