/**
 * Configuration from a real etcd 3.4 (Debian's) while etcd goes away, through the real CLI: the agent keeps running
 * while cut off from etcd and applies on reconnection what changed meanwhile (also when the revision it watched from
 * was compacted away), and starts from the on-disk cache when etcd is down at start. The rest: config-etcd.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, type AgentProcess } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import {
  agentStatus as status,
  EtcdServer,
  getJson,
  netcatAcks,
  netcatPipeline,
  storeAgent,
  storesMissing,
  runningVersion,
  useStoreServer,
  TcpProxy,
} from '../helpers/stores.js';

const avail = storesMissing();

describe('configuration from etcd, outages', { skip: avail.skip }, () => {
  const etcd = new EtcdServer();
  const work = useStoreServer(etcd, () => etcd.start(), 'flume-etcd-agent-');
  const agentOn = (endpoint: string, mport: number, cwd: string, extra: string[] = [], name = 'a1'): AgentProcess =>
    storeAgent(name, ['--etcd', endpoint, ...extra], mport, cwd);

  test('cut off from etcd: the pipeline flows; changes made meanwhile apply, also past a compaction', async () => {
    const [p1, p2, p3, mport] = [await freePort(), await freePort(), await freePort(), await freePort()];
    etcd.put('/flume/a2', netcatPipeline([p1], 'a2'));
    const proxy = new TcpProxy(() => etcd.port);
    await proxy.start();
    const agent = agentOn(`127.0.0.1:${proxy.port}`, mport, work(), [], 'a2');
    try {
      await agent.waitForOutput(/Monitoring server listening/);
      await waitFor(async () => (await status(mport)).config?.connection?.state === 'connected', 10_000);
      await proxy.cut();
      await waitFor(async () => (await status(mport)).config?.connection?.state === 'disconnected', 15_000, 'lost');
      assert.ok(await netcatAcks(p1), 'the pipeline flows without etcd');
      assert.equal((await getJson(mport, '/health')).body.config.connection.state, 'disconnected');
      etcd.put('/flume/a2', netcatPipeline([p1, p2], 'a2'));
      let rev = etcd.revision();
      await proxy.restore();
      await waitFor(async () => (await runningVersion(mport)) === `revision ${rev}`, 30_000, 'change applied');
      assert.ok(await netcatAcks(p2));

      // the history the watch would resume from is compacted away while the agent is cut off
      await proxy.cut();
      await waitFor(async () => (await status(mport)).config?.connection?.state === 'disconnected', 15_000, 'lost');
      etcd.put('/flume/a2', netcatPipeline([p1, p3], 'a2'));
      for (let i = 0; i < 3; i++) etcd.put('/other', String(i));
      rev = etcd.revision();
      etcd.ctl(['compact', String(rev)]);
      await proxy.restore();
      await waitFor(async () => (await status(mport)).sources.length === 2 && (await netcatAcks(p3)), 30_000, 'p3');
      assert.equal((await status(mport)).config?.connection?.state, 'connected');
    } finally {
      assert.equal(await agent.stop(), 0);
      await proxy.cut();
    }
  });

  test('etcd down at start: the cached configuration runs until etcd answers', async () => {
    const [p1, p2, mport] = [await freePort(), await freePort(), await freePort()];
    etcd.put('/flume/a3', netcatPipeline([p1], 'a3'));
    const proxy = new TcpProxy(() => etcd.port);
    await proxy.start();
    const cwd = work();
    const cacheDir = path.join(cwd, 'cache');
    const first = agentOn(`127.0.0.1:${proxy.port}`, mport, cwd, ['--config-cache', cacheDir], 'a3');
    await first.waitForOutput(/Monitoring server listening/);
    assert.equal(await first.stop(), 0);
    const cacheFile = path.join(cacheDir, 'a3.json');
    assert.equal(fs.statSync(cacheFile).mode & 0o777, 0o600);

    await proxy.cut();
    const extra = ['--config-cache', cacheDir, '--store-timeout', '1'];
    const cached = agentOn(`127.0.0.1:${proxy.port}`, mport, cwd, extra, 'a3');
    try {
      await cached.waitForOutput(/Configuration store unreachable; starting from the cached configuration/, 30_000);
      await cached.waitForOutput(/Monitoring server listening/);
      assert.ok(await netcatAcks(p1), 'the cached pipeline runs');
      const s = await status(mport);
      assert.equal(s.config?.running?.fromCache, true);
      assert.equal(s.config?.cache, cacheFile);
      etcd.put('/flume/a3', netcatPipeline([p1, p2], 'a3'));
      const rev = etcd.revision();
      await proxy.restore();
      await waitFor(async () => (await runningVersion(mport)) === `revision ${rev}`, 30_000, 'store version applied');
      assert.ok(await netcatAcks(p2));
      assert.equal((await status(mport)).config?.running?.fromCache, undefined);
    } finally {
      assert.equal(await cached.stop(), 0);
      await proxy.cut();
    }
  });
});
