/**
 * The hdfs sink over WebHDFS, against the protocol-level WebHDFS DOUBLE of test/helpers/webhdfs-double.ts (no HDFS
 * can run here): the two-step CREATE and APPEND through the DataNode redirect, RENAME on roll, user.name and doas,
 * HA failover on StandbyException, retriable errors rolled back and retried, AccessControlException reported as
 * denied, gzip through WebHDFS, exact naming appending to an existing file, crash recovery of in-use files, and
 * swebhdfs over TLS. The last test runs against a real cluster when WEBHDFS_URL is set
 * (e.g. WEBHDFS_URL=webhdfs://namenode:9870/tmp WEBHDFS_USER=hdfs).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import hdfs, { HdfsSink } from '../../src/sinks/hdfs/index.js';
import { makeEvent } from '../../src/core/event.js';
import { AgentError } from '../../src/core/errors.js';
import { sinkCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import type { Clock } from '../../src/core/clock.js';
import { optionsFor } from '../helpers/agent.js';
import { WebHdfsDouble } from '../helpers/webhdfs-double.js';

const BASE_MS = Date.UTC(2024, 4, 1, 10, 0, 0);
const clock: Clock = { nowMs: () => BASE_MS, monotonicMs: () => performance.now() };
const signal = new AbortController().signal;
const dirs: string[] = [];
const doubles: WebHdfsDouble[] = [];
after(async () => {
  for (const d of doubles) await d.stop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function double(namenodes = 1): Promise<WebHdfsDouble> {
  const d = await WebHdfsDouble.start(namenodes);
  doubles.push(d);
  return d;
}

function sink(props: Record<string, string>, agentDir?: string) {
  const dir = agentDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'hdfs-webhdfs-'));
  dirs.push(dir);
  const counters = sinkCounters('k1');
  const s = new HdfsSink(optionsFor(hdfs, { 'hdfs.fileType': 'DataStream', 'hdfs.userName': 'flume', ...props }), {
    name: 'k1',
    logger: silentLogger(),
    clock,
    counters,
    agentDir: dir,
  });
  return { s, counters, dir };
}

const ev = (body: string, headers: Record<string, string> = {}) => makeEvent(body, headers);
const ops = (d: WebHdfsDouble) => d.calls.map((c) => `${c.server} ${c.method} ${c.op}${c.bytes ? ` ${c.bytes}` : ''}`);

test('two-step CREATE and APPEND through the DataNode redirect, RENAME on roll, user.name on every call', async () => {
  const d = await double();
  const { s } = sink({ 'hdfs.path': `webhdfs://${d.address()}/logs/%{app}`, 'hdfs.rollCount': '2' });
  await s.start();
  await s.deliver([ev('a', { app: 'web' }), ev('b', { app: 'web' }), ev('c', { app: 'web' })], signal);
  await s.close();
  assert.deepEqual(d.list('/logs'), [`/logs/web/FlumeData.${BASE_MS + 1}`, `/logs/web/FlumeData.${BASE_MS + 2}`]);
  assert.equal(d.text(`/logs/web/FlumeData.${BASE_MS + 1}`), 'a\nb\n');
  assert.equal(d.text(`/logs/web/FlumeData.${BASE_MS + 2}`), 'c\n');
  const seq = ops(d);
  // the first file: a check the final name is free, MKDIRS, CREATE (two steps, empty), APPEND (two steps, data)
  assert.deepEqual(seq.slice(0, 7), [
    'nn0 GET GETFILESTATUS',
    'nn0 PUT MKDIRS',
    'nn0 PUT CREATE',
    'dn PUT CREATE',
    'nn0 GET GETFILESTATUS',
    'nn0 PUT CREATE',
    'dn PUT CREATE',
  ]);
  assert.ok(seq.includes('nn0 POST APPEND') && seq.includes('dn POST APPEND 4'), seq.join('\n'));
  assert.equal(seq.filter((c) => c === 'nn0 PUT RENAME').length, 2);
  assert.ok(d.calls.every((c) => c.query['user.name'] === 'flume' && c.query.doas === undefined));
  assert.equal(d.calls.find((c) => c.op === 'CREATE')!.query.overwrite, 'false');
  assert.equal(d.calls.find((c) => c.op === 'CREATE')!.query.permission, '640');
});

test('proxyUser: doas with hdfs.userName, user.name without it', async () => {
  const d = await double();
  const a = sink({ 'hdfs.path': `webhdfs://${d.address()}/p`, 'hdfs.proxyUser': 'etl' });
  await a.s.start();
  await a.s.deliver([ev('x')], signal);
  await a.s.close();
  assert.ok(d.calls.every((c) => c.query['user.name'] === 'flume' && c.query.doas === 'etl'));
  d.calls.length = 0;
  const b = new HdfsSink(
    optionsFor(hdfs, {
      'hdfs.fileType': 'DataStream',
      'hdfs.path': `webhdfs://${d.address()}/q`,
      'hdfs.proxyUser': 'etl',
    }),
    { name: 'k2', logger: silentLogger(), clock, counters: sinkCounters('k2'), agentDir: a.dir },
  );
  await b.start();
  await b.deliver([ev('y')], signal);
  await b.close();
  assert.ok(d.calls.every((c) => c.query['user.name'] === 'etl' && c.query.doas === undefined));
});

test('HA: a standby NameNode sends the calls to the next one, and a failover mid-stream is followed', async () => {
  const d = await double(2);
  d.makeActive(1);
  const { s } = sink({
    'hdfs.path': `webhdfs://${d.address(0)}/ha`,
    'hdfs.namenodes': `${d.address(0)} ${d.address(1)}`,
    'hdfs.rollCount': '0',
  });
  await s.start();
  await s.deliver([ev('1')], signal);
  d.makeActive(0);
  await s.deliver([ev('2')], signal);
  await s.close();
  assert.equal(d.text(`/ha/FlumeData.${BASE_MS + 1}`), '1\n2\n');
  const nn = d.calls.filter((c) => c.server !== 'dn').map((c) => c.server);
  assert.equal(nn[0], 'nn0', 'tries the first NameNode');
  assert.equal(nn[1], 'nn1', 'then the active one');
  assert.ok(nn.lastIndexOf('nn0') > nn.indexOf('nn1'), 'back to nn0 after the failover');
});

test('RetriableException and a failing DataNode roll the batch back; the retry delivers it once', async () => {
  const d = await double();
  const { s, counters } = sink({ 'hdfs.path': `webhdfs://${d.address()}/r`, 'hdfs.rollCount': '0' });
  await s.start();
  await s.deliver([ev('first')], signal);
  d.failNextNameNodeCalls(1);
  await assert.rejects(s.deliver([ev('second')], signal), (e: unknown) => e instanceof AgentError && e.retriable);
  await s.deliver([ev('second')], signal);
  d.failNextDataNodeWrites(1);
  await assert.rejects(s.deliver([ev('third')], signal), /All datanodes are bad/);
  await s.deliver([ev('third')], signal);
  await s.close();
  const all = d
    .list('/r')
    .map((f) => d.text(f))
    .join('');
  assert.deepEqual(all.split('\n').filter(Boolean).sort(), ['first', 'second', 'third']);
  assert.ok(counters.get('ConnectionFailedCount') >= 2);
});

test('AccessControlException is FLUME_ERR_HDFS_DENIED (not retriable), naming the user', async () => {
  const d = await double();
  d.deniedUsers.add('flume');
  const { s } = sink({ 'hdfs.path': `webhdfs://${d.address()}/denied` });
  await s.start();
  await assert.rejects(
    s.deliver([ev('x')], signal),
    (e: unknown) =>
      e instanceof AgentError && e.code === 'FLUME_ERR_HDFS_DENIED' && !e.retriable && /user=flume/.test(e.message),
  );
  await s.close();
  assert.deepEqual(d.list('/'), []);
});

test('gzip through WebHDFS: one member per APPEND, the file reads back with gzip -d', async () => {
  const d = await double();
  const { s } = sink({
    'hdfs.path': `webhdfs://${d.address()}/gz`,
    'hdfs.fileType': 'CompressedStream',
    'hdfs.codeC': 'gzip',
    'hdfs.rollCount': '0',
  });
  await s.start();
  await s.deliver([ev('one'), ev('two')], signal);
  await s.deliver([ev('three')], signal);
  await s.close();
  const [f] = d.list('/gz');
  assert.equal(f, `/gz/FlumeData.${BASE_MS + 1}.gz`);
  const local = path.join(dirs[dirs.length - 1]!, 'copy.gz');
  fs.writeFileSync(local, d.files.get(f!)!);
  assert.equal(execFileSync('gzip', ['-dc', local], { encoding: 'utf8' }), 'one\ntwo\nthree\n');
  assert.equal(zlib.gunzipSync(d.files.get(f!)!).toString(), 'one\ntwo\nthree\n');
});

test('exact naming appends to an existing HDFS file; crash leftovers are renamed at start', async () => {
  const d = await double();
  d.dirs.add('/m');
  d.files.set('/m/app.log', Buffer.from('old\n'));
  const a = sink({
    'hdfs.path': `webhdfs://${d.address()}/m`,
    'hdfs.filePrefix': '%{basename}',
    'hdfs.fileNaming': 'exact',
  });
  await a.s.start();
  await a.s.deliver([ev('new', { basename: 'app.log' })], signal);
  await a.s.close();
  assert.equal(d.text('/m/app.log'), 'old\nnew\n');

  const b = sink({ 'hdfs.path': `webhdfs://${d.address()}/c`, 'hdfs.rollCount': '0' });
  await b.s.start();
  await b.s.deliver([ev('x')], signal);
  b.s.destroy();
  assert.deepEqual(d.list('/c'), [`/c/FlumeData.${BASE_MS + 1}.tmp`]);
  const c = sink({ 'hdfs.path': `webhdfs://${d.address()}/c` }, b.dir);
  await c.s.start();
  assert.deepEqual(d.list('/c'), [`/c/FlumeData.${BASE_MS + 1}`]);
  await c.s.close();
});

const haveOpenssl = spawnSync('openssl', ['version']).status === 0;

test(
  'swebhdfs: HTTPS with the shared TLS client keys (truststore)',
  { skip: !haveOpenssl && 'no openssl' },
  async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hdfs-tls-'));
    dirs.push(dir);
    const key = path.join(dir, 'key.pem');
    const cert = path.join(dir, 'cert.pem');
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
      ].concat(['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-days', '2']),
      { stdio: 'ignore' },
    );
    // a TLS front for the double's NameNode and DataNode: same handlers, HTTPS transport
    const d = await double();
    const tls = { key: fs.readFileSync(key), cert: fs.readFileSync(cert) };
    const fronts: https.Server[] = [];
    const proxy = (target: number) =>
      new Promise<number>((resolve) => {
        const srv = https.createServer(tls, (req, res) => {
          const chunks: Buffer[] = [];
          req.on('data', (c: Buffer) => chunks.push(c));
          req.on('end', () => {
            void fetch(`http://127.0.0.1:${target}${req.url}`, {
              method: req.method,
              body: req.method === 'GET' ? undefined : Buffer.concat(chunks),
              redirect: 'manual',
            }).then(async (r) => {
              const loc = r.headers.get('location');
              const headers: Record<string, string> = {};
              if (loc)
                headers.location = loc.replace(
                  /^http:\/\/127\.0\.0\.1:(\d+)/,
                  (_m, p: string) => `https://localhost:${ports.get(Number(p))}`,
                );
              res.writeHead(r.status, headers);
              res.end(Buffer.from(await r.arrayBuffer()));
            });
          });
        });
        fronts.push(srv);
        srv.listen(0, '127.0.0.1', () => resolve((srv.address() as { port: number }).port));
      });
    const nnPort = Number(d.address().split(':')[1]);
    const ports = new Map<number, number>();
    ports.set(d.dataNodePort, await proxy(d.dataNodePort));
    const nnFront = await proxy(nnPort);
    try {
      const { s } = sink({
        'hdfs.path': `swebhdfs://localhost:${nnFront}/secure`,
        sslCaCertificate: cert,
      });
      await s.start();
      await s.deliver([ev('over tls')], signal);
      await s.close();
      assert.equal(d.text(`/secure/FlumeData.${BASE_MS + 1}`), 'over tls\n');
      // without the CA the certificate is refused
      const bad = sink({ 'hdfs.path': `swebhdfs://localhost:${nnFront}/secure2` });
      await bad.s.start();
      await assert.rejects(bad.s.deliver([ev('x')], signal), /certificate/i);
      await bad.s.close();
    } finally {
      for (const f of fronts) {
        f.closeAllConnections();
        f.close();
      }
    }
  },
);

const REAL = process.env.WEBHDFS_URL;

test(
  'opt-in: a real WebHDFS (WEBHDFS_URL)',
  { skip: REAL ? false : 'set WEBHDFS_URL to run against a real cluster' },
  async () => {
    const base = REAL!.replace(/\/$/, '');
    const run = `flume-ts-test-${process.pid}-${Date.now()}`;
    const props: Record<string, string> = {
      'hdfs.path': `${base}/${run}`,
      'hdfs.rollCount': '2',
      'hdfs.fileType': 'CompressedStream',
      'hdfs.codeC': 'gzip',
    };
    if (process.env.WEBHDFS_USER) props['hdfs.userName'] = process.env.WEBHDFS_USER;
    const { s } = sink(props);
    await s.start();
    await s.deliver([ev('r1'), ev('r2'), ev('r3')], signal);
    await s.close();
    // read back through the same REST API: LISTSTATUS, then OPEN (redirect followed by fetch)
    const u = new URL(base.replace(/^swebhdfs:/, 'https:').replace(/^webhdfs:/, 'http:'));
    const user = process.env.WEBHDFS_USER ? `&user.name=${process.env.WEBHDFS_USER}` : '';
    const api = (p: string, op: string) =>
      `${u.protocol}//${u.host}/webhdfs/v1${u.pathname}/${run}${p}?op=${op}${user}`;
    const list = (await (await fetch(api('', 'LISTSTATUS'))).json()) as {
      FileStatuses: { FileStatus: { pathSuffix: string }[] };
    };
    const names = list.FileStatuses.FileStatus.map((f) => f.pathSuffix).sort();
    assert.equal(names.length, 2);
    assert.ok(
      names.every((n) => /^FlumeData\.\d+\.gz$/.test(n)),
      names.join(' '),
    );
    let text = '';
    for (const n of names)
      text += zlib.gunzipSync(Buffer.from(await (await fetch(api(`/${n}`, 'OPEN'))).arrayBuffer()));
    assert.equal(text, 'r1\nr2\nr3\n');
    await fetch(api('', 'DELETE') + '&recursive=true', { method: 'DELETE' });
  },
);
