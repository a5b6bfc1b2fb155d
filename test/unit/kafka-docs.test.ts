/** docs/kafka.md lists every kafka.producer.* / kafka.consumer.* property the client tables know (and no other). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { CONSUMER_PROPERTIES, PRODUCER_PROPERTIES } from '../../src/kafka/config/properties.js';
import { ROOT } from '../helpers/cli.js';

const doc = fs.readFileSync(path.join(ROOT, 'docs', 'kafka.md'), 'utf8');

test('docs/kafka.md names every mapped, no-effect and refused Kafka client property', () => {
  const missing = [...new Set([...PRODUCER_PROPERTIES, ...CONSUMER_PROPERTIES])].filter(
    (p) => !doc.includes(`\`${p}\``),
  );
  assert.deepEqual(missing, [], 'properties missing from docs/kafka.md');
});

test('the property tables of docs/kafka.md name no property the client tables do not know', () => {
  const known = new Set([...PRODUCER_PROPERTIES, ...CONSUMER_PROPERTIES]);
  const section = doc.slice(doc.indexOf('## kafka.producer.*'), doc.indexOf('## Operations'));
  const named = [...section.matchAll(/^\| (.+?) \|/gm)]
    .flatMap((m) => [...m[1]!.matchAll(/`([a-z][a-z0-9.]*[a-z0-9])`/g)].map((x) => x[1]!))
    .filter((p) => !['property'].includes(p));
  assert.ok(named.length > 50, 'the tables are found');
  assert.deepEqual(
    named.filter((p) => !known.has(p)),
    [],
  );
});
