/**
 * forward source against real clients: Debian's python3-fluent-logger (Message mode, int and EventTime), npm
 * fluent-logger 3 (Message, PackedForward, CompressedPackedForward with chunk acks) and @fluent-org/logger (all four
 * modes, acks, the shared-key handshake); then hostile and broken input written by hand from the protocol spec.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import dgram from 'node:dgram';
import zlib from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { FluentClient, EventTime } from '@fluent-org/logger';
import { ChannelFullError } from '../../src/core/errors.js';
import type { FlumeEvent } from '../../src/core/event.js';
import { pack } from '../../src/rpc/forward/msgpack.js';
import { startForward } from '../helpers/forward.js';
import { waitFor } from '../helpers/wait.js';

const require = createRequire(import.meta.url);
const fluentLogger = require('fluent-logger') as {
  createFluentSender(
    tag: string,
    o: Record<string, unknown>,
  ): {
    emit(label: string, record: object, time?: unknown, cb?: (err?: Error) => void): void;
    end(): void;
  };
  EventTime: new (sec: number, nsec: number) => unknown;
};

const PY = '/usr/bin/python3';
const hasPythonClient = spawnSync(PY, ['-c', 'from fluent import sender, event'], { stdio: 'ignore' }).status === 0;

test('python3-fluent-logger: Message mode with integer and EventTime times', { skip: !hasPythonClient }, async () => {
  const f = await startForward();
  try {
    const script = `
import sys
from fluent import sender, event
s = sender.FluentSender('app', host='127.0.0.1', port=${f.port})
assert s.emit_with_time('web', 1700000000, {'msg': 'plain', 'n': 1, 'ok': True, 'x': None})
s.close()
s = sender.FluentSender('app', host='127.0.0.1', port=${f.port}, nanosecond_precision=True)
assert s.emit_with_time('db', 1700000001.25, {'msg': 'caf\\u00e9 "q"\\n', 'f': 1.5, 'l': [1, {'a': b'raw'}]})
s.close()
sender.setup('evt', host='127.0.0.1', port=${f.port})
event.Event('', {'via': 'event'})
sender.close()
`;
    const r = spawnSync(PY, ['-c', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    await waitFor(() => f.events.length === 3, 5000, 'three events');
    const [a, b, c] = f.events as [FlumeEvent, FlumeEvent, FlumeEvent];
    assert.deepEqual(a.headers, { tag: 'app.web', timestamp: '1700000000000' });
    assert.equal(a.body.toString(), '{"msg":"plain","n":1,"ok":true,"x":null}');
    assert.deepEqual(b.headers, { tag: 'app.db', timestamp: '1700000001250' });
    assert.deepEqual(JSON.parse(b.body.toString()), { msg: 'café "q"\n', f: 1.5, l: [1, { a: 'raw' }] });
    assert.equal(c.headers.tag, 'evt');
    assert.ok(Math.abs(Number(c.headers.timestamp) - Date.now()) < 60_000);
    assert.equal(c.body.toString(), '{"via":"event"}');
    assert.equal(f.counters.get('EventAcceptedCount'), 3);
  } finally {
    await f.stop();
  }
});

for (const eventMode of ['Message', 'Forward', 'PackedForward', 'CompressedPackedForward'] as const) {
  test(`@fluent-org/logger ${eventMode} with acks`, async () => {
    const f = await startForward();
    const client = new FluentClient('org', {
      eventMode,
      socket: { host: '127.0.0.1', port: f.port },
      ack: { ackTimeout: 10_000 },
      flushInterval: 0,
    });
    try {
      const sent = Array.from({ length: 50 }, (_, i) =>
        client.emit(`m${i % 2}`, { i, text: `e${i}` }, new EventTime(1700000000 + i, 5_000_000)),
      );
      await Promise.all(sent);
      assert.equal(f.events.length, 50); // every emit resolved on its ack: all committed before
      const byI = new Map(f.events.map((e) => [(JSON.parse(e.body.toString()) as { i: number }).i, e]));
      for (let i = 0; i < 50; i++) {
        const e = byI.get(i)!;
        assert.equal(e.headers.tag, `org.m${i % 2}`);
        assert.equal(e.headers.timestamp, String((1700000000 + i) * 1000 + 5));
        assert.equal(e.body.toString(), `{"i":${i},"text":"e${i}"}`);
      }
    } finally {
      await client.disconnect();
      await f.stop();
    }
  });
}

for (const eventMode of ['Message', 'PackedForward', 'CompressedPackedForward']) {
  test(`npm fluent-logger ${eventMode} with requireAckResponse`, async () => {
    const f = await startForward();
    const sender = fluentLogger.createFluentSender('npm', {
      host: '127.0.0.1',
      port: f.port,
      eventMode,
      requireAckResponse: true,
      ackResponseTimeout: 10_000,
      flushInterval: 5,
    });
    try {
      await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) =>
            new Promise<void>((resolve, reject) =>
              sender.emit('x', { i }, new fluentLogger.EventTime(1700000000, 0), (err) =>
                err ? reject(err) : resolve(),
              ),
            ),
        ),
      );
      await waitFor(() => f.events.length === 20, 5000, '20 events');
      assert.deepEqual(
        f
          .records()
          .map((r) => (r as { i: number }).i)
          .sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i),
      );
      assert.ok(f.events.every((e) => e.headers.tag === 'npm.x' && e.headers.timestamp === '1700000000000'));
    } finally {
      sender.end();
      await f.stop();
    }
  });
}

test('shared key: the handshake admits a client that knows the key and refuses one that does not', async () => {
  const f = await startForward({ sharedKey: 's3cret', selfHostname: 'collector' });
  const mk = (sharedKey: string) =>
    new FluentClient('sec', {
      eventMode: 'PackedForward',
      socket: { host: '127.0.0.1', port: f.port, reconnect: { backoff: 1, delay: 10_000 } },
      security: { clientHostname: 'app-host', sharedKey },
      ack: { ackTimeout: 3000 },
      flushInterval: 0,
      disconnect: { waitForPending: false, socketDisconnectDelay: 0 },
    });
  const good = mk('s3cret');
  const bad = mk('wrong');
  try {
    await good.emit('ok', { a: 1 });
    assert.equal(f.events.length, 1);
    assert.equal(f.events[0]!.headers.tag, 'sec.ok');
    bad.emit('no', { a: 2 }).catch(() => {}); // the client keeps it queued and reconnects
    await waitFor(() => f.counters.get('EventReadFail') >= 1, 5000, 'the refused handshake counted');
    assert.equal(f.events.length, 1);
  } finally {
    await Promise.allSettled([good.disconnect(), bad.disconnect()]);
    await f.stop();
  }
});

// ----------------------------------------------------------------------------------------------- by hand

/** Opens a connection, sends `data`, resolves with what came back once the server closed (or after `ms`). */
function exchange(port: number, data: Buffer[], ms = 5000): Promise<{ reply: Buffer; closedByServer: boolean }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect(port, '127.0.0.1', () => {
      for (const d of data) s.write(d);
    });
    const t = setTimeout(() => {
      s.destroy();
      resolve({ reply: Buffer.concat(chunks), closedByServer: false });
    }, ms);
    s.on('data', (d) => chunks.push(d));
    s.on('error', () => {});
    s.on('close', () => {
      clearTimeout(t);
      resolve({ reply: Buffer.concat(chunks), closedByServer: true });
    });
  });
}

const eventTime = (sec: number, nsec: number) => {
  const b = Buffer.alloc(10);
  b[0] = 0xd7;
  b[1] = 0x00;
  b.writeUInt32BE(sec, 2);
  b.writeUInt32BE(nsec, 6);
  return b;
};

test('Fluent Bit shapes: [EventTime, metadata] times, str-typed packed entries, gzip members, no-chunk silence', async () => {
  const f = await startForward({ messageKey: 'log' });
  try {
    const entry = (i: number) =>
      Buffer.concat([
        Buffer.from([0x92, 0x92]),
        eventTime(1700000000, i * 1_000_000),
        pack({}),
        pack({ log: `l${i}` }),
      ]);
    const packed = Buffer.concat([entry(1), entry(2)]);
    const gz = Buffer.concat([zlib.gzipSync(entry(3)), zlib.gzipSync(entry(4))]);
    const strHead = (n: number) => Buffer.from([0xdb, n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
    const m1 = Buffer.concat([Buffer.from([0x93]), pack('fb'), strHead(packed.length), packed, pack({ chunk: 'c1' })]);
    const m2 = Buffer.concat([
      Buffer.from([0x93]),
      pack('fb'),
      pack(gz),
      pack({ compressed: 'gzip', chunk: Buffer.from('c2') }),
    ]);
    const m3 = Buffer.concat([Buffer.from([0x92]), pack('plain'), Buffer.from([0x91]), pack([5, { other: 1 }])]);
    const { reply } = await exchange(f.port, [m1, m2, m3], 500);
    // acks echo the chunk with its type: str c1, then bin c2; m3 asked for none
    assert.deepEqual(reply, Buffer.concat([pack({ ack: 'c1' }), pack({ ack: Buffer.from('c2') })]));
    assert.deepEqual(
      f.events.map((e) => [e.headers.tag, e.headers.timestamp, e.body.toString()]),
      [
        ['fb', '1700000000001', 'l1'],
        ['fb', '1700000000002', 'l2'],
        ['fb', '1700000000003', 'l3'],
        ['fb', '1700000000004', 'l4'],
        ['plain', '5000', '{"other":1}'],
      ],
    );
  } finally {
    await f.stop();
  }
});

test('hostile input closes only that connection, before anything large is buffered', async () => {
  const f = await startForward({ maxMessageBytes: '1m', maxEntriesPerMessage: '10' });
  try {
    // a bin32 declaring 1 GiB: refused on the header
    const huge = Buffer.concat([Buffer.from([0x93]), pack('t'), Buffer.from([0xc6, 0x40, 0, 0, 0]), Buffer.alloc(10)]);
    let r = await exchange(f.port, [huge]);
    assert.ok(r.closedByServer);
    // an array32 declaring 4 billion entries
    r = await exchange(f.port, [
      Buffer.concat([Buffer.from([0x92]), pack('t'), Buffer.from([0xdd, 255, 255, 255, 255])]),
    ]);
    assert.ok(r.closedByServer);
    // more entries than maxEntriesPerMessage
    const entries = Array.from({ length: 11 }, () => [1, { a: 1 }]);
    r = await exchange(f.port, [pack(['t', entries, { chunk: 'x' }])]);
    assert.ok(r.closedByServer);
    assert.equal(r.reply.length, 0, 'no ack');
    // a byte msgpack never uses
    r = await exchange(f.port, [Buffer.from([0x93, 0xc1])]);
    assert.ok(r.closedByServer);
    assert.equal(f.counters.get('EventReadFail'), 4);
    assert.equal(f.events.length, 0);
    assert.equal(f.source.bufferedBytes, 0);
    // the source still serves
    r = await exchange(f.port, [pack(['ok', 1, { a: 1 }, { chunk: 'z' }])], 300);
    assert.deepEqual(r.reply, pack({ ack: 'z' }));
    assert.equal(f.events.length, 1);
  } finally {
    await f.stop();
  }
});

test('maxBufferedBytes caps the bytes held over all connections; a stalled request times out', async () => {
  const f = await startForward({ maxBufferedBytes: '256k', readTimeout: '300ms', maxMessageBytes: '1m' });
  try {
    // each connection sends the first 100 KB of a 900 KB request and stalls
    const head = Buffer.concat([Buffer.from([0x93]), pack('t'), Buffer.from([0xc6, 0, 0x0d, 0xbb, 0xa0])]);
    const part = Buffer.concat([head, Buffer.alloc(100_000)]);
    const socks = Array.from({ length: 6 }, () =>
      net.connect(f.port, '127.0.0.1', function (this: net.Socket) {
        this.write(part);
      }),
    );
    const closed = socks.map((s) => new Promise<void>((resolve) => s.on('close', () => resolve())));
    for (const s of socks) s.on('error', () => {});
    await waitFor(() => f.source.bufferedBytes > 0, 5000, 'bytes buffered');
    assert.ok(f.source.bufferedBytes <= 256 * 1024, `buffered ${f.source.bufferedBytes}`);
    await Promise.all(closed); // refused by the cap, or closed after readTimeout
    await waitFor(() => f.source.bufferedBytes === 0, 5000, 'every buffer given back');
  } finally {
    await f.stop();
  }
});

test('a full channel holds the ack and retries; the events are committed once', async () => {
  let refusals = 3;
  const committed: FlumeEvent[] = [];
  const f = await startForward(
    {},
    {
      emit: async (b) => {
        if (refusals-- > 0) throw new ChannelFullError('full');
        committed.push(...b);
      },
    },
  );
  try {
    const { reply } = await exchange(
      f.port,
      [
        pack([
          't',
          [
            [1, { a: 1 }],
            [2, { a: 2 }],
          ],
          { chunk: 'k' },
        ]),
      ],
      2000,
    );
    assert.deepEqual(reply, pack({ ack: 'k' }));
    assert.equal(committed.length, 2);
    assert.equal(f.counters.get('ChannelWriteFail'), 3);
    assert.equal(f.counters.get('EventAcceptedCount'), 2);
  } finally {
    await f.stop();
  }
});

test('heartbeat: every UDP datagram is answered with one 0x00 byte', async () => {
  const f = await startForward({ heartbeat: 'true' });
  const udp = dgram.createSocket('udp4');
  try {
    const answer = new Promise<Buffer>((resolve) => udp.once('message', (m) => resolve(m)));
    udp.send(Buffer.from([0]), f.port, '127.0.0.1');
    assert.deepEqual(await answer, Buffer.from([0]));
  } finally {
    udp.close();
    await f.stop();
  }
});
