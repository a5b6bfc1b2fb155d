/**
 * The "spool a directory" example (examples/spooldir.properties: spooldir -> file channel -> file_roll) run in
 * process with its paths moved to a temp dir: files dropped in are delivered and renamed .COMPLETED, a file
 * modified after pickup is quarantined while the others keep flowing, a zero-byte file gives one empty line.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startAgent } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import { ROOT } from '../helpers/cli.js';
import type { Agent } from '../../src/runtime/agent.js';

const dirs: string[] = [];
const agents: Agent[] = [];
after(async () => {
  for (const a of agents) await a.stop().catch(() => undefined);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function outputLines(dir: string): string[] {
  let lines: string[] = [];
  for (const f of fs.readdirSync(dir).sort())
    lines = lines.concat(fs.readFileSync(path.join(dir, f), 'utf8').split('\n'));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

test(
  'example spooldir -> file channel -> file_roll: files delivered and completed; a changed file does not halt the source',
  { timeout: 60_000 },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'files-spool-'));
    dirs.push(dir);
    const spool = path.join(dir, 'spool');
    const state = path.join(dir, 'state');
    fs.mkdirSync(spool);
    fs.mkdirSync(path.join(state, 'spool-out'), { recursive: true });
    const text = fs
      .readFileSync(path.join(ROOT, 'examples', 'spooldir.properties'), 'utf8')
      .replaceAll('/var/spool/flume-in', spool)
      .replaceAll('/var/lib/flume-ts', state)
      .concat('\na1.sources.r1.pollDelay = 50\na1.channels.c1.minimumRequiredSpace = 1m\n');
    assert.ok(!text.includes('/var/'));
    const drop = (name: string, content: string, ageS: number) => {
      const tmp = path.join(spool, `.${name}.tmp`);
      fs.writeFileSync(tmp, content);
      const t = Date.now() / 1000 - ageS;
      fs.utimesSync(tmp, t, t);
      fs.renameSync(tmp, path.join(spool, name));
    };
    drop('a.csv', 'a1\na2\n', 30);
    drop('b.csv', Array.from({ length: 200_000 }, (_, i) => `b${i}`).join('\n') + '\n', 20);
    drop('empty.csv', '', 10);
    drop('skip.tmp', 'never\n', 5);
    const agent = await startAgent(text);
    agents.push(agent);
    const out = path.join(state, 'spool-out');
    // b.csv is big enough to be caught while being read: append to it once reading has started
    await waitFor(() => outputLines(out).some((l) => l.startsWith('b')), 10_000, 'b.csv being read');
    fs.appendFileSync(path.join(spool, 'b.csv'), 'late\n');
    drop('c.csv', 'c1\n', 0);
    await waitFor(
      () => fs.existsSync(path.join(spool, 'c.csv.COMPLETED')),
      15_000,
      'c.csv completed after the changed file',
    );
    await waitFor(() => outputLines(out).includes('c1'), 10_000, 'c1 delivered');
    await agent.stop();
    const lines = outputLines(out);
    assert.deepEqual(lines.slice(0, 2), ['a1', 'a2']);
    assert.ok(lines.includes(''), 'the zero-byte file gave one empty event');
    assert.ok(lines.filter((l) => /^b\d+$/.test(l)).length >= 200_000, 'b.csv delivered before it was quarantined');
    assert.ok(!lines.includes('never'));
    const names = fs.readdirSync(spool).sort();
    assert.deepEqual(names, ['.flumespool', 'a.csv.COMPLETED', 'c.csv.COMPLETED', 'empty.csv.COMPLETED', 'skip.tmp']);
    assert.ok(fs.existsSync(path.join(spool, '.flumespool', 'quarantine', 'b.csv')));
  },
);
