#!/usr/bin/env node
// npm run build: compiles into a clean dist/ (a moved or deleted source must leave no stale module behind, to be
// packed or to run as a test), in three steps:
//  1. tsc -p tsconfig.json: the agent, its tests and scripts (Node.js); then tsc -p tsconfig.decl.json: the
//     declarations (.d.ts) of the public entries (src/index.ts, src/testing/index.ts) and what they import;
//  2. tsc -p src/monitor/status-page/assets: the status page's browser modules (lib "dom", no Node.js types);
//  3. the non-TypeScript assets under src/ (the status page's .html and .css) copied to the same place under
//     dist/src/, where the code that serves them finds them next to its compiled module.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, relative } from 'node:path';

const ASSET_EXTENSIONS = new Set(['.html', '.css']);

function walk(dir, out = []) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (ASSET_EXTENSIONS.has(extname(e.name))) out.push(p);
  }
  return out;
}

rmSync('dist', { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
for (const project of ['tsconfig.json', 'tsconfig.decl.json', 'src/monitor/status-page/assets']) {
  const r = spawnSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
for (const file of walk('src')) {
  const to = join('dist', 'src', relative('src', file));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(file, to);
}
