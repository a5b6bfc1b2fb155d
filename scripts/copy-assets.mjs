#!/usr/bin/env node
// Build step after tsc: copies the non-TypeScript assets under src/ (the status page's .html and .css) to the same
// place under dist/src/, where the code that serves them finds them next to its compiled module.
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
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

for (const file of walk('src')) {
  const to = join('dist', 'src', relative('src', file));
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(file, to);
}
