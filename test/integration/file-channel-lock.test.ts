/**
 * Two agents (real processes) configured with the same file-channel directories:
 * - at first start the second agent exits 1 at once, naming the directory and the first agent's pid (it used to
 *   keep running, retrying the lock forever); started again once the first one stopped, it takes over the events;
 * - a hot reload onto directories another agent holds is refused: the running pipeline stays and the reload
 *   failure names the directory and the pid; once the other agent is gone the same reload goes through.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AgentProcess, tmpDir } from '../helpers/cli.js';

const cleanup: (() => Promise<unknown> | void)[] = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

const escape = (s: string) => s.replace(/[/.]/g, '\\$&');

/** An agent whose seq source fills c1 (500 events) and whose sink never drains it. */
function holderConfig(dir: string, data: string): string {
  const conf = path.join(dir, 'holder.properties');
  fs.writeFileSync(
    conf,
    [
      'a1.sources = r1',
      'a1.channels = c1 c2',
      'a1.sinks = k1',
      'a1.sources.r1.type = seq',
      'a1.sources.r1.totalEvents = 500',
      'a1.sources.r1.batchSize = 100',
      'a1.sources.r1.channels = c1',
      'a1.channels.c1.type = file',
      `a1.channels.c1.dataDirs = ${data}`,
      `a1.channels.c1.checkpointDir = ${data}-cp`,
      'a1.channels.c1.minimumRequiredSpace = 1m',
      'a1.sinks.k1.type = null',
      'a1.sinks.k1.channel = c2',
      'a1.channels.c2.type = memory',
      '',
    ].join('\n'),
  );
  return conf;
}

/** An agent draining c1 (at `data`) into file_roll files out-* in `outDir`. */
function drainConfig(file: string, data: string, outDir: string): string {
  fs.writeFileSync(
    file,
    [
      'a1.channels = c1',
      'a1.sinks = k1',
      'a1.channels.c1.type = file',
      `a1.channels.c1.dataDirs = ${data}`,
      `a1.channels.c1.checkpointDir = ${data}-cp`,
      'a1.channels.c1.minimumRequiredSpace = 1m',
      'a1.sinks.k1.type = file_roll',
      'a1.sinks.k1.channel = c1',
      `a1.sinks.k1.sink.directory = ${outDir}`,
      'a1.sinks.k1.sink.rollInterval = 0',
      'a1.sinks.k1.sink.pathManager.prefix = out-',
      '',
    ].join('\n'),
  );
  return file;
}

function lines(outDir: string): number[] {
  return fs
    .readdirSync(outDir)
    .filter((f) => f.startsWith('out-'))
    .sort()
    .map((f) => fs.readFileSync(path.join(outDir, f), 'utf8'))
    .join('')
    .split('\n')
    .filter(Boolean)
    .map(Number);
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test(
  'a second agent on the same file channel exits 1 at first start, naming the directory and the first agent',
  { timeout: 120_000 },
  async () => {
    const dir = tmpDir('fc-lock-');
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const data = path.join(dir, 'data');
    const first = AgentProcess.agent(holderConfig(dir, data));
    cleanup.push(() => first.stop('SIGKILL'));
    await first.waitForOutput(/Sequence generator source finished/, 20_000);

    const drainConf = drainConfig(path.join(dir, 'drain.properties'), data, dir);
    const second = AgentProcess.agent(drainConf);
    cleanup.push(() => second.stop('SIGKILL'));
    assert.equal(await second.exited, 1, 'the second agent exits 1');
    const out = second.stdout + second.stderr;
    assert.match(
      second.stderr,
      new RegExp(
        `failed to start: .*${escape(data)}/leveldb is in use by pid ${first.proc.pid} \\(running; channel c1`,
      ),
    );
    assert.match(out, /give each file channel its own dataDirs and checkpointDir, or stop the other agent/);
    assert.doesNotMatch(out, /Agent started/);
    assert.equal(fs.readFileSync(path.join(data, 'in_use.pid'), 'utf8').split('\n')[0], String(first.proc.pid));
    assert.equal(first.proc.exitCode, null, 'the first agent is untouched');

    // once the first agent is gone, the second one opens the store and drains it
    assert.equal(await first.stop('SIGTERM'), 0);
    const third = AgentProcess.agent(drainConf);
    cleanup.push(() => third.stop('SIGKILL'));
    await third.waitForOutput(/File channel ready.*events=500/, 30_000);
    await until(() => lines(dir).length >= 500, 30_000, '500 lines');
    assert.deepEqual(
      lines(dir),
      Array.from({ length: 500 }, (_, i) => i),
    );
    assert.equal(await third.stop('SIGTERM'), 0);
  },
);

test(
  'a hot reload onto file channel directories another agent holds is refused; the running pipeline stays',
  { timeout: 120_000 },
  async () => {
    const dir = tmpDir('fc-lock-reload-');
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const held = path.join(dir, 'held');
    const own = path.join(dir, 'own');
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    const holder = AgentProcess.agent(holderConfig(dir, held));
    cleanup.push(() => holder.stop('SIGKILL'));
    await holder.waitForOutput(/Sequence generator source finished/, 20_000);

    // the agent under test runs a source into its own file channel
    const conf = path.join(dir, 'agent.properties');
    const withSource = (data: string) => {
      drainConfig(conf, data, out);
      fs.appendFileSync(
        conf,
        [
          'a1.sources = r1',
          'a1.sources.r1.type = seq',
          'a1.sources.r1.totalEvents = 100',
          'a1.sources.r1.channels = c1',
          '',
        ].join('\n'),
      );
    };
    withSource(own);
    const agent = AgentProcess.agent(conf);
    cleanup.push(() => agent.stop('SIGKILL'));
    await agent.waitForOutput(/Agent started/, 20_000);
    await until(() => lines(out).length >= 100, 30_000, 'the first 100 lines');

    // reload onto the held directories: refused, reported, and the old pipeline keeps running
    drainConfig(conf, held, out);
    agent.proc.kill('SIGHUP');
    await agent.waitForOutput(/Applying the new configuration failed/, 20_000);
    assert.match(
      agent.stdout + agent.stderr,
      new RegExp(`Applying the new configuration failed.*${escape(held)}/leveldb is in use by pid ${holder.proc.pid}`),
    );
    assert.doesNotMatch(agent.stdout + agent.stderr, /Configuration reloaded/);
    assert.equal(fs.readFileSync(path.join(own, 'in_use.pid'), 'utf8').split('\n')[0], String(agent.proc.pid));
    assert.equal(agent.proc.exitCode, null);
    assert.deepEqual(
      lines(out),
      Array.from({ length: 100 }, (_, i) => i),
    );

    // the holder stops: the same reload goes through and drains the held events
    assert.equal(await holder.stop('SIGTERM'), 0);
    agent.proc.kill('SIGHUP');
    await agent.waitForOutput(/Configuration reloaded.*started=.*channel\.c1/, 20_000);
    await until(() => lines(out).length >= 600, 30_000, '600 lines');
    assert.deepEqual(lines(out), [
      ...Array.from({ length: 100 }, (_, i) => i),
      ...Array.from({ length: 500 }, (_, i) => i),
    ]);
    assert.equal(await agent.stop('SIGTERM'), 0);
  },
);
