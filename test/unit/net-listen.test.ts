import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import { bindUdp, idleTimeout, listen, Listener, startError, type Tracked } from '../../src/net/listen.js';
import { AgentError } from '../../src/core/errors.js';
import { sourceCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { waitFor } from '../helpers/wait.js';

const isStartError = (re: RegExp) => (e: unknown) =>
  e instanceof AgentError && e.code === 'FLUME_ERR_SOURCE_START' && re.test(e.message);

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}
const closed = (s: net.Socket) =>
  new Promise<void>((resolve) => (s.destroyed ? resolve() : s.once('close', () => resolve())));

test('listen: port 0 gives the bound port; a port in use is FLUME_ERR_SOURCE_START naming source+address', async () => {
  const a = net.createServer();
  const port = await listen(a, { host: '127.0.0.1', port: 0, owner: 'netcat source r1' });
  assert.ok(port > 0);
  assert.equal((a.address() as net.AddressInfo).port, port);
  const b = net.createServer();
  await assert.rejects(
    listen(b, { host: '127.0.0.1', port, owner: 'netcat source r2' }),
    isStartError(new RegExp(`^netcat source r2 cannot listen on 127.0.0.1:${port}: the address is already in use`)),
  );
  assert.equal(b.listening, false);
  await new Promise((r) => a.close(r));
});

test('startError: the reason in words for EACCES, EADDRNOTAVAIL; the system message otherwise; cause kept', () => {
  const at = { host: '0.0.0.0', port: 80, owner: 'http source h1' };
  const eacces = Object.assign(new Error('listen EACCES: permission denied 0.0.0.0:80'), { code: 'EACCES' });
  const e = startError('listen on', at, eacces);
  assert.equal(e.code, 'FLUME_ERR_SOURCE_START');
  assert.match(e.message, /^http source h1 cannot listen on 0\.0\.0\.0:80: permission denied \(ports below 1024/);
  assert.equal(e.cause, eacces);
  const notMine = Object.assign(new Error('x'), { code: 'EADDRNOTAVAIL' });
  assert.match(startError('listen on', at, notMine).message, /not one of this host's/);
  const odd = startError('bind UDP', at, new Error('something odd')).message;
  assert.match(odd, /^http source h1 cannot bind UDP 0\.0\.0\.0:80: something odd$/);
});

test('bindUdp: port 0 gives the bound port; a port in use is FLUME_ERR_SOURCE_START, the socket closed', async () => {
  const a = dgram.createSocket('udp4');
  const port = await bindUdp(a, { host: '127.0.0.1', port: 0, owner: 'syslogudp source r1' });
  assert.ok(port > 0);
  const b = dgram.createSocket('udp4');
  await assert.rejects(
    bindUdp(b, { host: '127.0.0.1', port, owner: 'syslogudp source r2' }),
    isStartError(/^syslogudp source r2 cannot bind UDP 127\.0\.0\.1:\d+: the address is already in use$/),
  );
  assert.throws(() => b.address(), 'b was closed');
  a.close();
});

test('idleTimeout: a connection that sends nothing is destroyed after the timeout', async () => {
  let accepted = 0;
  const server = net.createServer((s) => {
    accepted = performance.now();
    idleTimeout(s, 50);
  });
  const port = await listen(server, { host: '127.0.0.1', port: 0, owner: 'test' });
  const c = await connect(port);
  await closed(c);
  assert.ok(performance.now() - accepted >= 45, 'not before the timeout');
  server.close();
});

/** A connection that finishes its work `workMs` after it is asked to stop. */
class Slow implements Tracked {
  readonly closed: Promise<void>;
  stopped = false;
  constructor(
    readonly socket: net.Socket,
    private readonly workMs: number,
  ) {
    this.closed = closed(socket);
  }
  stop(): void {
    this.stopped = true;
    const t = setTimeout(() => this.socket.end(), this.workMs);
    void this.closed.then(() => clearTimeout(t));
  }
  destroy(): void {
    this.socket.destroy();
  }
}

function slowListener(workMs: number, maxConnections?: number) {
  const counters = sourceCounters('r1');
  const logger = silentLogger();
  const listener = new Listener<Slow>({ owner: 'test source r1', logger, counters, maxConnections, label: 'Test' });
  const server = net.createServer((s) => listener.connections.add(new Slow(s, workMs)));
  return { listener, server, counters };
}

test('Listener: OpenConnectionCount follows the connections; maxConnections closes further ones at once', async () => {
  const { listener, server, counters } = slowListener(0, 2);
  const port = await listener.listen(server, '127.0.0.1', 0);
  assert.equal(listener.listening, true);
  const a = await connect(port);
  const b = await connect(port);
  await waitFor(() => counters.get('OpenConnectionCount') === 2, 5000, 'two open');
  const c = await connect(port);
  await closed(c);
  assert.equal(counters.get('OpenConnectionCount'), 2);
  a.destroy();
  await waitFor(() => counters.get('OpenConnectionCount') === 1, 5000, 'one closed');
  await listener.close(1000);
  await closed(b);
  assert.equal(counters.get('OpenConnectionCount'), 0);
  assert.equal(listener.listening, false);
});

test('Listener.close: stops accepting, lets the work in flight finish within the grace period', async () => {
  const { listener, server } = slowListener(100);
  const port = await listener.listen(server, '127.0.0.1', 0);
  const c = await connect(port);
  c.resume();
  await waitFor(() => listener.connections.size === 1, 5000, 'connected');
  let graceOver = false;
  const t0 = performance.now();
  await listener.close(5000, { onGraceOver: () => (graceOver = true) });
  const took = performance.now() - t0;
  assert.ok(took >= 90 && took < 2000, `closed after its work (${took} ms)`);
  assert.equal(graceOver, false);
  await closed(c);
  await assert.rejects(connect(port), /ECONNREFUSED/);
});

test('Listener.close: work outlasting the grace period gets onGraceOver, is destroyed after the linger', async () => {
  const { listener, server } = slowListener(60_000);
  const port = await listener.listen(server, '127.0.0.1', 0);
  const c = await connect(port);
  await waitFor(() => listener.connections.size === 1, 5000, 'connected');
  const events: string[] = [];
  const t0 = performance.now();
  await listener.close(50, { onGraceOver: () => events.push('grace over'), lingerMs: 50 });
  const took = performance.now() - t0;
  assert.equal(events.length, 1);
  assert.ok(took >= 90 && took < 2000, `destroyed after grace + linger (${took} ms)`);
  await closed(c);
});

test('Listener.close with its own work (http: requests in flight): destroys the rest once it is done', async () => {
  const { listener, server } = slowListener(60_000);
  const port = await listener.listen(server, '127.0.0.1', 0);
  const c = await connect(port);
  await waitFor(() => listener.connections.size === 1, 5000, 'connected');
  let done!: () => void;
  const work = new Promise<void>((resolve) => (done = resolve));
  setTimeout(() => done(), 30);
  const t0 = performance.now();
  await listener.close(10_000, { work, lingerMs: 0 });
  assert.ok(performance.now() - t0 < 2000);
  await closed(c);
});
