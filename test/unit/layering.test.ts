/**
 * The floors of src/ (docs/architecture.md, "Layout"), checked on the import lines of the sources: a folder imports
 * only from folders on lower floors. Also, in particular:
 *  - telemetry/ (counters, logger) is on the bottom floor with core/: it imports nothing else of the agent;
 *  - monitor/ (the HTTP server, Prometheus, the status page) sits above runtime/, which never imports it;
 *  - compat/ (Java behaviours) is used by components and imports none of them;
 *  - the status page's browser modules import only each other and the /api/status types (no Node.js code).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/cli.js';

const SRC = path.join(ROOT, 'src');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** The src/ folders (first path segment, e.g. 'core') that `file` imports from, other than its own. */
function importedFolders(file: string): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const own = path.relative(SRC, file).split(path.sep)[0];
  const out = new Set<string>();
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"](\.[^'"]+)['"]/gm)) {
    const target = path.relative(SRC, path.resolve(path.dirname(file), m[1]!));
    const folder = target.split(path.sep)[0]!;
    if (folder !== own) out.add(target.startsWith('..') ? target : folder);
  }
  return [...out];
}

function importsOf(folder: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of sources(path.join(SRC, folder))) out.set(path.relative(ROOT, f), importedFolders(f));
  return out;
}

test('telemetry/ imports nothing above core/', () => {
  for (const [file, folders] of importsOf('telemetry')) {
    assert.deepEqual(
      folders.filter((f) => f !== 'core'),
      [],
      file,
    );
  }
});

test('runtime/ never imports monitor/; monitor/ is wired by cli/', () => {
  for (const [file, folders] of importsOf('runtime')) assert.ok(!folders.includes('monitor'), file);
  const cli = [...importsOf('cli').values()].flat();
  assert.ok(cli.includes('monitor'), 'the CLI starts the monitoring server');
});

test('compat/ imports no component family, runtime, monitor or cli', () => {
  const above = [
    'sources',
    'sinks',
    'channels',
    'interceptors',
    'selectors',
    'processors',
    'serializers',
    'runtime',
    'monitor',
    'cli',
  ];
  for (const [file, folders] of importsOf('compat')) {
    assert.deepEqual(
      folders.filter((f) => above.includes(f)),
      [],
      file,
    );
  }
});

test('the status page modules import each other and the /api/status types only, never Node.js code', () => {
  const dir = path.join(SRC, 'monitor', 'status-page', 'assets');
  const modules = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(modules.length >= 2, 'the modules are found');
  for (const f of modules) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    for (const m of text.matchAll(/^\s*import\b[^'"]*?['"]([^'"]+)['"]/gm)) {
      assert.match(m[1]!, /^(\.\/[\w.-]+\.js|\.\.\/api\.js)$/, `${f} imports ${m[1]}`);
    }
  }
});

/** docs/architecture.md's floors, top (high) to bottom; folders on one floor do not import each other. */
const FLOORS: Record<string, number> = {
  cli: 11,
  monitor: 10,
  runtime: 9,
  testing: 9,
  config: 8,
  registry: 7,
  sources: 6,
  sinks: 6,
  kafka: 5,
  rpc: 4,
  format: 4,
  interceptors: 4,
  channels: 3,
  selectors: 3,
  processors: 3,
  serializers: 3,
  net: 3,
  text: 3,
  compat: 3,
  contract: 2,
  core: 1,
  telemetry: 1,
};

test('every folder of src/ has a floor, and imports only from lower floors', () => {
  const folders = fs
    .readdirSync(SRC, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name);
  for (const folder of folders) {
    const floor = FLOORS[folder];
    assert.ok(floor !== undefined, `src/${folder}/ has no floor in docs/architecture.md and this test`);
    for (const [file, imported] of importsOf(folder)) {
      for (const target of imported) {
        const below = FLOORS[target];
        assert.ok(below !== undefined && below < floor, `${file} imports ${target}/, which is not on a lower floor`);
      }
    }
  }
});
