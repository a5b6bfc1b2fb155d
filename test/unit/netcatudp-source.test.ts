import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import netcatudp, { datagramLines } from '../../src/sources/netcat-udp.js';
import type { UdpIntake } from '../../src/net/udp-intake.js';
import { sourceCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import type { FlumeEvent } from '../../src/core/event.js';
import type { SourceContext } from '../../src/contract/index.js';
import { countEmits } from '../../src/runtime/channel-processor.js';
import { optionsFor } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';

function recording(): { ctx: SourceContext; events: FlumeEvent[]; batches: number[] } {
  const events: FlumeEvent[] = [];
  const batches: number[] = [];
  const counters = sourceCounters('r1');
  const ctx: SourceContext = {
    name: 'r1',
    logger: silentLogger(),
    clock: systemClock,
    counters,
    maxBatchSize: 100,
    emit: countEmits(async (b) => {
      batches.push(b.length);
      events.push(...b);
    }, counters),
  };
  return { ctx, events, batches };
}

test('datagramLines: every line is an event; trailing LF adds none; CR kept; empty datagram = one empty event', () => {
  const out: FlumeEvent[] = [];
  datagramLines(Buffer.from('a\r\nb\n\nc'), 'ra', '/1.2.3.4:5', out);
  assert.deepEqual(
    out.map((e) => e.body.toString()),
    ['a\r', 'b', '', 'c'],
  );
  assert.equal(out[0]!.headers.ra, '/1.2.3.4:5');
  out.length = 0;
  datagramLines(Buffer.from('only\n'), undefined, '/x:1', out);
  assert.deepEqual(
    out.map((e) => e.body.toString()),
    ['only'],
  );
  assert.deepEqual(Object.keys(out[0]!.headers), []);
  out.length = 0;
  datagramLines(Buffer.alloc(0), undefined, '/x:1', out);
  assert.equal(out.length, 1);
  assert.equal(out[0]!.body.length, 0);
});

for (const key of ['remoteAddressHeader', 'remoteAddress']) {
  test(`netcatudp over a real socket: lines of datagrams, sender address under ${key}`, async () => {
    const { ctx, events } = recording();
    const src: UdpIntake = netcatudp.create(
      optionsFor(netcatudp, { bind: '127.0.0.1', port: '0', [key]: 'sender' }),
      ctx,
    ) as UdpIntake;
    await src.start();
    const c = dgram.createSocket('udp4');
    try {
      await new Promise<void>((r) => c.bind(0, '127.0.0.1', () => r()));
      const myPort = c.address().port;
      await new Promise<void>((r) => c.send('first\nsecond\n', src.port, '127.0.0.1', () => r()));
      await new Promise<void>((r) => c.send(Buffer.from([0x00, 0xff, 0x0a, 0x41]), src.port, '127.0.0.1', () => r()));
      await waitFor(() => events.length === 4, 5000, 'four lines');
      assert.deepEqual(
        events.slice(0, 2).map((e) => e.body.toString()),
        ['first', 'second'],
      );
      assert.deepEqual(events[2]!.body, Buffer.from([0x00, 0xff]));
      assert.deepEqual(events[3]!.body, Buffer.from('A'));
      for (const e of events) assert.equal(e.headers.sender, `/127.0.0.1:${myPort}`);
      assert.equal(ctx.counters.get('EventAcceptedCount'), 4);
    } finally {
      c.close();
      await src.close();
    }
  });
}

test('netcatudp batches datagrams that arrive together into one emit', async () => {
  const { ctx, events, batches } = recording();
  const src: UdpIntake = netcatudp.create(optionsFor(netcatudp, { bind: '127.0.0.1', port: '0' }), ctx) as UdpIntake;
  await src.start();
  const c = dgram.createSocket('udp4');
  try {
    for (let i = 0; i < 50; i++) c.send(`m${i}`, src.port, '127.0.0.1');
    await waitFor(() => events.length === 50, 5000, '50 datagrams');
    assert.ok(batches.length < 50, `batches: ${batches.join(',')}`);
    assert.deepEqual(
      events.map((e) => e.body.toString()),
      Array.from({ length: 50 }, (_, i) => `m${i}`),
    );
  } finally {
    c.close();
    await src.close();
  }
});
