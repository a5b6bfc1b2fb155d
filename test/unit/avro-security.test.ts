/** ipFilterRules (Netty PatternRule semantics), TLS protocol/cipher mapping, key/trust store reading, config checks. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ipFilter, parseIpFilterRules } from '../../src/net/ip-filter.js';
import {
  cipherList,
  keyMaterial,
  opensslCipherName,
  protocolRange,
  readJks,
  sniffStore,
  trustedCertificates,
} from '../../src/net/tls/index.js';
import avroSource from '../../src/sources/avro.js';
import avroSink from '../../src/sinks/avro.js';
import { componentOptions } from '../../src/config/validate/index.js';

test('ipFilterRules: first match wins, no match allows, globs, IPv4-mapped addresses, name:localhost', async () => {
  const f = ipFilter(parseIpFilterRules('allow:ip:127.0.0.1, deny:ip:127.*, allow:ip:10.0.?.5,deny:ip:10.*'));
  assert.equal(f('127.0.0.1'), true);
  assert.equal(f('::ffff:127.0.0.1'), true);
  assert.equal(f('127.0.0.2'), false);
  assert.equal(f('10.0.1.5'), true);
  assert.equal(f('10.0.12.5'), false);
  assert.equal(f('192.168.1.1'), true, 'no rule matched: allowed (Netty IpFilterRuleHandler)');
  assert.equal(ipFilter(parseIpFilterRules('deny:ip:1.2.3.4'))('1x2y3z4'), true, 'dots are literal');
  const lookups: string[] = [];
  const named = ipFilter(parseIpFilterRules('allow:name:localhost,allow:name:*.example.com,deny:ip:*'), async (a) => {
    lookups.push(a);
    return a === '192.0.2.7' ? 'web.example.com' : a;
  });
  assert.equal(named('127.0.0.1'), true, 'name:localhost matches loopback without a lookup');
  assert.equal(await named('192.0.2.7'), true);
  assert.equal(await named('192.0.2.8'), false);
  assert.deepEqual(lookups, ['192.0.2.7', '192.0.2.8']);
  assert.throws(() => parseIpFilterRules('permit:ip:*'), /allow or deny/);
  assert.throws(() => parseIpFilterRules('allow:host:*'), /ip or name/);
  assert.throws(() => parseIpFilterRules('allow:ip'), /<allow\|deny>/);
});

test('config checks: ssl needs key material, ipFilter needs valid rules, unknown keys are named', () => {
  const src = (p: Record<string, string>) => componentOptions(avroSource, { bind: '0.0.0.0', port: '4141', ...p });
  assert.ok(src({}).options);
  assert.match(JSON.stringify(src({ ssl: 'true' }).issues), /neither keystore nor sslCertificate/);
  assert.match(JSON.stringify(src({ ipFilter: 'true' }).issues), /ipFilterRules is not set/);
  assert.match(JSON.stringify(src({ ipFilter: 'true', ipFilterRules: 'allow:ip' }).issues), /ipFilterRules/);
  assert.match(JSON.stringify(src({ 'compression-type': 'gzip' }).issues), /none, deflate/);
  assert.match(JSON.stringify(src({ threads: '4' }).issues), /warning/);
  const sink = componentOptions(avroSink, {
    hostname: 'h',
    port: '4141',
    'batch-size': '1000',
    'connect-timeout': '5000',
    'reset-connection-interval': '60',
  });
  assert.equal(sink.options!['batch-size'], 1000);
  assert.equal(sink.options!['connect-timeout'], 5000);
  assert.equal(sink.options!['reset-connection-interval'], 60_000);
  assert.match(
    JSON.stringify(componentOptions(avroSink, { hostname: 'h', port: '4141', 'compression-level': '10' }).issues),
    /maximum 9/,
  );
  assert.match(
    JSON.stringify(componentOptions(avroSink, { hostname: 'h', port: '4141', batchsize: '10' }).issues),
    /batch-size/,
  );
});

test('TLS protocol ranges and Java cipher names', () => {
  assert.deepEqual(protocolRange([], ['SSLv3']), { min: 'TLSv1.2', max: 'TLSv1.3' });
  assert.deepEqual(protocolRange(['TLSv1.2'], []), { min: 'TLSv1.2', max: 'TLSv1.2' });
  assert.deepEqual(protocolRange([], ['TLSv1.2']), { min: 'TLSv1.3', max: 'TLSv1.3' });
  assert.match(protocolRange(['TLSv1.2'], ['TLSv1.2']) as string, /no TLS version/);
  assert.match(protocolRange(['TLSv9'], []) as string, /unknown TLS protocol/);
  assert.equal(opensslCipherName('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'), 'ECDHE-RSA-AES128-GCM-SHA256');
  assert.equal(opensslCipherName('TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'), 'ECDHE-ECDSA-CHACHA20-POLY1305');
  assert.equal(opensslCipherName('TLS_RSA_WITH_AES_256_GCM_SHA384'), 'AES256-GCM-SHA384');
  assert.equal(opensslCipherName('TLS_AES_256_GCM_SHA384'), 'TLS_AES_256_GCM_SHA384');
  assert.equal(opensslCipherName('ECDHE-RSA-AES256-GCM-SHA384'), 'ECDHE-RSA-AES256-GCM-SHA384');
  assert.match((cipherList(['TLS_FOO_WITH_BAR'], []) as { problem: string }).problem, /no OpenSSL equivalent/);
});

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;
const haveKeytool = spawnSync('keytool', ['-help']).status === 0;

test(
  'stores: PEM, PKCS12 (key and cert-only), JKS with integrity and key decryption',
  { skip: haveOpenssl ? false : 'openssl not found' },
  (t) => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'avro-stores-'));
    t.after(() => fs.rmSync(d, { recursive: true, force: true }));
    const f = (n: string) => path.join(d, n);
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        f('key.pem'),
        '-out',
        f('cert.pem'),
        '-days',
        '2',
        '-subj',
        '/CN=test',
      ],
      { stdio: 'ignore' },
    );
    execFileSync(
      'openssl',
      ['pkcs12', '-export', '-in', f('cert.pem'), '-inkey', f('key.pem'), '-out', f('ks.p12'), '-passout', 'pass:pw'],
      { stdio: 'ignore' },
    );
    execFileSync(
      'openssl',
      ['pkcs12', '-export', '-nokeys', '-in', f('cert.pem'), '-out', f('ts.p12'), '-passout', 'pass:pw'],
      { stdio: 'ignore' },
    );
    const certPem = fs.readFileSync(f('cert.pem'), 'utf8').trim();
    assert.equal(sniffStore(fs.readFileSync(f('cert.pem'))), 'pem');
    assert.equal(sniffStore(fs.readFileSync(f('ts.p12'))), 'pkcs12');
    assert.deepEqual(
      trustedCertificates(fs.readFileSync(f('ts.p12')), 'pw').map((s) => s.trim()),
      [certPem],
    );
    assert.throws(() => trustedCertificates(fs.readFileSync(f('ts.p12')), 'wrong'), /wrong truststore-password/);
    assert.ok(keyMaterial(fs.readFileSync(f('ks.p12')), 'pw').pfx);
    if (!haveKeytool) return;
    execFileSync(
      'keytool',
      [
        '-importkeystore',
        '-noprompt',
        '-srckeystore',
        f('ks.p12'),
        '-srcstoretype',
        'PKCS12',
        '-srcstorepass',
        'pw',
        '-destkeystore',
        f('ks.jks'),
        '-deststoretype',
        'JKS',
        '-deststorepass',
        'secret',
        '-destkeypass',
        'secret',
      ],
      { stdio: 'ignore' },
    );
    const jks = fs.readFileSync(f('ks.jks'));
    assert.equal(sniffStore(jks), 'jks');
    assert.throws(() => readJks(jks, 'nope'), /integrity check failed|wrong keystore-password/);
    const km = keyMaterial(jks, 'secret');
    assert.match(km.key!, /BEGIN PRIVATE KEY/);
    assert.equal(km.cert!.trim(), certPem);
    assert.deepEqual(
      trustedCertificates(jks, 'secret').map((s) => s.trim()),
      [certPem],
    );
  },
);
