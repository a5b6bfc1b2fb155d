/**
 * What trips a Flume operator on the first day, through the real CLI: -c DIR (flume-env.sh, log4j files), several
 * log appenders, DEBUG lines, --dryrun, JVM options, the deprecated `node` command.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { AgentProcess, freePort, runCli, tcpExchange, tmpDir, writeConfig } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

function netcat(port: number): string {
  return `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${port}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = logger
a1.sinks.k1.channel = c1
`;
}

function httpGet(port: number, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
}

test("-c DIR: flume-env.sh's monitoring flags open the port, log4j.properties' DEBUG,LOGFILE logs to the file, the rest is warned about by line", async () => {
  const dir = tmpDir();
  const [port, mport] = [await freePort(), await freePort()];
  const logs = path.join(dir, 'logs');
  const conf = path.join(dir, 'conf');
  fs.mkdirSync(conf);
  fs.writeFileSync(
    path.join(conf, 'flume-env.sh'),
    `export JAVA_OPTS="-Xms100m -Xmx2000m -Dflume.monitoring.type=http -Dflume.monitoring.port=${mport}"\n` +
      'export JAVA_HOME=/usr/lib/jvm/default\n',
  );
  fs.writeFileSync(
    path.join(conf, 'log4j.properties'),
    `flume.root.logger=DEBUG,LOGFILE
flume.log.dir=${logs}
flume.log.file=flume.log
log4j.logger.org.apache.flume.lifecycle = INFO
log4j.rootLogger=\${flume.root.logger}
log4j.appender.LOGFILE=org.apache.log4j.RollingFileAppender
log4j.appender.LOGFILE.File=\${flume.log.dir}/\${flume.log.file}
`,
  );
  const file = writeConfig(dir, netcat(port));
  const agent = new AgentProcess(['agent', '-n', 'a1', '-f', file, '-c', conf, '--no-reload-conf']);
  try {
    const log = path.join(logs, 'flume.log');
    const text = () => (fs.existsSync(log) ? fs.readFileSync(log, 'utf8') : '');
    await waitFor(() => /Agent started/.test(text()), 15_000, 'the agent log in flume.log.dir');
    await waitFor(() => listening(mport), 10_000, 'the monitoring port of flume-env.sh');
    const m = await httpGet(mport, '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.body, /"SOURCE\.r1"/);
    assert.equal(await tcpExchange(port, 'hello\n', { until: (r) => r === 'OK\n' }), 'OK\n');
    await waitFor(() => /body: 68 65 6C 6C 6F\s+hello/.test(text()), 10_000, 'the event in the log');
    await waitFor(() => /DEBUG \[source\.r1\] Batches put into channels .*events=1/.test(text()), 10_000, 'digest');
    assert.equal(await agent.stop(), 0);
    const t = text();
    for (const re of [
      /DEBUG \[channel\.c1\] Channel started/,
      /DEBUG \[sink\.k1\] Sink started/,
      /DEBUG \[source\.r1\] Source started/,
      /DEBUG \[sink\.k1\] Sink batches .*delivered=1/,
      /DEBUG \[source\.r1\] Source stopped/,
      /WARN \[agent\.a1\] JVM options ignored: -Xms100m -Xmx2000m file=\S+flume-env\.sh line=1/,
      /WARN \[agent\.a1\] JAVA_HOME is ignored: .* line=2/,
      /WARN \[agent\.a1\] per-logger levels are ignored.* file=\S+log4j\.properties line=4/,
    ])
      assert.match(t, re);
    assert.equal((t.match(/JAVA_HOME is ignored/g) ?? []).length, 1, 'each note once');
    assert.equal(agent.stdout, '', 'LOGFILE only: nothing on the console');
  } finally {
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('-Dflume.root.logger=INFO,console,LOGFILE logs to both; command-line -D options win over flume-env.sh', async () => {
  const dir = tmpDir();
  const logs = path.join(dir, 'logs');
  const conf = path.join(dir, 'conf');
  fs.mkdirSync(conf);
  fs.writeFileSync(path.join(conf, 'flume-env.sh'), 'JAVA_OPTS="-Dflume.root.logger=ERROR,console"\n');
  const file = writeConfig(
    dir,
    'a1.sources = r1\na1.channels = c1\na1.sinks = k1\na1.sources.r1.type = seq\na1.sources.r1.totalEvents = 2\n' +
      'a1.sources.r1.channels = c1\na1.channels.c1.type = memory\na1.sinks.k1.type = logger\na1.sinks.k1.channel = c1\n',
  );
  const agent = new AgentProcess([
    'agent',
    '-n',
    'a1',
    '-f',
    file,
    '-c',
    conf,
    '--no-reload-conf',
    '-Dflume.root.logger=INFO,console,LOGFILE',
    `-Dflume.log.dir=${logs}`,
  ]);
  try {
    await agent.waitForOutput(/body: 31\s+1 \}/);
    const log = path.join(logs, 'flume.log');
    await waitFor(() => fs.existsSync(log) && /body: 31\s+1 \}/.test(fs.readFileSync(log, 'utf8')), 10_000, 'file');
    assert.match(agent.stdout, /INFO \[agent\.a1\] Agent started/);
  } finally {
    assert.equal(await agent.stop(), 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('unknown log levels and appenders are refused with exit 64', () => {
  const dir = tmpDir();
  try {
    const file = writeConfig(dir, netcat(1));
    const bogus = runCli(['agent', '-n', 'a1', '-f', file, '-Dflume.root.logger=BOGUS,console']);
    assert.equal(bogus.code, 64);
    assert.match(bogus.stderr, /unknown level 'BOGUS'/);
    const appender = runCli(['agent', '-n', 'a1', '-f', file, '-Dflume.root.logger=INFO,console,KAFKA']);
    assert.equal(appender.code, 64);
    assert.match(appender.stderr, /unknown appender 'KAFKA'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('--dryrun validates, prints the plan and exits without opening anything; a bad config exits 78', async () => {
  const dir = tmpDir();
  const port = await freePort();
  try {
    const file = writeConfig(dir, netcat(port));
    const r = runCli(['agent', '-n', 'a1', '-f', file, '--dryrun', '-verbose:gc', `-Dflume.log.dir=${dir}/logs`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /nothing was started/);
    assert.match(r.stdout, /channel c1: memory\n\s+sink k1: logger <- channel c1\n\s+source r1: netcat -> channel c1/);
    assert.match(r.stdout, /Logging: INFO to console/);
    assert.match(r.stdout, /Monitoring: off/);
    assert.ok(!fs.existsSync(path.join(dir, 'logs')));
    assert.ok(!(await listening(port)));
    const bad = writeConfig(dir, netcat(port).replace('type = memory', 'type = memroy'), 'bad.properties');
    const b = runCli(['agent', '-n', 'a1', '-f', bad, '-d']);
    assert.equal(b.code, 78);
    assert.match(b.stderr, /nothing would start/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('`flume-ng node` runs the agent with a deprecation warning; JVM options are ignored with one warning', async () => {
  const dir = tmpDir();
  const port = await freePort();
  const file = writeConfig(dir, netcat(port));
  const agent = new AgentProcess([
    'node',
    '-n',
    'a1',
    '-f',
    file,
    '--no-reload-conf',
    '-verbose:gc',
    '-XX:+UseG1GC',
    '-javaagent:/opt/jmx.jar',
  ]);
  try {
    await agent.waitForOutput(/Agent started/);
    assert.match(agent.stdout, /WARN \[agent\.a1\] The 'node' command is deprecated; use 'flume-ng agent'/);
    assert.match(agent.stdout, /WARN \[agent\.a1\] JVM options ignored options="-verbose:gc -XX:\+UseG1GC -javaagent/);
    assert.equal((agent.stdout.match(/JVM options ignored/g) ?? []).length, 1);
  } finally {
    assert.equal(await agent.stop(), 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('validate and --dryrun refuse a bind address of another host (exit 78) and warn about a name that does not resolve', () => {
  const dir = tmpDir();
  try {
    const other = writeConfig(dir, netcat(1).replace('bind = 127.0.0.1', 'bind = 192.0.2.1'), 'other.properties');
    const v = runCli(['validate', '-n', 'a1', '-f', other]);
    assert.equal(v.code, 78);
    assert.match(v.stderr, /a1\.sources\.r1\.bind: 192\.0\.2\.1 is not an address of this host/);
    assert.equal(runCli(['agent', '-n', 'a1', '-f', other, '--dryrun']).code, 78);
    const blog = writeConfig(dir, netcat(1).replace('bind = 127.0.0.1', 'bind = master.invalid'), 'blog.properties');
    const w = runCli(['validate', '-n', 'a1', '-f', blog]);
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, /warning: source r1: a1\.sources\.r1\.bind: host name 'master\.invalid' does not resolve/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the start-up log names a bind host that does not resolve, and SIGTERM does not wait for the retrying source', async () => {
  const dir = tmpDir();
  const file = writeConfig(dir, netcat(await freePort()).replace('bind = 127.0.0.1', 'bind = master.invalid'));
  const agent = AgentProcess.agent(file);
  try {
    await agent.waitForOutput(
      /WARN \[agent\.a1\] host name 'master\.invalid' does not resolve .*key=a1\.sources\.r1\.bind/,
    );
    await agent.waitForOutput(/Agent started/);
    const t0 = performance.now();
    assert.equal(await agent.stop(), 0);
    assert.ok(performance.now() - t0 < 15_000, 'stopped without waiting for the shutdown timeout');
  } finally {
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
