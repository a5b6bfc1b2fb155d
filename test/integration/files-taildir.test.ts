/**
 * The "tail an application log" example (examples/taildir-app-log.properties: taildir -> file channel ->
 * file_roll) through the real CLI, with its paths moved to a temp dir: a writer appends numbered lines with
 * rename rotation while the agent is killed with SIGKILL twice and restarted. Lost 0; duplicates bounded by the
 * lines the position file did not cover at each kill (plus one sink batch per kill).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { AgentProcess, ROOT, tmpDir } from '../helpers/cli.js';

const dirs: string[] = [];
const procs: ChildProcess[] = [];
after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function outputLines(dir: string): string[] {
  const lines: string[] = [];
  for (const f of fs.readdirSync(dir)) {
    for (const l of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) if (l !== '') lines.push(l);
  }
  return lines;
}
async function until(cond: () => boolean, timeoutMs: number, what: string, agent?: AgentProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (agent && agent.proc.exitCode !== null)
      throw new Error(
        `agent exited (${agent.proc.exitCode}) while waiting for ${what}:\n${agent.stdout.slice(-3000)}\n${agent.stderr.slice(-2000)}`,
      );
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${agent ? `:\n${agent.stdout.slice(-3000)}` : ''}`);
    await sleep(20);
  }
}

test(
  'example taildir -> file channel -> file_roll: rename rotation and two kill -9 restarts, lost 0',
  { timeout: 90_000 },
  async (t) => {
    const dir = tmpDir('files-taildir-');
    dirs.push(dir);
    const logs = path.join(dir, 'log', 'myapp');
    const state = path.join(dir, 'state');
    fs.mkdirSync(logs, { recursive: true });
    fs.mkdirSync(path.join(state, 'out'), { recursive: true });
    const WRITE_POS_MS = 500;
    const text = fs
      .readFileSync(path.join(ROOT, 'examples', 'taildir-app-log.properties'), 'utf8')
      .replaceAll('/var/log/myapp', logs)
      .replaceAll('/var/lib/flume-ts', state)
      .replace(/^a1\.sources\.r1\.writePosInterval = .*$/m, `a1.sources.r1.writePosInterval = ${WRITE_POS_MS}`)
      .replace(/^a1\.sources\.r1\.idleTimeout = .*$/m, 'a1.sources.r1.idleTimeout = 1000')
      .concat('\na1.channels.c1.minimumRequiredSpace = 1m\n');
    assert.ok(text.includes(logs) && !text.includes('/var/'), 'paths substituted');
    const conf = path.join(dir, 'agent.properties');
    fs.writeFileSync(conf, text);
    const out = path.join(state, 'out');

    // the application: numbered lines, ~2,500/s, through an fd reopened after each rename
    const app = path.join(logs, 'app.log');
    let seq = 0;
    let fd = fs.openSync(app, 'a');
    const write = (n: number) => {
      let s = '';
      for (let i = 0; i < n; i++) s += `${String(seq++).padStart(8, '0')} lorem ipsum dolor sit amet\n`;
      fs.writeSync(fd, s);
    };
    const timer = setInterval(() => write(25), 10);
    let rotations = 0;
    const rotator = setInterval(() => {
      rotations++;
      fs.renameSync(app, `${app}.${rotations}`);
      write(10);
      fs.closeSync(fd);
      fd = fs.openSync(app, 'a');
    }, 700);

    const ready = /Taildir source started/;
    let agent = AgentProcess.agent(conf);
    procs.push(agent.proc);
    const LINE_BYTES = 36; // '00000000 lorem ipsum dolor sit amet\n'
    const readPositions = () =>
      JSON.parse(fs.readFileSync(path.join(state, 'taildir', 'app-position.json'), 'utf8')) as {
        inode: number;
        pos: number;
        file: string;
      }[];
    let repeatable = 0;
    try {
      await agent.waitForOutput(ready, 20_000);
      for (let k = 0; k < 2; k++) {
        const target = outputLines(out).length + 2000;
        await until(() => outputLines(out).length >= target, 20_000, `${target} lines delivered`, agent);
        await sleep(300 + Math.random() * 400);
        // what a restart may repeat: lines written so far minus the lines the position file covers
        const covered = readPositions().reduce((n, e) => n + e.pos / LINE_BYTES, 0);
        const written = seq;
        agent.proc.kill('SIGKILL');
        await agent.exited;
        repeatable += written - covered;
        agent = AgentProcess.agent(conf);
        procs.push(agent.proc);
        await agent.waitForOutput(ready, 20_000);
      }
      await sleep(500);
    } finally {
      clearInterval(timer);
      clearInterval(rotator);
      fs.closeSync(fd);
    }
    const total = seq;
    await until(() => new Set(outputLines(out)).size >= total, 30_000, `all ${total} lines`, agent);
    assert.equal(await agent.stop('SIGTERM'), 0, agent.stdout.slice(-2000));

    const lines = outputLines(out);
    const counts = new Map<string, number>();
    for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
    let lost = 0;
    for (let i = 0; i < total; i++) if (!counts.has(`${String(i).padStart(8, '0')} lorem ipsum dolor sit amet`)) lost++;
    const unexpected = [...counts.keys()].filter((l) => !/^\d{8} lorem ipsum dolor sit amet$/.test(l)).length;
    const dups = lines.length - counts.size;
    // per kill: at most the lines not covered by the position file at that moment, plus one sink batch
    const bound = repeatable + 2 * 1000;
    t.diagnostic(
      `taildir kill -9: rotations=${rotations} kills=2 written=${total} delivered=${lines.length} lost=${lost} duplicates=${dups} unexpected=${unexpected} bound=${bound}`,
    );
    assert.equal(lost, 0);
    assert.equal(unexpected, 0);
    assert.ok(dups <= bound, `duplicates ${dups} > ${bound}`);
    const pos = readPositions();
    assert.ok(
      pos.length >= 1 &&
        pos.every((e) => Number.isInteger(e.inode) && Number.isInteger(e.pos) && typeof e.file === 'string'),
    );
  },
);
