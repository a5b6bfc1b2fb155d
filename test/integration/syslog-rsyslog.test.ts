/**
 * syslogtcp fed by a real rsyslogd (Debian's rsyslog) forwarding with omfwd over TCP: octet-counted framing
 * and traditional LF framing, RFC 5424 (RSYSLOG_SyslogProtocol23Format) and RFC 3164
 * (RSYSLOG_TraditionalForwardFormat). rsyslogd runs in the foreground with a private config: no system sockets
 * (no imuxsock/imklog), one imtcp input on a loopback port of its choosing (port 0 + listenPortFileName) bound
 * to a ruleset whose only action is the omfwd to our agent, so rsyslog's own start-up messages never reach it.
 * We write N known messages into imtcp and check that the agent received exactly those N with the right
 * Facility / Severity / host / timestamp headers.
 *
 * rsyslogd missing: the test FAILS (apt-get install -y rsyslog), unless FLUME_TS_SKIP_RSYSLOG=1 (skipped, visibly).
 * rsyslogd is killed at the end of every case (SIGTERM, then SIGKILL), and on process exit as a last resort.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startAgent } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import type { Agent } from '../../src/runtime/agent.js';
import type { Channel } from '../../src/contract/index.js';
import type { FlumeEvent } from '../../src/core/event.js';

const N = 300;

function findRsyslogd(): string | undefined {
  for (const p of ['/usr/sbin/rsyslogd', '/sbin/rsyslogd', '/usr/local/sbin/rsyslogd']) if (fs.existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v rsyslogd'], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

const RSYSLOGD = findRsyslogd();
const SKIP = process.env.FLUME_TS_SKIP_RSYSLOG === '1';
const skipReason = RSYSLOGD
  ? false
  : SKIP
    ? 'rsyslogd not found and FLUME_TS_SKIP_RSYSLOG=1: rsyslog forwarding test skipped'
    : false;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-rsyslog-it-'));
const running = new Set<ChildProcess>();
// last resort: never leave an rsyslogd behind, even if the test process dies mid-case
process.on('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function inst<T>(r: unknown): T {
  const x = r as { sup?: { instance: T }; instance?: T };
  return (x.sup?.instance ?? x.instance)!;
}

async function takeAll(ch: Channel): Promise<FlumeEvent[]> {
  const all: FlumeEvent[] = [];
  for (;;) {
    const tx = ch.begin();
    const evs = await tx.take(ch.transactionCapacity);
    await tx.commit();
    if (evs.length === 0) return all;
    all.push(...evs);
  }
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** RFC 3339 in local time with the local offset and microseconds, e.g. 2025-03-04T05:06:07.123456+01:00. */
function rfc3339Local(ms: number, micros: number): string {
  const d = new Date(ms);
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  const a = Math.abs(off);
  return (
    `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}` +
    `.${pad(d.getMilliseconds(), 3)}${pad(micros, 3)}${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`
  );
}

interface Sent {
  pri: number;
  host: string;
  ms: number;
  text: string;
}

/** N messages with varied PRI (all 24 facilities, all 8 severities), hosts and timestamps, sent in RFC 5424. */
function messages(tag: string): { lines: string; sent: Sent[] } {
  const base = Math.floor(Date.now() / 1000) * 1000 - 60_000; // a minute ago: the RFC 3164 year guess is safe
  const sent: Sent[] = [];
  let lines = '';
  for (let i = 0; i < N; i++) {
    const pri = (i % 24) * 8 + ((i * 5) % 8);
    const host = `host-${i % 7}.example.org`;
    const ms = base + i * 1003;
    const text = `${tag} message ${i} with some text`;
    sent.push({ pri, host, ms, text });
    lines += `<${pri}>1 ${rfc3339Local(ms, i % 1000)} ${host} app${i % 3} ${1000 + i} ID${i % 4} - ${text}\n`;
  }
  return { lines, sent };
}

interface Rsyslog {
  proc: ChildProcess;
  port: number;
  output: () => string;
  stop: () => Promise<void>;
}

async function startRsyslog(
  dir: string,
  agentPort: number,
  framing: 'octet-counted' | 'traditional',
  template: string,
): Promise<Rsyslog> {
  const portFile = path.join(dir, 'imtcp.port');
  const conf = `
global(workDirectory="${dir}" net.enableDNS="off")
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="${portFile}" ruleset="fwd")
ruleset(name="fwd") {
  action(type="omfwd" target="127.0.0.1" port="${agentPort}" protocol="tcp" TCP_Framing="${framing}" template="${template}"
         action.resumeRetryCount="-1" action.resumeInterval="1")
}
`;
  const confFile = path.join(dir, 'rsyslog.conf');
  fs.writeFileSync(confFile, conf);
  const proc = spawn(RSYSLOGD!, ['-n', '-f', confFile, '-i', path.join(dir, 'rsyslogd.pid')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(proc);
  let out = '';
  proc.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  let exited = false;
  const exitP = new Promise<void>((resolve) =>
    proc.once('exit', () => {
      exited = true;
      running.delete(proc);
      resolve();
    }),
  );
  proc.once('error', (err) => (out += `spawn error: ${err.message}\n`));
  const stop = async () => {
    if (exited) return;
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exitP;
    clearTimeout(t);
  };
  try {
    await waitFor(
      () => {
        if (exited) throw new Error(`rsyslogd exited during start-up:\n${out}`);
        return (
          fs.existsSync(portFile) &&
          /^\d+\s*$/.test(fs.readFileSync(portFile, 'utf8')) &&
          Number(fs.readFileSync(portFile, 'utf8')) > 0
        );
      },
      15_000,
      `rsyslogd listening (port file ${portFile}); output so far:\n${out}`,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { proc, port: Number(fs.readFileSync(portFile, 'utf8')), output: () => out, stop };
}

function send(port: number, data: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.end(data));
    s.on('error', reject);
    s.on('close', () => resolve());
    s.resume();
  });
}

const CASES = [
  {
    name: 'octet-counted, RFC 5424 (RSYSLOG_SyslogProtocol23Format)',
    framing: 'octet-counted',
    template: 'RSYSLOG_SyslogProtocol23Format',
    rfc: 5424,
  },
  {
    name: 'LF framing, RFC 5424 (RSYSLOG_SyslogProtocol23Format)',
    framing: 'traditional',
    template: 'RSYSLOG_SyslogProtocol23Format',
    rfc: 5424,
  },
  {
    name: 'LF framing, RFC 3164 (RSYSLOG_TraditionalForwardFormat)',
    framing: 'traditional',
    template: 'RSYSLOG_TraditionalForwardFormat',
    rfc: 3164,
  },
] as const;

for (const [k, c] of CASES.entries()) {
  test(
    `rsyslogd omfwd -> syslogtcp: ${c.name}: all ${N} messages with Facility/Severity/host/timestamp`,
    { skip: skipReason },
    async () => {
      if (!RSYSLOGD) {
        assert.fail(
          'rsyslogd not found: this test forwards through a real rsyslog (apt-get install -y rsyslog). ' +
            'Set FLUME_TS_SKIP_RSYSLOG=1 to skip it.',
        );
      }
      const dir = path.join(tmp, `case${k}`);
      fs.mkdirSync(dir);
      const a: Agent = await startAgent(`
a1.sources = s
a1.channels = c1
a1.sources.s.type = syslogtcp
a1.sources.s.host = 127.0.0.1
a1.sources.s.port = 0
a1.sources.s.clientIPHeader = client
a1.sources.s.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = ${N * 2}
a1.channels.c1.transactionCapacity = 100
`);
      let rs: Rsyslog | undefined;
      try {
        const src = inst<{ ports: number[] }>(a.sources.get('s'));
        const ch = inst<Channel>(a.channels.get('c1'));
        rs = await startRsyslog(dir, src.ports[0]!, c.framing, c.template);
        const tag = `rs${k}`;
        const { lines, sent } = messages(tag);
        await send(rs.port, lines);
        await waitFor(
          () => (ch.size() ?? 0) >= N,
          20_000,
          `${N} events forwarded by rsyslogd (have ${ch.size()}); rsyslogd output:\n${rs!.output()}`,
        );
        const evs = await takeAll(ch);
        assert.equal(evs.length, N, 'exactly N events, no duplicates and nothing extra');
        for (let i = 0; i < N; i++) {
          const e = evs[i]!;
          const s = sent[i]!;
          const where = `event ${i}: ${JSON.stringify(e.headers)} ${JSON.stringify(e.body.toString())}`;
          assert.equal(e.headers['flume.syslog.status'], undefined, where);
          assert.equal(e.headers.Facility, String(s.pri >> 3), where);
          assert.equal(e.headers.Severity, String(s.pri & 7), where);
          assert.equal(e.headers.priority, String(s.pri), where);
          assert.equal(e.headers.host, s.host, where);
          assert.equal(e.headers.client, '127.0.0.1', where);
          // RFC 5424 keeps the fraction (truncated to ms); RFC 3164 has whole seconds in local time
          assert.equal(e.headers.timestamp, String(c.rfc === 5424 ? s.ms : Math.floor(s.ms / 1000) * 1000), where);
          if (c.rfc === 5424) {
            assert.equal(e.headers.version, '1', where);
            assert.equal(e.body.toString(), `app${i % 3} ${1000 + i} ID${i % 4} - ${s.text}`, where);
          } else {
            assert.equal(e.headers.version, undefined, where);
            assert.equal(e.body.toString(), `app${i % 3}[${1000 + i}] ${s.text}`, where);
          }
        }
      } finally {
        await rs?.stop();
        await a.stop(2000);
      }
      assert.equal(rs!.proc.exitCode !== null || rs!.proc.signalCode !== null, true, 'rsyslogd has exited');
    },
  );
}
