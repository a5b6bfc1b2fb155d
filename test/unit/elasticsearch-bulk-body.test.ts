/**
 * The bytes of the elasticsearch sink's _bulk requests, through a port that records them: the batch's lines, the
 * `_id` of idHash (sha1 of the index name, a newline and the document text) and a retry of non-contiguous items.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import def from '../../src/sinks/elasticsearch/index.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';
import type { BulkResult, ElasticsearchPort } from '../../src/sinks/elasticsearch/client.js';
import { makeEvent } from '../../src/core/event.js';
import { sinkCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { optionsFor } from '../helpers/agent.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'es-body-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('bulk bytes: one line pair per event, idHash ids over the document text, retries of items 0 and 2', async () => {
  const bodies: string[] = [];
  const answers: number[][] = [
    [429, 201, 503, 201],
    [201, 201],
  ];
  const port: ElasticsearchPort = {
    bulk(body): Promise<BulkResult> {
      bodies.push(body.toString('utf8'));
      const statuses = answers.shift()!;
      return Promise.resolve({ ok: true, items: statuses.map((status) => ({ status })) });
    },
    close: () => Promise.resolve(),
  };
  const o = optionsFor(def, {
    hostNames: 'http://127.0.0.1:9',
    indexName: 'logs',
    indexNameBuilder: 'simple',
    idHash: 'true',
  });
  const sink = new ElasticsearchSink(
    o,
    { name: 'k1', logger: silentLogger(), clock: systemClock, counters: sinkCounters('k1'), agentDir: tmp },
    () => Promise.resolve(port),
  );
  await sink.start();
  const batch = [
    makeEvent('plain "quoted" \\ back\tslash\u0001'),
    makeEvent('héllo wörld \u{1f600}', { host: 'h1', k: '{"x": 1}' }),
    makeEvent(Buffer.from([0x41, 0xff, 0x42])),
    makeEvent(' {"a": [1, 2]}'),
  ];
  await sink.deliver(batch, new AbortController().signal);
  await sink.close();

  const docs = [
    '{"@message":"plain \\"quoted\\" \\\\ back\\tslash\\u0001","@fields":{}}',
    '{"@message":"héllo wörld \u{1f600}","@source_host":"h1","@fields":{"host":"h1","k":{"x":1}}}',
    '{"@message":"A\ufffdB","@fields":{}}',
    '{"@message":{"a":[1,2]},"@fields":{}}',
  ];
  const line = (doc: string) => {
    const id = createHash('sha1').update('logs\n').update(doc).digest('hex');
    return `{"index":{"_index":"logs","_id":"${id}"}}\n${doc}\n`;
  };
  assert.equal(bodies.length, 2);
  assert.equal(bodies[0], docs.map(line).join(''));
  assert.equal(bodies[1], line(docs[0]!) + line(docs[2]!));
});
