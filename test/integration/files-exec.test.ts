/**
 * exec through the real CLI: `tail -F` of a file -> memory -> file_roll; on SIGTERM the agent ends the command's
 * whole process group (the command and a background child it started): no orphans.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { AgentProcess, tmpDir } from '../helpers/cli.js';

const dirs: string[] = [];
const procs: ChildProcess[] = [];
after(() => {
  for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ps(): { pid: number; ppid: number; pgid: number; stat: string }[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,pgid=,stat='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 4)
    .map((f) => ({ pid: Number(f[0]), ppid: Number(f[1]), pgid: Number(f[2]), stat: f[3]! }));
}
async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}

test(
  'CLI agent: exec tail -F -> memory -> file_roll; SIGTERM leaves no process of the command behind',
  { timeout: 60_000 },
  async () => {
    const dir = tmpDir('files-exec-');
    dirs.push(dir);
    const log = path.join(dir, 'app.log');
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    fs.writeFileSync(log, '');
    const conf = path.join(dir, 'exec.properties');
    fs.writeFileSync(
      conf,
      [
        'a1.sources = r1',
        'a1.channels = c1',
        'a1.sinks = k1',
        'a1.sources.r1.type = exec',
        'a1.sources.r1.shell = /bin/sh -c',
        `a1.sources.r1.command = sleep 1000 & exec tail -n 0 -F ${log}`,
        'a1.sources.r1.batchSize = 10',
        'a1.sources.r1.batchTimeout = 100',
        'a1.sources.r1.channels = c1',
        'a1.channels.c1.type = memory',
        'a1.sinks.k1.type = file_roll',
        'a1.sinks.k1.channel = c1',
        `a1.sinks.k1.sink.directory = ${out}`,
        'a1.sinks.k1.sink.rollInterval = 0',
        '',
      ].join('\n'),
    );
    const agent = AgentProcess.agent(conf);
    procs.push(agent.proc);
    await agent.waitForOutput(/Exec source started the command/, 20_000);
    const agentPid = agent.proc.pid!;
    let pgid = 0;
    await until(
      () => {
        const child = ps().find((p) => p.ppid === agentPid && p.pid === p.pgid);
        if (child) pgid = child.pgid;
        return pgid > 0 && ps().filter((p) => p.pgid === pgid).length >= 2;
      },
      10_000,
      'tail and sleep running in their own process group',
    );
    await sleep(300);
    fs.appendFileSync(log, 'hello\nworld\n');
    const text = () =>
      fs
        .readdirSync(out)
        .map((f) => fs.readFileSync(path.join(out, f), 'utf8'))
        .join('');
    await until(() => text() === 'hello\nworld\n', 10_000, 'lines written by file_roll');
    assert.equal(await agent.stop('SIGTERM'), 0, agent.stdout.slice(-2000));
    await until(
      () => ps().filter((p) => p.pgid === pgid && !p.stat.startsWith('Z')).length === 0,
      5000,
      'the command group ended',
    );
  },
);
