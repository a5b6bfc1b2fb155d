/**
 * Configuration from a real etcd 3.4 (Debian's), through the real CLI: the agent reads <prefix>/<agent>, applies what
 * etcdctl puts as a diff, refuses an invalid configuration and a deleted key, names a missing key, and authenticates
 * with a user and password. Outages: config-etcd-outage.test.ts; TLS: config-etcd-tls.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, runCli, type AgentProcess } from '../helpers/cli.js';
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
} from '../helpers/stores.js';

const avail = storesMissing();

describe('configuration from etcd', { skip: avail.skip }, () => {
  const etcd = new EtcdServer();
  const work = useStoreServer(etcd, () => etcd.start(), 'flume-etcd-agent-');
  const agentOn = (endpoint: string, mport: number, cwd: string, extra: string[] = [], name = 'a1'): AgentProcess =>
    storeAgent(name, ['--etcd', endpoint, ...extra], mport, cwd);

  test('changes put with etcdctl are applied as a diff; invalid and deleted versions are refused', async () => {
    const [p1, p2, mport] = [await freePort(), await freePort(), await freePort()];
    etcd.put('/configs/a1', netcatPipeline([p1]));
    const agent = agentOn(`127.0.0.1:${etcd.port}`, mport, work(), ['--etcd-prefix', '/configs']);
    try {
      await agent.waitForOutput(/Monitoring server listening/);
      assert.ok(await netcatAcks(p1));
      const s = await status(mport);
      assert.equal(s.config?.store, 'etcd');
      assert.equal(s.config?.location, `etcd ${etcd.endpoint} key /configs/a1`);
      await waitFor(async () => (await status(mport)).config?.connection?.state === 'connected', 10_000);

      etcd.put('/configs/a1', netcatPipeline([p1, p2]));
      const rev = etcd.revision();
      await waitFor(async () => (await runningVersion(mport)) === `revision ${rev}`, 15_000, 'new revision applied');
      assert.match(agent.stdout, /Configuration reloaded kept=3 started=source.r2 stopped=-/);
      assert.ok(await netcatAcks(p2), 'the new source runs');

      etcd.put('/configs/a1', 'a1.sources = r1\na1.sources.r1.type = nope\n');
      const bad = etcd.revision();
      await waitFor(async () => (await status(mport)).config?.refused?.version === `revision ${bad}`, 15_000);
      const h = await getJson(mport, '/health');
      assert.equal(h.code, 200, 'the running pipeline is healthy');
      assert.match(
        h.body.config.refused.issues.join('\n'),
        /etcd:\/configs\/a1:2: error: .*unknown source type 'nope'/,
      );
      assert.equal(h.body.config.running.version, `revision ${rev}`);
      assert.ok((await netcatAcks(p1)) && (await netcatAcks(p2)), 'the old pipeline keeps running');

      etcd.ctl(['del', '/configs/a1']);
      await waitFor(async () => (await status(mport)).config?.refused?.version === 'deleted', 15_000);
      assert.ok(await netcatAcks(p2));

      etcd.put('/configs/a1', netcatPipeline([p1]));
      const back = etcd.revision();
      await waitFor(async () => (await runningVersion(mport)) === `revision ${back}`, 15_000, 're-created key');
      assert.deepEqual(
        (await status(mport)).sources.map((x) => x.name),
        ['r1'],
      );
    } finally {
      assert.equal(await agent.stop(), 0);
    }
    const v = runCli(['validate', '-n', 'a1', '--etcd', etcd.endpoint, '--etcd-prefix', '/configs']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /Configuration of agent 'a1' \(etcd .* key \/configs\/a1, revision \d+\) is valid/);
  });

  test('a missing key is an error naming it: the agent exits 78, validate too', () => {
    const r = runCli(['agent', '-n', 'nobody', '--etcd', etcd.endpoint, '-Dflume.root.logger=WARN,console']);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /key \/flume\/nobody does not exist on etcd http:\/\/127\.0\.0\.1:\d+/);
    const v = runCli(['validate', '-n', 'nobody', '--etcd', etcd.endpoint]);
    assert.equal(v.code, 78);
    assert.match(v.stderr, /key \/flume\/nobody does not exist/);
  });

  test('--dryrun reads the key once with -c DIR settings: prints the plan and the store; no cache, no port', () => {
    const cwd = work();
    const conf = path.join(cwd, 'conf');
    fs.mkdirSync(conf);
    fs.writeFileSync(path.join(conf, 'flume-env.sh'), 'export JAVA_OPTS="-Xmx1g -Dnc.port=5999"\n');
    etcd.put('/dry/a1', netcatPipeline([1]).replace('.port = 1', '.port = ${sys:nc.port}'));
    const args = ['agent', '-n', 'a1', '--etcd', etcd.endpoint, '--etcd-prefix', '/dry', '-c', conf, '--dryrun'];
    const r = runCli(args, { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Configuration from: etcd .* key \/dry\/a1 \(revision \d+\)/);
    assert.match(r.stdout, /source r1: netcat -> channel c1 \(bind=127\.0\.0\.1 port=5999\)/);
    assert.match(r.stdout, /Configuration directory: .*read flume-env\.sh/);
    assert.ok(!fs.existsSync(path.join(cwd, '.flume-ts')), 'a dry run writes no configuration cache');
    assert.ok(!fs.existsSync(path.join(cwd, 'logs')));
    etcd.put('/dry/a1', 'a1.sources = r1\na1.sources.r1.type = nope\n');
    const bad = runCli(args, { cwd });
    assert.equal(bad.code, 78);
    assert.match(bad.stderr, /nothing would start[\s\S]*unknown source type 'nope'/);
    const missing = runCli([...args.slice(0, 2), 'nobody', ...args.slice(3)], { cwd });
    assert.equal(missing.code, 78);
    assert.match(missing.stderr, /key \/dry\/nobody does not exist/);
  });

  test('user and password: the agent authenticates; a wrong password is refused with a clear error', async () => {
    const [p1, mport] = [await freePort(), await freePort()];
    const auth = ['--user', 'root:rootpw'];
    etcd.put('/secure/a5', netcatPipeline([p1], 'a5'));
    etcd.ctl(['user', 'add', 'root:rootpw']);
    etcd.ctl(['user', 'add', 'flume:flumepw']);
    etcd.ctl(['role', 'add', 'flume-read']);
    etcd.ctl(['role', 'grant-permission', 'flume-read', 'read', '/secure/', '--prefix=true']);
    etcd.ctl(['user', 'grant-role', 'flume', 'flume-read']);
    etcd.ctl(['auth', 'enable']);
    const cwd = work();
    const pwFile = path.join(cwd, 'etcd-password');
    try {
      fs.writeFileSync(pwFile, 'wrong\n');
      const extra = ['--etcd-prefix', '/secure', '--etcd-user', 'flume', '--etcd-password-file', pwFile];
      const bad = runCli(['validate', '-n', 'a5', '--etcd', etcd.endpoint, ...extra]);
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /etcd http:\/\/127\.0\.0\.1:\d+ \(key \/secure\/a5\) refused the client/);

      fs.writeFileSync(pwFile, 'flumepw\n');
      const agent = agentOn(etcd.endpoint, mport, cwd, extra, 'a5');
      try {
        await agent.waitForOutput(/Monitoring server listening/);
        assert.ok(await netcatAcks(p1));
        await waitFor(async () => (await status(mport)).config?.connection?.state === 'connected', 10_000);
        etcd.put(
          '/secure/a5',
          netcatPipeline([p1], 'a5').replace('memory', 'memory\na5.channels.c1.capacity = 500'),
          auth,
        );
        await waitFor(async () => (await status(mport)).reload?.status === 'ok', 15_000, 'authenticated watch');
      } finally {
        assert.equal(await agent.stop(), 0);
      }
    } finally {
      etcd.ctl([...auth, 'auth', 'disable']);
    }
  });
});
