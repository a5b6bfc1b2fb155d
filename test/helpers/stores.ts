/**
 * Real configuration stores for tests, from Debian's packages (installed by .ci/run): a standalone ZooKeeper 3.8
 * (zookeeper) and a one-node etcd 3.4 (etcd-server, etcd-client), each on free loopback ports with a temporary data
 * directory that survives stop()/start() (to kill a server and bring it back with its data). Writes go through the
 * servers' own tools (zkCli.sh, etcdctl), independent of the client the agent uses. A TcpProxy between the agent and
 * a server lets a test cut the agent off while the server keeps running (changes during an outage, session expiry).
 *
 * When a server is not installed the tests fail with instructions; FLUME_TS_SKIP_STORES=1 skips them visibly.
 */
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { AgentProcess, freePort, ROOT, tmpDir } from './cli.js';
import type { StatusResponse } from '../../src/monitor/status-page/index.js';
import { waitFor } from './wait.js';

const ZK_JAR = '/usr/share/java/zookeeper.jar';
const ZK_CLI = '/usr/share/zookeeper/bin/zkCli.sh';

/** Why the store tests cannot run here (undefined when they can); `skip` when FLUME_TS_SKIP_STORES=1. */
export function storesMissing(): { skip: string | false; missing?: string } {
  const missing: string[] = [];
  if (!fs.existsSync(ZK_JAR) || !fs.existsSync(ZK_CLI)) missing.push('zookeeper');
  if (spawnSync('etcd', ['--version']).status !== 0) missing.push('etcd-server');
  if (spawnSync('etcdctl', ['version'], { env: { ...process.env, ETCDCTL_API: '3' } }).status !== 0)
    missing.push('etcd-client');
  if (missing.length === 0) return { skip: false };
  const text = `Debian packages missing: ${missing.join(' ')} (apt-get install ${missing.join(' ')}; .ci/run does)`;
  return process.env.FLUME_TS_SKIP_STORES
    ? { skip: `FLUME_TS_SKIP_STORES is set; ${text}` }
    : { skip: false, missing: text };
}

/**
 * Sends a four-letter-word command to ZooKeeper and resolves with its answer ('' when it cannot connect, or when it
 * does not answer within 3 s: a server still starting may accept the connection and never answer).
 */
function fourLetters(port: number, cmd: string): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(cmd));
    const t = setTimeout(() => s.destroy(), 3000);
    let out = '';
    s.setEncoding('utf8').on('data', (d: string) => (out += d));
    s.once('close', () => {
      clearTimeout(t);
      resolve(out);
    });
    s.once('error', () => resolve(''));
  });
}

/**
 * Kills `pid` when this test process dies without stopping it (a file timed out, a crash): a server must never
 * outlive its test. Polls once a second and ends by itself once either process is gone.
 */
export function watchdog(pid: number): void {
  const script = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${pid} 2>/dev/null; do sleep 1; done; kill -0 ${process.pid} 2>/dev/null || kill -9 ${pid} 2>/dev/null`;
  spawn('sh', ['-c', script], { stdio: 'ignore', detached: true }).unref();
}

abstract class Server {
  proc?: ChildProcess;
  output = '';
  readonly dir = tmpDir('flume-store-');

  protected launch(cmd: string, args: string[]): void {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    p.stdout!.setEncoding('utf8').on('data', (d: string) => (this.output = (this.output + d).slice(-20_000)));
    p.stderr!.setEncoding('utf8').on('data', (d: string) => (this.output = (this.output + d).slice(-20_000)));
    this.proc = p;
    watchdog(p.pid!);
  }

  /** Kills the server (SIGKILL by default: a crash) and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    this.proc = undefined;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill(signal);
    await gone;
  }

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

export class ZooKeeperServer extends Server {
  port = 0;

  /** Starts (or restarts, with the same data and port). `maxSessionTimeoutMs` caps the sessions clients get. */
  async start(o: { maxSessionTimeoutMs?: number } = {}): Promise<void> {
    this.port ||= await freePort();
    const cfg = path.join(this.dir, 'zoo.cfg');
    fs.writeFileSync(
      cfg,
      [
        'tickTime=250',
        `dataDir=${path.join(this.dir, 'data')}`,
        `clientPort=${this.port}`,
        'clientPortAddress=127.0.0.1',
        'admin.enableServer=false',
        'minSessionTimeout=500',
        `maxSessionTimeout=${o.maxSessionTimeoutMs ?? 4000}`,
        '4lw.commands.whitelist=srvr,ruok,mntr',
        '',
      ].join('\n'),
    );
    this.launch('java', [
      '-Xmx128m',
      '-cp',
      `${this.dir}:${ZK_JAR}`,
      'org.apache.zookeeper.server.ZooKeeperServerMain',
      cfg,
    ]);
    await waitFor(
      async () => (await fourLetters(this.port, 'ruok')) === 'imok',
      20_000,
      `ZooKeeper on port ${this.port}:\n${this.output}`,
    );
  }

  /** The sessions the server holds (an agent cut off keeps its session until the server expires it). */
  async sessions(): Promise<number> {
    const m = /zk_global_sessions\s+(\d+)/.exec(await fourLetters(this.port, 'mntr'));
    return m ? Number(m[1]) : -1;
  }

  get connect(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Runs zkCli.sh against the server; throws when it fails. `args` is one command, e.g. ['set', '/p', 'text']. */
  cli(...args: string[]): string {
    const r = spawnSync(ZK_CLI, ['-server', this.connect, ...args], { encoding: 'utf8', timeout: 30_000 });
    const out = `${r.stdout}${r.stderr}`;
    if (r.status !== 0 || /Exception|Node does not exist|Node already exists/.test(out))
      throw new Error(`zkCli.sh ${args[0]} failed (${r.status}):\n${out}`);
    return out;
  }

  private writer?: ZkWriter;

  /** Creates the znode (and its parents) or sets its data, with Apache's Java client; resolves with its version. */
  async put(znode: string, text: string): Promise<number> {
    this.writer ??= new ZkWriter(this.connect);
    return Number(await this.writer.send(`put ${znode} ${Buffer.from(text).toString('base64')}`));
  }

  async delete(znode: string): Promise<void> {
    this.writer ??= new ZkWriter(this.connect);
    await this.writer.send(`delete ${znode}`);
  }

  override async dispose(): Promise<void> {
    this.writer?.close();
    await super.dispose();
  }
}

/**
 * ZkWriter.java compiled once per version of its source (into the temporary directory, shared by the test files
 * that run at the same time: compiled aside, then renamed into place).
 */
function zkWriterClasses(): string {
  const src = path.join(ROOT, 'test', 'helpers', 'ZkWriter.java');
  const text = fs.readFileSync(src);
  const dir = path.join(
    os.tmpdir(),
    `flume-ts-zkwriter-${createHash('sha256').update(text).digest('hex').slice(0, 12)}`,
  );
  if (fs.existsSync(path.join(dir, 'ZkWriter.class'))) return dir;
  const tmp = fs.mkdtempSync(`${dir}-`);
  const r = spawnSync('javac', ['-nowarn', '-cp', ZK_JAR, '-d', tmp, src], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`javac ZkWriter.java failed:\n${r.stdout}${r.stderr}`);
  try {
    fs.renameSync(tmp, dir);
  } catch {
    fs.rmSync(tmp, { recursive: true, force: true }); // another test file compiled it first
  }
  return dir;
}

/** test/helpers/ZkWriter.java, running: one JVM for every write of a test file. */
class ZkWriter {
  private readonly proc: ChildProcess;
  private lines: string[] = [];
  private buf = '';
  private err = '';
  private queue: Promise<unknown> = Promise.resolve();

  constructor(connect: string) {
    this.proc = spawn('java', ['-Xmx64m', '-cp', `${zkWriterClasses()}:${ZK_JAR}`, 'ZkWriter', connect], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    watchdog(this.proc.pid!);
    this.proc.stdout!.setEncoding('utf8').on('data', (d: string) => {
      this.buf += d;
      const parts = this.buf.split('\n');
      this.buf = parts.pop()!;
      this.lines.push(...parts);
    });
    this.proc.stderr!.setEncoding('utf8').on('data', (d: string) => (this.err = (this.err + d).slice(-5000)));
  }

  private async line(): Promise<string> {
    await waitFor(() => this.lines.length > 0 || this.proc.exitCode !== null, 60_000, `ZkWriter answer: ${this.err}`);
    const l = this.lines.shift();
    if (l === undefined) throw new Error(`ZkWriter exited: ${this.err}`);
    return l;
  }

  /** Sends a command; resolves with what follows "ok", throws on "err". */
  send(cmd: string): Promise<string> {
    const run = this.queue.then(async () => {
      if (!this.ready) {
        const first = await this.line();
        if (first !== 'ready') throw new Error(`ZkWriter did not start: ${first} ${this.err}`);
        this.ready = true;
      }
      this.proc.stdin!.write(`${cmd}\n`);
      const a = await this.line();
      if (!a.startsWith('ok')) throw new Error(`ZkWriter ${cmd.split(' ', 2).join(' ')}: ${a}`);
      return a.slice(3);
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private ready = false;

  close(): void {
    this.proc.stdin!.end();
    this.proc.kill();
  }
}

export interface EtcdTls {
  /** The server's certificate and key, and the CA that signed them (PEM files). */
  cert: string;
  key: string;
  ca: string;
  /** Mutual TLS: the server asks for a client certificate signed by `ca`; etcdctl presents this one. */
  client?: { cert: string; key: string };
}

export class EtcdServer extends Server {
  port = 0;
  private peer = 0;

  constructor(private readonly tls?: EtcdTls) {
    super();
  }

  get endpoint(): string {
    return `${this.tls ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.port ||= await freePort();
    this.peer ||= await freePort();
    const peer = `http://127.0.0.1:${this.peer}`;
    const t = this.tls;
    const tls = t ? ['--cert-file', t.cert, '--key-file', t.key] : [];
    if (t?.client) tls.push('--client-cert-auth', '--trusted-ca-file', t.ca);
    this.launch('etcd', [
      '--name',
      'test',
      '--data-dir',
      path.join(this.dir, 'data'),
      '--listen-client-urls',
      this.endpoint,
      '--advertise-client-urls',
      this.endpoint,
      '--listen-peer-urls',
      peer,
      '--initial-advertise-peer-urls',
      peer,
      '--initial-cluster',
      `test=${peer}`,
      '--log-level',
      'warn',
      ...tls,
    ]);
    await waitFor(
      () => this.ctlResult(['endpoint', 'health'], undefined, 3000).status === 0,
      20_000,
      `etcd on port ${this.port}:\n${this.output}`,
    );
  }

  private ctlResult(args: string[], input?: string, timeout = 15_000) {
    const t = this.tls;
    const tls = t ? ['--cacert', t.ca, ...(t.client ? ['--cert', t.client.cert, '--key', t.client.key] : [])] : [];
    return spawnSync('etcdctl', ['--endpoints', this.endpoint, ...tls, ...args], {
      encoding: 'utf8',
      input,
      timeout,
      env: { ...process.env, ETCDCTL_API: '3' },
    });
  }

  /** Runs etcdctl; throws when it fails. */
  ctl(args: string[], input?: string): string {
    const r = this.ctlResult(args, input);
    if (r.status !== 0) throw new Error(`etcdctl ${args.join(' ')} failed (${r.status}):\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** Puts `text` at `key` (read from stdin, as an operator would: etcdctl put KEY < file). */
  put(key: string, text: string, auth: string[] = []): void {
    this.ctl([...auth, 'put', key], text);
  }

  /** The current store revision. */
  revision(): number {
    const out = JSON.parse(this.ctl(['get', '/', '-w', 'json'])) as { header: { revision: number } };
    return out.header.revision;
  }
}

/**
 * A TCP relay on a free loopback port to `target`. cut() drops every connection and refuses new ones (the agent
 * sees the store go away while it keeps running); restore() listens again on the same port.
 */
export class TcpProxy {
  port = 0;
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly target: () => number) {}

  async start(): Promise<void> {
    this.port ||= await freePort();
    const server = net.createServer((client) => {
      const upstream = net.connect(this.target(), '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {
          client.destroy();
          upstream.destroy();
        });
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.server = server;
  }

  async cut(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const c of this.sockets) c.destroy();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }

  restore(): Promise<void> {
    return this.start();
  }
}

/** An agent configuration: one netcat source per port into a memory channel drained by a null sink. */
export function netcatPipeline(ports: number[], agent = 'a1'): string {
  const names = ports.map((_, i) => `r${i + 1}`);
  const lines = [`${agent}.sources = ${names.join(' ')}`, `${agent}.channels = c1`, `${agent}.sinks = k1`];
  ports.forEach((p, i) => {
    const s = `${agent}.sources.${names[i]}`;
    lines.push(`${s}.type = netcat`, `${s}.bind = 127.0.0.1`, `${s}.port = ${p}`, `${s}.channels = c1`);
  });
  lines.push(`${agent}.channels.c1.type = memory`, `${agent}.sinks.k1.type = null`, `${agent}.sinks.k1.channel = c1`);
  return `${lines.join('\n')}\n`;
}

/** GET a JSON document from the agent's monitoring port. */
export async function getJson<T = any>(port: number, p: string): Promise<{ code: number; body: T }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { code: res.status, body: (await res.json()) as T };
}

/** True when a netcat source on `port` acknowledges a line (the pipeline flows). */
export async function netcatAcks(port: number, line = 'ping'): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(`${line}\n`));
    const t = setTimeout(() => s.destroy(), 5000);
    let got = '';
    s.setEncoding('utf8').on('data', (d: string) => {
      got += d;
      if (got.includes('\n')) s.end();
    });
    s.once('close', () => {
      clearTimeout(t);
      resolve(got === 'OK\n');
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * The agent through the real CLI with its configuration from a store (`store` = ['-z', ...] or ['--etcd', ...]),
 * monitoring on `mport`, run in `cwd` (where its configuration cache goes); killed if the test process dies.
 */
export function storeAgent(
  name: string,
  store: string[],
  mport: number,
  cwd: string,
  extra: string[] = [],
): AgentProcess {
  const a = new AgentProcess(
    [
      'agent',
      '-n',
      name,
      ...store,
      '-Dflume.root.logger=INFO,console',
      '-Dflume.monitoring.type=http',
      `-Dflume.monitoring.port=${mport}`,
      ...extra,
    ],
    { cwd },
  );
  watchdog(a.proc.pid!);
  return a;
}

/** /api/status of the agent on `mport`. */
export async function agentStatus(mport: number): Promise<StatusResponse> {
  return (await getJson<StatusResponse>(mport, '/api/status')).body;
}

/** The running configuration's version, from /api/status of the agent on `mport`. */
export async function runningVersion(mport: number): Promise<string | undefined> {
  return (await agentStatus(mport)).config?.running?.version;
}

/**
 * The set-up every store test file makes inside its describe(): `start` runs before the tests (failing them when the
 * servers are missing), the server is disposed after them with the agents' work directories. Returns the maker of
 * a fresh work directory.
 */
export function useStoreServer(
  server: { dispose(): Promise<void> },
  start: () => Promise<void>,
  dirPrefix: string,
): () => string {
  const dirs: string[] = [];
  before(async () => {
    const { missing } = storesMissing();
    if (missing) assert.fail(missing);
    await start();
  });
  after(async () => {
    await server.dispose();
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = tmpDir(dirPrefix);
    dirs.push(d);
    return d;
  };
}
