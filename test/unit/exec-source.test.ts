/**
 * exec with real processes: tail -F, no shell unless configured, batchTimeout, restart with restartThrottle,
 * backpressure on a full channel (nothing lost), stderr only with logStdErr, no orphans after stop.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import exec, { ExecSource, commandLine } from '../../src/sources/exec.js';
import { componentOptions } from '../../src/config/validate/index.js';
import { optionsFor } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import { sourceCounters, type SourceCounters } from '../../src/telemetry/counters.js';
import { silentLogger, type Logger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { ChannelFullError } from '../../src/core/errors.js';
import type { FlumeEvent } from '../../src/core/event.js';
import type { SourceContext } from '../../src/contract/index.js';
import { countEmits } from '../../src/runtime/channel-processor.js';

const dirs: string[] = [];
const sources: ExecSource[] = [];
after(async () => {
  for (const s of sources) await s.close().catch(() => undefined);
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmp(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'exec-'));
  dirs.push(d);
  return d;
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Harness {
  ctx: SourceContext;
  events: FlumeEvent[];
  times: number[];
  counters: SourceCounters;
  full: number;
  logs: string[];
  bodies(): string[];
}
function harness(maxBatchSize = 1000): Harness {
  const logs: string[] = [];
  const base = silentLogger();
  const logger = new Proxy(base, {
    get(target, prop, recv) {
      if (prop === 'info' || prop === 'warn' || prop === 'error') {
        return (msg: string, meta?: Record<string, unknown>) => {
          logs.push(`${String(prop)} ${msg} ${meta ? JSON.stringify(meta) : ''}`);
          return recv;
        };
      }
      return Reflect.get(target, prop, recv);
    },
  }) as Logger;
  const h: Harness = {
    events: [],
    times: [],
    full: 0,
    logs,
    counters: sourceCounters('r1'),
    bodies: () => h.events.map((e) => e.body.toString('utf8')),
    ctx: undefined as unknown as SourceContext,
  };
  h.ctx = {
    name: 'r1',
    logger,
    clock: systemClock,
    counters: h.counters,
    maxBatchSize,
    emit: countEmits(async (b) => {
      if (h.full > 0) {
        h.full--;
        throw new ChannelFullError('test: full');
      }
      for (const e of b) {
        h.events.push(e);
        h.times.push(performance.now());
      }
    }, h.counters),
  };
  return h;
}
function source(h: Harness, props: Record<string, string>): ExecSource {
  const s = exec.create(optionsFor(exec, { batchTimeout: '100', stopTimeout: '1000', ...props }), h.ctx) as ExecSource;
  sources.push(s);
  return s;
}
/** pids of live (not zombie) processes in process group `pgid`. */
function groupMembers(pgid: number): number[] {
  const out = execFileSync('ps', ['-eo', 'pid=,pgid=,stat='], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length === 3 && Number(f[1]) === pgid && !f[2]!.startsWith('Z'))
    .map((f) => Number(f[0]));
}

test('options and argv: Flume defaults; whitespace split without a shell; shell words + the command as one argument', () => {
  const o = optionsFor(exec, { command: 'tail -F /var/log/app.log' });
  assert.equal(o.batchSize, 20);
  assert.equal(o.batchTimeout, 3000);
  assert.equal(o.restartThrottle, 10000);
  assert.equal(o.restart, false);
  assert.equal(o.logStdErr, false);
  assert.deepEqual(commandLine(o), ['tail', '-F', '/var/log/app.log']);
  assert.deepEqual(commandLine({ command: 'echo a | wc -c', shell: '/bin/sh -c' }), [
    '/bin/sh',
    '-c',
    'echo a | wc -c',
  ]);
  const errors = (props: Record<string, string>) =>
    componentOptions(exec, props)
      .issues.filter((i) => i.severity === 'error')
      .map((i) => i.message)
      .join('\n');
  assert.match(errors({}), /required property 'command'/);
  assert.match(errors({ command: 'x', charset: 'UTF-16' }), /not supported by exec/);
  assert.match(errors({ command: 'x', charset: 'UTF-32LE' }), /not supported by exec/);
  assert.equal(errors({ command: 'x', charset: 'ISO-2022-JP' }), '', 'a 7-bit charset keeps \\n and \\r single bytes');
  assert.equal(errors({ command: 'x', charset: 'Cp1252' }), '');
  assert.match(errors({ command: 'x', charset: 'UTF-9' }), /'UTF-9' is not a supported charset/);
  assert.ok(exec.classNames!.includes('org.apache.flume.source.ExecSource'));
});

test('tail -F: lines appended to a file become events (\\r\\n handled); stop leaves no process behind', async () => {
  const d = tmp();
  const f = path.join(d, 'app.log');
  fs.writeFileSync(f, '');
  const h = harness();
  const s = source(h, { command: `tail -n 0 -F ${f}`, batchSize: '5' });
  await s.start();
  const pid = s.pid!;
  assert.ok(pid > 0);
  await waitFor(() => groupMembers(pid).length > 0, 5000, 'tail running');
  await sleep(300); // tail -F must have opened the file before we append
  fs.appendFileSync(f, 'one\r\ntwo\nthree\n');
  await waitFor(() => h.events.length >= 3, 5000, 'lines from tail');
  assert.deepEqual(h.bodies(), ['one', 'two', 'three']);
  await s.close();
  assert.deepEqual(groupMembers(pid), [], 'no orphans');
});

test('no shell unless configured: metacharacters reach the program as plain arguments', async () => {
  const h = harness();
  const s = source(h, { command: 'echo a;b $HOME |x' });
  await s.start();
  await waitFor(() => h.events.length >= 1, 5000, 'output');
  await s.close();
  assert.deepEqual(h.bodies(), ['a;b $HOME |x']);
  const h2 = harness();
  const s2 = source(h2, { command: 'printf "x\\ny" | tr a-z A-Z', shell: '/bin/sh -c' });
  await s2.start();
  await waitFor(() => h2.events.length >= 2, 5000, 'shell output');
  await s2.close();
  assert.deepEqual(h2.bodies(), ['X', 'Y'], 'the unterminated last line is emitted at end of output');
});

test('batchTimeout sends a partial batch while the command is still running', async () => {
  const h = harness();
  const s = source(h, { command: 'echo one; sleep 30', shell: '/bin/sh -c', batchSize: '20', batchTimeout: '150' });
  const t0 = performance.now();
  await s.start();
  await waitFor(() => h.events.length === 1, 5000, 'partial batch');
  assert.ok(performance.now() - t0 < 3000);
  const pid = s.pid!;
  await s.close();
  assert.deepEqual(groupMembers(pid), []);
});

test('a command that exits is restarted after restartThrottle, not before', async () => {
  const h = harness();
  const s = source(h, { command: 'echo run', restart: 'true', restartThrottle: '300' });
  await s.start();
  await waitFor(() => h.events.length >= 3, 10_000, 'three runs');
  await s.close();
  const gaps = h.times.slice(1, 3).map((t, i) => t - h.times[i]!);
  assert.ok(
    gaps.every((g) => g >= 280),
    `gaps ${gaps.map((g) => g.toFixed(0)).join(', ')} ms`,
  );
  assert.ok(s.runs >= 3);
  const n = h.events.length;
  await sleep(500);
  assert.equal(h.events.length, n, 'no restart after close');
});

test('a full channel: the source stops reading the pipe and retries; nothing is lost, order kept', async () => {
  const h = harness(50);
  h.full = 5;
  const s = source(h, { command: 'seq 1 20000', batchSize: '50' });
  await s.start();
  await waitFor(() => h.events.length === 20000, 20_000, 'all lines');
  await s.close();
  assert.deepEqual(
    h.bodies(),
    Array.from({ length: 20000 }, (_, i) => String(i + 1)),
  );
  assert.equal(h.counters.get('ChannelWriteFail'), 5);
  assert.ok(h.logs.some((l) => /stopped reading the command output/.test(l)));
});

test('stderr is drained, and logged only with logStdErr', async () => {
  const cmd = 'echo out; echo oops 1>&2';
  const quiet = harness();
  const s1 = source(quiet, { command: cmd, shell: '/bin/sh -c' });
  await s1.start();
  await waitFor(() => quiet.events.length === 1, 5000, 'stdout');
  await sleep(100);
  await s1.close();
  assert.ok(!quiet.logs.some((l) => l.includes('Command stderr')));
  assert.ok(
    quiet.logs.some((l) => l.includes('Exec source started')),
    'the logger is wired',
  );
  const loud = harness();
  const s2 = source(loud, { command: cmd, shell: '/bin/sh -c', logStdErr: 'true' });
  await s2.start();
  await waitFor(() => loud.logs.some((l) => l.includes('Command stderr') && l.includes('oops')), 5000, 'stderr logged');
  await s2.close();
  assert.deepEqual(loud.bodies(), ['out']);
});

test('no orphans: background children of the command are ended with its process group', async () => {
  const h = harness();
  const s = source(h, { command: 'sleep 1000 & sleep 1000 & echo started; wait', shell: '/bin/sh -c' });
  await s.start();
  await waitFor(() => h.events.length === 1, 5000, 'started');
  const pid = s.pid!;
  await waitFor(() => groupMembers(pid).length >= 3, 5000, 'shell and two sleeps');
  await s.close();
  assert.deepEqual(groupMembers(pid), [], 'the whole group is gone');
  // a command that exits while its background child lives on: the leftover is ended too
  const h2 = harness();
  const s2 = source(h2, { command: 'sleep 1000 & echo bye', shell: '/bin/sh -c' });
  await s2.start();
  const pid2 = s2.pid!;
  await waitFor(() => h2.events.length === 1, 5000, 'bye');
  await waitFor(() => groupMembers(pid2).length === 0, 5000, 'leftover sleep ended');
  await s2.close();
});

test('the command does not inherit agent secrets: only a safe environment, env.* keys, or everything with inheritEnvironment', async () => {
  process.env.FLUME_TS_TEST_SECRET = 'hunter2';
  try {
    const h = harness();
    const s = source(h, { command: 'env', batchSize: '1000', 'env.EXTRA': 'given' });
    await s.start();
    await waitFor(() => h.bodies().some((b) => b.startsWith('EXTRA=')), 5000, 'env output');
    const vars = h.bodies();
    assert.ok(vars.includes('EXTRA=given'));
    assert.ok(
      vars.some((v) => v.startsWith('PATH=')),
      'PATH is passed',
    );
    assert.ok(!vars.some((v) => v.startsWith('FLUME_TS_TEST_SECRET=')), 'secrets are not passed');
    await s.close();
    const h2 = harness();
    const s2 = source(h2, { command: 'env', batchSize: '1000', inheritEnvironment: 'true' });
    await s2.start();
    await waitFor(() => h2.bodies().includes('FLUME_TS_TEST_SECRET=hunter2'), 5000, 'inherited environment');
    await s2.close();
  } finally {
    delete process.env.FLUME_TS_TEST_SECRET;
  }
});
