/**
 * `flume-ng avro-client` (runAvroClient, in process) against our avro source: lines of a file or stdin with
 * \n, \r\n and \r endings, the header file, --dirname spooling with .COMPLETED renames, -P RPC properties,
 * a FAILED answer -> exit 1, bad flags -> usage errors.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { avroClientArgs, runAvroClient } from '../../src/cli/commands/avro-client.js';
import { UsageError } from '../../src/cli/args.js';
import type { AvroSource } from '../../src/sources/avro.js';
import type { Channel } from '../../src/contract/index.js';
import type { FlumeEvent } from '../../src/core/event.js';
import type { Agent } from '../../src/runtime/agent.js';
import { startAgent } from '../helpers/agent.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'avro-client-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const inst = <T>(r: unknown): T => (r as { sup?: { instance: T } }).sup?.instance ?? (r as { instance: T }).instance;

async function collector(channel = 'capacity = 10000'): Promise<{ agent: Agent; port: number; ch: Channel }> {
  const agent = await startAgent(`
a1.sources = r1
a1.channels = c1
a1.sources.r1.type = avro
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = 0
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.transactionCapacity = 100
a1.channels.c1.${channel}
`);
  return { agent, port: inst<AvroSource>(agent.sources.get('r1')).port, ch: inst<Channel>(agent.channels.get('c1')) };
}

async function takeAll(ch: Channel): Promise<FlumeEvent[]> {
  const out: FlumeEvent[] = [];
  for (;;) {
    const tx = ch.begin();
    const evs = await tx.take(100);
    await tx.commit();
    if (evs.length === 0) return out;
    out.push(...evs);
  }
}

function sink(): { write(s: string): boolean; text: string } {
  const o = {
    text: '',
    write(s: string) {
      o.text += s;
      return true;
    },
  };
  return o;
}

test('file and stdin: one event per line (\\n, \\r\\n, \\r), bytes kept, headers from -R on every event', async () => {
  const { agent, port, ch } = await collector();
  try {
    const f = path.join(tmp, 'input.txt');
    fs.writeFileSync(
      f,
      Buffer.concat([Buffer.from('one\r\ntwo\rthree\n\nfünf 🚀\nlast-no-newline'), Buffer.from([0xff])]),
    );
    const headers = path.join(tmp, 'headers.properties');
    fs.writeFileSync(headers, 'host = edge-1\nkey\\u00e9 = caf\\u00e9\n');
    const err = sink();
    assert.equal(
      await runAvroClient({ host: '127.0.0.1', port, filename: f, headerFile: headers, batchSize: 2, err }),
      0,
      err.text,
    );
    assert.match(err.text, /sent 6 events in 3 batches/);
    const got = await takeAll(ch);
    assert.deepEqual(
      got.map((e) => e.body.toString('latin1')),
      ['one', 'two', 'three', '', Buffer.from('fünf 🚀').toString('latin1'), 'last-no-newline\xff'],
    );
    for (const e of got) assert.deepEqual({ ...e.headers }, { host: 'edge-1', keyé: 'café' });

    // stdin, with a \r\n split across two reads
    const stdin = Readable.from([Buffer.from('a\r'), Buffer.from('\nb\n')]);
    assert.equal(await runAvroClient({ host: '127.0.0.1', port, stdin, err: sink() }), 0);
    assert.deepEqual(
      (await takeAll(ch)).map((e) => e.body.toString()),
      ['a', 'b'],
    );
  } finally {
    await agent.stop(1000);
  }
});

test('--dirname sends every file in name order and renames each to .COMPLETED; -P reads hosts and batch-size', async () => {
  const { agent, port, ch } = await collector();
  try {
    const spool = path.join(tmp, 'spool');
    fs.mkdirSync(spool);
    fs.writeFileSync(path.join(spool, 'b.log'), 'b1\nb2\n');
    fs.writeFileSync(path.join(spool, 'a.log'), 'a1\n');
    fs.writeFileSync(path.join(spool, 'old.log.COMPLETED'), 'skipped\n');
    fs.writeFileSync(path.join(spool, '.hidden'), 'skipped\n');
    const props = path.join(tmp, 'rpc.properties');
    fs.writeFileSync(
      props,
      `client.type = default\nhosts = h1\nhosts.h1 = 127.0.0.1:${port}\nbatch-size = 1\nrequest-timeout = 5000\n`,
    );
    const err = sink();
    assert.equal(await runAvroClient({ rpcProps: props, dirname: spool, err }), 0, err.text);
    assert.match(err.text, /sent 3 events in 3 batches/);
    assert.deepEqual(
      (await takeAll(ch)).map((e) => e.body.toString()),
      ['a1', 'b1', 'b2'],
    );
    assert.deepEqual(fs.readdirSync(spool).sort(), [
      '.hidden',
      'a.log.COMPLETED',
      'b.log.COMPLETED',
      'old.log.COMPLETED',
    ]);
  } finally {
    await agent.stop(1000);
  }
});

test('a FAILED answer (downstream channel full) exits 1 and says how much was delivered; no server exits 1', async () => {
  const { agent, port } = await collector(
    'capacity = 3\na1.channels.c1.transactionCapacity = 3\na1.channels.c1.keep-alive = 0',
  );
  try {
    const f = path.join(tmp, 'five.txt');
    fs.writeFileSync(f, '1\n2\n3\n4\n5\n');
    const err = sink();
    assert.equal(await runAvroClient({ host: '127.0.0.1', port, filename: f, batchSize: 3, err }), 1);
    assert.match(err.text, /answered FAILED to a batch of 2 events \(3 events were delivered before it\)/);
  } finally {
    await agent.stop(1000);
  }
  const err = sink();
  assert.equal(await runAvroClient({ host: '127.0.0.1', port, stdin: Readable.from([]), err }), 1);
  assert.match(err.text, /cannot connect/);
});

test('flag checks', () => {
  assert.throws(() => avroClientArgs({ host: 'h' }), UsageError);
  assert.throws(() => avroClientArgs({ host: 'h', port: 'x' }), /not a port/);
  assert.throws(() => avroClientArgs({ host: 'h', port: '1', filename: 'f', dirname: 'd' }), /either/);
  assert.throws(() => avroClientArgs({ host: 'h', port: '1', 'batch-size': '0' }), /batch-size/);
  assert.deepEqual(avroClientArgs({ host: 'h', port: '41414', headerFile: 'x' }), {
    host: 'h',
    port: 41414,
    rpcProps: undefined,
    filename: undefined,
    dirname: undefined,
    headerFile: 'x',
  });
  assert.equal(avroClientArgs({ rpcProps: 'p' }).rpcProps, 'p');
});
