/**
 * Configuration from a real ZooKeeper 3.8 (Debian's) while ZooKeeper goes away, through the real CLI: the agent keeps
 * running when cut off (through a proxy) or when ZooKeeper is killed, applies a change made during the outage on
 * reconnection, and opens a new session after an expiry. The rest is in config-zookeeper.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, type AgentProcess } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import {
  agentStatus as status,
  getJson,
  netcatAcks,
  netcatPipeline,
  storeAgent,
  storesMissing,
  runningVersion,
  useStoreServer,
  TcpProxy,
  ZooKeeperServer,
} from '../helpers/stores.js';

const avail = storesMissing();

function agentOn(connect: string, mport: number, cwd: string, extra: string[] = [], name = 'a1'): AgentProcess {
  return storeAgent(name, ['-z', connect], mport, cwd, extra);
}

describe('configuration from ZooKeeper, outages', { skip: avail.skip }, () => {
  const zk = new ZooKeeperServer();
  const work = useStoreServer(zk, () => zk.start({ maxSessionTimeoutMs: 2000 }), 'flume-zk-agent-');

  test('cut off from ZooKeeper: the pipeline flows, a change made meanwhile applies, an expired session is replaced', async () => {
    const [p1, p2, mport] = [await freePort(), await freePort(), await freePort()];
    await zk.put('/flume/a2', netcatPipeline([p1], 'a2'));
    const proxy = new TcpProxy(() => zk.port);
    await proxy.start();
    const agent = agentOn(`127.0.0.1:${proxy.port}`, mport, work(), [], 'a2');
    try {
      await agent.waitForOutput(/Monitoring server listening/);
      await waitFor(async () => (await status(mport)).config?.connection?.state === 'connected', 10_000);
      const sessions = await zk.sessions(); // the agent's and the test writer's
      await proxy.cut();
      await agent.waitForOutput(/ZooKeeper connection lost; reconnecting/);
      assert.ok(await netcatAcks(p1), 'the pipeline flows without ZooKeeper');
      const h = await getJson(mport, '/health');
      assert.equal(h.code, 200);
      assert.equal(h.body.config.connection.state, 'disconnected');
      await zk.put('/flume/a2', netcatPipeline([p1, p2], 'a2'));
      // the server forgets the agent's session after its timeout (2 s here)
      await waitFor(async () => (await zk.sessions()) < sessions, 15_000, 'the agent session expired on the server');
      await proxy.restore();
      await agent.waitForOutput(/ZooKeeper session expired; opening a new session/, 15_000);
      await waitFor(async () => (await runningVersion(mport)) === 'znode version 1', 15_000, 'change applied');
      assert.ok(await netcatAcks(p2));
      assert.equal((await status(mport)).config?.connection?.state, 'connected');
    } finally {
      assert.equal(await agent.stop(), 0);
      await proxy.cut();
    }
  });

  test('ZooKeeper killed and restarted: the pipeline keeps flowing and the next change applies', async () => {
    const [p1, p2, mport] = [await freePort(), await freePort(), await freePort()];
    await zk.put('/flume/a3', netcatPipeline([p1], 'a3'));
    const agent = agentOn(zk.connect, mport, work(), [], 'a3');
    try {
      await agent.waitForOutput(/Monitoring server listening/);
      await zk.stop('SIGKILL');
      await agent.waitForOutput(/ZooKeeper connection lost/);
      assert.ok(await netcatAcks(p1));
      await zk.start({ maxSessionTimeoutMs: 2000 });
      await waitFor(
        async () => (await status(mport)).config?.connection?.state === 'connected',
        20_000,
        'reconnect',
      ).catch((err: Error) => {
        throw new Error(`${err.message}\n${agent.stdout}${agent.stderr}`);
      });
      await zk.put('/flume/a3', netcatPipeline([p1, p2], 'a3'));
      await waitFor(async () => (await runningVersion(mport)) === 'znode version 1', 15_000, 'change applied');
      assert.ok(await netcatAcks(p2));
    } finally {
      assert.equal(await agent.stop(), 0);
    }
  });
});
