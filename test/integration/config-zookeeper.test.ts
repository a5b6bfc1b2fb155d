/**
 * Configuration from a real ZooKeeper 3.8 (Debian's), through the real CLI: the agent reads <base>/<agent> (chroot
 * in the connect string), applies what zkCli.sh writes as a diff, refuses an invalid configuration and a deleted
 * znode, starts from the on-disk cache when ZooKeeper is down at start or waits for it, and names the znode when it
 * is missing. Outages while running: config-zookeeper-outage.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, runCli, type AgentProcess } from '../helpers/cli.js';
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

describe('configuration from ZooKeeper', { skip: avail.skip }, () => {
  const zk = new ZooKeeperServer();
  const work = useStoreServer(zk, () => zk.start({ maxSessionTimeoutMs: 2000 }), 'flume-zk-agent-');

  test('changes made with zkCli.sh are applied as a diff; invalid and deleted versions are refused', async () => {
    const [p1, p2, mport] = [await freePort(), await freePort(), await freePort()];
    await zk.put('/chroot/flume/a1', netcatPipeline([p1]));
    const agent = agentOn(`${zk.connect}/chroot`, mport, work());
    try {
      await agent.waitForOutput(/Monitoring server listening/);
      assert.ok(await netcatAcks(p1));
      let s = await status(mport);
      assert.equal(s.config?.store, 'zookeeper');
      assert.equal(s.config?.location, `zookeeper ${zk.connect}/chroot znode /flume/a1`);
      assert.equal(s.config?.running?.version, 'znode version 0');
      assert.equal(s.config?.connection?.state, 'connected');

      // as an operator does it: zkCli.sh set <znode> "$(cat a1.properties)"
      zk.cli('set', '/chroot/flume/a1', netcatPipeline([p1, p2]));
      await waitFor(async () => (await runningVersion(mport)) === 'znode version 1', 15_000, 'version 1 applied');
      assert.match(agent.stdout, /Configuration reloaded kept=3 started=source.r2 stopped=-/);
      assert.ok(await netcatAcks(p2), 'the new source runs');

      await zk.put('/chroot/flume/a1', 'a1.sources = r1\na1.sources.r1.type = nope\n');
      await waitFor(async () => (await status(mport)).config?.refused?.version === 'znode version 2', 15_000);
      const h = await getJson(mport, '/health');
      assert.equal(h.code, 200, 'the running pipeline is healthy');
      assert.match(
        h.body.config.refused.issues.join('\n'),
        /zookeeper:\/flume\/a1:2: error: .*unknown source type 'nope'/,
      );
      assert.equal(h.body.config.running.version, 'znode version 1');
      assert.ok((await netcatAcks(p1)) && (await netcatAcks(p2)), 'the old pipeline keeps running');

      await zk.delete('/chroot/flume/a1');
      await waitFor(async () => (await status(mport)).config?.refused?.version === 'deleted', 15_000);
      assert.match(agent.stdout, /The configuration is gone from the store; the running configuration stays/);
      assert.ok(await netcatAcks(p2));

      await zk.put('/chroot/flume/a1', netcatPipeline([p1]));
      await waitFor(async () => (await runningVersion(mport)) === 'znode version 0', 15_000, 're-created znode');
      s = await status(mport);
      assert.deepEqual(
        s.sources.map((x) => x.name),
        ['r1'],
      );
      assert.equal(s.config?.refused, undefined);
    } finally {
      assert.equal(await agent.stop(), 0);
    }
    const v = runCli(['validate', '-n', 'a1', '-z', `${zk.connect}/chroot`]);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /Configuration of agent 'a1' \(zookeeper .* znode \/flume\/a1, znode version 0\) is valid/);
  });

  test('a missing znode is an error naming it: the agent exits 78, validate too', () => {
    const r = runCli(['agent', '-n', 'nobody', '-z', zk.connect, '-p', '/configs', '-Dflume.root.logger=WARN,console']);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /znode \/configs\/nobody does not exist on ZooKeeper 127\.0\.0\.1:\d+/);
    const v = runCli(['validate', '-n', 'nobody', '-z', zk.connect]);
    assert.equal(v.code, 78);
    assert.match(v.stderr, /znode \/flume\/nobody does not exist/);
  });

  test('the address checks run on a configuration from ZooKeeper: validate, --dryrun and the start-up log', async () => {
    const [p1, mport] = [await freePort(), await freePort()];
    await zk.put('/addr/a1', netcatPipeline([p1]).replace('bind = 127.0.0.1', 'bind = 192.0.2.1'));
    for (const cmd of [['validate'], ['agent', '--dryrun']]) {
      const r = runCli([...cmd, '-n', 'a1', '-z', zk.connect, '-p', '/addr']);
      assert.equal(r.code, 78, `${cmd.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /192\.0\.2\.1 is not an address of this host/);
    }
    const agent = agentOn(zk.connect, mport, work(), ['-p', '/addr']);
    try {
      await agent.waitForOutput(/192\.0\.2\.1 is not an address of this host/);
    } finally {
      await agent.stop();
    }
  });

  test('ZooKeeper down at start: the cached configuration runs, or the agent waits for ZooKeeper', async () => {
    const [p1, p2, mport] = [await freePort(), await freePort(), await freePort()];
    await zk.put('/flume/a4', netcatPipeline([p1], 'a4'));
    const proxy = new TcpProxy(() => zk.port);
    await proxy.start();
    const cwd = work();
    const first = agentOn(`127.0.0.1:${proxy.port}`, mport, cwd, [], 'a4');
    await first.waitForOutput(/Monitoring server listening/);
    assert.equal(await first.stop(), 0);
    const cacheFile = path.join(cwd, '.flume-ts', 'config-cache', 'a4.json');
    assert.equal(fs.statSync(cacheFile).mode & 0o777, 0o600);

    await proxy.cut();
    const cached = agentOn(`127.0.0.1:${proxy.port}`, mport, cwd, ['--store-timeout', '1'], 'a4');
    try {
      await cached.waitForOutput(/Configuration store unreachable; starting from the cached configuration/);
      await cached.waitForOutput(/Monitoring server listening/);
      assert.ok(await netcatAcks(p1), 'the cached pipeline runs');
      const s = await status(mport);
      assert.equal(s.config?.running?.fromCache, true);
      assert.equal(s.config?.cache, cacheFile);
      await zk.put('/flume/a4', netcatPipeline([p1, p2], 'a4'));
      await proxy.restore();
      await waitFor(async () => (await runningVersion(mport)) === 'znode version 1', 20_000, 'store version applied');
      assert.ok(await netcatAcks(p2));
      assert.equal((await status(mport)).config?.running?.fromCache, undefined);
    } finally {
      assert.equal(await cached.stop(), 0);
    }

    await proxy.cut();
    const waiting = agentOn(`127.0.0.1:${proxy.port}`, mport, cwd, ['--store-timeout', '1', '--no-config-cache'], 'a4');
    try {
      await waiting.waitForOutput(/Configuration store unreachable and no cached configuration; waiting for the store/);
      assert.doesNotMatch(waiting.stdout, /Agent started/);
      await proxy.restore();
      await waiting.waitForOutput(/Agent started/, 30_000);
      assert.ok(await netcatAcks(p2));
    } finally {
      assert.equal(await waiting.stop(), 0);
      await proxy.cut();
    }
  });
});
