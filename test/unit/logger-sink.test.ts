import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import winston from 'winston';
import loggerSinkDef, { renderEventForLog } from '../../src/sinks/logger.js';
import { makeEvent } from '../../src/core/event.js';
import { systemClock } from '../../src/core/clock.js';
import { sinkCounters } from '../../src/telemetry/counters.js';
import type { SinkDef, OptionTable } from '../../src/contract/index.js';

/** Parses raw .properties values through the def's option table (defaults, required, unknown keys, check). */
function resolveOptions(def: SinkDef<any>, raw: Record<string, string>): any {
  const out: Record<string, unknown> = {};
  const used = new Set<string>();
  for (const [key, spec] of Object.entries(def.options as OptionTable)) {
    if (key in raw) {
      out[key] = spec.parse(raw[key]!.trim());
      used.add(key);
    } else {
      if (spec.required) throw new Error(`missing required ${key}`);
      out[key] = spec.default;
    }
  }
  for (const k of Object.keys(raw)) if (!used.has(k)) throw new Error(`unknown key ${k}`);
  const c = def.check?.(out);
  if (c !== true && c !== undefined) throw new Error(JSON.stringify(c));
  return out;
}

function capturingLogger(): { logger: winston.Logger; lines: { level: string; message: string }[] } {
  const lines: { level: string; message: string }[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: { level: string; message: string }, _enc, cb) {
      lines.push({ level: info.level, message: info.message });
      cb();
    },
  });
  const logger = winston.createLogger({ level: 'info', transports: [new winston.transports.Stream({ stream })] });
  return { logger, lines };
}

test('renders the reference example exactly', () => {
  assert.equal(
    renderEventForLog(makeEvent('Hello world!\r'), 16),
    'Event: { headers:{} body: 48 65 6C 6C 6F 20 77 6F 72 6C 64 21 0D          Hello world!. }',
  );
});

test('empty body renders nothing after body:', () => {
  assert.equal(renderEventForLog(makeEvent(''), 16), 'Event: { headers:{} body: }');
  assert.equal(renderEventForLog(makeEvent('abc', { a: 'b' }), 0), 'Event: { headers:{a=b} body: }');
});

test('multi-row dump: later rows keep their 8-digit offset, no trailing newline', () => {
  const e = makeEvent('abcdefghijklmnopqrstuvwxyz0123456789', { k1: 'v1', k2: 'v2' });
  assert.equal(
    renderEventForLog(e, 32),
    'Event: { headers:{k1=v1, k2=v2} body: 61 62 63 64 65 66 67 68 69 6A 6B 6C 6D 6E 6F 70 abcdefghijklmnop\n' +
      '00000010 71 72 73 74 75 76 77 78 79 7A 30 31 32 33 34 35 qrstuvwxyz012345 }',
  );
  // partial second row: missing bytes padded with 3 spaces each
  assert.equal(
    renderEventForLog(e, 20),
    'Event: { headers:{k1=v1, k2=v2} body: 61 62 63 64 65 66 67 68 69 6A 6B 6C 6D 6E 6F 70 abcdefghijklmnop\n' +
      `00000010 71 72 73 74 ${' '.repeat(36)}qrst }`,
  );
  // a body of exactly 16 bytes is one row
  assert.equal(
    renderEventForLog(makeEvent('0123456789abcdef'), 100),
    'Event: { headers:{} body: 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66 0123456789abcdef }',
  );
});

test('non-printable and high bytes show as dots, hex is upper-case', () => {
  const e = makeEvent(Buffer.from([0x00, 0x1f, 0x20, 0x7e, 0x7f, 0x80, 0xff]));
  assert.equal(renderEventForLog(e, 16), `Event: { headers:{} body: 00 1F 20 7E 7F 80 FF ${' '.repeat(27)}.. ~... }`);
});

test('the sink logs each event at INFO with the default 16-byte limit', async () => {
  const def = loggerSinkDef as SinkDef<any>;
  const o = resolveOptions(def, {});
  assert.equal(o.maxBytesToLog, 16);
  assert.equal(def.batchSize(o), 100);
  const { logger, lines } = capturingLogger();
  const sink = def.create(o, { name: 'k1', logger, clock: systemClock, counters: sinkCounters('k1'), agentDir: '.' });
  assert.equal(sink.batchSize, 100);
  await sink.start();
  await sink.deliver(
    [makeEvent('Hello world!\r'), makeEvent('0123456789abcdefXYZ', { h: 'x' })],
    new AbortController().signal,
  );
  await sink.close();
  assert.deepEqual(lines, [
    {
      level: 'info',
      message: 'Event: { headers:{} body: 48 65 6C 6C 6F 20 77 6F 72 6C 64 21 0D          Hello world!. }',
    },
    {
      level: 'info',
      message: 'Event: { headers:{h=x} body: 30 31 32 33 34 35 36 37 38 39 61 62 63 64 65 66 0123456789abcdef }',
    },
  ]);
});

test('option table: maxBytesToLog and batchSize', async () => {
  const def = loggerSinkDef as SinkDef<any>;
  const o = resolveOptions(def, { maxBytesToLog: '4', batchSize: '7' });
  assert.equal(def.batchSize(o), 7);
  assert.equal(def.batchSizeKey, 'batchSize');
  assert.throws(() => resolveOptions(def, { maxBytesToLog: '-1' }), /below the minimum/);
  assert.throws(() => resolveOptions(def, { maxBytesToLog: 'abc' }), /not a whole number/);
  assert.throws(() => resolveOptions(def, { batchSize: '0' }), /below the minimum/);
  assert.deepEqual(def.classNames, ['org.apache.flume.sink.LoggerSink']);
  const { logger, lines } = capturingLogger();
  const sink = def.create(o, { name: 'k1', logger, clock: systemClock, counters: sinkCounters('k1'), agentDir: '.' });
  await sink.start();
  await sink.deliver([makeEvent('abcdefgh')], new AbortController().signal);
  assert.deepEqual(
    lines.map((l) => l.message),
    [`Event: { headers:{} body: 61 62 63 64 ${' '.repeat(36)}abcd }`],
  );
});
