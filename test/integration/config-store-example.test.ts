/**
 * examples/config-stores/: the tail-to-Kafka agent whose configuration lives in etcd or ZooKeeper, and add-file.sh,
 * which adds a file and its topic live. Against real servers (Debian's etcd 3.4 and ZooKeeper 3.8): the script's
 * edit is applied by a running agent as a diff (the kafka sink swapped for a null sink, so that no broker is
 * needed), and the example as written validates from both stores once the kafka sink is registered (issue 14).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, ROOT, runCli, tmpDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { agentStatus, EtcdServer, storeAgent, storesMissing, ZooKeeperServer } from '../helpers/stores.js';
import { findDef } from '../../src/registry/lookup.js';

const avail = storesMissing();
const DIR = path.join(ROOT, 'examples', 'config-stores');
const EXAMPLE = fs.readFileSync(path.join(DIR, 'tail-to-kafka.properties'), 'utf8');
const SCRIPT = path.join(DIR, 'add-file.sh');
const kafka = findDef('sink', 'org.apache.flume.sink.kafka.KafkaSink')
  ? false
  : 'the kafka sink is not registered yet (issue 14): the example is validated once it is';

/** The example with its paths moved under `dir` and, without `keepKafka`, a null sink in place of the kafka sink. */
function localExample(dir: string, keepKafka = false): string {
  let text = EXAMPLE.replaceAll('/var/log/', `${dir}/log/`).replaceAll('/var/lib/flume-ts/', `${dir}/lib/`);
  if (!keepKafka)
    text = text
      .replace('org.apache.flume.sink.kafka.KafkaSink', 'null')
      .split('\n')
      .filter((l) => !/^logs\.sinks\.kafka\.(kafka|flumeBatchSize)/.test(l))
      .join('\n');
  return text;
}

describe('examples/config-stores: tail to Kafka, configured in etcd or ZooKeeper', { skip: avail.skip }, () => {
  const etcd = new EtcdServer();
  const zk = new ZooKeeperServer();
  const dirs: string[] = [];
  const work = () => {
    const d = tmpDir('flume-store-example-');
    dirs.push(d);
    return d;
  };
  before(async () => {
    if (avail.missing) assert.fail(avail.missing);
    await Promise.all([etcd.start(), zk.start()]);
  });
  after(async () => {
    await Promise.all([etcd.dispose(), zk.dispose()]);
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  test('add-file.sh etcd: a running agent applies the new file group; the other groups resume from their positions', async () => {
    const dir = work();
    for (const d of ['log/nginx', 'log/myapp', 'log/payments']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    etcd.put('/flume/logs', localExample(dir));
    const mport = await freePort();
    const agent = storeAgent('logs', ['--etcd', etcd.endpoint], mport, dir);
    try {
      await agent.waitForOutput(/Monitoring server listening/);
      const before = (await agentStatus(mport)).config?.running?.version;
      const r = spawnSync(SCRIPT, ['etcd', 'payments', `${dir}/log/payments/payments.log`, 'payments'], {
        encoding: 'utf8',
        env: { ...process.env, ETCDCTL_ENDPOINTS: etcd.endpoint },
      });
      assert.equal(r.status, 0, r.stderr);
      await waitFor(
        async () => {
          const c = (await agentStatus(mport)).config;
          return c?.running?.version !== before && c?.refused === undefined;
        },
        15_000,
        'the edited configuration applied',
      );
      // the source restarts with the new group list and resumes the other groups from its position file
      assert.match(agent.stdout, /Configuration reloaded kept=2 started=source.tail stopped=source.tail/);
      assert.match(
        agent.stdout,
        /Taildir source started groups=".* payments=.*payments\\\\\.log".* positionsFrom=file/,
      );
      const text = etcd.ctl(['get', '--print-value-only', '/flume/logs']);
      assert.match(text, /^logs\.sources\.tail\.filegroups = nginx app payments$/m);
      assert.match(text, /^logs\.sources\.tail\.filegroups\.payments = .*\/log\/payments\/payments\\\\\.log$/m);
      assert.match(text, /^logs\.sources\.tail\.headers\.payments\.topic = payments$/m);
      // a second run with the same group changes nothing
      const again = spawnSync(SCRIPT, ['etcd', 'payments', `${dir}/log/payments/payments.log`, 'payments'], {
        encoding: 'utf8',
        env: { ...process.env, ETCDCTL_ENDPOINTS: etcd.endpoint },
      });
      assert.notEqual(again.status, 0);
      assert.match(again.stderr, /group payments already exists/);
      assert.equal(etcd.ctl(['get', '--print-value-only', '/flume/logs']), text);
    } finally {
      assert.equal(await agent.stop(), 0);
    }
  });

  test('add-file.sh zookeeper: edits the master copy and sets the znode (Flume layout)', async () => {
    const dir = work();
    const conf = path.join(dir, 'logs.properties');
    fs.writeFileSync(conf, localExample(dir));
    await zk.put('/flume/logs', fs.readFileSync(conf, 'utf8'));
    const r = spawnSync(SCRIPT, ['zookeeper', 'payments', '/var/log/payments/payments.log', 'payments'], {
      encoding: 'utf8',
      env: { ...process.env, ZK: zk.connect, CONF: conf, ZKCLI: '/usr/share/zookeeper/bin/zkCli.sh' },
    });
    assert.equal(r.status, 0, r.stderr);
    const v = runCli(['validate', '-n', 'logs', '-z', zk.connect, '-p', '/flume']);
    assert.equal(v.code, 0, v.stderr + v.stdout);
    assert.match(v.stdout, /znode version 1\) is valid/);
    assert.match(fs.readFileSync(conf, 'utf8'), /^logs\.sources\.tail\.headers\.payments\.topic = payments$/m);
  });

  test('the example as written validates from etcd and from ZooKeeper', { skip: kafka }, async () => {
    const dir = work();
    const text = localExample(dir, true);
    etcd.put('/examples/logs', text);
    await zk.put('/examples/logs', text);
    for (const store of [
      ['--etcd', etcd.endpoint, '--etcd-prefix', '/examples'],
      ['-z', zk.connect, '-p', '/examples'],
    ]) {
      const v = runCli(['validate', '-n', 'logs', ...store]);
      assert.equal(v.code, 0, `${store[0]}: ${v.stderr}${v.stdout}`);
    }
  });
});
