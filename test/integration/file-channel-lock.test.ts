/**
 * Two agents (real processes) configured with the same file-channel directories: the second one does not open
 * the store; its log names the directory and the first agent's pid, and it keeps retrying with backoff until the
 * first one stops, then it takes over the queued events.
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

test(
  'a second agent on the same file channel gets a lock error naming the directory and the first agent',
  { timeout: 40_000 },
  async () => {
    const dir = tmpDir('fc-lock-');
    cleanup.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const data = path.join(dir, 'data');
    const conf = path.join(dir, 'agent.properties');
    fs.writeFileSync(
      conf,
      [
        'a1.sources = r1',
        'a1.channels = c1',
        'a1.sinks = k1',
        'a1.sources.r1.type = seq',
        'a1.sources.r1.totalEvents = 500',
        'a1.sources.r1.batchSize = 100',
        'a1.sources.r1.channels = c1',
        'a1.channels.c1.type = file',
        `a1.channels.c1.dataDirs = ${data}`,
        `a1.channels.c1.checkpointDir = ${path.join(dir, 'cp')}`,
        'a1.channels.c1.minimumRequiredSpace = 1m',
        // a sink that never drains: the second agent must find the 500 events still queued
        'a1.sinks.k1.type = null',
        'a1.sinks.k1.channel = c2',
        'a1.channels.c2.type = memory',
        '',
      ]
        .join('\n')
        .replace('a1.channels = c1', 'a1.channels = c1 c2'),
    );
    const first = AgentProcess.agent(conf);
    cleanup.push(() => first.stop('SIGKILL'));
    await first.waitForOutput(/Sequence generator source finished/, 20_000);

    const drainConf = path.join(dir, 'drain.properties');
    fs.writeFileSync(
      drainConf,
      [
        'a1.channels = c1',
        'a1.sinks = k1',
        'a1.channels.c1.type = file',
        `a1.channels.c1.dataDirs = ${data}`,
        `a1.channels.c1.checkpointDir = ${path.join(dir, 'cp')}`,
        'a1.channels.c1.minimumRequiredSpace = 1m',
        'a1.sinks.k1.type = file_roll',
        'a1.sinks.k1.channel = c1',
        `a1.sinks.k1.sink.directory = ${dir}`,
        'a1.sinks.k1.sink.rollInterval = 0',
        'a1.sinks.k1.sink.pathManager.prefix = out-',
        '',
      ].join('\n'),
    );
    const second = AgentProcess.agent(drainConf);
    cleanup.push(() => second.stop('SIGKILL'));
    await second.waitForOutput(/is in use by/, 15_000);
    const out = second.stdout + second.stderr;
    assert.match(
      out,
      new RegExp(`${data.replace(/[/.]/g, '\\$&')}/leveldb is in use by pid ${first.proc.pid} \\(running; channel c1`),
    );
    assert.match(out, /give each file channel its own dataDirs and checkpointDir, or stop the other agent/);
    assert.equal(second.proc.exitCode, null, 'the second agent keeps running and retries');
    assert.equal(fs.readFileSync(path.join(data, 'in_use.pid'), 'utf8').split('\n')[0], String(first.proc.pid));

    // once the first agent is gone, the second one opens the store (retry with backoff) and drains it
    assert.equal(await first.stop('SIGTERM'), 0);
    await second.waitForOutput(/File channel ready.*events=500/, 30_000);
    const deadline = Date.now() + 10_000;
    const lines = () =>
      fs
        .readdirSync(dir)
        .filter((f) => f.startsWith('out-'))
        .map((f) => fs.readFileSync(path.join(dir, f), 'utf8'))
        .join('')
        .split('\n')
        .filter(Boolean);
    while (lines().length < 500 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      lines().map(Number),
      Array.from({ length: 500 }, (_, i) => i),
    );
    assert.equal(await second.stop('SIGTERM'), 0);
  },
);
