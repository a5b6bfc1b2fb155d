/**
 * Signals through the real CLI: a second SIGTERM/SIGINT while draining, or while waiting for a configuration store,
 * exits at once, cleanly, with status 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
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

test('a second SIGTERM while a read of ZooKeeper hangs: one line, exit 1', async () => {
  // a double of a stuck server: accepts the connection and never answers, so the read takes its whole timeout
  const sockets = new Set<net.Socket>();
  const silent = net.createServer((sock) => void sockets.add(sock.on('error', () => undefined)));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as net.AddressInfo).port;
  const cwd = tmpDir();
  const agent = new AgentProcess(
    [
      'agent',
      '-n',
      'a1',
      '-z',
      `127.0.0.1:${port}`,
      '--store-timeout',
      '60',
      '--no-config-cache',
      '-Dflume.root.logger=INFO,console',
    ],
    { cwd },
  );
  try {
    await agent.waitForOutput(/Reading the configuration from the store/);
    await new Promise<void>((r) => {
      const poll = () => (sockets.size ? r() : setTimeout(poll, 25));
      poll();
    });
    agent.proc.kill('SIGTERM');
    await agent.waitForOutput(/Stopping: waiting for the read of the configuration store to end/);
    agent.proc.kill('SIGTERM');
    const code = await Promise.race([agent.exited, new Promise((r) => setTimeout(() => r('hung'), 10_000))]);
    assert.equal(code, 1, `exit status\n${agent.stdout}\n${agent.stderr}`);
    const out = agent.stdout + agent.stderr;
    assert.doesNotMatch(out, /write after end|^\s+at /m, out);
    assert.equal(out.match(/Second signal/g)?.length, 1, out);
  } finally {
    await agent.stop('SIGKILL');
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  }
});
