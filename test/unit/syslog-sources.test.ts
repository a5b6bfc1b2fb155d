import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import tls from 'node:tls';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import syslogtcp from '../../src/sources/syslog/syslogtcp.js';
import syslogudp from '../../src/sources/syslog/syslogudp.js';
import multiport from '../../src/sources/syslog/multiport.js';
import type { TcpIntake } from '../../src/sources/syslog/tcp-intake.js';
import type { UdpIntake } from '../../src/net/udp-intake.js';
import { MemoryChannel } from '../../src/channels/memory.js';
import { ChannelCounters, sourceCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import type { FlumeEvent } from '../../src/core/event.js';
import type { SourceContext, SourceDef } from '../../src/contract/index.js';
import { countEmits } from '../../src/runtime/channel-processor.js';
import { optionsFor } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';

function channel(capacity: number): MemoryChannel {
  return new MemoryChannel(
    { capacity, transactionCapacity: capacity, 'keep-alive': 0, byteCapacity: 0, byteCapacityBufferPercentage: 20 },
    { name: 'c1', logger: silentLogger(), clock: systemClock, agentDir: '.', counters: new ChannelCounters('c1') },
  );
}

function ctxFor(ch: MemoryChannel, maxBatchSize = ch.transactionCapacity): SourceContext {
  const counters = sourceCounters('r1');
  return {
    name: 'r1',
    logger: silentLogger(),
    clock: systemClock,
    counters,
    maxBatchSize,
    emit: countEmits(async (batch) => {
      const tx = ch.begin();
      try {
        tx.put(batch);
        await tx.commit();
      } catch (err) {
        await tx.rollback();
        throw err;
      }
    }, counters),
  };
}

async function drain(ch: MemoryChannel, max = 10_000): Promise<FlumeEvent[]> {
  const tx = ch.begin();
  const evs = await tx.take(max);
  await tx.commit();
  return evs;
}

function create<D extends SourceDef<any>>(def: D, props: Record<string, string>, ctx: SourceContext): any {
  return def.create(optionsFor(def, props), ctx);
}

function send(port: number, data: string | Buffer, opts: { end?: boolean } = {}): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => {
      s.write(data, () => {
        if (opts.end ?? true) s.end();
        resolve(s);
      });
    });
    s.on('error', reject);
  });
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-syslog-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('syslogtcp: LF, octet-counted, RFC 3164/5424 and garbage from one connection; client IP and hostname headers', async () => {
  const ch = channel(1000);
  const ctx = ctxFor(ch);
  const src: TcpIntake = create(
    syslogtcp,
    { host: '127.0.0.1', port: '0', clientIPHeader: 'ip', clientHostnameHeader: 'hn' },
    ctx,
  );
  await src.start();
  try {
    const m2 = '<13>1 2020-01-01T00:00:00Z h2 app - - - octet msg';
    await send(
      src.ports[0]!,
      `<34>1 2003-10-11T22:14:15.003Z h1 su - - - m1\n${m2.length} ${m2}<13>Feb  5 17:32:18 h3 m3\ngarbage \u0000 bytes\n`,
    );
    await waitFor(() => ch.size() === 4, 5000, 'four events');
    const evs = await drain(ch);
    assert.deepEqual(
      evs.map((e) => e.body.toString('latin1')),
      ['su - - - m1', 'app - - - octet msg', 'm3', 'garbage \u0000 bytes'],
    );
    assert.equal(evs[0]!.headers.priority, '34');
    assert.equal(evs[0]!.headers.host, 'h1');
    assert.equal(evs[1]!.headers.host, 'h2');
    assert.equal(evs[3]!.headers['flume.syslog.status'], 'Invalid');
    for (const e of evs) {
      assert.equal(e.headers.ip, '127.0.0.1');
      assert.ok(e.headers.hn === 'localhost' || e.headers.hn === '127.0.0.1' || /\w/.test(e.headers.hn!), e.headers.hn);
    }
    assert.equal(ctx.counters.get('EventAcceptedCount'), 4);
  } finally {
    await src.close();
  }
});

test('syslogtcp backpressure: a full channel stops reading and retries; nothing is lost, order kept', async () => {
  const ch = channel(10);
  const ctx = ctxFor(ch, 10);
  const src: TcpIntake = create(syslogtcp, { host: '127.0.0.1', port: '0' }, ctx);
  src.retryInitialMs = 5;
  src.retryMaxMs = 20;
  await src.start();
  try {
    const lines = Array.from({ length: 200 }, (_, i) => `<13>1 - host app - - - n${i}\n`).join('');
    await send(src.ports[0]!, lines);
    await waitFor(() => ctx.counters.get('ChannelWriteFail') > 0, 5000, 'channel full seen');
    const got: string[] = [];
    await waitFor(
      async () => {
        for (const e of await drain(ch, 7)) got.push(e.body.toString());
        return got.length === 200;
      },
      10_000,
      'all 200 events',
    );
    assert.deepEqual(
      got,
      Array.from({ length: 200 }, (_, i) => `app - - - n${i}`),
    );
    assert.equal(ctx.counters.get('EventAcceptedCount'), 200);
  } finally {
    await src.close();
  }
});

test('syslogtcp abuse: bogus octet count closes only that connection; oversize line is cut; a parallel client is unaffected', async () => {
  const ch = channel(1000);
  const ctx = ctxFor(ch);
  const src: TcpIntake = create(syslogtcp, { host: '127.0.0.1', port: '0', eventSize: '64' }, ctx);
  await src.start();
  try {
    const port = src.ports[0]!;
    const bad = await send(port, '999999999 <13>1 - h a - - - x', { end: false });
    const closed = new Promise<void>((r) => bad.once('close', () => r()));
    bad.resume();
    await closed;
    assert.equal(ctx.counters.get('EventReadFail'), 1);
    // garbage and an oversized line on another connection, then a valid message
    const rnd = Buffer.alloc(4096);
    for (let i = 0; i < rnd.length; i++) rnd[i] = (i * 7919) % 251 === 10 ? 65 : (i * 7919) % 251;
    await send(
      port,
      Buffer.concat([rnd, Buffer.from(`\n<13>1 - h app - - - ${'z'.repeat(200)}\n<13>1 - h app - - - ok\n`)]),
    );
    await waitFor(() => ch.size() === 3, 5000, 'events after garbage');
    const evs = await drain(ch);
    assert.equal(evs[0]!.headers['flume.syslog.status'], 'Invalid');
    const last = evs[evs.length - 1]!;
    assert.equal(last.body.toString(), 'app - - - ok');
    const cut = evs[evs.length - 2]!;
    assert.equal(cut.headers['flume.syslog.status'], 'Incomplete');
    assert.equal(cut.body.length, 64 - '<13>1 - h '.length);
    for (const e of evs) assert.ok(e.body.length <= 64);
  } finally {
    await src.close();
  }
});

test('syslogudp: one datagram is one message; trailing LF/NUL dropped; empty datagram counted; headers', async () => {
  const ch = channel(1000);
  const ctx = ctxFor(ch);
  const src: UdpIntake = create(
    syslogudp,
    { host: '127.0.0.1', port: '0', clientIPHeader: 'ip', keepFields: 'hostname' },
    ctx,
  );
  await src.start();
  const c = dgram.createSocket('udp4');
  try {
    const sendU = (m: string) =>
      new Promise<void>((r) => c.send(Buffer.from(m, 'latin1'), src.port, '127.0.0.1', () => r()));
    await sendU('<13>Feb  5 17:32:18 host1 hello\n');
    await sendU('<13>1 2020-01-01T00:00:00Z host2 app - - - line1\nline2\u0000');
    await sendU('');
    await waitFor(() => ch.size() === 2 && ctx.counters.get('EventReadFail') === 1, 5000, 'two datagrams in');
    const evs = await drain(ch);
    assert.deepEqual(
      evs.map((e) => e.body.toString('latin1')),
      ['host1 hello', 'host2 app - - - line1\nline2'],
    );
    assert.equal(evs[0]!.headers.ip, '127.0.0.1');
    assert.equal(evs[1]!.headers.timestamp, String(Date.UTC(2020, 0, 1)));
  } finally {
    c.close();
    await src.close();
  }
});

test('syslogudp: while the channel is full datagrams queue up to the cap, the rest are dropped and counted', async () => {
  const ch = channel(5);
  const ctx = ctxFor(ch, 5);
  const src: UdpIntake = create(syslogudp, { host: '127.0.0.1', port: '0' }, ctx);
  src.maxPendingDatagrams = 20;
  src.retryInitialMs = 5;
  src.retryMaxMs = 20;
  await src.start();
  const c = dgram.createSocket('udp4');
  try {
    for (let i = 0; i < 60; i++)
      await new Promise<void>((r) => c.send(`<13>1 - h a - - - d${i}`, src.port, '127.0.0.1', () => r()));
    await waitFor(() => src.dropped > 0, 5000, 'drops counted');
    const got: FlumeEvent[] = [];
    await waitFor(
      async () => {
        got.push(...(await drain(ch, 3)));
        return got.length + src.dropped >= 60;
      },
      10_000,
      'everything delivered or counted',
    );
    assert.equal(got.length + src.dropped, 60);
    assert.ok(got.length >= 25, `delivered ${got.length}`);
    assert.equal(ctx.counters.get('ChannelWriteFail'), src.dropped);
    // what was delivered is in order
    const ns = got.map((e) => Number(/d(\d+)$/.exec(e.body.toString())![1]));
    assert.deepEqual(
      ns,
      [...ns].sort((a, b) => a - b),
    );
  } finally {
    c.close();
    await src.close();
  }
});

test('multiport_syslogtcp: several ports, portHeader, per-port charset, Flume multiport header names', async () => {
  const ch = channel(1000);
  const ctx = ctxFor(ch);
  const src: TcpIntake = create(
    multiport,
    { host: '127.0.0.1', ports: '0 0', portHeader: 'port', batchSize: '2' },
    ctx,
  );
  await src.start();
  try {
    const [p1, p2] = src.ports as [number, number];
    assert.notEqual(p1, p2);
    const latin = Buffer.concat([Buffer.from('<13>1 - hostA caf'), Buffer.from([0xe9]), Buffer.from('\n')]);
    await send(p1, Buffer.concat([Buffer.from('<34>1 2003-10-11T22:14:15.003Z h1 su - - - m1\n'), latin]));
    await waitFor(() => ch.size() === 2, 5000, 'port 1 events');
    const evs = await drain(ch);
    assert.deepEqual(
      { ...evs[0]!.headers },
      {
        Priority: '34',
        Facility: '4',
        Severity: '2',
        Version: '1',
        timestamp: String(Date.UTC(2003, 9, 11, 22, 14, 15, 3)),
        host: 'h1',
        port: String(p1),
      },
    );
    // 0xE9 alone is not UTF-8: Invalid, raw bytes kept
    assert.equal(evs[1]!.headers['flume.syslog.status'], 'Invalid');
    assert.deepEqual(evs[1]!.body, latin.subarray(0, latin.length - 1));
    await send(p2, '<13>Feb  5 17:32:18 hostB x\n');
    await waitFor(() => ch.size() === 1, 5000, 'port 2 event');
    const [e2] = await drain(ch);
    assert.equal(e2!.headers.port, String(p2));
    assert.equal(e2!.headers.Priority, '13');
  } finally {
    await src.close();
  }
  // a configured per-port charset
  const ch2 = channel(10);
  const src2: TcpIntake = create(
    multiport,
    { host: '127.0.0.1', ports: '0', 'charset.default': 'ISO-8859-1' },
    ctxFor(ch2),
  );
  await src2.start();
  try {
    await send(
      src2.ports[0]!,
      Buffer.concat([Buffer.from('<13>1 - hostA caf'), Buffer.from([0xe9]), Buffer.from('\n')]),
    );
    await waitFor(() => ch2.size() === 1, 5000, 'latin1 event');
    const [e] = await drain(ch2);
    assert.equal(e!.headers['flume.syslog.status'], undefined);
    assert.deepEqual(e!.body, Buffer.from([0x63, 0x61, 0x66, 0xe9]));
  } finally {
    await src2.close();
  }
});

test('multiport_syslogtcp options: charset.port must name a listed port; UTF-16 refused', () => {
  const bad = (props: Record<string, string>) =>
    assert.throws(() => optionsFor(multiport, { ports: '5140 5141', ...props }));
  bad({ 'charset.port.6000': 'utf-8' });
  bad({ 'charset.port.5140': 'utf-16' });
  bad({ 'charset.default': 'UTF-32' });
  bad({ 'charset.default': 'no-such-charset' });
  bad({ ports: '5140 abc' });
  const o = optionsFor(multiport, { ports: '5140 5141', 'charset.port.5141': 'latin1' });
  assert.deepEqual(o.ports, [5140, 5141]);
  assert.equal(o['charset.port']['5141'], 'iso-8859-1');
});

function makeCert(): { p12: string; cert: string; key: string } {
  const key = path.join(tmp, 'key.pem');
  const cert = path.join(tmp, 'cert.pem');
  const p12 = path.join(tmp, 'server.p12');
  if (!fs.existsSync(p12)) {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-subj',
        '/CN=localhost',
        '-days',
        '2',
      ],
      { stdio: 'ignore' },
    );
    execFileSync('openssl', ['pkcs12', '-export', '-in', cert, '-inkey', key, '-out', p12, '-passout', 'pass:secret'], {
      stdio: 'ignore',
    });
  }
  return { p12, cert, key };
}

test('syslogtcp over TLS (PKCS12 keystore): TLS clients deliver; plaintext and silent clients are dropped', async () => {
  const { p12 } = makeCert();
  const ch = channel(100);
  const ctx = ctxFor(ch);
  const src: TcpIntake = create(
    syslogtcp,
    {
      host: '127.0.0.1',
      port: '0',
      ssl: 'true',
      keystore: p12,
      'keystore-password': 'secret',
      sslHandshakeTimeout: '300ms',
    },
    ctx,
  );
  await src.start();
  try {
    const port = src.ports[0]!;
    await new Promise<void>((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () =>
        s.end('<13>1 - h app - - - secure\n', () => resolve()),
      );
      s.on('error', reject);
    });
    await waitFor(() => ch.size() === 1, 5000, 'TLS event');
    assert.equal((await drain(ch))[0]!.body.toString(), 'app - - - secure');
    // plaintext syslog on the TLS port: no event, connection closed
    const plain = await send(port, '<13>1 - h app - - - plain\n', { end: false });
    await new Promise<void>((r) => {
      plain.resume();
      plain.once('close', () => r());
    });
    // a client that never starts the handshake is dropped after sslHandshakeTimeout
    const t0 = performance.now();
    const silent = net.connect(port, '127.0.0.1');
    silent.resume();
    await new Promise<void>((r) => silent.once('close', () => r()));
    assert.ok(performance.now() - t0 < 3000, 'dropped within the handshake timeout');
    assert.equal(ch.size(), 0);
    // TLS 1.1 is refused
    await assert.rejects(
      new Promise<void>((resolve, reject) => {
        const s = tls.connect(
          {
            port,
            host: '127.0.0.1',
            rejectUnauthorized: false,
            maxVersion: 'TLSv1.1',
            minVersion: 'TLSv1',
            ciphers: 'DEFAULT:@SECLEVEL=0',
          },
          () => {
            s.end();
            resolve();
          },
        );
        s.on('error', reject);
      }),
    );
  } finally {
    await src.close();
  }
});

test('syslogtcp start fails clearly on a wrong keystore password and on a port in use', async () => {
  const { p12 } = makeCert();
  const ch = channel(10);
  const src: TcpIntake = create(
    syslogtcp,
    { host: '127.0.0.1', port: '0', ssl: 'true', keystore: p12, 'keystore-password': 'wrong' },
    ctxFor(ch),
  );
  await assert.rejects(src.start(), /keystore-password/);
  const blocker = net.createServer().listen(0, '127.0.0.1');
  await new Promise((r) => blocker.once('listening', r));
  const port = (blocker.address() as net.AddressInfo).port;
  const src2: TcpIntake = create(syslogtcp, { host: '127.0.0.1', port: String(port) }, ctxFor(ch));
  await assert.rejects(src2.start(), /already in use/);
  blocker.close();
});
