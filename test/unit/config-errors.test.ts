/** The config and CLI errors a user can see carry stable catalogue codes (match on `code`, never on the message). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentError, ERRORS } from '../../src/core/errors.js';
import { opt, OptionError } from '../../src/contract/index.js';
import { parseProperties, PropertiesSyntaxError } from '../../src/config/properties.js';
import { UsageError } from '../../src/cli/args.js';
import { avroClientArgs } from '../../src/cli/commands/avro-client.js';

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return assert.fail('expected a throw');
}

test('a value that does not fit its option is an OptionError with FLUME_ERR_CONFIG_OPTION and its hint', () => {
  const err = thrown(() => opt.bool({ default: false, doc: '' }).parse('yes'));
  assert.ok(err instanceof OptionError && err instanceof AgentError);
  assert.equal(err.code, 'FLUME_ERR_CONFIG_OPTION');
  assert.equal(err.retriable, false);
  assert.equal(err.name, 'OptionError');
  assert.match(err.hint ?? '', /write true or false/);
  assert.ok('FLUME_ERR_CONFIG_OPTION' in ERRORS);
});

test('a malformed .properties file raises FLUME_ERR_CONFIG_SYNTAX with file and line', () => {
  const err = thrown(() => parseProperties('ok=1\nk=\\u00G1\n', 'bad.properties'));
  assert.ok(err instanceof PropertiesSyntaxError && err instanceof AgentError);
  assert.equal(err.code, 'FLUME_ERR_CONFIG_SYNTAX');
  assert.equal(err.name, 'PropertiesSyntaxError');
  assert.equal(err.line, 2);
});

test('a bad command line raises FLUME_ERR_USAGE', () => {
  const err = thrown(() => avroClientArgs({ host: 'h' }));
  assert.ok(err instanceof UsageError && err instanceof AgentError);
  assert.equal(err.code, 'FLUME_ERR_USAGE');
  assert.equal(err.name, 'UsageError');
  assert.equal(new UsageError('x').message, 'x');
});
