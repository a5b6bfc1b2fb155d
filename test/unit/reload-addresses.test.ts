import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';
import winston from 'winston';
import { ConfigReloader } from '../../src/runtime/reload.js';
import { FileStore } from '../../src/config/stores/index.js';
import { LOG_LEVELS } from '../../src/telemetry/log-settings.js';
import { freePort, tmpDir } from '../helpers/cli.js';
import { planFrom, startPlan } from '../helpers/agent.js';

/** A winston logger whose lines are kept as { level, message, key }. */
function capturingLogger(): { logger: winston.Logger; lines: { level: string; message: string; key?: string }[] } {
  const lines: { level: string; message: string; key?: string }[] = [];
  const stream = new Writable({
    objectMode: true,
    write(info: { level: string; message: string; key?: string }, _enc, cb) {
      lines.push({ level: info.level, message: info.message, key: info.key });
      cb();
    },
  });
  const logger = winston.createLogger({
    levels: LOG_LEVELS,
    level: 'trace',
    transports: [new winston.transports.Stream({ stream })],
  });
  return { logger, lines };
}

const base = (port: number, extra = '') =>
  [
    'a1.sources = r1',
    'a1.channels = c1',
    'a1.sinks = k1',
    'a1.sources.r1.type = netcat',
    'a1.sources.r1.bind = 127.0.0.1',
    `a1.sources.r1.port = ${port}`,
    'a1.sources.r1.channels = c1',
    'a1.channels.c1.type = memory',
    'a1.sinks.k1.type = null',
    'a1.sinks.k1.channel = c1',
    extra,
    '',
  ].join('\n');

test('a reloaded configuration gets the address check of the start: a bind that is not this host, a next hop that does not resolve', async () => {
  const dir = tmpDir();
  const file = path.join(dir, 'agent.properties');
  const port = await freePort();
  fs.writeFileSync(file, base(port));
  const agent = await startPlan(planFrom(base(port)));
  const { logger, lines } = capturingLogger();
  try {
    const store = new FileStore([file], 60_000);
    const reloader = new ConfigReloader(agent, {
      store,
      initial: await store.read(),
      agentName: 'a1',
      sys: {},
      logger,
      plugins: { pluginsPath: [] },
      // the check's view: this host is 10.9.9.9 only, localhost resolves to 10.1.1.1, collector-7 does not resolve
      // (the real source still binds localhost)
      addressCheck: {
        localAddresses: () => ['10.9.9.9'],
        lookup: (h) => (h === 'collector-7' ? Promise.reject(new Error('ENOTFOUND')) : Promise.resolve(['10.1.1.1'])),
      },
    });
    const next = base(port, 'a1.sinks.k1.type = avro\na1.sinks.k1.hostname = collector-7\na1.sinks.k1.port = 4545');
    fs.writeFileSync(
      file,
      next.replace('a1.sinks.k1.type = null\n', '').replace('bind = 127.0.0.1', 'bind = localhost'),
    );
    await reloader.reload('test');
    assert.equal(reloader.status.status, 'ok', JSON.stringify(reloader.status.issues));
    const bind = lines.find((l) => l.key === 'a1.sources.r1.bind');
    assert.ok(bind, `the bind address is reported: ${JSON.stringify(lines)}`);
    assert.equal(bind.level, 'error');
    assert.match(bind.message, /'localhost' resolves to 10\.1\.1\.1, not an address of this host/);
    const hop = lines.find((l) => l.key === 'a1.sinks.k1.hostname');
    assert.ok(hop, `the next hop is reported: ${JSON.stringify(lines)}`);
    assert.equal(hop.level, 'warn');
    assert.match(hop.message, /collector-7/);
  } finally {
    await agent.stop();
  }
});
