/**
 * The one TLS vocabulary: every registered component that has TLS keys has one whole fragment and renders it
 * exactly as the fragment does; settings from keys and Flume's environment; problems; old spellings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KINDS, defineSource, type AnyDef, type OptionTable } from '../../src/contract/index.js';
import { defsOf } from '../../src/registry/lookup.js';
import { describeMarkdown, describeText } from '../../src/registry/docs.js';
import { componentOptions } from '../../src/config/validate/index.js';
import {
  resolveTls,
  tlsClientOptions,
  tlsOptionsFromProperties,
  tlsProblems,
  tlsServerOptions,
} from '../../src/net/tls/index.js';
import httpSource from '../../src/sources/http/index.js';
import avroSource from '../../src/sources/avro.js';
import avroSink from '../../src/sinks/avro.js';

const FRAGMENTS = { server: tlsServerOptions as OptionTable, client: tlsClientOptions as OptionTable };
const TLS_KEYS = new Set([...Object.keys(FRAGMENTS.server), ...Object.keys(FRAGMENTS.client)]);

/** describe lines of `keys` as `key type; default` + doc (the padding before the type depends on the table). */
function textRows(def: AnyDef, keys: string[]): string[] {
  const lines = describeText(def).split('\n');
  const out: string[] = [];
  for (const k of keys) {
    const i = lines.findIndex((l) => new RegExp(`^  ${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}  `).test(l));
    if (i < 0) continue; // an old spelling has no row of its own
    out.push(lines[i]!.replace(/^ {2}(\S+) +/, '$1 '), lines[i + 1]!.trim());
  }
  return out;
}

function mdRows(def: AnyDef, keys: string[]): string[] {
  return describeMarkdown(def)
    .split('\n')
    .filter((l) => keys.some((k) => l.startsWith(`| \`${k}\` |`)));
}

test('describe: every registered component with TLS keys spreads one whole fragment and renders it identically', () => {
  const users: Record<string, string[]> = { server: [], client: [] };
  for (const kind of KINDS) {
    for (const def of defsOf(kind)) {
      const keys = Object.keys(def.options);
      if (!keys.some((k) => TLS_KEYS.has(k))) continue;
      const name = `${kind} ${def.type}`;
      const side = 'sslHandshakeTimeout' in def.options ? 'server' : 'truststore' in def.options ? 'client' : undefined;
      assert.ok(side, `${name} has TLS keys but neither fragment: spread tlsServerOptions or tlsClientOptions`);
      const fragment = FRAGMENTS[side];
      const fkeys = Object.keys(fragment);
      assert.deepEqual(
        fkeys.filter((k) => !keys.includes(k)),
        [],
        `${name} lacks keys of the ${side} fragment`,
      );
      const other = [...TLS_KEYS].filter((k) => !(k in fragment) && keys.includes(k));
      assert.deepEqual(other, [], `${name} mixes keys of the other fragment`);
      const alone = defineSource({ type: `tls-${side}`, summary: '-', options: fragment, create: () => assert.fail() });
      const rowKeys = fkeys.filter((k) => fragment[k]!.renamedTo === undefined);
      assert.equal(textRows(alone, fkeys).length, 2 * rowKeys.length);
      assert.equal(mdRows(alone, fkeys).length, rowKeys.length);
      const differ = `${name}: describe lines differ from the ${side} fragment`;
      assert.deepEqual(textRows(def, fkeys), textRows(alone, fkeys), differ);
      assert.deepEqual(mdRows(def, fkeys), mdRows(alone, fkeys), `${name}: docs rows differ from the ${side} fragment`);
      users[side]!.push(name);
    }
  }
  // the components this rule is about today (later network components join by spreading a fragment)
  for (const s of ['source avro', 'source http', 'source syslogtcp', 'source multiport_syslogtcp']) {
    assert.ok(users.server!.includes(s), s);
  }
  assert.ok(users.client!.includes('sink avro'));
});

test('settings: Flume defaults, environment fallbacks, one list rule, keys win over the environment', () => {
  const server = resolveTls({ ssl: true }, 'server', {
    FLUME_SSL_KEYSTORE_PATH: '/etc/ks.jks',
    FLUME_SSL_KEYSTORE_PASSWORD: 'pw',
    FLUME_SSL_KEYSTORE_TYPE: 'pkcs12',
    FLUME_SSL_INCLUDE_PROTOCOLS: 'TLSv1.2,TLSv1.3',
    FLUME_SSL_EXCLUDE_PROTOCOLS: 'SSLv3, TLSv1.3',
    FLUME_SSL_INCLUDE_CIPHERSUITES: 'TLS_AES_128_GCM_SHA256 TLS_AES_256_GCM_SHA384',
    FLUME_SSL_EXCLUDE_CIPHERSUITES: 'x,y',
    FLUME_SSL_TRUSTSTORE_PATH: '/etc/ts.jks',
  });
  assert.deepEqual(server.keystore, { path: '/etc/ks.jks', password: 'pw', declaredType: 'pkcs12' });
  assert.equal(server.truststore, undefined, 'a server has no trust store');
  assert.deepEqual(server.includeProtocols, ['TLSv1.2', 'TLSv1.3']);
  assert.deepEqual(server.excludeProtocols, ['SSLv3', 'TLSv1.3']);
  assert.deepEqual(server.includeCiphers, ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384']);
  assert.deepEqual(server.excludeCiphers, ['x', 'y']);
  assert.equal(server.handshakeTimeoutMs, 10_000);
  const dflt = resolveTls({}, 'server', {});
  assert.deepEqual(dflt.excludeProtocols, ['SSLv3']);
  assert.equal(dflt.keystore, undefined);
  const own = resolveTls({ ssl: true, keystore: '/k.p12', 'include-protocols': ['TLSv1.3'] }, 'server', {
    FLUME_SSL_KEYSTORE_PATH: '/etc/ks.jks',
    FLUME_SSL_INCLUDE_PROTOCOLS: 'TLSv1.2',
  });
  assert.equal(own.keystore!.path, '/k.p12');
  assert.deepEqual(own.includeProtocols, ['TLSv1.3']);
  const client = resolveTls({ ssl: true }, 'client', {
    FLUME_SSL_KEYSTORE_PATH: '/etc/ks.jks',
    FLUME_SSL_TRUSTSTORE_PATH: '/etc/ts.jks',
    FLUME_SSL_TRUSTSTORE_PASSWORD: 'tp',
    FLUME_SSL_TRUSTSTORE_TYPE: 'JKS',
  });
  assert.equal(client.keystore, undefined, "the global key store is the servers', not a client certificate");
  assert.deepEqual(client.truststore, { path: '/etc/ts.jks', password: 'tp', declaredType: 'JKS' });
  assert.equal(client.verifyHostname, true);
  // the same rule in a key: spaces, commas or both
  const lists = { 'include-protocols': 'TLSv1.2, TLSv1.3', 'exclude-cipher-suites': 'a,b c' };
  const parsed = componentOptions(httpSource, { port: '0', ...lists });
  assert.deepEqual(parsed.options!['include-protocols'], ['TLSv1.2', 'TLSv1.3']);
  assert.deepEqual(parsed.options!['exclude-cipher-suites'], ['a', 'b', 'c']);
});

test('problems: the same checks and texts on every component', () => {
  const messages = (def: AnyDef, props: Record<string, string>) =>
    componentOptions(def, props)
      .issues.filter((i) => i.severity === 'error')
      .map((i) => i.message);
  const noKey = ['ssl = true but neither keystore nor sslCertificate + sslKey is set'];
  assert.deepEqual(messages(avroSource, { bind: 'localhost', port: '0', ssl: 'true' }), noKey);
  assert.deepEqual(messages(httpSource, { port: '0', ssl: 'true' }), noKey);
  const pair = ['sslCertificate and sslKey go together'];
  const sink = { hostname: 'h', port: '1' };
  assert.deepEqual(messages(httpSource, { port: '0', ssl: 'true', sslKey: '/k.pem' }), pair);
  assert.deepEqual(messages(avroSink, { ...sink, ssl: 'true', sslKey: '/k.pem' }), pair);
  const trustAll = messages(avroSink, { ...sink, 'trust-all-certs': 'true' });
  assert.deepEqual(trustAll, ['trust-all-certs has no effect without ssl = true']);
  const gap = { bind: 'localhost', port: '0', ssl: 'true', keystore: '/k', 'include-protocols': 'TLSv1 TLSv1.3' };
  assert.match(messages(avroSource, gap).join(), /not a contiguous range/);
  assert.match(
    messages(avroSink, { ...sink, ssl: 'true', 'include-cipher-suites': 'TLS_FOO_WITH_BAR' }).join(),
    /'TLS_FOO_WITH_BAR' has no OpenSSL equivalent/,
  );
  // a client needs no key material of its own
  assert.deepEqual(tlsProblems(resolveTls({ ssl: true }, 'client', {})), []);
});

test('old spellings: a warning naming the new key, the value used as the new key, on every component of a side', () => {
  const warnings = (def: AnyDef, props: Record<string, string>) => {
    const r = componentOptions(def, props);
    return { options: r.options, warnings: r.issues.filter((i) => i.severity === 'warning').map((i) => i.message) };
  };
  const avro = warnings(avroSource, { bind: 'h', port: '0', ssl: 'true', 'ssl-cert': '/c.pem', 'ssl-key': '/k.pem' });
  assert.deepEqual(avro.warnings, [
    "'ssl-cert' is an old spelling of 'sslCertificate'",
    "'ssl-key' is an old spelling of 'sslKey'",
  ]);
  assert.equal(avro.options!.sslCertificate, '/c.pem');
  const old = { enableSSL: 'true', keystore: '/k.p12', keystorePassword: 'pw', excludeProtocols: 'TLSv1.2' };
  const http = warnings(httpSource, { port: '0', ...old });
  assert.equal(http.warnings.length, 3);
  const o1 = http.options!;
  assert.deepEqual([o1.ssl, o1['keystore-password'], o1['exclude-protocols']], [true, 'pw', ['TLSv1.2']]);
  const sink = warnings(avroSink, {
    hostname: 'h',
    port: '1',
    ssl: 'true',
    'ssl-ca': '/ca.pem',
    'ssl-verify-hostname': 'false',
  });
  assert.deepEqual(sink.warnings, [
    "'ssl-ca' is an old spelling of 'sslCaCertificate'",
    "'ssl-verify-hostname' is an old spelling of 'sslVerifyHostname'",
  ]);
  assert.deepEqual([sink.options!.sslCaCertificate, sink.options!.sslVerifyHostname], ['/ca.pem', false]);
  // plain RPC client properties (avro-client -P) follow the same table
  const said: string[] = [];
  const props = new Map([
    ['ssl-ca', '/old.pem'],
    ['sslCaCertificate', '/new.pem'],
    ['include-protocols', 'TLSv1.2,TLSv1.3'],
    ['hosts', 'h1'],
  ]);
  const o = tlsOptionsFromProperties(tlsClientOptions, props, (m) => said.push(m));
  assert.equal(o.sslCaCertificate, '/new.pem');
  assert.deepEqual(o['include-protocols'], ['TLSv1.2', 'TLSv1.3']);
  assert.equal(o.sslVerifyHostname, true);
  assert.equal('hosts' in o, false);
  assert.deepEqual(said, ["'ssl-ca' is an old spelling of 'sslCaCertificate'; 'sslCaCertificate' is set too and wins"]);
  const yes = new Map([['trust-all-certs', 'yes']]);
  assert.throws(() => tlsOptionsFromProperties(tlsClientOptions, yes, () => {}), /trust-all-certs: 'yes'/);
});
