/** The log file (rolled by size and daily), local-time timestamps and the rate-limited DEBUG digest. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { RollingFileTransport } from '../../src/telemetry/rolling-file.js';
import { localTimestamp } from '../../src/telemetry/logger.js';
import { DebugDigest } from '../../src/telemetry/debug-digest.js';
import { LOG_LEVELS } from '../../src/telemetry/log-settings.js';

const MESSAGE = Symbol.for('message');

function write(t: RollingFileTransport, line: string): void {
  t.log({ [MESSAGE]: line }, () => {});
}

async function close(t: RollingFileTransport): Promise<void> {
  t.end();
  await t.finished;
}

test('size roll: flume.log.1 is the newest, at most maxFiles are kept', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-ts-log-'));
  try {
    const file = path.join(dir, 'flume.log');
    const t = new RollingFileTransport({ path: file, daily: false, maxBytes: 100, maxFiles: 2, timezone: 'utc' });
    for (let i = 0; i < 8; i++) write(t, `line ${i} ${'x'.repeat(40)}`); // 48 bytes a line: two per file
    await close(t);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['flume.log', 'flume.log.1', 'flume.log.2']);
    assert.match(fs.readFileSync(file, 'utf8'), /^line 6 x+\nline 7 x+\n$/);
    assert.match(fs.readFileSync(`${file}.1`, 'utf8'), /^line 4 /);
    assert.match(fs.readFileSync(`${file}.2`, 'utf8'), /^line 2 /);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('daily roll: the first line of a new day moves the file to flume.log.<day>; old days beyond maxFiles go', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-ts-log-'));
  try {
    const file = path.join(dir, 'flume.log');
    let now = Date.parse('2026-05-01T23:59:59Z');
    const t = new RollingFileTransport({
      path: file,
      daily: true,
      maxBytes: 0,
      maxFiles: 2,
      timezone: 'utc',
      now: () => now,
    });
    write(t, 'may 1');
    now = Date.parse('2026-05-02T00:00:01Z');
    write(t, 'may 2');
    now = Date.parse('2026-05-03T10:00:00Z');
    write(t, 'may 3');
    now = Date.parse('2026-05-04T10:00:00Z');
    write(t, 'may 4');
    await close(t);
    assert.deepEqual(fs.readdirSync(dir).sort(), ['flume.log', 'flume.log.2026-05-02', 'flume.log.2026-05-03']);
    assert.equal(fs.readFileSync(`${file}.2026-05-02`, 'utf8'), 'may 2\n');
    assert.equal(fs.readFileSync(file, 'utf8'), 'may 4\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('local timestamps carry their offset; the default format stays UTC', () => {
  const d = new Date('2026-05-01T12:34:56.789Z');
  const s = localTimestamp(d);
  assert.match(s, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.789[+-]\d\d:\d\d$/);
  assert.equal(new Date(s).getTime(), d.getTime(), 'the same instant');
});

test('DebugDigest: sums counts, writes at most one line per interval, nothing at all when DEBUG is off', async () => {
  const lines: Record<string, unknown>[] = [];
  const sink = new winston.transports.Console();
  sink.log = (info: Record<string, unknown>, next: () => void) => {
    lines.push(info);
    next();
  };
  const mk = (level: string) => winston.createLogger({ levels: LOG_LEVELS, level, transports: [sink] });
  const d = new DebugDigest(mk('debug'), 'Batches', 200);
  assert.ok(d.enabled);
  for (let i = 0; i < 1000; i++) d.add({ batches: 1, events: 10, zero: 0 });
  assert.equal(lines.length, 1, 'the first add writes at once, the rest wait for the interval');
  assert.equal(lines[0]!.batches, 1);
  const deadline = Date.now() + 5000;
  while (lines.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.equal(lines.length, 2);
  assert.equal(lines[1]!.batches, 999);
  assert.equal(lines[1]!.events, 9990);
  assert.equal(lines[1]!.zero, undefined);

  const off = new DebugDigest(mk('info'), 'Batches', 200);
  assert.ok(!off.enabled);
  off.add({ batches: 1 });
  off.flush();
  assert.equal(lines.length, 2);
});
