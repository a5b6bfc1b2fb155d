/**
 * OPT-IN: the elasticsearch sink against a real Elasticsearch 8 or 9 (none can run on the project's machines; the
 * rest of the suite uses a protocol-level double). Skipped unless ES_URL is set:
 *   ES_URL=https://elastic:PASSWORD@127.0.0.1:9200 ES_CA_CERT=/path/to/http_ca.crt node scripts/run-tests.mjs elasticsearch-real
 * Optional: ES_API_KEY (instead of credentials in the URL), ES_CA_CERT (PEM CA of the server's certificate).
 * It creates and deletes an index named flume-ts-test-<random>.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Client } from '@elastic/elasticsearch';
import def from '../../src/sinks/elasticsearch/index.js';
import { ElasticsearchSink } from '../../src/sinks/elasticsearch/sink.js';
import { makeEvent } from '../../src/core/event.js';
import { sinkCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { systemClock } from '../../src/core/clock.js';
import { optionsFor } from '../helpers/agent.js';

const url = process.env.ES_URL;

test(
  'real Elasticsearch: documents indexed, a mapping conflict dead-lettered, ids idempotent',
  { skip: !url },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'es-real-'));
    const index = `flume-ts-test-${randomBytes(4).toString('hex')}`;
    const props: Record<string, string> = {
      hostNames: url!,
      indexName: index,
      indexNameBuilder: 'simple',
      serializer: 'json',
      idHeader: 'id',
    };
    if (process.env.ES_API_KEY) props.apiKey = process.env.ES_API_KEY;
    if (process.env.ES_CA_CERT) props.sslCaCertificate = process.env.ES_CA_CERT;
    const counters = sinkCounters('k1');
    const sink = new ElasticsearchSink(optionsFor(def, props), {
      name: 'k1',
      logger: silentLogger(),
      clock: systemClock,
      counters,
      agentDir: dir,
    });
    const u = new URL(url!);
    const client = new Client({
      node: `${u.protocol}//${u.host}`,
      auth: process.env.ES_API_KEY
        ? { apiKey: process.env.ES_API_KEY }
        : { username: decodeURIComponent(u.username), password: decodeURIComponent(u.password) },
      tls: process.env.ES_CA_CERT ? { ca: fs.readFileSync(process.env.ES_CA_CERT) } : undefined,
    });
    const signal = new AbortController().signal;
    try {
      await sink.start();
      const batch = [
        makeEvent('{"n": 1, "msg": "first"}', { id: 'a' }),
        makeEvent('{"n": 2, "msg": "second"}', { id: 'b' }),
      ];
      await sink.deliver(batch, signal);
      // n is now a long: a string there is a mapping error (400), dead-lettered; the batch still commits
      const r = await sink.deliver(
        [makeEvent('{"n": "not a number"}', { id: 'c' }), makeEvent('{"n": 3}', { id: 'd' })],
        signal,
      );
      assert.deepEqual(r, { drained: 1 });
      await sink.deliver(batch, signal); // sent again: same ids, no duplicates
      await client.indices.refresh({ index });
      const { count } = await client.count({ index });
      assert.equal(count, 3);
      const letter = JSON.parse(fs.readFileSync(path.join(dir, '.flume-ts', 'dead-letter', 'k1.jsonl'), 'utf8'));
      assert.equal(letter.status, 400);
      assert.match(letter.reason, /parsing_exception|mapper/);
    } finally {
      await sink.close();
      await client.indices.delete({ index }).catch(() => {});
      await client.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
