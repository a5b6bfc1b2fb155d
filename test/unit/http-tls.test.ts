import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import {
  cipherList,
  loadServerTls,
  opensslCipherName,
  protocolRange,
  resolveTls,
  tlsProblems,
} from '../../src/net/tls/index.js';
import { AgentError } from '../../src/core/errors.js';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-tls-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

const base = { ssl: true, 'exclude-protocols': ['SSLv3'], sslHandshakeTimeout: 10_000 };
const problems = (o: object, env: NodeJS.ProcessEnv = {}) => tlsProblems(resolveTls(o, 'server', env));
const load = (o: object) => loadServerTls(resolveTls({ ...base, ...o }, 'server', {}), { label: 'test' });

test('protocolRange: Java names to a Node min/max range; default TLSv1.2..TLSv1.3; gaps and unknowns refused', () => {
  assert.deepEqual(protocolRange([], ['SSLv3']), { min: 'TLSv1.2', max: 'TLSv1.3' });
  assert.deepEqual(protocolRange([], ['SSLv3', 'TLSv1.3']), { min: 'TLSv1.2', max: 'TLSv1.2' });
  assert.deepEqual(protocolRange(['TLSv1.1', 'TLSv1.2'], []), { min: 'TLSv1.1', max: 'TLSv1.2' });
  assert.match(protocolRange(['TLSv1', 'TLSv1.3'], []) as string, /contiguous/);
  assert.match(protocolRange(['TLSv9'], []) as string, /unknown/);
  assert.match(protocolRange(['TLSv1.2'], ['TLSv1.2']) as string, /no TLS version/);
});

test('cipher suites: Java/IANA names map to OpenSSL names; unknown ones are reported', () => {
  assert.equal(opensslCipherName('TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'), 'ECDHE-RSA-AES128-GCM-SHA256');
  assert.equal(opensslCipherName('TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256'), 'ECDHE-ECDSA-CHACHA20-POLY1305');
  assert.equal(opensslCipherName('TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384'), 'ECDHE-RSA-AES256-SHA384');
  assert.equal(opensslCipherName('TLS_RSA_WITH_AES_128_CBC_SHA'), 'AES128-SHA');
  assert.equal(opensslCipherName('TLS_AES_128_GCM_SHA256'), 'TLS_AES_128_GCM_SHA256');
  assert.equal(opensslCipherName('ECDHE-RSA-AES128-GCM-SHA256'), 'ECDHE-RSA-AES128-GCM-SHA256');
  assert.equal(opensslCipherName('TLS_FOO_WITH_BAR'), undefined);
  assert.equal(
    cipherList(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256'], ['TLS_RSA_WITH_AES_128_CBC_SHA']),
    'ECDHE-RSA-AES128-GCM-SHA256:!AES128-SHA',
  );
  assert.deepEqual(typeof cipherList(['NOPE_CIPHER'], []), 'object');
});

test('tlsProblems: ssl needs key material; PEM pair must be complete', () => {
  assert.deepEqual(problems({ ...base, ssl: false }), []);
  assert.match(problems(base)[0]!.message, /keystore/);
  assert.deepEqual(problems({ ...base, keystore: '/x.p12', 'keystore-password': 'p' }), []);
  assert.match(
    problems({ ...base, sslCertificate: '/c.pem' })
      .map((p) => p.message)
      .join(),
    /go together/,
  );
  // Flume's global environment settings fill in
  assert.deepEqual(problems(base, { FLUME_SSL_KEYSTORE_PATH: '/x.p12', FLUME_SSL_KEYSTORE_PASSWORD: 'p' }), []);
});

test('tlsServerOptions: PKCS12, PEM pair and PEM keystore load; wrong password and JKS files fail with a clear reason', () => {
  const key = path.join(tmp, 'key.pem');
  const cert = path.join(tmp, 'cert.pem');
  const p12 = path.join(tmp, 's.p12');
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
      key,
      '-out',
      cert,
      '-subj',
      '/CN=localhost',
      '-days',
      '2',
    ],
    { stdio: 'ignore' },
  );
  execFileSync('openssl', ['pkcs12', '-export', '-in', cert, '-inkey', key, '-out', p12, '-passout', 'pass:secret'], {
    stdio: 'ignore',
  });
  const o = load({ keystore: p12, 'keystore-password': 'secret' });
  assert.ok(o.pfx);
  assert.equal(o.minVersion, 'TLSv1.2');
  const pem = load({ sslCertificate: cert, sslKey: key });
  assert.ok(pem.cert && pem.key);
  const both = path.join(tmp, 'both.pem');
  fs.writeFileSync(both, Buffer.concat([fs.readFileSync(key), fs.readFileSync(cert)]));
  assert.ok(load({ keystore: both, 'keystore-type': 'PEM' }).cert);
  assert.throws(() => load({ keystore: p12, 'keystore-password': 'nope' }), /keystore-password/);
  const jks = path.join(tmp, 'old.jks');
  fs.writeFileSync(jks, Buffer.from([0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2]));
  assert.throws(
    () => load({ keystore: jks, 'keystore-password': 'x', 'keystore-type': 'JKS' }),
    (e: unknown) => e instanceof AgentError && /keytool -importkeystore/.test(e.message),
  );
  const missing = path.join(tmp, 'missing.p12');
  assert.throws(() => load({ keystore: missing, 'keystore-password': 'x' }), /cannot read keystore/);
});
