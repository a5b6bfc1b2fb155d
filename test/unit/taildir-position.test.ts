import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fingerprintOf, fingerprintLength } from '../../src/sources/taildir/identity.js';
import { formatPositions, parsePositions, PositionFileError } from '../../src/sources/taildir/position-file.js';
import { AgentError } from '../../src/core/errors.js';

test('fingerprints and the position file format (Flume fields first; ours optional)', () => {
  const fp = fingerprintOf(Buffer.from('hello'));
  assert.match(fp, /^5:[0-9a-f]{24}$/);
  assert.equal(fingerprintLength(fp), 5);
  assert.equal(fingerprintOf(Buffer.alloc(0)), '0:');
  const flume = '[{"inode":2752544,"pos":10,"file":"/var/log/app.log"},{"inode":7,"pos":0,"file":"/x/y"}]';
  assert.deepEqual(parsePositions(flume, 'p'), [
    { inode: 2752544, pos: 10, file: '/var/log/app.log' },
    { inode: 7, pos: 0, file: '/x/y' },
  ]);
  const ours = [{ inode: 1, pos: 2, file: '/a "q"', dev: 3, fp }];
  assert.equal(formatPositions(ours), `[{"inode":1,"pos":2,"file":"/a \\"q\\"","dev":3,"fp":"${fp}"}]`);
  assert.deepEqual(parsePositions(formatPositions(ours), 'p'), ours);
  for (const bad of [
    '',
    '   ',
    '[{"inode":1,"pos":2',
    '{}',
    '[{"inode":-1,"pos":0,"file":"/a"}]',
    '[{"pos":0,"file":"/a"}]',
    '[{"inode":1,"pos":"3","file":"/a"}]',
    '[{"inode":1,"pos":3}]',
    '[1]',
  ]) {
    assert.throws(() => parsePositions(bad, 'p'), PositionFileError, bad);
  }
  const coded = (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_SOURCE_POSITION_FILE';
  assert.throws(() => parsePositions('', 'p'), coded);
});
