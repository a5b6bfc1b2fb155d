#!/usr/bin/env node
// `npm run bench`: throughput of real agent processes against a baseline measured in the same run.
// Usage: node bench/run.mjs [filter ...] [--runs N] [--events N] [--no-baseline] [--strict] [--list] [--cpu-prof]
// See bench/README.md. Never part of `npm test`.
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  BENCH_DIR,
  BenchFailure,
  PROFILE_DIR,
  agentNodeArgs,
  connectAndSend,
  exitText,
  expectCleanExit,
  freePort,
  machineInfo,
  makeDataSet,
  makeTempDir,
  measureTcpToDir,
  measureToDir,
  median,
  procCpuSeconds,
  procPeakRssBytes,
  removeDir,
  spawnNode,
  startAgentProcess,
  verifyOutput,
  waitFor,
  waitForListening,
  waitForStdout,
  withTail,
} from './lib.mjs';
import { kafkajsConsumer, kafkajsProducer, kafkaMemoryNull, netcatMemoryKafka } from './kafka.mjs';

// ---------------------------------------------------------------- targets

const MiB = 1024 * 1024;
/** Target helpers; each returns { label, test(summary) -> boolean, or undefined when it cannot be judged (n/a) }. */
const atLeastRate = (n) => ({
  label: `>= ${n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`} ev/s`,
  test: (s) => s.eventsPerSec >= n,
});
const atLeastRatio = (x, of) => ({
  label: `>= ${x}x ${of}`,
  test: (s) => (s.ratio === undefined ? undefined : s.ratio >= x),
});
const atMostCpu = (x) => ({ label: `<= ${x} CPU s/1M`, test: (s) => s.cpuPer1M <= x });
const atMostRss = (mib) => ({ label: `<= ${mib} MiB RSS`, test: (s) => s.peakRssBytes <= mib * MiB });

// ---------------------------------------------------------------- pipelines
//
// A pipeline is one object in PIPELINES:
//   name       unique; the CLI filter matches it by substring
//   baseline   name of the pipeline its ratio is computed against (run in the same invocation), or null
//   targets    from docs/performance.md; printed as PASS/MISS
//   setup(ctx, state)    fills `state` (a fresh {} per run): temp dirs, the receiving process started and listening
//   run(ctx, state)   -> { seconds, cpuSeconds, peakRssBytes } of the measured window
//   verify(ctx, state)   stops the processes (must exit 0) and checks every event arrived, in order
//   teardown(ctx, state) always called, even when setup failed half-way: kill leftovers, remove temp dirs
//                        (defaultTeardown stops state.proc/state.procs and removes state.dir/state.dirs)
// ctx = { data: makeDataSet(...), opts }. Throw BenchFailure for a clean FAIL line.
// Baselines must come before the pipelines that use them.

/** Stops what is still running (state.proc, state.procs) and removes state.dir / state.dirs. */
async function defaultTeardown(_ctx, st) {
  const procs = [st.proc, ...(st.procs ?? [])].filter(Boolean);
  await Promise.all(procs.map((p) => (p.exit ? undefined : p.stop(5000))));
  for (const d of [st.dir, ...(st.dirs ?? [])]) await removeDir(d);
}

/** node-pipe: a minimal Node process piping one socket into a file. */
const nodePipe = {
  name: 'node-pipe',
  baseline: null,
  description: 'Node socket piped straight into a file (bench/pipe-server.mjs), the ceiling for any Node agent',
  targets: [],
  async setup(ctx, st) {
    st.dir = await makeTempDir('node-pipe');
    st.outDir = path.join(st.dir, 'out');
    await fsp.mkdir(st.outDir);
    st.proc = spawnNode([path.join(BENCH_DIR, 'pipe-server.mjs'), path.join(st.outDir, 'pipe.out')]);
    st.port = Number((await waitForStdout(st.proc, /listening (\d+)/))[1]);
  },
  run(ctx, st) {
    return measureTcpToDir({ port: st.port, receiver: st.proc, outDir: st.outDir, data: ctx.data });
  },
  async verify(ctx, st) {
    expectCleanExit(st.proc, 'pipe server', await st.proc.stop());
    return verifyOutput(st.outDir, ctx.data);
  },
  teardown: defaultTeardown,
};

/** An agent pipeline fed by one TCP connection into a netcat source and ending in file_roll. */
function netcatToFileRoll({ name, baseline, description, channelConf, targets, sinkConf }) {
  return {
    name,
    baseline,
    description,
    targets,
    async setup(ctx, st) {
      const dir = (st.dir = await makeTempDir(name));
      const outDir = (st.outDir = path.join(dir, 'out'));
      await fsp.mkdir(outDir);
      const port = (st.port = await freePort());
      const conf = [
        'a1.sources = r1',
        'a1.channels = c1',
        'a1.sinks = k1',
        'a1.sources.r1.type = netcat',
        'a1.sources.r1.bind = 127.0.0.1',
        `a1.sources.r1.port = ${port}`,
        'a1.sources.r1.ack-every-event = false',
        'a1.sources.r1.channels = c1',
        ...channelConf(dir).map((l) => `a1.channels.c1.${l}`),
        ...(sinkConf
          ? sinkConf(outDir)
          : [
              'a1.sinks.k1.type = file_roll',
              `a1.sinks.k1.sink.directory = ${outDir}`,
              'a1.sinks.k1.sink.rollInterval = 0',
              'a1.sinks.k1.sink.batchSize = 1000',
            ]),
        'a1.sinks.k1.channel = c1',
        '',
      ].join('\n');
      st.proc = await startAgentProcess(conf, dir, { nodeArgs: agentNodeArgs(ctx, name) });
      await waitForListening(port, st.proc, 60000);
    },
    run(ctx, st) {
      return measureTcpToDir({ port: st.port, receiver: st.proc, outDir: st.outDir, data: ctx.data });
    },
    async verify(ctx, st) {
      expectCleanExit(st.proc, 'agent', await st.proc.stop());
      return verifyOutput(st.outDir, ctx.data);
    },
    teardown: defaultTeardown,
  };
}

/**
 * taildir -> memory -> file_roll. The agent starts on an empty log directory (ready once it has written its
 * position file); the clock starts when the data arrives: `mode = 'prewritten'` renames a file holding the whole
 * data set into the directory, `mode = 'append'` appends the data set to the tailed file in 64 KiB writes while
 * the agent reads it.
 */
function taildirToFileRoll({ name, baseline, description, mode, targets }) {
  return {
    name,
    baseline,
    description,
    targets,
    async setup(ctx, st) {
      const dir = (st.dir = await makeTempDir(name));
      const outDir = (st.outDir = path.join(dir, 'out'));
      const logDir = (st.logDir = path.join(dir, 'logs'));
      await fsp.mkdir(outDir);
      await fsp.mkdir(logDir);
      st.posFile = path.join(dir, 'taildir-position.json');
      if (mode === 'prewritten') {
        st.staged = path.join(dir, 'app.log.staged');
        await fsp.writeFile(st.staged, ctx.data.buf);
      } else {
        await fsp.writeFile(path.join(logDir, 'app.log'), '');
      }
      const conf = [
        'a1.sources = r1',
        'a1.channels = c1',
        'a1.sinks = k1',
        'a1.sources.r1.type = TAILDIR',
        'a1.sources.r1.filegroups = f1',
        `a1.sources.r1.filegroups.f1 = ${logDir}/app\\.log`,
        `a1.sources.r1.positionFile = ${st.posFile}`,
        'a1.sources.r1.batchSize = 1000',
        'a1.sources.r1.channels = c1',
        'a1.channels.c1.type = memory',
        'a1.channels.c1.capacity = 100000',
        'a1.channels.c1.transactionCapacity = 1000',
        'a1.sinks.k1.type = file_roll',
        'a1.sinks.k1.channel = c1',
        `a1.sinks.k1.sink.directory = ${outDir}`,
        'a1.sinks.k1.sink.rollInterval = 0',
        'a1.sinks.k1.sink.batchSize = 1000',
        '',
      ].join('\n');
      st.proc = await startAgentProcess(conf, dir, { nodeArgs: agentNodeArgs(ctx, name) });
      // ready: the source writes its position file when it has started
      await waitFor(
        () =>
          fsp.access(st.posFile).then(
            () => true,
            () => false,
          ),
        {
          timeoutMs: 60000,
          what: 'the taildir position file',
          abort: () => (st.proc.exit ? withTail(`agent exited (${exitText(st.proc.exit)})`, st.proc) : undefined),
        },
      );
    },
    run(ctx, st) {
      const target = path.join(st.logDir, 'app.log');
      const start =
        mode === 'prewritten'
          ? () => fsp.rename(st.staged, target)
          : async () => {
              const fh = await fsp.open(target, 'a');
              try {
                const buf = ctx.data.buf;
                for (let off = 0; off < buf.length; off += 64 * 1024)
                  await fh.write(buf, off, Math.min(64 * 1024, buf.length - off));
              } finally {
                await fh.close();
              }
            };
      return measureToDir({ receiver: st.proc, outDir: st.outDir, data: ctx.data, start });
    },
    async verify(ctx, st) {
      expectCleanExit(st.proc, 'agent', await st.proc.stop());
      return verifyOutput(st.outDir, ctx.data);
    },
    teardown: defaultTeardown,
  };
}

// ---------------------------------------------------------------- network sinks (elasticsearch, http)

/**
 * netcat -> memory -> a network sink -> bench/sink-receiver.mjs (a separate process: the Elasticsearch _bulk double,
 * or a plain HTTP endpoint) writing what it receives, in order, into the output directory; the clock stops when the
 * file holds the whole data set. CPU and RSS are the agent's.
 */
function netcatToReceiver({ name, baseline, description, mode, sinkConf, targets }) {
  return {
    name,
    baseline,
    description,
    targets,
    async setup(ctx, st) {
      const dir = (st.dir = await makeTempDir(name));
      const outDir = (st.outDir = path.join(dir, 'out'));
      await fsp.mkdir(outDir);
      st.procs = [];
      const receiver = spawnNode([path.join(BENCH_DIR, 'sink-receiver.mjs'), mode, path.join(outDir, 'received')]);
      st.procs.push(receiver);
      st.receiver = receiver;
      const receiverPort = Number((await waitForStdout(receiver, /listening (\d+)/))[1]);
      const port = (st.port = await freePort());
      const conf = [
        'a1.sources = r1',
        'a1.channels = c1',
        'a1.sinks = k1',
        'a1.sources.r1.type = netcat',
        'a1.sources.r1.bind = 127.0.0.1',
        `a1.sources.r1.port = ${port}`,
        'a1.sources.r1.ack-every-event = false',
        'a1.sources.r1.channels = c1',
        'a1.channels.c1.type = memory',
        'a1.channels.c1.capacity = 100000',
        'a1.channels.c1.transactionCapacity = 1000',
        'a1.sinks.k1.channel = c1',
        ...sinkConf(receiverPort, dir).map((l) => `a1.sinks.k1.${l}`),
        '',
      ].join('\n');
      st.proc = await startAgentProcess(conf, dir, { nodeArgs: agentNodeArgs(ctx, name) });
      await waitForListening(port, st.proc, 60000);
    },
    run(ctx, st) {
      return measureTcpToDir({ port: st.port, receiver: st.proc, outDir: st.outDir, data: ctx.data });
    },
    async verify(ctx, st) {
      expectCleanExit(st.proc, 'agent', await st.proc.stop());
      expectCleanExit(st.receiver, 'receiver', await st.receiver.stop(5000));
      return verifyOutput(st.outDir, ctx.data);
    },
    teardown: defaultTeardown,
  };
}

// ---------------------------------------------------------------- network sources (http, syslogtcp)

const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** The agent's /metrics (Flume's JSON shape: { "SINK.k1": { "EventDrainSuccessCount": "123", ... }, ... }). */
async function fetchMetrics(port) {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (res.status !== 200) throw new BenchFailure(`/metrics answered ${res.status}`);
  return res.json();
}
const metric = (m, component, name) => Number(m?.[component]?.[name] ?? NaN);

/**
 * http-memory-null: the agent's http source fed by bench/http-client.mjs (a separate process: 8 keep-alive
 * connections, each POSTing JSON arrays of 100 events with 200-byte bodies, one request at a time, 503s retried).
 * The clock starts when the client is told to go (SIGUSR2, its bodies are built beforehand) and stops when the
 * agent's /metrics shows the null sink drained every event the client had answered 200.
 */
const httpMemoryNull = {
  name: 'http-memory-null',
  baseline: 'node-pipe',
  description:
    'agent: http (bench/http-client.mjs: 8 keep-alive connections, JSON arrays of 100 x 200 B events) -> memory (100000/1000) -> null (batch 1000); counted via /metrics',
  targets: [atLeastRate(150e3)],
  async setup(ctx, st) {
    st.dir = await makeTempDir('http-memory-null');
    st.procs = [];
    st.port = await freePort();
    st.metricsPort = await freePort();
    const conf = [
      'a1.sources = r1',
      'a1.channels = c1',
      'a1.sinks = k1',
      'a1.sources.r1.type = http',
      'a1.sources.r1.bind = 127.0.0.1',
      `a1.sources.r1.port = ${st.port}`,
      'a1.sources.r1.channels = c1',
      'a1.channels.c1.type = memory',
      'a1.channels.c1.capacity = 100000',
      'a1.channels.c1.transactionCapacity = 1000',
      'a1.sinks.k1.type = null',
      'a1.sinks.k1.channel = c1',
      'a1.sinks.k1.batchSize = 1000',
      'a1.sinks.k1.logEveryNEvents = 100000000',
      '',
    ].join('\n');
    st.proc = await startAgentProcess(conf, st.dir, {
      nodeArgs: agentNodeArgs(ctx, 'http-memory-null'),
      extraArgs: ['-Dflume.monitoring.type=http', `-Dflume.monitoring.port=${st.metricsPort}`],
    });
    await waitForListening(st.port, st.proc, 60000);
    await waitForListening(st.metricsPort, st.proc, 60000);
    st.client = spawnNode([
      path.join(BENCH_DIR, 'http-client.mjs'),
      '--port',
      String(st.port),
      '--events',
      String(ctx.data.events),
      '--connections',
      '8',
      '--batch',
      '100',
      '--body-bytes',
      '200',
    ]);
    st.procs.push(st.client);
    await waitForStdout(st.client, /^ready /m, 120000);
  },
  async run(ctx, st) {
    const { proc: agent, client } = st;
    const events = ctx.data.events;
    const cpu0 = procCpuSeconds(agent.pid);
    const result = waitForStdout(client, /^result (.*)$/m, 2 ** 31 - 1);
    const t0 = performance.now();
    client.child.kill('SIGUSR2');
    let res;
    try {
      res = JSON.parse((await result)[1]);
    } catch (err) {
      if (!agent.exit) await Promise.race([agent.exited, pause(1000)]);
      if (agent.exit)
        throw new BenchFailure(withTail(`agent exited (${exitText(agent.exit)}) while the client was sending`, agent));
      throw err;
    }
    st.clientResult = res;
    if (res.sentEvents !== events)
      throw new BenchFailure(`the client had ${res.sentEvents} of ${events} events answered 200`);
    let last = -1;
    let lastChange = Date.now();
    let t1;
    for (;;) {
      if (agent.exit) throw new BenchFailure(withTail(`agent exited (${exitText(agent.exit)})`, agent));
      const drained = metric(await fetchMetrics(st.metricsPort), 'SINK.k1', 'EventDrainSuccessCount');
      if (drained === events) {
        t1 = performance.now();
        break;
      }
      if (drained > events)
        throw new BenchFailure(`the null sink drained ${drained} events, more than the ${events} sent (duplicates?)`);
      if (drained !== last) {
        last = drained;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > 20000) {
        throw new BenchFailure(`the null sink stalled at ${drained} of ${events} events for 20 s`);
      }
      await pause(10);
    }
    const cpu1 = procCpuSeconds(agent.pid);
    return { seconds: (t1 - t0) / 1000, cpuSeconds: cpu1 - cpu0, peakRssBytes: procPeakRssBytes(agent.pid) };
  },
  async verify(ctx, st) {
    const events = ctx.data.events;
    const m = await fetchMetrics(st.metricsPort);
    const accepted = metric(m, 'SOURCE.r1', 'EventAcceptedCount');
    const drained = metric(m, 'SINK.k1', 'EventDrainSuccessCount');
    if (accepted !== events || drained !== events)
      throw new BenchFailure(
        `counters: source accepted ${accepted}, null sink drained ${drained}, expected ${events} each`,
      );
    expectCleanExit(st.client, 'http client', await st.client.stop(5000));
    expectCleanExit(st.proc, 'agent', await st.proc.stop());
    return {
      lines: drained,
      requests: st.clientResult.okRequests,
      retries503: st.clientResult.retries503,
      clientSeconds: st.clientResult.seconds,
    };
  },
  teardown: defaultTeardown,
};

/**
 * forward-memory-null: the agent's forward source fed by bench/forward-client.mjs (a separate process: 4
 * connections, each sending PackedForward requests of 1000 entries of 200-byte messages, one at a time, waiting for
 * the chunk ack that the source gives after the commit). Clock and counting as http-memory-null (SIGUSR2 to the
 * client, /metrics until the null sink drained every event).
 */
const forwardMemoryNull = {
  name: 'forward-memory-null',
  baseline: 'node-pipe',
  description:
    'agent: forward (bench/forward-client.mjs: 4 connections, PackedForward requests of 1000 x 200 B messages with chunk acks) -> memory (100000/1000) -> null (batch 1000); counted via /metrics',
  targets: [atLeastRate(500e3)],
  async setup(ctx, st) {
    st.dir = await makeTempDir('forward-memory-null');
    st.procs = [];
    st.port = await freePort();
    st.metricsPort = await freePort();
    const conf = [
      'a1.sources = r1',
      'a1.channels = c1',
      'a1.sinks = k1',
      'a1.sources.r1.type = forward',
      'a1.sources.r1.bind = 127.0.0.1',
      `a1.sources.r1.port = ${st.port}`,
      'a1.sources.r1.channels = c1',
      'a1.channels.c1.type = memory',
      'a1.channels.c1.capacity = 100000',
      'a1.channels.c1.transactionCapacity = 1000',
      'a1.sinks.k1.type = null',
      'a1.sinks.k1.channel = c1',
      'a1.sinks.k1.batchSize = 1000',
      'a1.sinks.k1.logEveryNEvents = 100000000',
      '',
    ].join('\n');
    st.proc = await startAgentProcess(conf, st.dir, {
      nodeArgs: agentNodeArgs(ctx, 'forward-memory-null'),
      extraArgs: ['-Dflume.monitoring.type=http', `-Dflume.monitoring.port=${st.metricsPort}`],
    });
    await waitForListening(st.port, st.proc, 60000);
    await waitForListening(st.metricsPort, st.proc, 60000);
    st.client = spawnNode([
      path.join(BENCH_DIR, 'forward-client.mjs'),
      '--port',
      String(st.port),
      '--events',
      String(ctx.data.events),
      '--connections',
      '4',
      '--batch',
      '1000',
    ]);
    st.procs.push(st.client);
    await waitForStdout(st.client, /^ready /m, 120000);
  },
  run: (ctx, st) => httpMemoryNull.run(ctx, st),
  verify: (ctx, st) => httpMemoryNull.verify(ctx, st),
  teardown: defaultTeardown,
};

/**
 * netcat-memory-forward: netcat (one connection of the data set) -> memory -> forward sink (batch 1000, acks on)
 * -> bench/forward-receiver.mjs, a receiver that frames each PackedForward request, counts its entries and acks at
 * once. The clock runs from connect until /metrics shows the forward sink drained every event; the receiver must
 * have counted exactly as many entries. The channel holds 1M events: the sink is slower than netcat, and with the
 * usual 100k a full channel sends netcat into its backoff (100 ms doubling to 2 s) while the sink runs dry, so the
 * figure would be netcat's backoff, not the sink (a 1M channel keeps >= 2 s of work queued for the sink).
 */
const netcatMemoryForward = {
  name: 'netcat-memory-forward',
  baseline: 'netcat-memory-file_roll',
  description:
    'agent: netcat -> memory (1000000/1000) -> forward sink (batch 1000, requireAckResponse) => bench/forward-receiver.mjs (frames, counts, acks); counted via /metrics',
  targets: [atLeastRate(300e3)],
  async setup(ctx, st) {
    st.dir = await makeTempDir('netcat-memory-forward');
    st.procs = [];
    st.receiver = spawnNode([path.join(BENCH_DIR, 'forward-receiver.mjs')]);
    st.procs.push(st.receiver);
    const fwdPort = Number((await waitForStdout(st.receiver, /listening (\d+)/))[1]);
    st.port = await freePort();
    st.metricsPort = await freePort();
    const conf = [
      'a1.sources = r1',
      'a1.channels = c1',
      'a1.sinks = k1',
      'a1.sources.r1.type = netcat',
      'a1.sources.r1.bind = 127.0.0.1',
      `a1.sources.r1.port = ${st.port}`,
      'a1.sources.r1.ack-every-event = false',
      'a1.sources.r1.channels = c1',
      'a1.channels.c1.type = memory',
      'a1.channels.c1.capacity = 1000000',
      'a1.channels.c1.transactionCapacity = 1000',
      'a1.sinks.k1.type = forward',
      'a1.sinks.k1.channel = c1',
      'a1.sinks.k1.hostname = 127.0.0.1',
      `a1.sinks.k1.port = ${fwdPort}`,
      'a1.sinks.k1.batchSize = 1000',
      '',
    ].join('\n');
    st.proc = await startAgentProcess(conf, st.dir, {
      nodeArgs: agentNodeArgs(ctx, 'netcat-memory-forward'),
      extraArgs: ['-Dflume.monitoring.type=http', `-Dflume.monitoring.port=${st.metricsPort}`],
    });
    await waitForListening(st.port, st.proc, 60000);
    await waitForListening(st.metricsPort, st.proc, 60000);
  },
  async run(ctx, st) {
    const agent = st.proc;
    const events = ctx.data.events;
    const cpu0 = procCpuSeconds(agent.pid);
    let t0;
    const { socket, done } = connectAndSend(st.port, ctx.data.buf, { onConnect: () => (t0 = performance.now()) });
    st.socket = socket;
    await done;
    let last = -1;
    let lastChange = Date.now();
    for (;;) {
      if (agent.exit) throw new BenchFailure(withTail(`agent exited (${exitText(agent.exit)})`, agent));
      const drained = metric(await fetchMetrics(st.metricsPort), 'SINK.k1', 'EventDrainSuccessCount');
      if (drained === events) break;
      if (drained > events) throw new BenchFailure(`the forward sink drained ${drained} of ${events} events`);
      if (drained !== last) {
        last = drained;
        lastChange = Date.now();
      } else if (Date.now() - lastChange > 20000) {
        throw new BenchFailure(`the forward sink stalled at ${drained} of ${events} events for 20 s`);
      }
      await pause(10);
    }
    const t1 = performance.now();
    const cpu1 = procCpuSeconds(agent.pid);
    return { seconds: (t1 - t0) / 1000, cpuSeconds: cpu1 - cpu0, peakRssBytes: procPeakRssBytes(agent.pid) };
  },
  async verify(ctx, st) {
    st.socket?.destroy();
    expectCleanExit(st.proc, 'agent', await st.proc.stop());
    const received = waitForStdout(st.receiver, /^received (.*)$/m, 10000);
    expectCleanExit(st.receiver, 'forward receiver', await st.receiver.stop(5000));
    const stats = JSON.parse((await received)[1]);
    if (stats.entries !== ctx.data.events)
      throw new BenchFailure(`the receiver counted ${stats.entries} entries, ${ctx.data.events} were sent`);
    return { lines: stats.entries, requests: stats.requests };
  },
  teardown: defaultTeardown,
};

/**
 * The syslogtcp data set, built once per data set: every line of ctx.data becomes an RFC 5424 message of the
 * same length (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID - ` + the line's first bytes + LF; PRI over all
 * facilities/severities, the timestamp's millisecond moving every 100 lines), and the expected file_roll
 * output (text serializer: the body, i.e. `APP PROCID MSGID - ...`, + LF) is summarised as bytes, lines, SHA-1.
 */
const syslogSets = new WeakMap();
function syslogDataSet(data) {
  let set = syslogSets.get(data);
  if (set) return set;
  const { events, lineBytes } = data;
  const buf = Buffer.allocUnsafe(events * lineBytes);
  const hash = createHash('sha1');
  const outChunk = Buffer.allocUnsafe(1024 * 1024);
  let outFill = 0;
  let outBytes = 0;
  const base = Date.UTC(2026, 0, 15, 10, 0, 0);
  let tsMs = -1;
  let ts = '';
  let off = 0;
  for (let i = 0; i < events; i++) {
    const ms = base + Math.floor(i / 100);
    if (ms !== tsMs) {
      tsMs = ms;
      ts = new Date(ms).toISOString();
    }
    const pri = (i % 24) * 8 + ((i * 3) % 8);
    const tail = `app${i % 4} ${1000 + (i % 9000)} ID${i % 10} - `;
    const head = `<${pri}>1 ${ts} host${i % 16}.example.net `;
    const contentLen = lineBytes - 1 - head.length - tail.length;
    if (contentLen < 13) throw new Error('lineBytes too small for the syslog data set');
    const lineStart = off;
    off += buf.write(head, off, 'latin1');
    const bodyStart = off;
    off += buf.write(tail, off, 'latin1');
    data.buf.copy(buf, off, i * lineBytes, i * lineBytes + contentLen);
    off += contentLen;
    buf[off++] = 0x0a;
    const bodyLen = off - bodyStart;
    if (outFill + bodyLen > outChunk.length) {
      hash.update(outChunk.subarray(0, outFill));
      outFill = 0;
    }
    buf.copy(outChunk, outFill, bodyStart, off);
    outFill += bodyLen;
    outBytes += bodyLen;
    if (off - lineStart !== lineBytes) throw new Error('syslog line length mismatch');
  }
  hash.update(outChunk.subarray(0, outFill));
  set = { buf, events, out: { bytes: outBytes, events, sha1: hash.digest('hex') } };
  syslogSets.set(data, set);
  return set;
}

/** syslogtcp-memory-file_roll: one TCP connection of RFC 5424 lines -> memory -> file_roll (text serializer). */
const syslogTcpMemoryFileRoll = {
  name: 'syslogtcp-memory-file_roll',
  baseline: 'node-pipe',
  description:
    'agent: syslogtcp (one connection, RFC 5424 lines of 200 B, LF framing) -> memory (100000/1000) -> file_roll (text serializer, batch 1000)',
  targets: [atLeastRate(400e3)],
  async setup(ctx, st) {
    syslogDataSet(ctx.data); // built outside the measured window
    const dir = (st.dir = await makeTempDir('syslogtcp'));
    const outDir = (st.outDir = path.join(dir, 'out'));
    await fsp.mkdir(outDir);
    const port = (st.port = await freePort());
    const conf = [
      'a1.sources = r1',
      'a1.channels = c1',
      'a1.sinks = k1',
      'a1.sources.r1.type = syslogtcp',
      'a1.sources.r1.host = 127.0.0.1',
      `a1.sources.r1.port = ${port}`,
      'a1.sources.r1.channels = c1',
      'a1.channels.c1.type = memory',
      'a1.channels.c1.capacity = 100000',
      'a1.channels.c1.transactionCapacity = 1000',
      'a1.sinks.k1.type = file_roll',
      'a1.sinks.k1.channel = c1',
      `a1.sinks.k1.sink.directory = ${outDir}`,
      'a1.sinks.k1.sink.rollInterval = 0',
      'a1.sinks.k1.sink.batchSize = 1000',
      'a1.sinks.k1.sink.serializer = text',
      '',
    ].join('\n');
    st.proc = await startAgentProcess(conf, dir, { nodeArgs: agentNodeArgs(ctx, 'syslogtcp-memory-file_roll') });
    await waitForListening(port, st.proc, 60000);
  },
  run(ctx, st) {
    const set = syslogDataSet(ctx.data);
    return measureTcpToDir({
      port: st.port,
      receiver: st.proc,
      outDir: st.outDir,
      data: { buf: set.buf, bytes: set.out.bytes },
    });
  },
  async verify(ctx, st) {
    expectCleanExit(st.proc, 'agent', await st.proc.stop());
    return verifyOutput(st.outDir, syslogDataSet(ctx.data).out);
  },
  teardown: defaultTeardown,
};

/**
 * Two agents chained over an RPC (Flume's Avro or Thrift): edge (netcat -> memory -> rpc sink, batch-size 1000)
 * -> collector (rpc source -> memory -> file_roll). Figures are the collector's (CPU, RSS); the edge's CPU is
 * printed in its own line by the harness only for single-process pipelines.
 */
const rpcChain = ({ rpc, name, baseline, protocol, targets }) => ({
  name,
  baseline,
  description: `two agents: netcat -> memory -> ${rpc} sink (batch-size 1000${protocol ? `, ${protocol}` : ''}) => ${rpc} source -> memory -> file_roll (batch 1000); CPU/RSS of the collector`,
  targets,
  async setup(ctx, st) {
    const dir = (st.dir = await makeTempDir(`${rpc}-chain`));
    const outDir = (st.outDir = path.join(dir, 'out'));
    await fsp.mkdir(outDir);
    const rpcPort = await freePort();
    const proto = protocol ? [`c.sources.r1.protocol = ${protocol}`] : [];
    const collector = [
      'c.sources = r1',
      'c.channels = c1',
      'c.sinks = k1',
      `c.sources.r1.type = ${rpc}`,
      'c.sources.r1.bind = 127.0.0.1',
      `c.sources.r1.port = ${rpcPort}`,
      ...proto,
      'c.sources.r1.channels = c1',
      'c.channels.c1.type = memory',
      'c.channels.c1.capacity = 100000',
      'c.channels.c1.transactionCapacity = 1000',
      'c.sinks.k1.type = file_roll',
      'c.sinks.k1.channel = c1',
      `c.sinks.k1.sink.directory = ${outDir}`,
      'c.sinks.k1.sink.rollInterval = 0',
      'c.sinks.k1.sink.batchSize = 1000',
      '',
    ].join('\n');
    st.proc = await startAgentProcess(collector, dir, {
      agentName: 'c',
      name: 'collector',
      nodeArgs: agentNodeArgs(ctx, `${rpc}-collector`),
    });
    await waitForListening(rpcPort, st.proc, 60000);
    const port = (st.port = await freePort());
    const edge = [
      'e.sources = r1',
      'e.channels = c1',
      'e.sinks = k1',
      'e.sources.r1.type = netcat',
      'e.sources.r1.bind = 127.0.0.1',
      `e.sources.r1.port = ${port}`,
      'e.sources.r1.ack-every-event = false',
      'e.sources.r1.channels = c1',
      'e.channels.c1.type = memory',
      'e.channels.c1.capacity = 100000',
      'e.channels.c1.transactionCapacity = 1000',
      `e.sinks.k1.type = ${rpc}`,
      'e.sinks.k1.channel = c1',
      'e.sinks.k1.hostname = 127.0.0.1',
      `e.sinks.k1.port = ${rpcPort}`,
      ...proto.map((l) => l.replace('c.sources.r1', 'e.sinks.k1')),
      'e.sinks.k1.batch-size = 1000',
      '',
    ].join('\n');
    const edgeDir = await makeTempDir(`${rpc}-edge`);
    st.dirs = [edgeDir];
    st.edge = await startAgentProcess(edge, edgeDir, {
      agentName: 'e',
      name: 'edge',
      nodeArgs: agentNodeArgs(ctx, `${rpc}-edge`),
    });
    st.procs = [st.edge];
    await waitForListening(port, st.edge, 60000);
  },
  run(ctx, st) {
    return measureTcpToDir({ port: st.port, receiver: st.proc, outDir: st.outDir, data: ctx.data });
  },
  async verify(ctx, st) {
    expectCleanExit(st.edge, 'edge agent', await st.edge.stop());
    expectCleanExit(st.proc, 'collector agent', await st.proc.stop());
    return verifyOutput(st.outDir, ctx.data);
  },
  teardown: defaultTeardown,
});

export const PIPELINES = [
  nodePipe,
  netcatToFileRoll({
    name: 'netcat-memory-file_roll',
    baseline: 'node-pipe',
    description:
      'agent: netcat (one connection, ack-every-event=false) -> memory (100000/1000) -> file_roll (batch 1000)',
    channelConf: () => ['type = memory', 'capacity = 100000', 'transactionCapacity = 1000'],
    targets: [atLeastRate(600e3), atLeastRatio(0.25, 'node-pipe'), atMostCpu(1.7), atMostRss(150)],
  }),
  netcatToFileRoll({
    name: 'netcat-file-file_roll',
    baseline: 'netcat-memory-file_roll',
    description:
      'agent: netcat -> file channel (LevelDB, sync per commit, transactionCapacity 1000) -> file_roll (batch 1000)',
    channelConf: (dir) => [
      'type = file',
      `dataDirs = ${dir}/fc-data`,
      `checkpointDir = ${dir}/fc-cp`,
      'transactionCapacity = 1000',
      'minimumRequiredSpace = 64m',
    ],
    targets: [atLeastRate(200e3), atLeastRatio(0.4, 'netcat-memory-file_roll')],
  }),
  netcatToFileRoll({
    name: 'netcat-memory-hdfs',
    baseline: 'netcat-memory-file_roll',
    description:
      'agent: netcat -> memory (100000/1000) -> hdfs on local disk (DataStream, text, batch 1000, no rolls: one in-use file renamed at stop)',
    channelConf: () => ['type = memory', 'capacity = 100000', 'transactionCapacity = 1000'],
    sinkConf: (outDir) => [
      'a1.sinks.k1.type = hdfs',
      `a1.sinks.k1.hdfs.path = ${outDir}`,
      'a1.sinks.k1.hdfs.fileType = DataStream',
      'a1.sinks.k1.hdfs.batchSize = 1000',
      'a1.sinks.k1.hdfs.rollInterval = 0',
      'a1.sinks.k1.hdfs.rollSize = 0',
      'a1.sinks.k1.hdfs.rollCount = 0',
    ],
    targets: [atLeastRatio(0.8, 'netcat-memory-file_roll')],
  }),
  netcatToFileRoll({
    name: 'netcat-memory-hdfs-buckets',
    baseline: 'netcat-memory-hdfs',
    description:
      'agent: netcat (timestamp interceptor) -> memory -> hdfs on local disk, prefix %Y-%m-%d_%H_%[localhost] (escaped per event), rollSize 128m',
    channelConf: () => ['type = memory', 'capacity = 100000', 'transactionCapacity = 1000'],
    sinkConf: (outDir) => [
      'a1.sources.r1.interceptors = i1',
      'a1.sources.r1.interceptors.i1.type = timestamp',
      'a1.sinks.k1.type = hdfs',
      `a1.sinks.k1.hdfs.path = ${outDir}`,
      'a1.sinks.k1.hdfs.filePrefix = %Y-%m-%d_%H_%[localhost]',
      'a1.sinks.k1.hdfs.fileType = DataStream',
      'a1.sinks.k1.hdfs.batchSize = 1000',
      'a1.sinks.k1.hdfs.rollInterval = 0',
      'a1.sinks.k1.hdfs.rollSize = 128m',
      'a1.sinks.k1.hdfs.rollCount = 0',
    ],
    targets: [],
  }),
  rpcChain({
    rpc: 'avro',
    name: 'avro-chain-file_roll',
    baseline: 'netcat-memory-file_roll',
    targets: [atLeastRate(300e3)],
  }),
  rpcChain({
    rpc: 'thrift',
    name: 'thrift-chain-file_roll',
    baseline: 'avro-chain-file_roll',
    protocol: 'compact',
    targets: [atLeastRate(300e3), atLeastRatio(0.8, 'avro-chain-file_roll')],
  }),
  httpMemoryNull,
  forwardMemoryNull,
  netcatMemoryForward,
  syslogTcpMemoryFileRoll,
  taildirToFileRoll({
    name: 'taildir-memory-file_roll',
    baseline: 'netcat-memory-file_roll',
    description:
      'agent: taildir (a pre-written file renamed into the group directory, batch 1000) -> memory (100000/1000) -> file_roll (batch 1000)',
    mode: 'prewritten',
    targets: [atLeastRate(500e3)],
  }),
  netcatToReceiver({
    name: 'netcat-memory-elasticsearch',
    baseline: 'netcat-memory-file_roll',
    description:
      'agent: netcat -> memory (100000/1000) -> elasticsearch (batch 1000, logstash documents, simple index) -> the Elasticsearch _bulk double of the tests (bench/sink-receiver.mjs es, a separate process)',
    mode: 'es',
    sinkConf: (port, dir) => [
      'type = elasticsearch',
      `hostNames = 127.0.0.1:${port}`,
      'indexName = bench',
      'indexNameBuilder = simple',
      'batchSize = 1000',
      `deadLetterFile = ${dir}/dead-letter.jsonl`,
    ],
    targets: [atLeastRate(100e3)],
  }),
  netcatToReceiver({
    name: 'netcat-memory-http',
    baseline: 'netcat-memory-file_roll',
    description:
      'agent: netcat -> memory (100000/1000) -> http sink (batchSize 100, JSON lines bodies) -> a node:http endpoint (bench/sink-receiver.mjs http, a separate process)',
    mode: 'http',
    sinkConf: (port) => ['type = http', `endpoint = http://127.0.0.1:${port}/`, 'batchSize = 100'],
    targets: [atLeastRate(50e3)],
  }),
  taildirToFileRoll({
    name: 'taildir-append-memory-file_roll',
    baseline: 'netcat-memory-file_roll',
    description:
      'agent: taildir (the tailed file appended in 64 KiB writes while it is read, batch 1000) -> memory (100000/1000) -> file_roll (batch 1000)',
    mode: 'append',
    targets: [atLeastRate(500e3)],
  }),
  kafkajsProducer,
  netcatMemoryKafka,
  kafkajsConsumer,
  kafkaMemoryNull,
];

// ---------------------------------------------------------------- CLI

function parseCount(s, flag) {
  const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(String(s ?? ''));
  if (!m) usage(`${flag} needs a number (e.g. 500000, 500k, 2m)`);
  const n = Math.round(Number(m[1]) * ({ k: 1e3, m: 1e6 }[m[2].toLowerCase()] ?? 1));
  if (!(n >= 1)) usage(`${flag} must be at least 1`);
  return n;
}

function usage(problem) {
  if (problem) console.error(`bench: ${problem}`);
  console.error(
    'usage: node bench/run.mjs [filter ...] [--runs N] [--events N] [--no-baseline] [--strict] [--list] [--cpu-prof]',
  );
  process.exit(64);
}

function parseArgs(argv) {
  const opts = {
    runs: 3,
    events: 2_000_000,
    filters: [],
    withBaselines: true,
    strict: false,
    list: false,
    cpuProf: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] =
      a.startsWith('--') && a.includes('=')
        ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
        : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--runs') opts.runs = parseCount(value(), '--runs');
    else if (flag === '--events') opts.events = parseCount(value(), '--events');
    else if (flag === '--no-baseline') opts.withBaselines = false;
    else if (flag === '--strict') opts.strict = true;
    else if (flag === '--list') opts.list = true;
    else if (flag === '--cpu-prof') opts.cpuProf = true;
    else if (flag === '--help' || flag === '-h') usage();
    else if (flag.startsWith('-')) usage(`unknown option ${flag}`);
    else opts.filters.push(flag);
  }
  return opts;
}

/** The pipelines to run, in PIPELINES order: those matching a filter plus (transitively) their baselines. */
function select(opts) {
  const byName = new Map(PIPELINES.map((p) => [p.name, p]));
  const wanted = new Set(
    opts.filters.length === 0
      ? byName.keys()
      : PIPELINES.filter((p) => opts.filters.some((f) => p.name.includes(f))).map((p) => p.name),
  );
  if (wanted.size === 0) usage(`no pipeline matches ${opts.filters.join(' ')} (try --list)`);
  if (opts.withBaselines) {
    for (const n of [...wanted]) {
      for (let b = byName.get(n).baseline; b && !wanted.has(b); b = byName.get(b).baseline) wanted.add(b);
    }
  }
  return PIPELINES.filter((p) => wanted.has(p.name));
}

// ---------------------------------------------------------------- formatting

const fmtInt = (n) => Math.round(n).toLocaleString('en-US');
const fmtRate = (n) => (n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : `${(n / 1e3).toFixed(0)}k`);
const log = (s) => process.stderr.write(`${s}\n`);

function reportLine(p, s, runs) {
  const cols = [
    p.name.padEnd(26),
    `${fmtInt(s.eventsPerSec).padStart(10)} ev/s (median of ${s.runs}${s.runs < runs ? ` of ${runs}` : ''})`,
    `${s.cpuPer1M.toFixed(2).padStart(5)} CPU s/1M`,
    `${(s.peakRssBytes / MiB).toFixed(1).padStart(6)} MiB peak RSS`,
    p.baseline
      ? s.ratio === undefined
        ? `  n/a x ${p.baseline}`
        : `${s.ratio.toFixed(2)}x ${p.baseline}`
      : 'baseline',
  ];
  const t = s.targets.map((r) => `${r.label}: ${r.pass === undefined ? 'n/a' : r.pass ? 'PASS' : 'MISS'}`).join(', ');
  return `${cols.join('  ')}${t ? `  [${t}]` : ''}`;
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.list) {
    for (const p of PIPELINES)
      console.log(`${p.name.padEnd(26)} ${p.baseline ? `(baseline ${p.baseline}) ` : '(baseline) '}${p.description}`);
    return 0;
  }
  const selected = select(opts);
  const machine = machineInfo();
  const startedAt = new Date();
  log(
    `bench: ${selected.map((p) => p.name).join(', ')}; ${opts.runs} run(s) of ${fmtInt(opts.events)} events; node ${machine.node}, ${machine.nproc} CPU(s), load ${machine.loadAvgAtStart.join(' ')}`,
  );
  if (opts.cpuProf) {
    await fsp.mkdir(PROFILE_DIR, { recursive: true });
    log(
      `bench: --cpu-prof: agents write profiles to ${path.relative(process.cwd(), PROFILE_DIR)} (figures include the profiler's overhead; summarise with node bench/profile-top.mjs <file>)`,
    );
  }

  let t = performance.now();
  const data = makeDataSet(opts.events);
  log(
    `bench: data set ${fmtInt(data.events)} x ${data.lineBytes} B = ${(data.bytes / MiB).toFixed(1)} MiB, sha1 ${data.sha1.slice(0, 12)} (${((performance.now() - t) / 1000).toFixed(1)} s)`,
  );
  const ctx = { data, opts };

  const results = new Map(selected.map((p) => [p.name, { runs: [], failure: undefined }]));
  // Runs are interleaved (round r runs every pipeline once) so a noisy neighbour hits all alike.
  for (let r = 1; r <= opts.runs; r++) {
    for (const p of selected) {
      const res = results.get(p.name);
      if (res.failure) continue;
      const state = {};
      try {
        await p.setup(ctx, state);
        const m = await p.run(ctx, state);
        const check = await p.verify(ctx, state);
        const run = {
          seconds: m.seconds,
          eventsPerSec: data.events / m.seconds,
          cpuSeconds: m.cpuSeconds,
          cpuPer1M: m.cpuSeconds / (data.events / 1e6),
          peakRssBytes: m.peakRssBytes,
          verified: check,
        };
        res.runs.push(run);
        log(
          `  run ${r}/${opts.runs} ${p.name}: ${fmtRate(run.eventsPerSec)} ev/s, ${run.cpuPer1M.toFixed(2)} CPU s/1M, ${(run.peakRssBytes / MiB).toFixed(1)} MiB, ${run.seconds.toFixed(2)} s, verified ${check.lines} lines`,
        );
      } catch (err) {
        res.failure = err instanceof BenchFailure ? err.message : (err?.stack ?? String(err));
        log(`  run ${r}/${opts.runs} ${p.name}: FAILED: ${res.failure.split('\n')[0]}`);
      } finally {
        await (p.teardown ?? defaultTeardown)(ctx, state).catch((err) =>
          log(`  teardown of ${p.name} failed: ${err.message}`),
        );
      }
    }
  }

  // Aggregate: medians of events/s and CPU, the largest peak RSS, the median of the per-round
  // ratios to the baseline (each pair measured back to back in the same round).
  const summaries = new Map();
  for (const p of selected) {
    const res = results.get(p.name);
    if (res.failure || res.runs.length === 0) continue;
    summaries.set(p.name, {
      runs: res.runs.length,
      eventsPerSec: median(res.runs.map((x) => x.eventsPerSec)),
      cpuPer1M: median(res.runs.map((x) => x.cpuPer1M)),
      peakRssBytes: Math.max(...res.runs.map((x) => x.peakRssBytes)),
    });
  }
  for (const p of selected) {
    const s = summaries.get(p.name);
    const b = p.baseline && results.get(p.baseline);
    if (!s || !b || b.failure || b.runs.length === 0) continue;
    const pairs = results
      .get(p.name)
      .runs.map((x, i) => (b.runs[i] ? x.eventsPerSec / b.runs[i].eventsPerSec : undefined))
      .filter((x) => x !== undefined);
    s.ratio = median(pairs);
    s.ratioOfMedians = s.eventsPerSec / summaries.get(p.baseline).eventsPerSec;
  }

  let failed = false;
  let missed = false;
  console.log('');
  for (const p of selected) {
    const res = results.get(p.name);
    const s = summaries.get(p.name);
    if (!s) {
      failed = true;
      console.log(`${p.name.padEnd(26)}  FAIL: ${res.failure ?? 'no run completed'}`);
      continue;
    }
    s.targets = p.targets.map((tg) => ({ label: tg.label, pass: tg.test(s) }));
    if (s.targets.some((x) => x.pass === false)) missed = true;
    console.log(reportLine(p, s, opts.runs));
  }

  const outDir = path.join(BENCH_DIR, 'out');
  await fsp.mkdir(outDir, { recursive: true });
  const outFile = path.join(outDir, `results-${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  const json = {
    startedAt: startedAt.toISOString(),
    machine: { ...machine, loadAvgAtEnd: os.loadavg().map((x) => +x.toFixed(2)) },
    options: {
      runs: opts.runs,
      events: opts.events,
      lineBytes: data.lineBytes,
      filters: opts.filters,
      cpuProf: opts.cpuProf,
    },
    pipelines: selected.map((p) => ({
      name: p.name,
      baseline: p.baseline,
      description: p.description,
      failure: results.get(p.name).failure,
      runs: results.get(p.name).runs,
      summary: summaries.get(p.name),
    })),
  };
  await fsp.writeFile(outFile, `${JSON.stringify(json, null, 2)}\n`);
  console.log(`\nresults: ${path.relative(process.cwd(), outFile)}`);
  if (failed) return 1;
  if (missed && opts.strict) return 2;
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(`bench: FAIL: ${err?.stack ?? err}`);
    process.exit(1);
  },
);
