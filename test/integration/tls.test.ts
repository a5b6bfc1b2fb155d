/**
 * One TLS vocabulary, end to end on loopback: key stores in every format on every server (a JKS keystore made
 * with Java 17 keytool now serves http and syslogtcp too), PEM files under the one spelling, old spellings,
 * trust stores in every format for the client, mutual TLS, avro's sslHandshakeTimeout, refusals that name the
 * file. Certificates are throwaway, generated per run with openssl and keytool.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import avroSinkDef, { type AvroSink } from '../../src/sinks/avro.js';
import { runAvroClient } from '../../src/cli/commands/avro-client.js';
import { configFromText } from '../../src/config/load.js';
import { AgentError } from '../../src/core/errors.js';
import { makeEvent } from '../../src/core/event.js';
import { systemClock } from '../../src/core/clock.js';
import { KeystoreError, loadClientTls, loadServerTls, resolveTls } from '../../src/net/tls/index.js';
import { sinkCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import type { Agent } from '../../src/runtime/agent.js';
import type { Channel } from '../../src/contract/index.js';
import { optionsFor, startAgent } from '../helpers/agent.js';
import { waitFor } from '../helpers/wait.js';

const haveTools = spawnSync('openssl', ['version']).status === 0 && spawnSync('keytool', ['-help']).status === 0;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'flume-tls-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const f = (n: string) => path.join(tmp, n);
const signal = new AbortController().signal;
const LO = '127.0.0.1';
const PW = 'secret';
/** Server keys: TLS with a key store. */
const withStore = (file: string) => ({ ssl: 'true', keystore: f(file), 'keystore-password': PW });
const avroOn = (props: Record<string, string>) => ({ type: 'avro', bind: LO, port: '0', ...props });
const httpOn = (props: Record<string, string>) => ({ type: 'http', bind: LO, port: '0', ...props });

const inst = <T>(r: unknown): T => (r as { sup?: { instance: T } }).sup?.instance ?? (r as { instance: T }).instance;
/** The bound port of a source started on port 0. */
const portOf = (a: Agent, name: string): number => {
  const s = inst<{ port?: number; ports?: number[] }>(a.sources.get(name));
  return s.ports?.[0] ?? s.port!;
};
const channel = (a: Agent): Channel => inst<Channel>(a.channels.get('c1'));

function agentText(sources: Record<string, Record<string, string>>): string {
  const lines = ['a1.channels = c1', 'a1.channels.c1.type = memory', `a1.sources = ${Object.keys(sources).join(' ')}`];
  for (const [name, props] of Object.entries(sources)) {
    lines.push(`a1.sources.${name}.channels = c1`);
    for (const [k, v] of Object.entries(props)) lines.push(`a1.sources.${name}.${k} = ${v}`);
  }
  return lines.join('\n');
}

function keytool(...args: string[]): void {
  execFileSync('keytool', ['-noprompt', ...args], { stdio: 'ignore' });
}

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** POSTs one JSON event over https, trusting `ca`; resolves with the status code. */
function httpsPost(port: number, body: string, ca: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: LO, port, method: 'POST', path: '/', ca }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(JSON.stringify([{ body }]));
  });
}

/** Sends one syslog line over TLS, trusting `ca`. */
function syslogTls(port: number, line: string, ca: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: LO, port, ca }, () => s.end(line, () => resolve()));
    s.on('error', reject);
  });
}

async function bodies(ch: Channel, n: number): Promise<string[]> {
  await waitFor(() => (ch.size() ?? 0) >= n, 5000, `${n} events`);
  const tx = ch.begin();
  const evs = await tx.take(1000);
  await tx.commit();
  return evs.map((e) => e.body.toString()).sort();
}

function makeSink(props: Record<string, string>): AvroSink {
  const ctx = { name: 'k1', logger: silentLogger(), clock: systemClock, counters: sinkCounters('k1'), agentDir: tmp };
  const o = optionsFor(avroSinkDef, { hostname: LO, 'connect-timeout': '3000', ...props });
  return avroSinkDef.create(o, ctx) as AvroSink;
}

async function send(props: Record<string, string>, body: string): Promise<void> {
  const sink = makeSink(props);
  await sink.start();
  try {
    await sink.deliver([makeEvent(Buffer.from(body))], signal);
  } finally {
    await sink.close();
  }
}

describe('TLS', { skip: haveTools ? false : 'openssl or keytool not found' }, () => {
  let cert: Buffer;
  before(() => {
    const selfSigned = (key: string, crt: string, cn: string, san: string) =>
      openssl(
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        f(key),
        '-out',
        f(crt),
        '-days',
        '2',
        '-subj',
        `/CN=${cn}`,
        '-addext',
        `subjectAltName=${san}`,
      );
    selfSigned('key.pem', 'cert.pem', 'localhost', 'DNS:localhost,IP:127.0.0.1');
    // a certificate that names another host only (for host name verification)
    selfSigned('other-key.pem', 'other.pem', 'other.example', 'DNS:other.example');
    openssl('pkey', '-in', f('key.pem'), '-aes256', '-passout', `pass:${PW}`, '-out', f('key-enc.pem'));
    const pkcs12 = (out: string, ...args: string[]) =>
      openssl('pkcs12', '-export', '-in', f('cert.pem'), ...args, '-out', f(out), '-passout', `pass:${PW}`);
    pkcs12('ks.p12', '-inkey', f('key.pem'));
    pkcs12('ts-openssl.p12', '-nokeys');
    // Java 17 keytool: a real JKS key store, JKS and PKCS12 trust stores, a JCEKS store
    const convert = (out: string, type: string) =>
      keytool(
        '-importkeystore',
        '-srckeystore',
        f('ks.p12'),
        '-srcstoretype',
        'PKCS12',
        '-srcstorepass',
        PW,
        '-destkeystore',
        f(out),
        '-deststoretype',
        type,
        '-deststorepass',
        PW,
        '-destkeypass',
        PW,
      );
    convert('ks.jks', 'JKS');
    convert('ks.jceks', 'JCEKS');
    const trust = (out: string, type: string) =>
      keytool(
        '-importcert',
        '-alias',
        'ca',
        '-file',
        f('cert.pem'),
        '-keystore',
        f(out),
        '-storetype',
        type,
        '-storepass',
        PW,
      );
    trust('ts.jks', 'JKS');
    trust('ts-java.p12', 'PKCS12');
    assert.equal(fs.readFileSync(f('ks.jks')).readUInt32BE(0), 0xfeedfeed, 'keytool wrote a real JKS file');
    cert = fs.readFileSync(f('cert.pem'));
  });

  test('a JKS keystore made with Java 17 keytool serves TLS on http and syslogtcp (as on avro)', async () => {
    const store = { ...withStore('ks.jks'), 'keystore-type': 'JKS' };
    const a = await startAgent(
      agentText({
        h: httpOn(store),
        s: { type: 'syslogtcp', host: LO, port: '0', ...store },
        v: avroOn(store),
      }),
    );
    try {
      assert.equal(await httpsPost(portOf(a, 'h'), 'over https', cert), 200);
      await syslogTls(portOf(a, 's'), '<13>1 - h app - - - over syslog tls\n', cert);
      await send({ port: String(portOf(a, 'v')), ssl: 'true', sslCaCertificate: f('cert.pem') }, 'over avro tls');
      assert.deepEqual(await bodies(channel(a), 3), ['app - - - over syslog tls', 'over avro tls', 'over https']);
    } finally {
      await a.stop(1000);
    }
  });

  test('PEM under the one spelling: sslCertificate + sslKey (encrypted) on avro, http; sslCaCertificate', async () => {
    const pem = { ssl: 'true', sslCertificate: f('cert.pem'), sslKey: f('key-enc.pem'), 'keystore-password': PW };
    const text = agentText({ h: httpOn(pem), v: avroOn(pem) });
    assert.deepEqual(configFromText(text, { agent: 'a1', sys: {}, env: {} }).issues, [], 'no warning for the new keys');
    const a = await startAgent(text);
    try {
      assert.equal(await httpsPost(portOf(a, 'h'), 'pem https', cert), 200);
      await send({ port: String(portOf(a, 'v')), ssl: 'true', sslCaCertificate: f('cert.pem') }, 'pem avro');
      assert.deepEqual(await bodies(channel(a), 2), ['pem avro', 'pem https']);
    } finally {
      await a.stop(1000);
    }
  });

  test('old spellings warn and work: enableSSL keystorePassword ssl-cert/key ssl-ca ssl-verify-hostname', async () => {
    const text = agentText({
      h: httpOn({ enableSSL: 'true', keystore: f('ks.p12'), keystorePassword: PW }),
      v: avroOn({ ssl: 'true', 'ssl-cert': f('other.pem'), 'ssl-key': f('other-key.pem') }),
    });
    const issues = configFromText(text, { agent: 'a1', sys: {}, env: {} }).issues;
    const warnings = issues.map((i) => `${i.severity}: ${i.message}`);
    assert.deepEqual(warnings.sort(), [
      "warning: 'enableSSL' is an old spelling of 'ssl'",
      "warning: 'keystorePassword' is an old spelling of 'keystore-password'",
      "warning: 'ssl-cert' is an old spelling of 'sslCertificate'",
      "warning: 'ssl-key' is an old spelling of 'sslKey'",
    ]);
    const a = await startAgent(text);
    try {
      assert.equal(await httpsPost(portOf(a, 'h'), 'old http', cert), 200);
      const port = String(portOf(a, 'v'));
      // the avro source's certificate names other.example: trusted, but the host name 127.0.0.1 does not match
      const verified = send({ port, ssl: 'true', sslCaCertificate: f('other.pem') }, 'refused');
      await assert.rejects(verified, /other\.example|altnames|match/i);
      await send({ port, ssl: 'true', 'ssl-ca': f('other.pem'), 'ssl-verify-hostname': 'false' }, 'old avro');
      assert.deepEqual(await bodies(channel(a), 2), ['old avro', 'old http']);
    } finally {
      await a.stop(1000);
    }
  });

  test('a trust store in each format for the client, whatever truststore-type says; a bad password fails', async () => {
    const a = await startAgent(agentText({ v: avroOn(withStore('ks.p12')) }));
    try {
      const port = String(portOf(a, 'v'));
      const stores: Record<string, Record<string, string>> = {
        'JKS (keytool)': { truststore: f('ts.jks'), 'truststore-password': PW },
        'JKS without a password (no integrity check, as Java)': { truststore: f('ts.jks') },
        'PKCS12 (Java 17 keytool)': {
          truststore: f('ts-java.p12'),
          'truststore-password': PW,
          'truststore-type': 'JKS',
        },
        'PKCS12 (openssl)': { truststore: f('ts-openssl.p12'), 'truststore-password': PW },
        PEM: { truststore: f('cert.pem'), 'truststore-type': 'PKCS12' },
      };
      for (const [what, props] of Object.entries(stores)) await send({ port, ssl: 'true', ...props }, what);
      assert.equal((await bodies(channel(a), 5)).length, 5);
      const bad = makeSink({ port, ssl: 'true', truststore: f('ts-java.p12'), 'truststore-password': 'wrong' });
      await assert.rejects(
        bad.start(),
        (e: unknown) =>
          e instanceof KeystoreError &&
          e.code === 'FLUME_ERR_TLS_KEYSTORE' &&
          e.message.includes(f('ts-java.p12')) &&
          /truststore-password/.test(e.message),
      );
    } finally {
      await a.stop(1000);
    }
  });

  test('mutual TLS: a client certificate from a key store of any format, or from sslCertificate + sslKey', async () => {
    const key = fs.readFileSync(f('key.pem'));
    const server = tls.createServer({ key, cert, ca: cert, requestCert: true, rejectUnauthorized: true }, (s) =>
      s.end(s.authorized ? 'hello' : 'no'),
    );
    await new Promise<void>((r) => server.listen(0, LO, r));
    const port = (server.address() as net.AddressInfo).port;
    const hello = (props: Record<string, string>) =>
      new Promise<string>((resolve, reject) => {
        const o = optionsFor(avroSinkDef, {
          hostname: 'localhost',
          port: '1',
          ssl: 'true',
          sslCaCertificate: f('cert.pem'),
          ...props,
        });
        const opts = loadClientTls(resolveTls(o, 'client', {}), { label: 'test', host: 'localhost' });
        const s = tls.connect({ ...opts, host: LO, port });
        let got = '';
        s.on('data', (d: Buffer) => (got += d.toString()));
        s.on('end', () => resolve(got));
        s.on('error', reject);
      });
    try {
      assert.equal(await hello({ keystore: f('ks.jks'), 'keystore-password': PW }), 'hello');
      assert.equal(await hello({ keystore: f('ks.p12'), 'keystore-password': PW }), 'hello');
      const pem = { sslCertificate: f('cert.pem'), sslKey: f('key-enc.pem'), 'keystore-password': PW };
      assert.equal(await hello(pem), 'hello');
      // no client certificate: the server refuses the handshake
      await assert.rejects(hello({}));
    } finally {
      server.close();
    }
  });

  test('refusals name the file and the fix: JCEKS, missing file, wrong password, foreign key; a mismatch warns', () => {
    const load = (o: Record<string, unknown>, warn?: (m: string) => void) =>
      loadServerTls(resolveTls({ ssl: true, ...o }, 'server', {}), { label: 'http source r1', warn });
    const jceks = f('ks.jceks');
    const convert = `keytool -importkeystore -srckeystore ${jceks} -srcstoretype JCEKS -destkeystore ${f('ks.p12')}`;
    assert.throws(
      () => load({ keystore: jceks, 'keystore-password': PW }),
      (e: unknown) =>
        e instanceof AgentError &&
        e.code === 'FLUME_ERR_TLS_KEYSTORE' &&
        e.message.includes(convert) &&
        e.message.startsWith(`http source r1: keystore ${jceks} is a Java JCEKS store`),
    );
    assert.throws(
      () => load({ keystore: f('nope.jks'), 'keystore-password': 'x' }),
      (e: unknown) => e instanceof KeystoreError && e.message.includes(`cannot read keystore ${f('nope.jks')}`),
    );
    assert.throws(
      () => load({ keystore: f('ks.jks'), 'keystore-password': 'wrong' }),
      (e: unknown) =>
        e instanceof KeystoreError && e.message.includes(f('ks.jks')) && /wrong (keystore-)?password/.test(e.message),
    );
    assert.throws(() => load({ keystore: f('ks.jks') }), /needs keystore-password/);
    assert.throws(
      () => load({ sslCertificate: f('cert.pem'), sslKey: f('other-key.pem') }),
      (e: unknown) => e instanceof AgentError && e.code === 'FLUME_ERR_TLS_CONFIG' && /does not belong/.test(e.message),
    );
    const said: string[] = [];
    const mismatch = { keystore: f('ks.p12'), 'keystore-password': PW, 'keystore-type': 'PEM' };
    assert.ok(load(mismatch, (m) => said.push(m)).pfx);
    assert.deepEqual(said, [`keystore-type is PEM but ${f('ks.p12')} is a PKCS12 file; it is read as PKCS12`]);
  });

  test('sslHandshakeTimeout on the avro source: a client that never completes the handshake is dropped', async () => {
    const a = await startAgent(agentText({ v: avroOn({ ...withStore('ks.p12'), sslHandshakeTimeout: '300ms' }) }));
    try {
      const t0 = performance.now();
      const silent = net.connect(portOf(a, 'v'), LO);
      silent.resume();
      await new Promise<void>((r) => silent.once('close', () => r()));
      assert.ok(performance.now() - t0 < 5000, 'dropped by sslHandshakeTimeout, not readTimeout (30 s)');
      await waitFor(() => a.sources.get('v')!.counters.get('EventReadFail') >= 1, 3000, 'EventReadFail');
    } finally {
      await a.stop(1000);
    }
  });

  test('avro-client -P reads the same client keys (new and old spellings) against a TLS avro source', async () => {
    const a = await startAgent(agentText({ v: avroOn(withStore('ks.jks')) }));
    try {
      const port = portOf(a, 'v');
      const input = f('lines.txt');
      fs.writeFileSync(input, 'one\ntwo\n');
      for (const [name, key] of [
        ['new', 'sslCaCertificate'],
        ['old', 'ssl-ca'],
      ]) {
        const props = f(`${name}.properties`);
        fs.writeFileSync(
          props,
          `hosts = h1\nhosts.h1 = localhost:${port}\nssl = true\n${key} = ${f('cert.pem')}\n` +
            'include-protocols = TLSv1.2,TLSv1.3\n',
        );
        const err = {
          text: '',
          write(s: string) {
            err.text += s;
            return true;
          },
        };
        assert.equal(await runAvroClient({ rpcProps: props, filename: input, err }), 0, err.text);
        assert.equal(/old spelling of 'sslCaCertificate'/.test(err.text), name === 'old', err.text);
      }
      assert.equal((await bodies(channel(a), 4)).length, 4);
    } finally {
      await a.stop(1000);
    }
  });
});
