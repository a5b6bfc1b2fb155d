/**
 * Syslog sources against a real sender: util-linux logger(1) over TCP (LF and octet counting) and UDP, in
 * RFC 5424 and RFC 3164; the examples run in-process with their ports set to 0. Also M6: garbage and valid
 * messages interleaved on one connection.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { startAgent } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';
import { ROOT } from '../helpers/cli.js';
import type { Agent } from '../../src/runtime/agent.js';
import type { Channel } from '../../src/contract/index.js';
import type { FlumeEvent } from '../../src/core/event.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-syslog-it-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function inst<T>(r: unknown): T {
  const x = r as { sup?: { instance: T }; instance?: T };
  return (x.sup?.instance ?? x.instance)!;
}
const channelOf = (a: Agent, n = 'c1') => inst<Channel>(a.channels.get(n));
const portsOf = (a: Agent, n: string): number[] => {
  const s = inst<{ ports?: number[]; port?: number }>(a.sources.get(n));
  return s.ports ?? [s.port!];
};

/** Takes everything queued, one transaction (of at most transactionCapacity events) at a time. */
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

function logger(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('logger', args, { timeout: 10_000 }, (err, _o, stderr) =>
      err ? reject(new Error(`logger ${args.join(' ')}: ${stderr}`)) : resolve(),
    );
  });
}

function example(name: string, edits: [RegExp, string][]): string {
  let text = fs.readFileSync(path.join(ROOT, 'examples', name), 'utf8');
  for (const [re, by] of edits) text = text.replace(re, by);
  return text;
}

test('examples/syslog.properties: logger over TCP (LF and octet-counted) and UDP, RFC 5424 and 3164, lands in rolled files', async () => {
  const out = path.join(tmp, 'out');
  fs.mkdirSync(out);
  const a = await startAgent(
    example('syslog.properties', [
      [/port = 5514/g, 'port = 0'],
      [/\/tmp\/flume-syslog/g, out],
    ]),
  );
  try {
    const [tcp] = portsOf(a, 'tcp');
    const [udp] = portsOf(a, 'udp');
    await logger(['--tcp', '-n', '127.0.0.1', '-P', String(tcp), '--rfc5424', '-t', 'app', 'tcp-5424']);
    await logger(['--tcp', '-n', '127.0.0.1', '-P', String(tcp), '--rfc3164', '-t', 'app', 'tcp-3164']);
    await logger([
      '--tcp',
      '--octet-count',
      '-n',
      '127.0.0.1',
      '-P',
      String(tcp),
      '--rfc5424',
      '--msgid',
      'ID47',
      'tcp-octet',
    ]);
    await logger([
      '--udp',
      '-n',
      '127.0.0.1',
      '-P',
      String(udp),
      '--rfc5424',
      '--sd-id',
      'zoo@123',
      '--sd-param',
      'tiger="hungry"',
      'udp-5424',
    ]);
    await logger(['--udp', '-n', '127.0.0.1', '-P', String(udp), '--rfc3164', '-p', 'local3.err', 'udp-3164']);
    const read = () =>
      fs
        .readdirSync(out)
        .map((f) => fs.readFileSync(path.join(out, f), 'utf8'))
        .join('');
    await waitFor(
      () => ['tcp-5424', 'tcp-3164', 'tcp-octet', 'udp-5424', 'udp-3164'].every((m) => read().includes(m)),
      10_000,
      'all five messages in the files',
    );
    const lines = read().split('\n').filter(Boolean);
    const line = (m: string) => lines.find((l) => l.includes(m))!;
    assert.match(line('tcp-5424'), /Facility=1/);
    assert.match(line('tcp-5424'), /version=1/);
    assert.match(line('tcp-5424'), /client=127\.0\.0\.1/);
    assert.match(line('udp-3164'), /Facility=19/);
    assert.match(line('udp-3164'), /Severity=3/);
    assert.match(line('udp-5424'), /\[zoo@123 tiger="hungry"\] udp-5424/);
    assert.doesNotMatch(read(), /flume\.syslog\.status/);
    const now = Date.now();
    for (const l of lines) {
      const ts = Number(/timestamp=(\d+)/.exec(l)?.[1]);
      assert.ok(Math.abs(ts - now) < 60_000, `timestamp close to now: ${l}`);
    }
  } finally {
    await a.stop(5000);
  }
});

test('multiport_syslogtcp with logger on two ports: Priority/Version headers, portHeader, octet counting', async () => {
  const a = await startAgent(`
a1.sources = m
a1.channels = c1
a1.sources.m.type = multiport_syslogtcp
a1.sources.m.host = 127.0.0.1
a1.sources.m.ports = 0 0
a1.sources.m.portHeader = port
a1.sources.m.keepFields = hostname
a1.sources.m.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 1000
`);
  try {
    const [p1, p2] = portsOf(a, 'm') as [number, number];
    await logger(['--tcp', '-n', '127.0.0.1', '-P', String(p1), '--rfc5424', '-p', 'auth.warning', 'm-one']);
    await logger(['--tcp', '--octet-count', '-n', '127.0.0.1', '-P', String(p2), '--rfc3164', 'm-two']);
    await waitFor(() => channelOf(a).size() === 2, 10_000, 'two events');
    const evs = await takeAll(channelOf(a));
    const one = evs.find((e) => e.body.toString().includes('m-one'))!;
    const two = evs.find((e) => e.body.toString().includes('m-two'))!;
    assert.equal(one.headers.Priority, String(4 * 8 + 4));
    assert.equal(one.headers.Version, '1');
    assert.equal(one.headers.port, String(p1));
    assert.equal(two.headers.port, String(p2));
    assert.equal(two.headers.Version, undefined);
    assert.ok(one.body.toString().startsWith(`${one.headers.host} `), 'keepFields hostname prepends the host');
  } finally {
    await a.stop(2000);
  }
});

test('M6: 10k garbage lines interleaved with 10k valid ones on one TCP connection: all delivered, garbage flagged Invalid', async () => {
  const a = await startAgent(`
a1.sources = s
a1.channels = c1
a1.sources.s.type = syslogtcp
a1.sources.s.host = 127.0.0.1
a1.sources.s.port = 0
a1.sources.s.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 30000
a1.channels.c1.transactionCapacity = 1000
`);
  try {
    const [port] = portsOf(a, 's');
    const parts: Buffer[] = [];
    for (let i = 0; i < 10_000; i++) {
      const junk = Buffer.alloc(20 + (i % 50));
      for (let j = 0; j < junk.length; j++) junk[j] = (i * 31 + j * 17) % 256;
      for (let j = 0; j < junk.length; j++)
        if (
          junk[j] === 0x0a ||
          junk[j] === 0x0d ||
          junk[j] === 0x3c ||
          (j === 0 && junk[j]! >= 0x31 && junk[j]! <= 0x39)
        )
          junk[j] = 0x41;
      parts.push(junk, Buffer.from(`\n<14>1 2024-01-01T00:00:00Z host app - - - valid ${i}\n`));
    }
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(port!, '127.0.0.1', () => s.end(Buffer.concat(parts)));
      s.on('error', reject);
      s.on('close', () => resolve());
      s.resume();
    });
    await waitFor(() => channelOf(a).size() === 20_000, 15_000, '20k events');
    const evs = await takeAll(channelOf(a));
    const invalid = evs.filter((e) => e.headers['flume.syslog.status'] === 'Invalid');
    const valid = evs.filter((e) => e.headers.priority === '14');
    assert.equal(invalid.length, 10_000);
    assert.equal(valid.length, 10_000);
    assert.deepEqual(
      valid.slice(0, 3).map((e) => e.body.toString()),
      ['app - - - valid 0', 'app - - - valid 1', 'app - - - valid 2'],
    );
  } finally {
    await a.stop(2000);
  }
});

test('examples/http-json.properties: the interceptors stamp events posted with curl', async () => {
  const text = example('http-json.properties', [
    [/port = 5080/, 'port = 0'],
    [/^a1\.sinks.*$/gm, ''],
  ]);
  const a = await startAgent(text);
  try {
    const port = inst<{ port: number }>(a.sources.get('r1')).port;
    const status = await new Promise<string>((resolve, reject) => {
      execFile(
        'curl',
        [
          '-s',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          '-X',
          'POST',
          '-d',
          '[{"headers":{"k1":"v1"},"body":"hello"}]',
          `http://127.0.0.1:${port}`,
        ],
        (err, stdout) => (err ? reject(err) : resolve(stdout)),
      );
    });
    assert.equal(status, '200');
    const [e] = await takeAll(channelOf(a));
    assert.equal(e!.body.toString(), 'hello');
    assert.equal(e!.headers.k1, 'v1');
    assert.equal(e!.headers.intake, 'http');
    assert.ok(Math.abs(Number(e!.headers.timestamp) - Date.now()) < 60_000);
  } finally {
    await a.stop(1000);
  }
});
