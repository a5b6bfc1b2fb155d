import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import fileRollDef, { RollingFileSink } from '../../src/sinks/file-roll/index.js';
import { formatRollTime } from '../../src/sinks/file-roll/path-manager.js';
import { makeEvent, type FlumeEvent } from '../../src/core/event.js';
import { AgentError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { sinkCounters, type SinkCounters } from '../../src/telemetry/counters.js';
import type { Clock } from '../../src/core/clock.js';
import type { SinkDef, OptionTable } from '../../src/contract/index.js';

// ROLLTIME names use local time; pin the zone so expected names are fixed.
process.env.TZ = 'UTC';

const def = fileRollDef as SinkDef<any>;
const signal = new AbortController().signal;

/** Parses raw .properties values through the def's option table (map options collect `<prefix>.<name>` keys). */
function resolveOptions(raw: Record<string, string>): any {
  const out: Record<string, unknown> = {};
  const used = new Set<string>();
  for (const [key, spec] of Object.entries(def.options as OptionTable)) {
    if (spec.prefix) {
      const prefix = key.endsWith('.') ? key : `${key}.`;
      const m: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(raw)) {
        if (k.startsWith(prefix) && !(k in def.options)) {
          m[k.slice(prefix.length)] = spec.parse(v.trim());
          used.add(k);
        }
      }
      out[key] = m;
    } else if (key in raw) {
      out[key] = spec.parse(raw[key]!.trim());
      used.add(key);
    } else {
      if (spec.required) throw new Error(`missing required ${key}`);
      out[key] = spec.default;
    }
  }
  for (const k of Object.keys(raw)) if (!used.has(k)) throw new Error(`unknown key ${k}`);
  const c = def.check?.(out);
  if (c !== true && c !== undefined) throw Object.assign(new Error('check failed'), { problems: c });
  return out;
}

function fakeClock(ms: number): Clock & { ms: number } {
  const c = { ms, nowMs: () => c.ms, monotonicMs: () => performance.now() };
  return c;
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

function tmpDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'file-roll-test-'));
  cleanups.push(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

function makeSink(
  raw: Record<string, string>,
  clock: Clock = fakeClock(1700000000000),
): { sink: RollingFileSink; counters: SinkCounters } {
  const counters = sinkCounters('k1');
  const sink = def.create(resolveOptions(raw), {
    name: 'k1',
    logger: silentLogger(),
    clock,
    counters,
    agentDir: os.tmpdir(),
  }) as RollingFileSink;
  cleanups.push(() => sink.close());
  return { sink, counters };
}

function files(dir: string): string[] {
  return fs.readdirSync(dir).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const ev = (body: string, headers?: Record<string, string>): FlumeEvent => makeEvent(body, headers);

/** Minimal independent Avro container decoder: returns [records per block] and the codec. */
function decodeAvro(file: Buffer): {
  codec: string;
  schema: string;
  blocks: { headers: Record<string, string>; body: string }[][];
} {
  let pos = 0;
  const long = (b: Buffer = file, p: { i: number } = { i: 0 }, own = true): number => {
    let n = 0,
      mul = 1,
      x: number;
    do {
      x = own ? file[pos++]! : b[p.i++]!;
      n += (x & 0x7f) * mul;
      mul *= 128;
    } while (x & 0x80);
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  };
  const take = (n: number) => file.subarray(pos, (pos += n));
  assert.equal(take(4).toString('latin1'), 'Obj\x01');
  const meta: Record<string, string> = {};
  for (let c = long(); c !== 0; c = long()) {
    for (let i = 0; i < c; i++) {
      const k = take(long()).toString();
      meta[k] = take(long()).toString();
    }
  }
  const sync = Buffer.from(take(16));
  const blocks: { headers: Record<string, string>; body: string }[][] = [];
  while (pos < file.length) {
    const count = long();
    let data = take(long());
    if (meta['avro.codec'] === 'deflate') data = zlib.inflateRawSync(data);
    const p = { i: 0 };
    const l = () => long(data, p, false);
    const bytes = () => {
      const n = l();
      return data.subarray(p.i, (p.i += n)).toString();
    };
    const recs = [];
    for (let r = 0; r < count; r++) {
      const headers: Record<string, string> = {};
      for (let c = l(); c !== 0; c = l()) for (let i = 0; i < c; i++) headers[bytes()] = bytes();
      recs.push({ headers, body: bytes() });
    }
    assert.equal(p.i, data.length);
    assert.deepEqual(take(16), sync);
    blocks.push(recs);
  }
  return { codec: meta['avro.codec']!, schema: meta['avro.schema']!, blocks };
}

// ---------------------------------------------------------------------------------------------- content

test('text serializer: exact bytes, DEFAULT naming with prefix and extension', async () => {
  const dir = tmpDir();
  const { sink, counters } = makeSink({
    'sink.directory': dir,
    'sink.pathManager.prefix': 'app-',
    'sink.pathManager.extension': 'log',
  });
  assert.equal(sink.batchSize, 100);
  await sink.start();
  await sink.deliver([ev('one'), ev('two', { h: 'x' })], signal);
  await sink.deliver([ev(''), ev('three')], signal);
  assert.deepEqual(files(dir), ['app-1700000000000-1.log']);
  await sink.close();
  assert.equal(fs.readFileSync(path.join(dir, 'app-1700000000000-1.log'), 'latin1'), 'one\ntwo\n\nthree\n');
  assert.equal(counters.get('ConnectionCreatedCount'), 1);
  assert.equal(counters.get('ConnectionClosedCount'), 1);
});

test('text serializer with appendNewline=false', async () => {
  const dir = tmpDir();
  const { sink } = makeSink({
    'sink.directory': dir,
    'sink.serializer': 'TEXT',
    'sink.serializer.appendNewline': 'false',
  });
  await sink.start();
  await sink.deliver([ev('a'), ev('b')], signal);
  await sink.deliver([ev('c')], signal);
  await sink.close();
  assert.deepEqual(files(dir), ['1700000000000-1']);
  assert.equal(fs.readFileSync(path.join(dir, '1700000000000-1'), 'latin1'), 'abc');
});

test('header_and_text serializer, with and without newline', async () => {
  const dir = tmpDir();
  const { sink } = makeSink({ 'sink.directory': dir, 'sink.serializer': 'header_and_text' });
  await sink.start();
  await sink.deliver([ev('body', { k1: 'v1', k2: 'v2' }), ev('plain')], signal);
  await sink.close();
  assert.equal(fs.readFileSync(path.join(dir, '1700000000000-1'), 'utf8'), '{k1=v1, k2=v2} body\n{} plain\n');

  const dir2 = tmpDir();
  const { sink: s2 } = makeSink({
    'sink.directory': dir2,
    'sink.serializer': 'org.apache.flume.serialization.HeaderAndBodyTextEventSerializer$Builder',
    'sink.serializer.appendNewline': 'false',
  });
  await s2.start();
  await s2.deliver([ev('x', { a: 'b' }), ev('y')], signal);
  await s2.close();
  assert.equal(fs.readFileSync(path.join(dir2, '1700000000000-1'), 'utf8'), '{a=b} x{} y');
});

test('avro_event: each file is a valid container with the header once; deflate too', async () => {
  for (const codec of ['null', 'deflate']) {
    const dir = tmpDir();
    const { sink } = makeSink({
      'sink.directory': dir,
      'sink.serializer': 'avro_event',
      'sink.serializer.compressionCodec': codec,
      'sink.rollInterval': '0',
    });
    await sink.start();
    await sink.deliver([ev('a1', { h: '1' }), ev('a2')], signal);
    await sink.deliver([ev('a3')], signal);
    sink.requestRoll();
    await sink.deliver([ev('b1', { k: 'v' })], signal);
    await sink.close();
    assert.deepEqual(files(dir), ['1700000000000-1', '1700000000000-2']);
    const f1 = decodeAvro(fs.readFileSync(path.join(dir, '1700000000000-1')));
    assert.equal(f1.codec, codec);
    assert.equal(
      f1.schema,
      '{"type":"record","name":"Event","fields":[{"name":"headers","type":{"type":"map","values":"string"}},{"name":"body","type":"bytes"}]}',
    );
    assert.deepEqual(f1.blocks, [
      [
        { headers: { h: '1' }, body: 'a1' },
        { headers: {}, body: 'a2' },
      ],
      [{ headers: {}, body: 'a3' }],
    ]);
    const f2 = decodeAvro(fs.readFileSync(path.join(dir, '1700000000000-2')));
    assert.deepEqual(f2.blocks, [[{ headers: { k: 'v' }, body: 'b1' }]]);
  }
});

// ---------------------------------------------------------------------------------------------- rolling

test('rolls by interval: the next write after the timer goes to -2', async () => {
  const dir = tmpDir();
  const { sink, counters } = makeSink({ 'sink.directory': dir, 'sink.rollInterval': '0.2' });
  await sink.start();
  assert.equal(sink.rollTimerActive, true);
  await sink.deliver([ev('first')], signal);
  assert.equal(sink.currentFile, path.join(dir, '1700000000000-1'));
  await waitFor(() => sink.rotationPending);
  await sink.deliver([ev('second')], signal);
  assert.equal(sink.currentFile, path.join(dir, '1700000000000-2'));
  assert.equal(sink.rotationPending, false);
  await sink.close();
  assert.deepEqual(files(dir), ['1700000000000-1', '1700000000000-2']);
  assert.equal(fs.readFileSync(path.join(dir, '1700000000000-1'), 'utf8'), 'first\n');
  assert.equal(fs.readFileSync(path.join(dir, '1700000000000-2'), 'utf8'), 'second\n');
  assert.equal(counters.get('ConnectionCreatedCount'), 2);
  assert.equal(counters.get('ConnectionClosedCount'), 2);
});

test('no empty files while idle; rollInterval 0 never rolls', async () => {
  const dir = tmpDir();
  const { sink } = makeSink({ 'sink.directory': dir, 'sink.rollInterval': '0.05' });
  await sink.start();
  await waitFor(() => sink.rotationPending);
  await sink.deliver([], signal); // an empty batch creates nothing either

  const dir0 = tmpDir();
  const { sink: s0 } = makeSink({ 'sink.directory': dir0, 'sink.rollInterval': '0' });
  await s0.start();
  assert.equal(s0.rollTimerActive, false);
  await s0.deliver([ev('x')], signal);
  // a fixed wait is the only way to show that nothing happens: several 0.05 s roll periods of the other sink
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(s0.rotationPending, false);
  await s0.deliver([ev('y')], signal);
  await s0.close();
  assert.deepEqual(files(dir0), ['1700000000000-1']);
  assert.equal(fs.readFileSync(path.join(dir0, '1700000000000-1'), 'utf8'), 'x\ny\n');

  assert.deepEqual(files(dir), [], 'idle sink wrote no files');
  await sink.deliver([ev('late')], signal);
  assert.deepEqual(files(dir), ['1700000000000-1']);
});

test('ROLLTIME naming: yyyyMMddHHmmss, n restarts when the timestamp changes', async () => {
  const dir = tmpDir();
  const clock = fakeClock(Date.UTC(2024, 0, 2, 3, 4, 5, 678));
  assert.equal(formatRollTime(clock.ms), '20240102030405');
  const { sink } = makeSink(
    {
      'sink.directory': dir,
      'sink.pathManager': 'rolltime',
      'sink.pathManager.prefix': 'p_',
      'sink.pathManager.extension': 'txt',
      'sink.rollInterval': '0',
    },
    clock,
  );
  await sink.start();
  await sink.deliver([ev('1')], signal);
  sink.requestRoll();
  await sink.deliver([ev('2')], signal);
  clock.ms += 1000;
  sink.requestRoll();
  await sink.deliver([ev('3')], signal);
  sink.requestRoll();
  await sink.deliver([ev('4')], signal);
  await sink.close();
  assert.deepEqual(files(dir), [
    'p_20240102030405-1.txt',
    'p_20240102030405-2.txt',
    'p_20240102030406-1.txt',
    'p_20240102030406-2.txt',
  ]);
  assert.equal(fs.readFileSync(path.join(dir, 'p_20240102030406-1.txt'), 'utf8'), '3\n');
});

test('an existing file is never overwritten: the next -n is used', async () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, '1700000000000-1'), 'precious\n');
  const { sink } = makeSink({ 'sink.directory': dir });
  await sink.start();
  await sink.deliver([ev('new')], signal);
  await sink.close();
  assert.equal(fs.readFileSync(path.join(dir, '1700000000000-1'), 'utf8'), 'precious\n');
  assert.equal(fs.readFileSync(path.join(dir, '1700000000000-2'), 'utf8'), 'new\n');
});

// ---------------------------------------------------------------------------------------------- files and errors

test('files are created with mode 0640 by default, sink.fileMode otherwise', async () => {
  const dir = tmpDir();
  const { sink } = makeSink({ 'sink.directory': dir });
  await sink.start();
  await sink.deliver([ev('x')], signal);
  await sink.close();
  assert.equal(fs.statSync(path.join(dir, '1700000000000-1')).mode & 0o777, 0o640);

  const dir2 = tmpDir();
  const { sink: s2 } = makeSink({ 'sink.directory': dir2, 'sink.fileMode': '0666' });
  await s2.start();
  await s2.deliver([ev('x')], signal);
  await s2.close();
  assert.equal(fs.statSync(path.join(dir2, '1700000000000-1')).mode & 0o777, 0o666, 'applied regardless of umask');
  assert.throws(() => resolveOptions({ 'sink.directory': dir, 'sink.fileMode': '0948' }), /octal file mode/);
});

test('start fails with FLUME_ERR_SINK_START when the directory is missing or not a directory', async () => {
  const base = tmpDir();
  const missing = path.join(base, 'nope');
  const { sink } = makeSink({ 'sink.directory': missing });
  await assert.rejects(
    sink.start(),
    (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_SINK_START' && e.message.includes(missing),
  );
  const file = path.join(base, 'plain-file');
  fs.writeFileSync(file, '');
  const { sink: s2 } = makeSink({ 'sink.directory': file });
  await assert.rejects(
    s2.start(),
    (e: unknown) =>
      e instanceof AgentError && e.code === 'FLUME_ERR_SINK_START' && /is not a directory/.test(e.message),
  );
});

test('a failed open is a retriable delivery error; the retry reuses the file name', async () => {
  const base = tmpDir();
  const dir = path.join(base, 'out');
  fs.mkdirSync(dir);
  const { sink, counters } = makeSink({ 'sink.directory': dir });
  await sink.start();
  fs.rmdirSync(dir);
  await assert.rejects(
    sink.deliver([ev('x')], signal),
    (e: unknown) =>
      e instanceof AgentError &&
      e.code === 'FLUME_ERR_SINK_DELIVERY' &&
      e.retriable &&
      (e.cause as NodeJS.ErrnoException).code === 'ENOENT' &&
      e.message.includes(dir),
  );
  assert.equal(counters.get('ConnectionFailedCount'), 1);
  fs.mkdirSync(dir);
  await sink.deliver([ev('x')], signal);
  await sink.close();
  assert.deepEqual(files(dir), ['1700000000000-1']);
  assert.equal(fs.readFileSync(path.join(dir, '1700000000000-1'), 'utf8'), 'x\n');
});

async function fileHandleProto(): Promise<any> {
  const p = path.join(tmpDir(), 'probe');
  const h = await fsp.open(p, 'w');
  const proto = Object.getPrototypeOf(h);
  await h.close();
  return proto;
}

test('one write call per batch (header included), no fsync per batch; close fsyncs', async () => {
  const proto = await fileHandleProto();
  const origWrite = proto.write;
  const origSync = proto.sync;
  let writes = 0;
  let syncs = 0;
  proto.write = function (this: unknown, ...args: unknown[]) {
    writes++;
    return origWrite.apply(this, args);
  };
  proto.sync = function (this: unknown, ...args: unknown[]) {
    syncs++;
    return origSync.apply(this, args);
  };
  try {
    const dir = tmpDir();
    const { sink } = makeSink({ 'sink.directory': dir, 'sink.serializer': 'avro_event' });
    await sink.start();
    await sink.deliver(
      Array.from({ length: 100 }, (_, i) => ev(`event ${i}`)),
      signal,
    );
    assert.equal(writes, 1);
    await sink.deliver(
      Array.from({ length: 100 }, (_, i) => ev(`event ${i}`)),
      signal,
    );
    assert.equal(writes, 2);
    assert.equal(syncs, 0);
    await sink.close();
    assert.equal(syncs, 1);
    await sink.close(); // idempotent
    assert.equal(syncs, 1);
    assert.equal(decodeAvro(fs.readFileSync(path.join(dir, '1700000000000-1'))).blocks.length, 2);
  } finally {
    proto.write = origWrite;
    proto.sync = origSync;
  }
});

test('a write failing half-way is cut back; the retried batch is not duplicated', async () => {
  const proto = await fileHandleProto();
  const origWrite = proto.write;
  const dir = tmpDir();
  const { sink, counters } = makeSink({ 'sink.directory': dir });
  await sink.start();
  await sink.deliver([ev('ok')], signal);
  let fail = true;
  proto.write = async function (this: any, buf: Buffer, off: number, len: number, pos: number) {
    if (fail) {
      fail = false;
      await origWrite.call(this, buf, off, Math.floor(len / 2), pos);
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    return origWrite.call(this, buf, off, len, pos);
  };
  try {
    await assert.rejects(
      sink.deliver([ev('retry-me'), ev('and-me')], signal),
      (e: unknown) =>
        e instanceof AgentError &&
        e.code === 'FLUME_ERR_SINK_DELIVERY' &&
        e.retriable &&
        (e.cause as NodeJS.ErrnoException).code === 'ENOSPC',
    );
    assert.equal(fs.readFileSync(path.join(dir, '1700000000000-1'), 'utf8'), 'ok\n');
    assert.equal(counters.get('EventWriteFail'), 1);
    await sink.deliver([ev('retry-me'), ev('and-me')], signal);
  } finally {
    proto.write = origWrite;
  }
  await sink.close();
  assert.equal(fs.readFileSync(path.join(dir, '1700000000000-1'), 'utf8'), 'ok\nretry-me\nand-me\n');
});

test('deliver after close is rejected; close and destroy are idempotent', async () => {
  const dir = tmpDir();
  const { sink } = makeSink({ 'sink.directory': dir });
  await sink.start();
  await sink.deliver([ev('a')], signal);
  await Promise.all([sink.close(), sink.close()]);
  await assert.rejects(
    sink.deliver([ev('b')], signal),
    (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_SINK_DELIVERY',
  );
  sink.destroy();
  sink.destroy();
  assert.equal(fs.readFileSync(path.join(dir, '1700000000000-1'), 'utf8'), 'a\n');
});

// ---------------------------------------------------------------------------------------------- option table

test('option table: Flume keys, defaults, serializer checks, claims', () => {
  const o = resolveOptions({ 'sink.directory': '/tmp/x' });
  assert.equal(o['sink.rollInterval'], 30_000);
  assert.equal(o['sink.pathManager'], 'DEFAULT');
  assert.equal(o['sink.serializer'], 'text');
  assert.equal(o['sink.fileMode'], '0640');
  assert.equal(def.batchSize(o), 100);
  assert.equal(def.batchSizeKey, 'sink.batchSize');
  assert.deepEqual(def.classNames, ['org.apache.flume.sink.RollingFileSink']);
  assert.deepEqual(def.claims!(o), [{ resource: 'dir', id: '/tmp/x', key: 'sink.directory' }]);
  assert.equal(def.batchSize(resolveOptions({ 'sink.directory': '/tmp/x', 'sink.batchSize': '500' })), 500);
  assert.equal(resolveOptions({ 'sink.directory': '/tmp/x', 'sink.rollInterval': '500ms' })['sink.rollInterval'], 500);
  assert.equal(
    resolveOptions({ 'sink.directory': '/tmp/x', 'sink.serializer': 'AVRO_EVENT' })['sink.serializer'],
    'avro_event',
  );
  assert.throws(() => resolveOptions({}), /missing required sink.directory/);
  assert.throws(() => resolveOptions({ 'sink.directory': '/tmp/x', batchSize: '10' }), /unknown key batchSize/);
  assert.throws(
    () => resolveOptions({ 'sink.directory': '/tmp/x', 'sink.pathManager': 'hourly' }),
    /not one of DEFAULT, ROLLTIME/,
  );
  assert.throws(
    () => def.options['sink.serializer']!.parse('avro'),
    (e: any) => /unknown serializer 'avro'/.test(e.message),
  );
  assert.throws(
    () => def.options['sink.serializer']!.parse('txt'),
    (e: any) => e.hint === "did you mean 'text'?",
  );
  assert.throws(
    () => resolveOptions({ 'sink.directory': '/tmp/x', 'sink.serializer.appendNewLine': 'false' }),
    (e: any) =>
      e.problems?.[0]?.key === 'sink.serializer.appendNewLine' &&
      e.problems[0].hint === "did you mean 'sink.serializer.appendNewline'?",
  );
  assert.throws(
    () =>
      resolveOptions({
        'sink.directory': '/tmp/x',
        'sink.serializer': 'avro_event',
        'sink.serializer.compressionCodec': 'snappy',
      }),
    (e: any) =>
      e.problems?.[0]?.key === 'sink.serializer.compressionCodec' && /not supported/.test(e.problems[0].message),
  );
});
