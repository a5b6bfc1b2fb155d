/**
 * Configuration stores without servers: the command-line flags (one source, etcd-only flags, the password never on
 * the command line), key and endpoint rules, and the on-disk cache of the last good configuration. The stores
 * against real ZooKeeper and etcd servers: test/integration/config-{zookeeper,etcd}*.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { storeSpecFrom } from '../../src/cli/store-args.js';
import { ConfigCache, etcdEndpoints } from '../../src/config/stores/index.js';
import { storeKey } from '../../src/config/stores/common.js';
import { ZooKeeperStore } from '../../src/config/stores/zookeeper/index.js';
import type { ZkSessionFactory } from '../../src/config/stores/zookeeper/client.js';
import { silentLogger } from '../../src/telemetry/logger.js';

test('store flags: exactly one of -f, -z, --etcd; etcd-only flags need --etcd', () => {
  assert.throws(() => storeSpecFrom({}), /no configuration was provided: pass -f\/--conf-file/);
  assert.throws(() => storeSpecFrom({ 'conf-file': ['a'], zkConnString: 'h:1' }), /give one configuration source/);
  assert.throws(() => storeSpecFrom({ zkConnString: 'h:1', 'etcd-prefix': '/x' }), /--etcd-prefix need --etcd/);
  assert.throws(() => storeSpecFrom({ etcd: 'h:1', zkBasePath: '/x' }), /-p\/--zkBasePath needs -z/);
  assert.throws(() => storeSpecFrom({ etcd: 'h:1', 'store-timeout': '0' }), /--store-timeout: '0'/);
  assert.deepEqual(storeSpecFrom({ zkConnString: 'z1:2181,z2:2181/c', zkBasePath: '/p' }), {
    spec: { kind: 'zookeeper', connect: 'z1:2181,z2:2181/c', basePath: '/p' },
    timeoutMs: 10_000,
  });
  const f = storeSpecFrom({ 'conf-file': ['x.properties'], 'store-timeout': '2.5' });
  assert.deepEqual(f, { spec: { kind: 'file', files: [path.resolve('x.properties')] }, timeoutMs: 2500 });
});

test('store flags: the etcd password comes from a file or the environment, never the command line', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-stores-'));
  try {
    const pw = path.join(dir, 'pw');
    fs.writeFileSync(pw, 's3cret\nignored\n');
    const a = storeSpecFrom({ etcd: 'h:2379', 'etcd-user': 'u', 'etcd-password-file': pw }, {});
    assert.deepEqual(a.spec, { kind: 'etcd', endpoints: ['h:2379'], prefix: undefined, user: 'u', password: 's3cret' });
    const b = storeSpecFrom({ etcd: 'h:2379', 'etcd-user': 'u' }, { FLUME_ETCD_PASSWORD: 'env' });
    assert.equal((b.spec as { password?: string }).password, 'env');
    assert.throws(() => storeSpecFrom({ etcd: 'h:2379', 'etcd-password-file': pw }, {}), /needs --etcd-user/);
    assert.throws(
      () => storeSpecFrom({ etcd: 'h:2379', 'etcd-user': 'u', 'etcd-password-file': path.join(dir, 'no') }, {}),
      /--etcd-password-file: cannot read/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('keys: <base>/<agent>, /flume by default (also when empty), the base must be absolute', () => {
  assert.equal(storeKey(undefined, 'a1', '-p'), '/flume/a1');
  assert.equal(storeKey('', 'a1', '-p'), '/flume/a1');
  assert.equal(storeKey('/configs/', 'a1', '-p'), '/configs/a1');
  assert.throws(() => storeKey('flume', 'a1', '-p/--zkBasePath'), /-p\/--zkBasePath: 'flume' must start with '\/'/);
});

test('etcd endpoints: http:// assumed, https:// with TLS, host:port without a path', () => {
  assert.deepEqual(etcdEndpoints('h1:2379, h2:2379', false), ['http://h1:2379', 'http://h2:2379']);
  assert.deepEqual(etcdEndpoints('h1:2379,https://h2:2379', true), ['https://h1:2379', 'https://h2:2379']);
  assert.throws(() => etcdEndpoints(' , ', false), /give at least one endpoint/);
  assert.throws(() => etcdEndpoints('h1', false), /must be http\[s\]:\/\/host:port/);
  assert.throws(() => etcdEndpoints('http://h1:2379/v3', false), /with the port and no path/);
});

test('the configuration cache: saved 0600 and atomically, used only for the same agent and store', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-cache-'));
  try {
    const cache = new ConfigCache(path.join(dir, 'sub'), 'a1');
    assert.equal(cache.load('etcd x key /flume/a1'), undefined, 'no file: nothing to load, no problem');
    const doc = {
      parts: [{ name: 'etcd:/flume/a1', text: 'a1.sources = r1\n' }],
      version: 'revision 7',
      changeId: '7',
    };
    cache.save(doc, 'etcd x key /flume/a1');
    assert.equal(fs.statSync(cache.file).mode & 0o777, 0o600);
    assert.deepEqual(fs.readdirSync(path.dirname(cache.file)), ['a1.json'], 'no temporary file left');
    const back = cache.load('etcd x key /flume/a1');
    assert.ok(back && 'doc' in back);
    assert.deepEqual(back.doc, doc);
    const other = cache.load('zookeeper z znode /flume/a1');
    assert.ok(other && 'problem' in other);
    assert.match(other.problem, /holds the configuration of a1 from etcd x key \/flume\/a1, not from zookeeper/);
    assert.ok(new ConfigCache(path.join(dir, 'sub'), 'a2').load('etcd x key /flume/a1') === undefined);
    fs.writeFileSync(cache.file, '{not json');
    const bad = cache.load('etcd x key /flume/a1');
    assert.ok(bad && 'problem' in bad && /is not valid JSON/.test(bad.problem));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ZooKeeper: a session that never answers its connect request is given up for a new one', async () => {
  // a double of the client port: the first session hangs as a client does on a server that accepted the TCP
  // connection and never answered; the second one connects at once
  const opened: string[] = [];
  const openSession: ZkSessionFactory = () => {
    const n = opened.push('open');
    const handlers = new Map<string, () => void>();
    if (n > 1) setImmediate(() => handlers.get('connected')?.());
    return {
      on: (event, fn) => void handlers.set(event, fn),
      exists: () => Promise.resolve({ version: 0, mzxid: '01' }),
      getData: () => Promise.resolve({ data: Buffer.from('a1.sources = r1\n'), stat: { version: 4, mzxid: '01' } }),
      sessionTimeoutMs: () => 2000,
      close: () => void opened.push('close'),
    };
  };
  const store = new ZooKeeperStore({
    connect: 'zk:2181',
    agent: 'a1',
    logger: silentLogger(),
    spinDelayMs: 10,
    openSession,
  });
  const alive = setInterval(() => undefined, 1000); // the store's timers are unref'd; a real client's socket is not
  try {
    const doc = await store.read(10_000);
    assert.equal(doc.version, 'znode version 4');
    assert.deepEqual(opened, ['open', 'close', 'open']);
  } finally {
    clearInterval(alive);
    await store.close();
  }
});
