/**
 * Configuration from a real etcd 3.4 (Debian's) over TLS, through the real CLI: the servers' CA given with
 * --etcd-cacert (https:// assumed), mutual TLS with --etcd-cert/--etcd-key, and refusals that say what is wrong
 * (an untrusted server, a missing client certificate). Certificates are throwaway, generated per run with openssl.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, runCli, tmpDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { agentStatus, EtcdServer, netcatAcks, netcatPipeline, storeAgent, storesMissing } from '../helpers/stores.js';

const avail = storesMissing();
const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, both signed by the CA; and a stranger CA. */
function makeCerts(dir: string): Record<string, string> {
  const f = (n: string) => path.join(dir, n);
  const ca = (name: string) =>
    openssl(
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.pem`),
    );
  ca('ca');
  ca('stranger');
  fs.writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n');
  fs.writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const [name, ext] of [
    ['server', 'server.ext'],
    ['client', 'client.ext'],
  ] as const) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      f(`${name}.key`),
      '-out',
      f(`${name}.csr`),
    );
    openssl(
      'x509',
      '-req',
      '-in',
      f(`${name}.csr`),
      '-CA',
      f('ca.pem'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      f(ext),
      '-out',
      f(`${name}.pem`),
    );
  }
  return Object.fromEntries(
    ['ca', 'stranger', 'server', 'client'].flatMap((n) => [
      [n, f(`${n}.pem`)],
      [`${n}Key`, f(`${n}.key`)],
    ]),
  );
}

describe(
  'configuration from etcd over TLS',
  { skip: avail.skip || (!haveOpenssl && 'openssl is not installed') },
  () => {
    const dir = tmpDir('flume-etcd-tls-');
    let certs: Record<string, string>;
    let etcd: EtcdServer;
    before(async () => {
      if (avail.missing) assert.fail(avail.missing);
      certs = makeCerts(dir);
      etcd = new EtcdServer({
        cert: certs.server!,
        key: certs.serverKey!,
        ca: certs.ca!,
        client: { cert: certs.client!, key: certs.clientKey! },
      });
      await etcd.start();
    });
    after(async () => {
      await etcd?.dispose();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    test('mutual TLS: the agent reads and watches with the CA and a client certificate; refusals are clear', async () => {
      const [p1, p2, mport] = [await freePort(), await freePort(), await freePort()];
      etcd.put('/flume/a1', netcatPipeline([p1]));
      const endpoint = `127.0.0.1:${etcd.port}`;
      const client = ['--etcd-cert', certs.client!, '--etcd-key', certs.clientKey!];

      const stranger = runCli([
        'validate',
        '-n',
        'a1',
        '--etcd',
        endpoint,
        '--etcd-cacert',
        certs.stranger!,
        ...client,
      ]);
      assert.notEqual(stranger.code, 0, 'a server signed by another CA is not trusted');
      assert.match(stranger.stderr, /etcd https:\/\/127\.0\.0\.1:\d+ \(key \/flume\/a1\)/);
      const noCert = runCli([
        'validate',
        '-n',
        'a1',
        '--etcd',
        endpoint,
        '--etcd-cacert',
        certs.ca!,
        '--store-timeout',
        '3',
      ]);
      assert.notEqual(noCert.code, 0, 'the server asks for a client certificate');
      const half = runCli(['validate', '-n', 'a1', '--etcd', endpoint, '--etcd-cert', certs.client!]);
      assert.equal(half.code, 64);
      assert.match(half.stderr, /--etcd-cert and --etcd-key go together/);

      const ok = runCli(['validate', '-n', 'a1', '--etcd', endpoint, '--etcd-cacert', certs.ca!, ...client]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /\(etcd https:\/\/127\.0\.0\.1:\d+ key \/flume\/a1, revision \d+\) is valid/);

      const cwd = tmpDir('flume-etcd-tls-agent-');
      const agent = storeAgent('a1', ['--etcd', endpoint, '--etcd-cacert', certs.ca!, ...client], mport, cwd);
      try {
        await agent.waitForOutput(/Monitoring server listening/);
        assert.ok(await netcatAcks(p1));
        await waitFor(async () => (await agentStatus(mport)).config?.connection?.state === 'connected', 10_000);
        etcd.put('/flume/a1', netcatPipeline([p1, p2]));
        const rev = etcd.revision();
        await waitFor(
          async () => (await agentStatus(mport)).config?.running?.version === `revision ${rev}`,
          15_000,
          'the change arrives over the TLS watch',
        );
        assert.ok(await netcatAcks(p2));
      } finally {
        assert.equal(await agent.stop(), 0);
        fs.rmSync(cwd, { recursive: true, force: true });
      }
    });
  },
);
