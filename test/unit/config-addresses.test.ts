/** Addresses checked before start: a bind address of another host is an error, a name not resolving a warning. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAddresses } from '../../src/config/addresses.js';
import { configFromText } from '../../src/config/load.js';

function plan(bind: string, hostname = '127.0.0.1') {
  const text = `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = ${bind}
a1.sources.r1.port = 1
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = avro
a1.sinks.k1.hostname = ${hostname}
a1.sinks.k1.port = 2
a1.sinks.k1.channel = c1
`;
  const r = configFromText(text, { agent: 'a1', sys: {}, env: {}, file: 'test.properties' });
  assert.ok(r.plan, JSON.stringify(r.issues));
  return r.plan;
}

const opts = {
  localAddresses: () => ['127.0.0.1', '10.0.0.5', '::1', 'fe80::1'],
  lookup: (h: string) => {
    const known: Record<string, string[]> = { me: ['10.0.0.5'], other: ['10.9.9.9'], collector: ['10.1.1.1'] };
    const a = known[h];
    return a ? Promise.resolve(a) : Promise.reject(Object.assign(new Error('nope'), { code: 'ENOTFOUND' }));
  },
};

test('bind: wildcard, loopback, a local address or a name of this host pass; nothing else is checked twice', async () => {
  for (const b of ['0.0.0.0', '::', '127.0.0.1', '127.0.1.1', '10.0.0.5', 'me']) {
    assert.deepEqual(await checkAddresses(plan(b), opts), [], b);
  }
});

test('bind: an address or a name of another host is an error; a name that does not resolve a warning', async () => {
  const [ip] = await checkAddresses(plan('192.0.2.1'), opts);
  assert.equal(ip!.severity, 'error');
  assert.equal(ip!.key, 'a1.sources.r1.bind');
  assert.match(ip!.message, /192\.0\.2\.1 is not an address of this host/);
  const [other] = await checkAddresses(plan('other'), opts);
  assert.equal(other!.severity, 'error');
  assert.match(other!.message, /'other' resolves to 10\.9\.9\.9, not an address of this host/);
  const [master] = await checkAddresses(plan('master'), opts);
  assert.equal(master!.severity, 'warning');
  assert.match(master!.message, /host name 'master' does not resolve \(ENOTFOUND\)/);
  assert.match(master!.hint!, /the source will retry until it does/);
});

test("a sink's next hop that does not resolve is a warning; one that answers too slowly counts as not resolving", async () => {
  const [w] = await checkAddresses(plan('0.0.0.0', 'colector'), opts);
  assert.equal(w!.severity, 'warning');
  assert.equal(w!.key, 'a1.sinks.k1.hostname');
  assert.deepEqual(await checkAddresses(plan('0.0.0.0', 'collector'), opts), []);
  const slow = await checkAddresses(plan('0.0.0.0', 'slow'), {
    ...opts,
    timeoutMs: 50,
    lookup: () => new Promise<string[]>(() => {}),
  });
  assert.match(slow[0]!.message, /does not resolve \(ETIMEOUT\)/);
});
