/**
 * forward sink against @fluent-org/logger's FluentServer (an independent Forward protocol server: PackedForward,
 * gzip, chunk acks, the shared-key handshake) and against our forward source; failures are retriable.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FluentServer } from '@fluent-org/logger';
import forward, { type ForwardSink } from '../../src/sinks/forward.js';
import { makeEvent } from '../../src/core/event.js';
import { sinkCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { AgentError } from '../../src/core/errors.js';
import { optionsFor } from '../helpers/agent.js';
import { startForward } from '../helpers/forward.js';

function sink(props: Record<string, string>): ForwardSink {
  return forward.create(optionsFor(forward, { hostname: '127.0.0.1', ...props }), {
    name: 'k1',
    logger: silentLogger(),
    clock: systemClock,
    counters: sinkCounters('k1'),
    agentDir: '.',
  }) as ForwardSink;
}
const signal = () => new AbortController().signal;

class Recorder extends FluentServer {
  got: { tag: string; time: unknown; record: Record<string, unknown> }[] = [];
  constructor(o: ConstructorParameters<typeof FluentServer>[0]) {
    super({ listenOptions: { host: '127.0.0.1', port: 0 }, ...o });
    this.on('entry', (tag: string, time: unknown, record: Record<string, unknown>) =>
      this.got.push({ tag, time, record }),
    );
  }
}

for (const compress of ['text', 'gzip']) {
  for (const sharedKey of [undefined, 'k3y']) {
    test(`to @fluent-org/logger FluentServer: compress ${compress}${sharedKey ? ', shared key' : ''}`, async () => {
      const server = new Recorder(
        sharedKey ? { security: { serverHostname: 'srv', sharedKey, authorize: false, userDict: {} } } : {},
      );
      await server.listen();
      const k = sink({ port: String(server.port), compress, ...(sharedKey ? { sharedKey, selfHostname: 'cli' } : {}) });
      await k.start();
      try {
        await k.deliver(
          [
            makeEvent('{"msg":"json","n":2}', { tag: 'app.a', timestamp: '1700000000123' }),
            makeEvent('plain text', { tag: 'app.b' }),
            makeEvent('{"msg":"again"}', { tag: 'app.a', timestamp: '1700000001000' }),
          ],
          signal(),
        );
        // the ack came after the server had decoded everything
        assert.deepEqual(
          server.got.map((g) => [g.tag, g.record]),
          [
            ['app.a', { msg: 'json', n: 2 }],
            ['app.a', { msg: 'again' }],
            ['app.b', { message: 'plain text' }],
          ],
        );
        const t = server.got[0]!.time as { epoch: number; nano: number };
        assert.equal(t.epoch, 1700000000);
        assert.equal(t.nano, 123_000_000);
      } finally {
        await k.close();
        await server.close();
      }
    });
  }
}

test('round trip through our forward source: records, default tag, headers merged', async () => {
  const f = await startForward();
  const k = sink({ port: String(f.port), includeHeaders: 'true', tag: 'fallback' });
  await k.start();
  try {
    await k.deliver([makeEvent('{"a":1}', { tag: 't1', host: 'h1' }), makeEvent('x', { host: 'h2' })], signal());
    assert.deepEqual(
      f.events.map((e) => [e.headers.tag, JSON.parse(e.body.toString())]),
      [
        ['t1', { a: 1, tag: 't1', host: 'h1' }],
        ['fallback', { message: 'x', host: 'h2' }],
      ],
    );
  } finally {
    await k.close();
    await f.stop();
  }
});

test('no ack in time, no server, or a refused key: retriable errors; delivery resumes once the server is back', async () => {
  // a server that reads everything and never answers
  const silent = net.createServer((s) => s.resume());
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
  const port = (silent.address() as net.AddressInfo).port;
  const k = sink({ port: String(port), ackResponseTimeout: '300ms' });
  await k.start();
  try {
    const err = await k.deliver([makeEvent('{"a":1}')], signal()).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof AgentError && err.retriable, String(err));
    assert.match(String(err), /ackResponseTimeout/);
  } finally {
    await k.close();
    silent.close();
  }
  const f = await startForward({ sharedKey: 'right' });
  const wrong = sink({ port: String(f.port), sharedKey: 'wrong', connectTimeout: '2s' });
  await wrong.start();
  try {
    await assert.rejects(wrong.deliver([makeEvent('{}')], signal()), /shared key|refused the handshake/);
  } finally {
    await wrong.close();
  }
  const stopped = f.port;
  await f.stop();
  const k2 = sink({ port: String(stopped), connectTimeout: '1s' });
  await k2.start();
  try {
    await assert.rejects(k2.deliver([makeEvent('{}')], signal()));
  } finally {
    await k2.close();
  }
});
