/** Signals through the real CLI: a second SIGTERM/SIGINT while draining exits at once, cleanly, with status 1. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentProcess, freePort, tcpExchange, tmpDir, writeConfig } from '../helpers/cli.js';

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  test(`a second ${sig} while a dead sink holds the drain: one line, exit 1, no stack trace`, async () => {
    const dir = tmpDir();
    const [port, dead] = [await freePort(), await freePort()];
    const conf = writeConfig(
      dir,
      [
        'a1.sources = r1',
        'a1.channels = c1',
        'a1.sinks = k1',
        'a1.sources.r1.type = netcat',
        'a1.sources.r1.bind = 127.0.0.1',
        `a1.sources.r1.port = ${port}`,
        'a1.sources.r1.channels = c1',
        'a1.channels.c1.type = memory',
        'a1.sinks.k1.type = avro',
        'a1.sinks.k1.hostname = 127.0.0.1',
        `a1.sinks.k1.port = ${dead}`,
        'a1.sinks.k1.channel = c1',
      ].join('\n'),
    );
    const agent = AgentProcess.agent(conf);
    try {
      await agent.waitForOutput(/Agent started/);
      const reply = await tcpExchange(port, 'a\nb\nc\n', { until: (r) => r === 'OK\nOK\nOK\n' });
      assert.equal(reply, 'OK\nOK\nOK\n');
      await agent.waitForOutput(/Sink delivery failed/);
      agent.proc.kill(sig);
      await agent.waitForOutput(/Stopping: intake stopped/);
      agent.proc.kill(sig);
      const code = await Promise.race([agent.exited, new Promise((r) => setTimeout(() => r('hung'), 10_000))]);
      assert.equal(code, 1, `exit status\n${agent.stdout}\n${agent.stderr}`);
      const out = agent.stdout + agent.stderr;
      assert.doesNotMatch(out, /write after end|^\s+at /m, out);
      assert.equal(out.match(/Second signal/g)?.length, 1, out);
    } finally {
      await agent.stop('SIGKILL');
    }
  });
}
