import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { makeEvent } from '../../src/core/event.js';
import { OptionError } from '../../src/contract/index.js';
import {
  canonicalSerializerName,
  checkSerializerOptions,
  createSerializer,
  findSerializer,
  listSerializers,
  serializerNames,
} from '../../src/serializers/index.js';
import { AvroEncoder, FLUME_EVENT_SCHEMA } from '../../src/serializers/avro-event.js';

// ------------------------------------------------------------------ a small, independent Avro container reader

class AvroReader {
  pos = 0;
  constructor(readonly buf: Buffer) {}
  long(): number {
    let n = 0;
    let mul = 1;
    let b: number;
    do {
      if (this.pos >= this.buf.length) throw new Error('truncated varint');
      b = this.buf[this.pos++]!;
      n += (b & 0x7f) * mul;
      mul *= 128;
    } while (b & 0x80);
    return n % 2 === 0 ? n / 2 : -(n + 1) / 2;
  }
  fixed(n: number): Buffer {
    if (this.pos + n > this.buf.length) throw new Error('truncated');
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  bytes(): Buffer {
    return this.fixed(this.long());
  }
  string(): string {
    return this.bytes().toString('utf8');
  }
  /** map<V>: blocks of (count, [size when count < 0], entries), ending with 0. */
  map<V>(value: () => V): Record<string, V> {
    const out: Record<string, V> = {};
    for (;;) {
      let count = this.long();
      if (count === 0) return out;
      if (count < 0) {
        count = -count;
        this.long();
      }
      for (let i = 0; i < count; i++) {
        const k = this.string();
        out[k] = value();
      }
    }
  }
  get done(): boolean {
    return this.pos >= this.buf.length;
  }
}

export interface DecodedEvent {
  headers: Record<string, string>;
  body: string;
}

export function decodeContainer(file: Buffer): {
  meta: Record<string, string>;
  sync: Buffer;
  blocks: DecodedEvent[][];
} {
  const r = new AvroReader(file);
  assert.deepEqual([...r.fixed(4)], [0x4f, 0x62, 0x6a, 0x01], 'magic Obj\\x01');
  const meta = r.map(() => r.bytes().toString('utf8'));
  const sync = Buffer.from(r.fixed(16));
  const codec = meta['avro.codec'] ?? 'null';
  const blocks: DecodedEvent[][] = [];
  while (!r.done) {
    const count = r.long();
    const size = r.long();
    let data = r.fixed(size);
    if (codec === 'deflate') data = zlib.inflateRawSync(data);
    else assert.equal(codec, 'null');
    const br = new AvroReader(data);
    const events: DecodedEvent[] = [];
    for (let i = 0; i < count; i++) {
      const headers = br.map(() => br.string());
      const body = br.bytes().toString('utf8');
      events.push({ headers, body });
    }
    assert.ok(br.done, 'block data fully consumed');
    assert.deepEqual(r.fixed(16), sync, 'block ends with the file sync marker');
    blocks.push(events);
  }
  return { meta, sync, blocks };
}

// ------------------------------------------------------------------ text

test('text: body then newline per event; headers ignored', () => {
  const s = createSerializer('text');
  assert.equal(s.header().length, 0);
  const out = s.serialize([makeEvent('a', { h: '1' }), makeEvent(''), makeEvent(Buffer.from([0xff, 0x00, 0x41]))]);
  assert.deepEqual(out, Buffer.from([0x61, 0x0a, 0x0a, 0xff, 0x00, 0x41, 0x0a]));
});

test('text: appendNewline=false concatenates bodies', () => {
  const s = createSerializer('TEXT', { appendNewline: 'false' });
  assert.equal(s.serialize([makeEvent('ab'), makeEvent('c')]).toString('latin1'), 'abc');
});

test('text: empty batch is empty', () => {
  assert.equal(createSerializer('text').serialize([]).length, 0);
});

// ------------------------------------------------------------------ header_and_text

test('header_and_text: Java Map.toString of headers, a space, body, newline', () => {
  const s = createSerializer('header_and_text');
  assert.equal(s.header().length, 0);
  const out = s.serialize([
    makeEvent('body one', { k1: 'v1', k2: 'v2' }),
    makeEvent('two'),
    makeEvent('x', { host: 'héllo' }),
  ]);
  assert.deepEqual(out, Buffer.from('{k1=v1, k2=v2} body one\n{} two\n{host=héllo} x\n', 'utf8'));
});

test('header_and_text: appendNewline=false', () => {
  const s = createSerializer('Header_And_Text', { appendNewline: 'FALSE' });
  assert.equal(s.serialize([makeEvent('a', { k: 'v' }), makeEvent('b')]).toString(), '{k=v} a{} b');
});

// ------------------------------------------------------------------ names, options

test('factory resolves Flume names case-insensitively and class names', () => {
  assert.equal(canonicalSerializerName('TEXT'), 'text');
  assert.equal(canonicalSerializerName('header_and_text'), 'header_and_text');
  assert.equal(canonicalSerializerName('Avro_Event'), 'avro_event');
  assert.equal(canonicalSerializerName('org.apache.flume.serialization.BodyTextEventSerializer$Builder'), 'text');
  assert.equal(
    canonicalSerializerName('org.apache.flume.serialization.HeaderAndBodyTextEventSerializer$Builder'),
    'header_and_text',
  );
  assert.equal(
    canonicalSerializerName('org.apache.flume.serialization.FlumeEventAvroEventSerializer$Builder'),
    'avro_event',
  );
  assert.equal(findSerializer('nope'), undefined);
  assert.deepEqual(
    listSerializers().map((s) => [s.name, s.options]),
    [
      ['text', ['appendNewline']],
      ['header_and_text', ['appendNewline']],
      ['avro_event', ['syncIntervalBytes', 'compressionCodec']],
    ],
  );
  assert.ok(serializerNames().includes('org.apache.flume.serialization.FlumeEventAvroEventSerializer$Builder'));
  // default is text
  assert.equal(
    createSerializer(undefined)
      .serialize([makeEvent('z')])
      .toString(),
    'z\n',
  );
});

test('unknown serializer names fail with a did-you-mean hint', () => {
  assert.throws(
    () => createSerializer('txt'),
    (e: unknown) =>
      e instanceof OptionError && /unknown serializer 'txt'/.test(e.message) && e.hint === "did you mean 'text'?",
  );
  assert.throws(
    () => canonicalSerializerName('avro_evnt'),
    (e: unknown) => e instanceof OptionError && e.hint === "did you mean 'avro_event'?",
  );
  assert.throws(
    () => canonicalSerializerName('com.example.MySerializer$Builder'),
    (e: unknown) => e instanceof OptionError && /custom serializer classes/.test(e.hint ?? ''),
  );
  assert.throws(
    () => canonicalSerializerName('org.apache.flume.sink.hdfs.AvroEventSerializer$Builder'),
    /not supported/,
  );
});

test('serializer option checks: unknown keys with did-you-mean, bad values, snappy rejected', () => {
  assert.deepEqual(checkSerializerOptions('text', { appendNewline: 'false' }, 'sink.serializer.'), []);
  const p1 = checkSerializerOptions('text', { appendNewLines: 'false' }, 'sink.serializer.');
  assert.equal(p1.length, 1);
  assert.equal(p1[0]!.key, 'sink.serializer.appendNewLines');
  assert.equal(p1[0]!.hint, "did you mean 'sink.serializer.appendNewline'?");
  const p2 = checkSerializerOptions(
    'avro_event',
    { compressionCodec: 'snappy', syncIntervalBytes: '10' },
    'sink.serializer.',
  );
  assert.equal(p2.length, 2);
  assert.equal(p2[0]!.key, 'sink.serializer.compressionCodec');
  assert.match(p2[0]!.message, /snappy' is not supported/);
  assert.match(p2[0]!.hint ?? '', /deflate/);
  assert.equal(p2[1]!.key, 'sink.serializer.syncIntervalBytes');
  const p3 = checkSerializerOptions('avro_event', { appendNewline: 'true' }, 'sink.serializer.');
  assert.match(p3[0]!.hint ?? '', /sink\.serializer\.syncIntervalBytes, sink\.serializer\.compressionCodec/);
  assert.throws(() => createSerializer('avro_event', { compressionCodec: 'snappy' }), /not supported/);
  assert.throws(() => createSerializer('text', { appendNewline: 'yes' }), OptionError);
  assert.throws(() => createSerializer('text', { bogus: 'x' }), OptionError);
});

// ------------------------------------------------------------------ avro_event

test('Avro encoder: zig-zag varint longs, strings, bytes', () => {
  const e = new AvroEncoder(16);
  for (const n of [0, -1, 1, -64, 64, -65, 8192, 2 ** 40]) e.long(n);
  e.string('hé');
  e.bytes(Buffer.from([1, 2]));
  assert.deepEqual(
    [...e.view()],
    [
      0x00, 0x01, 0x02, 0x7f, 0x80, 0x01, 0x81, 0x01, 0x80, 0x80, 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 0x06, 0x68,
      0xc3, 0xa9, 0x04, 1, 2,
    ],
  );
});

test('avro_event: container header once, one block per batch, records decode', () => {
  const s = createSerializer('avro_event');
  const file = Buffer.concat([
    s.header(),
    s.serialize([makeEvent('hello', { a: '1', b: 'two' }), makeEvent('')]),
    s.serialize([makeEvent('world')]),
  ]);
  const d = decodeContainer(file);
  assert.equal(d.meta['avro.schema'], FLUME_EVENT_SCHEMA);
  assert.equal(d.meta['avro.codec'], 'null');
  assert.equal(JSON.parse(d.meta['avro.schema']!).name, 'Event');
  assert.deepEqual(d.blocks, [
    [
      { headers: { a: '1', b: 'two' }, body: 'hello' },
      { headers: {}, body: '' },
    ],
    [{ headers: {}, body: 'world' }],
  ]);
  // the header is not repeated by serialize()
  assert.equal(file.indexOf('Obj\x01', 4, 'latin1'), -1);
});

test('avro_event: deflate blocks are raw deflate and decode', () => {
  const s = createSerializer('avro_event', { compressionCodec: 'deflate' });
  const events = Array.from({ length: 50 }, (_, i) => makeEvent(`line number ${i} `.repeat(5), { i: String(i) }));
  const data = s.serialize(events);
  const file = Buffer.concat([s.header(), data]);
  const d = decodeContainer(file);
  assert.equal(d.meta['avro.codec'], 'deflate');
  assert.equal(d.blocks.length, 1);
  assert.equal(d.blocks[0]!.length, 50);
  assert.deepEqual(d.blocks[0]![49], { headers: { i: '49' }, body: 'line number 49 '.repeat(5) });
  // compressed: much smaller than the bodies
  assert.ok(data.length < (50 * 75) / 3, `deflated size ${data.length}`);
});

test('avro_event: syncIntervalBytes splits a batch into blocks', () => {
  const s = createSerializer('avro_event', { syncIntervalBytes: '32' });
  // each record: 1 (empty map) + 1 (len) + 20 body = 22 bytes -> a block after every 2 records
  const events = Array.from({ length: 5 }, (_, i) => makeEvent(String(i).padStart(20, 'x')));
  const d = decodeContainer(Buffer.concat([s.header(), s.serialize(events)]));
  assert.deepEqual(
    d.blocks.map((b) => b.length),
    [2, 2, 1],
  );
  assert.equal(d.blocks[2]![0]!.body, 'xxxxxxxxxxxxxxxxxxx4');
});

test('avro_event: every serializer instance has its own sync marker', () => {
  const a = decodeContainer(createSerializer('avro_event').header());
  const b = decodeContainer(createSerializer('avro_event').header());
  assert.equal(a.sync.length, 16);
  assert.notDeepEqual(a.sync, b.sync);
  assert.deepEqual(a.blocks, []);
});
