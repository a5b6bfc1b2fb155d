import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { staleDocs } from '../../scripts/gen-docs.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

test('committed docs/components and docs/errors.md match the option tables (run npm run docs)', () => {
  assert.deepEqual(staleDocs(path.join(root, 'docs')), []);
});
