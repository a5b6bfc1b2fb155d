import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonHandler, tooDeep } from '../../src/sources/http/json-handler.js';
import { BlobHandler } from '../../src/sources/http/blob-handler.js';
import { HttpError, type RequestInfo } from '../../src/sources/http/handler.js';
import { contentTypeCharset, jsonCharset } from '../../src/sources/http/charset.js';
import { charsetFor } from '../../src/text/index.js';

const decodeText = (b: Buffer, cs: string): string => charsetFor(cs).decode(b);
const encodeText = (s: string, cs: string): Buffer => charsetFor(cs).encode(s);
import http from '../../src/sources/http/index.js';
import { optionsFor } from '../helpers/agent.js';

function req(contentType?: string, url = '/'): RequestInfo {
  return {
    method: 'POST',
    contentType,
    charset: contentTypeCharset(contentType),
    query: new URL(url, 'http://x').searchParams,
    url,
  };
}
const json = new JsonHandler();
const limits = { maxEvents: 1000 };

function status(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    if (err instanceof HttpError) return err.status;
    throw err;
  }
  return 200;
}

test("JSON handler: Flume's format, missing body/headers, [] is zero events", () => {
  const evs = json.getEvents(
    req('application/json'),
    Buffer.from(
      '[{"headers":{"a":"b","n":1,"t":true},"body":"hello"},{"body":"x"},{"headers":{"k":"v"}},{"body":null}]',
    ),
    limits,
  );
  assert.equal(evs.length, 4);
  assert.deepEqual({ ...evs[0]!.headers }, { a: 'b', n: '1', t: 'true' });
  assert.equal(evs[0]!.body.toString(), 'hello');
  assert.deepEqual({ ...evs[1]!.headers }, {});
  assert.equal(evs[2]!.body.length, 0);
  assert.equal(evs[3]!.body.length, 0);
  assert.deepEqual(json.getEvents(req(), Buffer.from(' [] '), limits), []);
  // curl -d sends application/x-www-form-urlencoded: still JSON (Flume ignores the content type)
  assert.equal(
    json.getEvents(req('application/x-www-form-urlencoded'), Buffer.from('[{"body":"f"}]'), limits).length,
    1,
  );
});

test('JSON handler: 400 for malformed JSON, non-arrays, bad elements anywhere; the error names the element', () => {
  assert.equal(
    status(() => json.getEvents(req(), Buffer.from('[{"body":"a"}'), limits)),
    400,
  );
  assert.equal(
    status(() => json.getEvents(req(), Buffer.from('{"body":"a"}'), limits)),
    400,
  );
  assert.equal(
    status(() => json.getEvents(req(), Buffer.from(''), limits)),
    400,
  );
  const arr = Array.from({ length: 1000 }, (_, i) =>
    i === 500 ? { headers: { k: { nested: 1 } }, body: 'x' } : { body: `e${i}` },
  );
  assert.throws(
    () => json.getEvents(req(), Buffer.from(JSON.stringify(arr)), limits),
    (e: unknown) => e instanceof HttpError && e.status === 400 && /Event 500/.test(e.message),
  );
  for (const bad of [
    '[null]',
    '[1]',
    '["s"]',
    '[[]]',
    '[{"headers":[]}]',
    '[{"headers":"x"}]',
    '[{"body":{}}]',
    '[{"body":[1]}]',
  ]) {
    assert.equal(
      status(() => json.getEvents(req(), Buffer.from(bad), limits)),
      400,
      bad,
    );
  }
});

test('JSON handler: more events than one transaction holds is 413, naming the limit', () => {
  const body = Buffer.from(JSON.stringify(Array.from({ length: 11 }, () => ({ body: 'x' }))));
  assert.throws(
    () => json.getEvents(req(), body, { maxEvents: 10 }),
    (e: unknown) => e instanceof HttpError && e.status === 413 && /at most 10/.test(e.message),
  );
  const coded = { code: 'FLUME_ERR_SOURCE_HTTP_REQUEST', retriable: false };
  assert.throws(() => json.getEvents(req(), body, { maxEvents: 10 }), coded);
});

test('JSON handler: prototype keys are plain, inert headers; objects as header values are refused', () => {
  const evs = json.getEvents(
    req(),
    Buffer.from('[{"headers":{"__proto__":"p","constructor":"c","toString":"t"},"body":"b"}]'),
    limits,
  );
  const h = evs[0]!.headers;
  assert.equal(Object.getPrototypeOf(h), null);
  assert.equal(Object.getOwnPropertyDescriptor(h, '__proto__')?.value, 'p');
  assert.equal(h.constructor, 'c');
  assert.equal(
    status(() => json.getEvents(req(), Buffer.from('[{"headers":{"__proto__":{"polluted":1}},"body":"b"}]'), limits)),
    400,
  );
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('JSON handler charsets: UTF-8 (BOM skipped), UTF-16 with and without BOM, UTF-32; bodies re-encoded as Java does', () => {
  const text = '[{"headers":{"h":"\u00e9"},"body":"h\u00e9llo \u{1F600}"}]';
  const u8 = json.getEvents(
    req('application/json; charset=UTF-8'),
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
    limits,
  )[0]!;
  assert.equal(u8.body.toString('utf8'), 'h\u00e9llo \u{1F600}');
  assert.equal(u8.headers.h, '\u00e9');
  const u16be = Buffer.from(text, 'utf16le').swap16();
  const u16 = json.getEvents(req('application/json; charset=utf-16'), u16be, limits)[0]!;
  assert.deepEqual(
    u16.body,
    Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('h\u00e9llo \u{1F600}', 'utf16le').swap16()]),
  );
  const u16le = json.getEvents(
    req('application/json; charset="UTF-16"'),
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]),
    limits,
  )[0]!;
  assert.equal(u16le.headers.h, '\u00e9');
  const u32 = encodeText(text, 'utf-32');
  assert.equal(u32.length, [...text].length * 4);
  const e32 = json.getEvents(req('application/json; charset=UTF-32'), u32, limits)[0]!;
  assert.equal(decodeText(e32.body, 'utf-32'), 'h\u00e9llo \u{1F600}');
  assert.deepEqual(e32.body, encodeText('h\u00e9llo \u{1F600}', 'utf-32'));
  assert.equal(
    decodeText(Buffer.concat([Buffer.from([0xff, 0xfe, 0, 0]), encodeText('ab', 'utf-32le')]), 'utf-32'),
    'ab',
  );
  assert.equal(
    status(() => json.getEvents(req('application/json; charset=iso-8859-1'), Buffer.from('[]'), limits)),
    415,
  );
  assert.equal(jsonCharset('UTF8'), 'utf-8');
  assert.equal(jsonCharset('latin1'), undefined);
  // any spelling src/text accepts for the UTF family (Java's aliases too); other charsets stay 415
  assert.equal(jsonCharset('UTF_16'), 'utf-16');
  assert.equal(jsonCharset('X-UTF-32LE'), 'utf-32le');
  assert.equal(jsonCharset('UnicodeBigUnmarked'), 'utf-16be');
  assert.equal(jsonCharset('windows-1252'), undefined);
  assert.equal(jsonCharset('no-such'), undefined);
});

test('tooDeep: counts nesting outside strings only', () => {
  assert.equal(tooDeep('['.repeat(101) + ']'.repeat(101), 100), true);
  assert.equal(tooDeep(`["${'['.repeat(500)}"]`, 100), false);
  assert.equal(tooDeep('[{"a":{"b":[1]}}]', 3), true);
  assert.equal(tooDeep('[{"a":{"b":[1]}}]', 4), false);
});

test('BlobHandler: the body is one event; query parameters (first value) and Content-Type become headers; truncation', () => {
  const b = new BlobHandler(5);
  const [e] = b.getEvents(
    req('application/octet-stream', '/up?name=a.bin&name=b&x=1'),
    Buffer.from('0123456789'),
    limits,
  );
  assert.deepEqual({ ...e!.headers }, { 'Content-Type': 'application/octet-stream', name: 'a.bin', x: '1' });
  assert.equal(e!.body.toString(), '01234');
});

test('http options: Flume handler class names, handler.* checked per handler, old TLS spellings', () => {
  assert.equal(optionsFor(http, { port: '0' }).handler, 'json');
  assert.equal(optionsFor(http, { port: '0', handler: 'org.apache.flume.source.http.JSONHandler' }).handler, 'json');
  const blob = optionsFor(http, {
    port: '0',
    handler: 'org.apache.flume.sink.solr.morphline.BlobHandler',
    'handler.maxBlobLength': '10',
  });
  assert.equal(blob.handler, 'blob');
  assert.equal(blob['handler.'].maxBlobLength, '10');
  assert.throws(() => optionsFor(http, { port: '0', handler: 'com.example.MyHandler' }), /not available/);
  assert.throws(() => optionsFor(http, { port: '0', 'handler.maxBlobLength': '10' }), /unknown handler setting/);
  assert.throws(
    () => optionsFor(http, { port: '0', handler: 'BlobHandler', 'handler.maxBlobLength': '-1' }),
    /maxBlobLength/,
  );
  assert.throws(() => optionsFor(http, { port: '0', ssl: 'true' }), /keystore/);
  assert.throws(() => optionsFor(http, { port: '0', enableSSL: 'true' }), /keystore/);
  assert.throws(() => optionsFor(http, { port: '0', headersTimeout: '60', requestTimeout: '30' }), /headersTimeout/);
  assert.equal(optionsFor(http, { port: '0', maxRequestBytes: '1m' }).maxRequestBytes, 1024 * 1024);
});
