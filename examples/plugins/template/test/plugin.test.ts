/** The plugin's own tests: flume-ts's contract checks (flume-ts/testing), then what this plugin promises. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { checkInterceptor, checkSink, makeEvent } from 'flume-ts/testing';
import mask from '../src/mask.js';
import jsonl from '../src/jsonl-sink.js';

test('mask honours the interceptor contract (never mutates its input)', () => {
  checkInterceptor(mask);
  checkInterceptor(mask, { props: { headers: 'host seq', countHeader: 'masked' } });
});

test('mask replaces card numbers and counts them', () => {
  const [e] = checkInterceptor(mask, {
    props: { countHeader: 'masked' },
    events: () => [makeEvent('paid with 4111 1111 1111 1111 today', { user: 'u1' })],
  });
  assert.equal(e!.body.toString(), 'paid with **** today');
  assert.deepEqual({ ...e!.headers }, { user: 'u1', masked: '1' });
});

test('jsonl honours the sink contract and writes one JSON line per event', async () => {
  await checkSink(jsonl, {
    props: (dir) => ({ path: path.join(dir, 'out.jsonl') }),
    verify: (dir, bodies) => {
      const lines = fs.readFileSync(path.join(dir, 'out.jsonl'), 'utf8').trim().split('\n');
      assert.deepEqual(
        lines.map((l) => (JSON.parse(l) as { body: string }).body),
        bodies,
      );
    },
  });
});
