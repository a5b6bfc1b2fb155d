/**
 * examples/fluentd-ha.properties end to end (ports and directories rewritten): Debian's python3-fluent-logger and
 * curl (Fluentd-style HTTP) send to the forwarder; events reach aggregator A; with A killed, its standby B; with
 * both killed, the secondary file on the forwarder. Every event sent shows up at least once.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { AgentProcess, freePort, ROOT, tmpDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

const PY = '/usr/bin/python3';
const hasPythonClient = spawnSync(PY, ['-c', 'from fluent import sender'], { stdio: 'ignore' }).status === 0;

const dirs: string[] = [];
const procs: AgentProcess[] = [];
after(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

/** Sends {"id": <id>} records tagged app.<phase> with the Python client (Message mode). */
function pySend(port: number, ids: string[]): void {
  const script = [
    'import sys',
    'from fluent import sender',
    `s = sender.FluentSender('app', host='127.0.0.1', port=${port})`,
    'for i in sys.argv[1:]:',
    "    assert s.emit('py', {'id': i}), s.last_error",
    's.close()',
  ].join('\n');
  execFileSync(PY, ['-c', script, ...ids], { stdio: 'pipe' });
}

test(
  'Fluentd HA example: python fluent-logger and curl -> forwarder -> aggregator A, standby B, secondary file',
  { skip: !hasPythonClient && 'python3-fluent-logger is not installed', timeout: 120_000 },
  async () => {
    const dir = tmpDir('fluentd-ha-');
    dirs.push(dir);
    const [fwd, httpPort, portA, portB] = [await freePort(), await freePort(), await freePort(), await freePort()];
    let text = fs.readFileSync(path.join(ROOT, 'examples', 'fluentd-ha.properties'), 'utf8');
    const secondary = path.join(dir, 'secondary');
    fs.mkdirSync(secondary);
    const replace: [string, string][] = [
      ['/tmp/flume-fluentd-forwarder', path.join(dir, 'channel')],
      ['/tmp/flume-fluentd-secondary', secondary],
      ['= 24224', `= ${fwd}`],
      ['= 9880', `= ${httpPort}`],
      ['= 24225', `= ${portA}`],
      ['= 24226', `= ${portB}`],
      ['= 0.0.0.0', '= 127.0.0.1'],
    ];
    for (const [from, to] of replace) text = text.split(from).join(to);
    const file = path.join(dir, 'fluentd-ha.properties');
    fs.writeFileSync(file, text);
    const start = (name: string) => {
      const p = AgentProcess.agent(file, name);
      procs.push(p);
      return p;
    };
    const a = start('aggregatorA');
    const b = start('aggregatorB');
    const fwdr = start('forwarder');
    await Promise.all([a, b, fwdr].map((p) => p.waitForOutput(/Agent started/, 30_000)));
    // a source whose first start failed (a port taken meanwhile) is retried after "Agent started": wait for it
    await fwdr.waitForOutput(new RegExp(`Forward source listening.*port=${fwd}`), 30_000);
    const printed = (p: AgentProcess, ids: string[]) => () => ids.every((id) => p.stdout.includes(`{"id":"${id}"}`));
    const ids = (phase: string) => Array.from({ length: 5 }, (_, i) => `${phase}-${i}`);

    // 1: everything reaches aggregator A (the Forward protocol and the Fluentd-style HTTP input)
    const one = ids('a');
    pySend(fwd, one.slice(0, 4));
    const res = await fetch(`http://127.0.0.1:${httpPort}/app/web`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `json=${encodeURIComponent(JSON.stringify({ id: one[4] }))}`,
    });
    assert.equal(res.status, 200);
    await waitFor(printed(a, one), 30_000, 'phase 1 at aggregator A');
    assert.match(a.stdout, /tag=app\.web/);
    assert.match(a.stdout, /tag=app\.py/);

    // 2: A dies; its standby B takes over
    await a.stop('SIGKILL');
    const two = ids('b');
    pySend(fwd, two);
    await waitFor(printed(b, two), 30_000, 'phase 2 at aggregator B');

    // 3: both die; the secondary file on the forwarder's disk
    await b.stop('SIGKILL');
    const three = ids('c');
    pySend(fwd, three);
    const secondaryText = () =>
      fs
        .readdirSync(secondary)
        .map((f) => fs.readFileSync(path.join(secondary, f), 'utf8'))
        .join('');
    await waitFor(() => three.every((id) => secondaryText().includes(`{"id":"${id}"}`)), 30_000, 'phase 3 secondary');
    assert.equal(await fwdr.stop(), 0);
  },
);
