/** Operations through the real CLI: Flume-shaped /metrics, Prometheus, /health transitions, hot reload under load. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { AgentProcess, freePort, tmpDir, writeConfig } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

async function get(port: number, p: string): Promise<{ status: number; body: string; type: string }> {
  const r = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: r.status, body: await r.text(), type: r.headers.get('content-type') ?? '' };
}
async function metrics(port: number): Promise<Record<string, Record<string, string>>> {
  return JSON.parse((await get(port, '/metrics')).body);
}
const mon = (port: number, type = 'http') => [`-Dflume.monitoring.type=${type}`, `-Dflume.monitoring.port=${port}`];

const SOURCE_KEYS = [
  'AppendAcceptedCount',
  'AppendBatchAcceptedCount',
  'AppendBatchReceivedCount',
  'AppendReceivedCount',
  'ChannelWriteFail',
  'EventAcceptedCount',
  'EventReadFail',
  'EventReceivedCount',
  'GenericProcessingFail',
  'OpenConnectionCount',
  'StartTime',
  'StopTime',
  'Type',
];
const CHANNEL_KEYS = [
  'ChannelCapacity',
  'ChannelFillPercentage',
  'ChannelSize',
  'EventPutAttemptCount',
  'EventPutSuccessCount',
  'EventTakeAttemptCount',
  'EventTakeSuccessCount',
  'StartTime',
  'StopTime',
  'Type',
];
const SINK_KEYS = [
  'BatchCompleteCount',
  'BatchEmptyCount',
  'BatchUnderflowCount',
  'ChannelReadFail',
  'ConnectionClosedCount',
  'ConnectionCreatedCount',
  'ConnectionFailedCount',
  'EventDrainAttemptCount',
  'EventDrainSuccessCount',
  'EventWriteFail',
  'StartTime',
  'StopTime',
  'Type',
];

test("/metrics has Flume's JSON shape and counts known traffic; Prometheus and TRACE behave", async () => {
  const dir = tmpDir();
  const port = await freePort();
  const conf = writeConfig(
    dir,
    `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = 1000
a1.sources.r1.batchSize = 10
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 5000
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
`,
  );
  const agent = AgentProcess.agent(conf, 'a1', mon(port));
  try {
    await agent.waitForOutput(/Monitoring server listening/);
    await waitFor(
      async () => (await metrics(port))['SINK.k1']?.EventDrainSuccessCount === '1000',
      10_000,
      '1000 events drained',
    );
    const m = await metrics(port);
    assert.deepEqual(Object.keys(m).sort(), ['AGENT.a1', 'CHANNEL.c1', 'SINK.k1', 'SOURCE.r1']);
    assert.deepEqual(Object.keys(m['SOURCE.r1']!).sort(), SOURCE_KEYS);
    assert.deepEqual(Object.keys(m['CHANNEL.c1']!).sort(), CHANNEL_KEYS);
    assert.deepEqual(Object.keys(m['SINK.k1']!).sort(), SINK_KEYS);
    for (const group of Object.values(m)) for (const v of Object.values(group)) assert.equal(typeof v, 'string');
    assert.equal(m['SOURCE.r1']!.EventAcceptedCount, '1000');
    assert.equal(m['SOURCE.r1']!.Type, 'SOURCE');
    assert.equal(m['CHANNEL.c1']!.EventPutSuccessCount, '1000');
    assert.equal(m['CHANNEL.c1']!.EventTakeSuccessCount, '1000');
    assert.equal(m['CHANNEL.c1']!.ChannelSize, '0');
    assert.equal(m['CHANNEL.c1']!.ChannelCapacity, '5000');
    assert.equal(m['CHANNEL.c1']!.ChannelFillPercentage, '0.0');
    assert.equal(m['SINK.k1']!.StopTime, '0');
    assert.ok(Number(m['SINK.k1']!.StartTime) > 1_600_000_000_000);
    const prom = await get(port, '/metrics?format=prometheus');
    assert.match(prom.body, /^Flume_EventDrainSuccessCount\{agent="a1",component="k1",type="SINK"\} 1000$/m);
    assert.match(prom.body, /^flume_ts_process_resident_memory_bytes\{agent="a1"\} \d+$/m);
    assert.equal((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'OPTIONS' })).status, 403);
    assert.equal((await get(port, '/nope')).status, 404);
    const h = await get(port, '/health');
    assert.equal(h.status, 200);
    assert.equal(JSON.parse(h.body).status, 'ok');
  } finally {
    assert.equal(await agent.stop(), 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a source whose port is taken does not kill the agent: /health says why, and it starts once the port frees up', async () => {
  const dir = tmpDir();
  const mport = await freePort();
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const busy = (blocker.address() as net.AddressInfo).port;
  const conf = writeConfig(
    dir,
    `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${busy}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
`,
  );
  const agent = AgentProcess.agent(conf, 'a1', mon(mport));
  try {
    await agent.waitForOutput(/Monitoring server listening/);
    const h = await get(mport, '/health');
    assert.equal(h.status, 503);
    const body = JSON.parse(h.body);
    assert.equal(body.failing[0].component, 'source.r1');
    assert.match(body.failing[0].reason, /in use|EADDRINUSE/i);
    await new Promise<void>((r) => blocker.close(() => r()));
    await waitFor(
      async () => (await get(mport, '/health')).status === 200,
      15_000,
      'source started after the port was freed',
    );
  } finally {
    blocker.close();
    assert.equal(await agent.stop(), 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** A client that sends numbered lines with acks and records which were acknowledged. */
class AckedSender {
  private sock: net.Socket;
  sent = 0;
  acked = 0;
  private stopped = false;
  constructor(
    port: number,
    private readonly prefix: string,
  ) {
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.setEncoding('utf8');
    this.sock.on('data', (d: string) => (this.acked += (d.match(/OK\n/g) ?? []).length));
    this.sock.on('error', () => undefined);
    this.sock.on('connect', () => this.pump());
  }
  private pump(): void {
    if (this.stopped) return;
    // keep at most 200 lines in flight
    if (this.sent - this.acked < 200) {
      let chunk = '';
      for (let i = 0; i < 50; i++) chunk += `${this.prefix}${this.sent++}\n`;
      this.sock.write(chunk);
    }
    setTimeout(() => this.pump(), 2);
  }
  async finish(): Promise<void> {
    this.stopped = true;
    await waitFor(() => this.acked === this.sent, 10_000, `all ${this.sent} lines acknowledged (got ${this.acked})`);
    this.sock.end();
  }
}

test('hot reload under load: untouched paths lose and duplicate nothing; invalid configs keep the old pipeline', async () => {
  const dir = tmpDir();
  const out1 = path.join(dir, 'out1');
  const out2 = path.join(dir, 'out2');
  fs.mkdirSync(out1);
  fs.mkdirSync(out2);
  const port = await freePort();
  const mport = await freePort();
  const base = (extra = '', sinks = 'k1', roll = '0', cap = '10000') => `a1.sources = r1
a1.channels = c1
a1.sinks = ${sinks}
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${port}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = ${cap}
a1.channels.c1.transactionCapacity = 100
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = ${out1}
a1.sinks.k1.sink.rollInterval = ${roll}
${extra}`;
  const conf = writeConfig(dir, base());
  const agent = AgentProcess.agent(conf, 'a1', mon(mport)); // reload via SIGHUP (polling is off in AgentProcess.agent)
  const reload = async (text: string, expect: RegExp) => {
    fs.writeFileSync(conf, text);
    const before = (agent.stdout.match(/Reloading configuration/g) ?? []).length;
    agent.proc.kill('SIGHUP');
    await waitFor(
      () => (agent.stdout.match(/Reloading configuration/g) ?? []).length > before,
      10_000,
      'reload started',
    );
    await agent.waitForOutput(expect);
  };
  try {
    await agent.waitForOutput(/Monitoring server listening/);
    const sender = new AckedSender(port, 'n');
    await waitFor(() => sender.acked > 500, 10_000, 'traffic flowing');
    // 1. unchanged: everything kept, counters keep counting (not reset)
    const drainedBefore = Number((await metrics(mport))['SINK.k1']!.EventDrainSuccessCount);
    const startedBefore = (await metrics(mport))['SOURCE.r1']!.StartTime;
    await reload(base(), /Configuration reloaded kept=3 started=- stopped=-/);
    const afterUnchanged = await metrics(mport);
    assert.ok(Number(afterUnchanged['SINK.k1']!.EventDrainSuccessCount) >= drainedBefore && drainedBefore > 0);
    assert.equal(afterUnchanged['SOURCE.r1']!.StartTime, startedBefore);
    // 2. changed sink: only k1 restarts; the netcat connection stays up
    await reload(base('', 'k1', '1'), /started=sink.k1 stopped=sink.k1/);
    // 3. changed channel capacity: resized in place, nothing restarted
    await reload(base('', 'k1', '1', '20000'), /reconfigured=channel.c1/);
    // 4. added source, channel and sink
    const added = `a1.sources = r1 r2
a1.channels = c1 c2
a1.sources.r2.type = seq
a1.sources.r2.totalEvents = 500
a1.sources.r2.batchSize = 10
a1.sources.r2.channels = c2
a1.channels.c2.type = memory
a1.channels.c2.capacity = 1000
a1.sinks.k2.type = file_roll
a1.sinks.k2.channel = c2
a1.sinks.k2.sink.directory = ${out2}
a1.sinks.k2.sink.rollInterval = 0
`;
    await reload(
      base(added, 'k1 k2', '1', '20000').replace('a1.sources = r1\na1.channels = c1\n', ''),
      /started="channel.c2 sink.k2 source.r2"/,
    );
    // 5. invalid file: the running pipeline stays
    await reload('a1.sources = r1\na1.sources.r1.type = nope\n', /New configuration is invalid/);
    const m = await metrics(mport);
    assert.equal(m['AGENT.a1']!.LastReloadStatus, 'failed');
    const h = JSON.parse((await get(mport, '/health')).body);
    assert.equal(h.lastReload.status, 'failed');
    assert.match(h.lastReload.issues.join('\n'), /unknown source type 'nope'/);
    const ackedBefore = sender.acked;
    await waitFor(() => sender.acked > ackedBefore + 200, 10_000, 'traffic still flowing after a failed reload');
    // 6. removed channel c2 (and its source and sink): drained, then stopped
    await reload(base('', 'k1', '1', '20000'), /stopped="source.r2 sink.k2 channel.c2"/);
    await sender.finish();
    assert.equal(await agent.stop(), 0);
    const lines = fs
      .readdirSync(out1)
      .flatMap((f) => fs.readFileSync(path.join(out1, f), 'utf8').split('\n').filter(Boolean));
    const counts = new Map<string, number>();
    for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1);
    const dups = [...counts.values()].filter((c) => c > 1).length;
    const missing = Array.from({ length: sender.sent }, (_, i) => `n${i}`).filter((l) => !counts.has(l)).length;
    console.log(
      `reload under load: sent=${sender.sent} acked=${sender.acked} delivered=${lines.length} missing=${missing} duplicates=${dups}`,
    );
    assert.equal(missing, 0);
    assert.equal(dups, 0);
    const seq = fs
      .readdirSync(out2)
      .flatMap((f) => fs.readFileSync(path.join(out2, f), 'utf8').split('\n').filter(Boolean));
    assert.deepEqual(
      seq,
      Array.from({ length: seq.length }, (_, i) => String(i)),
      'seq path delivered in order, no gaps',
    );
  } finally {
    await agent.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the config file is polled for changes (-i) and re-applied', async () => {
  const dir = tmpDir();
  const mport = await freePort();
  const text = (n: number) => `a1.sources = r1
a1.channels = c1
a1.sinks = k1
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = ${n}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
`;
  const conf = writeConfig(dir, text(10));
  const agent = new AgentProcess([
    'agent',
    '-n',
    'a1',
    '-f',
    conf,
    '-i',
    '0.2',
    '-Dflume.root.logger=INFO,console',
    ...mon(mport),
  ]);
  try {
    await agent.waitForOutput(/Monitoring server listening/);
    await waitFor(async () => (await metrics(mport))['SINK.k1']?.EventDrainSuccessCount === '10', 10_000, '10 events');
    fs.writeFileSync(conf, text(20));
    await agent.waitForOutput(/Configuration reloaded/);
    await waitFor(
      async () => (await metrics(mport))['SOURCE.r1']?.EventAcceptedCount === '20',
      10_000,
      'the new source ran',
    );
  } finally {
    assert.equal(await agent.stop(), 0);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
