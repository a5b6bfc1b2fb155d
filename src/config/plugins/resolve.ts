/** Where a plugin's module is: a path written as a `type`, a package's entry point, an installed package by name. */
import fs from 'node:fs';
import path from 'node:path';

/** A `type` written as a file: relative (`./x.mjs`, `../x.js`), absolute, or ending in .js/.mjs. */
export function isPathType(type: string): boolean {
  return /^\.{1,2}[\\/]/.test(type) || path.isAbsolute(type) || /\.m?js$/i.test(type);
}

const PACKAGE_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;

/** Could `type` be the name of an npm package (lower case, optional scope)? */
export function isPackageName(type: string): boolean {
  return PACKAGE_NAME.test(type) && type.length <= 214;
}

/** The directory of installed package `name`, looked up in node_modules from `dir` upwards, or undefined. */
export function findPackageDir(name: string, dir: string): string | undefined {
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const candidate = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(d) === d) return undefined;
  }
}

interface PackageJson {
  name?: string;
  main?: string;
  exports?: unknown;
}

/** The package's name (from package.json, else the directory's name). */
export function packageName(dir: string): string {
  return readPackageJson(dir)?.name ?? path.basename(dir);
}

function readPackageJson(dir: string): PackageJson | undefined {
  const file = path.join(dir, 'package.json');
  if (!fs.existsSync(file)) return undefined;
  return JSON.parse(fs.readFileSync(file, 'utf8')) as PackageJson;
}

/** An `exports` value for the import condition: a string, or conditions (import, node, default) nested. */
function conditional(x: unknown): string | undefined {
  if (typeof x === 'string') return x;
  if (Array.isArray(x)) return x.map(conditional).find((v) => v !== undefined);
  if (x && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    for (const c of ['import', 'node', 'default']) if (c in o) return conditional(o[c]);
  }
  return undefined;
}

/**
 * The module a package directory loads as (ES module resolution for its root): `exports` ('.' or the whole value,
 * import/node/default conditions), else `main`, else index.mjs or index.js. Throws when package.json is not JSON.
 */
export function packageEntry(dir: string): string {
  const pkg = readPackageJson(dir);
  let rel: string | undefined;
  if (pkg?.exports !== undefined) {
    const e = pkg.exports;
    const root = e && typeof e === 'object' && !Array.isArray(e) && '.' in e ? (e as Record<string, unknown>)['.'] : e;
    rel = conditional(root);
  }
  rel ??= pkg?.main;
  if (rel === undefined) rel = fs.existsSync(path.join(dir, 'index.mjs')) ? 'index.mjs' : 'index.js';
  return path.resolve(dir, rel);
}
