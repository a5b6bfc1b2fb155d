// Kafka pipelines of `npm run bench` (see bench/README.md), each against a bare kafkajs client measured in the same
// run. The broker is librdkafka's mock cluster (Debian librdkafka1, test/helpers/kafka_mock.py), one per run: the
// figures are for this broker on loopback, not for a real cluster.
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import fsp from 'node:fs/promises';
import {
  BENCH_DIR,
  BenchFailure,
  agentNodeArgs,
  ROOT_DIR,
  connectAndSend,
  exitText,
  expectCleanExit,
  freePort,
  makeTempDir,
  procCpuSeconds,
  procPeakRssBytes,
  removeDir,
  spawnNode,
  startAgentProcess,
  waitForListening,
  waitForStdout,
  withTail,
} from './lib.mjs';

const PY = '/usr/bin/python3';
const MOCK = path.join(ROOT_DIR, 'test', 'helpers', 'kafka_mock.py');
const pause = (ms) => new Promise((r) => setTimeout(r, ms));

/** Why the Kafka pipelines cannot run here, or undefined. */
export function kafkaUnavailable() {
  const r = spawnSync(PY, ['-c', "import ctypes; ctypes.CDLL('librdkafka.so.1')"], { encoding: 'utf8' });
  return r.status === 0 ? undefined : 'librdkafka1 is not installed (apt-get install librdkafka1)';
}

/**
 * Resolves `promise`, or rejects with a BenchFailure naming `what` after `ms`: every wait of these pipelines is
 * bounded, so a stuck broker or client ends in a FAIL line instead of a hung `npm run bench`.
 */
function within(promise, ms, what) {
  let timer;
  const timeout = new Promise((_resolve, reject) => {
    timer = setTimeout(() => reject(new BenchFailure(`timed out after ${Math.round(ms / 1000)} s: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** A generous bound for something that moves the data set once: 60 s plus 10 s per 100k events (10k ev/s). */
const budgetMs = (events) => 60000 + events / 10;

/**
 * The mock keeps at most 5 MiB of records per partition (librdkafka's rdkafka_mock.c, fixed) and drops the oldest
 * beyond that, so a pre-filled topic gets one partition per 20,000 records (about 4.2 MB): nothing is dropped.
 */
export const prefillPartitions = (events) => Math.max(4, Math.ceil(events / 20000));

/** Starts a mock cluster; resolves { bootstrap, command(line), stop() }. */
async function startMock() {
  if (kafkaUnavailable()) throw new BenchFailure(kafkaUnavailable());
  const child = spawn(PY, [MOCK, '--brokers', '1'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const exited = new Promise((r) => child.on('exit', r));
  let out = '';
  child.stdout.on('data', (d) => (out += d.toString('utf8')));
  const line = async (re, what) => {
    const deadline = Date.now() + 10000;
    for (;;) {
      const m = re.exec(out);
      if (m) {
        out = out.slice(m.index + m[0].length);
        return m;
      }
      if (child.exitCode !== null || child.signalCode !== null)
        throw new BenchFailure(`the kafka mock exited (${child.exitCode ?? child.signalCode}) ${what}`);
      if (Date.now() > deadline) throw new BenchFailure(`the kafka mock did not answer within 10 s ${what}`);
      await pause(10);
    }
  };
  const mock = {
    pid: child.pid,
    bootstrap: '',
    /** Sends one command of kafka_mock.py (e.g. `topic bench 8`); fails unless it answers OK. */
    async command(cmd) {
      child.stdin.write(`${cmd}\n`);
      const m = await line(/^(OK|ERR .*)$/m, `to "${cmd}"`);
      if (m[1] !== 'OK') throw new BenchFailure(`the kafka mock answered "${m[1]}" to "${cmd}"`);
    },
    /** SIGTERM, then SIGKILL after 10 s (destroying a large in-memory log takes a moment). */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.stdin.end();
      child.kill('SIGTERM');
      await within(exited, 10000, 'the kafka mock to exit after SIGTERM').catch(async () => {
        child.kill('SIGKILL');
        await exited;
      });
    },
  };
  try {
    mock.bootstrap = (await line(/BOOTSTRAP (\S+)/, 'before printing its address'))[1];
  } catch (err) {
    await mock.stop();
    throw err;
  }
  return mock;
}

async function fetchMetrics(port) {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`, { signal: AbortSignal.timeout(5000) });
  return res.json();
}
const metric = (m, component, name) => Number(m?.[component]?.[name] ?? NaN);

/**
 * Polls /metrics until `until(value)`; fails when the agent exits, the value stalls for 20 s or `timeoutMs` passes
 * (each request is bounded too).
 */
async function waitForMetric(agent, port, read, until, what, timeoutMs) {
  let last = -1;
  let lastChange = Date.now();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (agent.exit) throw new BenchFailure(withTail(`agent exited (${exitText(agent.exit)})`, agent));
    if (Date.now() > deadline)
      throw new BenchFailure(withTail(`${what}: at ${last} after ${Math.round(timeoutMs / 1000)} s`, agent));
    const v = read(await fetchMetrics(port).catch(() => undefined));
    if (until(v)) return { value: v, at: performance.now() };
    if (v !== last) {
      last = v;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > 20000) {
      throw new BenchFailure(withTail(`${what}: stalled at ${v} for 20 s`, agent));
    }
    await pause(10);
  }
}

/** The partitions' offsets ({ partition, low, high }), read by a kafkajs admin client within 30 s. */
function topicOffsets(bootstrap, topic) {
  return within(fetchOffsets(bootstrap, topic), 30000, `the offsets of topic ${topic} (kafkajs admin)`);
}

async function fetchOffsets(bootstrap, topic) {
  const { default: kafkajsPkg } = await import('kafkajs');
  const kafka = new kafkajsPkg.Kafka({ brokers: [bootstrap], logLevel: kafkajsPkg.logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high) }));
  } finally {
    await admin.disconnect();
  }
}

/** Records in `topic`: the sum of the partitions' high watermarks. */
async function topicRecords(bootstrap, topic) {
  return (await topicOffsets(bootstrap, topic)).reduce((n, p) => n + p.high, 0);
}

const client = (args) => spawnNode([path.join(BENCH_DIR, 'kafka-client.mjs'), ...args]);

async function teardown(_ctx, st) {
  for (const p of [st.proc, ...(st.procs ?? [])].filter(Boolean)) if (!p.exit) await p.stop(5000);
  await st.mock?.stop();
  if (st.dir) await removeDir(st.dir);
}

/** Waits for the client's `result {...}` line (bounded); an `error ...` line or an exit fails with the reason. */
async function clientResult(proc, events, what) {
  const m = await waitForStdout(proc, /^(result|error) (.*)$/m, budgetMs(events)).catch((err) => {
    throw new BenchFailure(`${what}: ${err.message}`);
  });
  if (m[1] === 'error') throw new BenchFailure(withTail(`${what} failed: ${m[2]}`, proc));
  return JSON.parse(m[2]);
}

async function runClient(proc, events, what) {
  const cpu0 = procCpuSeconds(proc.pid);
  const res = await clientResult(proc, events, what);
  return { res, cpuSeconds: procCpuSeconds(proc.pid) - cpu0, peakRssBytes: procPeakRssBytes(proc.pid) };
}

/** kafkajs-producer: a bare kafkajs producer sends the data set in batches of 1000 (acks = all). */
export const kafkajsProducer = {
  name: 'kafkajs-producer',
  baseline: null,
  description:
    'bare kafkajs producer (bench/kafka-client.mjs): batches of 1000 x 199 B values, acks = all, one at a time',
  targets: [],
  async setup(ctx, st) {
    st.mock = await startMock();
    st.procs = [];
    st.proc = client([
      'produce',
      '--brokers',
      st.mock.bootstrap,
      '--topic',
      'bench',
      '--events',
      String(ctx.data.events),
    ]);
    const m = await waitForStdout(st.proc, /^(ready|error .*)$/m, 120000);
    if (m[1] !== 'ready') throw new BenchFailure(withTail(`the kafkajs producer did not get ready: ${m[1]}`, st.proc));
  },
  async run(ctx, st) {
    const result = runClient(st.proc, ctx.data.events, 'kafkajs producer');
    st.proc.child.kill('SIGUSR2');
    const { res, cpuSeconds, peakRssBytes } = await result;
    return { seconds: res.seconds, cpuSeconds, peakRssBytes };
  },
  async verify(ctx, st) {
    expectCleanExit(st.proc, 'kafkajs producer', await st.proc.stop());
    const n = await topicRecords(st.mock.bootstrap, 'bench');
    if (n !== ctx.data.events) throw new BenchFailure(`the topic holds ${n} records, ${ctx.data.events} were sent`);
    return { lines: n };
  },
  teardown,
};

/** netcat -> memory -> kafka sink: the clock runs from the connect to the sink's last acknowledged batch. */
export const netcatMemoryKafka = {
  name: 'netcat-memory-kafka',
  baseline: 'kafkajs-producer',
  description:
    'agent: netcat (one connection, ack-every-event=false) -> memory (100000/1000) -> kafka sink (flumeBatchSize 1000, acks all) into the mock broker; counted via /metrics',
  targets: [
    {
      label: '>= 150k ev/s',
      test: (s) => s.eventsPerSec >= 150e3,
    },
  ],
  async setup(ctx, st) {
    st.mock = await startMock();
    st.dir = await makeTempDir('netcat-memory-kafka');
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
      'a1.channels.c1.capacity = 100000',
      'a1.channels.c1.transactionCapacity = 1000',
      'a1.sinks.k1.type = kafka',
      'a1.sinks.k1.channel = c1',
      `a1.sinks.k1.kafka.bootstrap.servers = ${st.mock.bootstrap}`,
      'a1.sinks.k1.kafka.topic = bench',
      'a1.sinks.k1.flumeBatchSize = 1000',
      '',
    ].join('\n');
    st.proc = await startAgentProcess(conf, st.dir, {
      extraArgs: ['-Dflume.monitoring.type=http', `-Dflume.monitoring.port=${st.metricsPort}`],
      nodeArgs: agentNodeArgs(ctx, 'netcat-memory-kafka'),
    });
    await waitForListening(st.port, st.proc, 60000);
    await waitForListening(st.metricsPort, st.proc, 60000);
  },
  async run(ctx, st) {
    const events = ctx.data.events;
    const cpu0 = procCpuSeconds(st.proc.pid);
    let t0 = 0;
    const { socket, done } = connectAndSend(st.port, ctx.data.buf, { onConnect: () => (t0 = performance.now()) });
    done.catch(() => undefined);
    try {
      const { at } = await waitForMetric(
        st.proc,
        st.metricsPort,
        (m) => metric(m, 'SINK.k1', 'EventDrainSuccessCount'),
        (v) => v >= events,
        'kafka sink EventDrainSuccessCount',
        budgetMs(events),
      );
      await within(done, 10000, 'the netcat connection to take the last bytes');
      return {
        seconds: (at - t0) / 1000,
        cpuSeconds: procCpuSeconds(st.proc.pid) - cpu0,
        peakRssBytes: procPeakRssBytes(st.proc.pid),
      };
    } finally {
      socket.end();
    }
  },
  async verify(ctx, st) {
    const m = await fetchMetrics(st.metricsPort);
    const drained = metric(m, 'SINK.k1', 'EventDrainSuccessCount');
    expectCleanExit(st.proc, 'agent', await st.proc.stop());
    const n = await topicRecords(st.mock.bootstrap, 'bench');
    if (drained !== ctx.data.events || n !== ctx.data.events)
      throw new BenchFailure(`the sink drained ${drained}, the topic holds ${n}; ${ctx.data.events} were sent`);
    return { lines: n };
  },
  teardown,
};

/**
 * Fills topic `bench` of a fresh mock with the data set (not timed): created first with prefillPartitions(N)
 * partitions, batch i into partition i % P; then every record must still be there (low watermarks 0).
 */
async function prefilled(ctx, st) {
  const events = ctx.data.events;
  st.mock = await startMock();
  st.procs = [];
  const partitions = prefillPartitions(events);
  await st.mock.command(`topic bench ${partitions}`);
  const p = client([
    'produce',
    '--brokers',
    st.mock.bootstrap,
    '--topic',
    'bench',
    '--events',
    String(events),
    '--now',
    '--partitions',
    String(partitions),
  ]);
  st.procs.push(p);
  await clientResult(p, events, 'kafkajs producer (prefill)');
  expectCleanExit(p, 'kafkajs producer (prefill)', await p.stop());
  const offsets = await topicOffsets(st.mock.bootstrap, 'bench');
  const high = offsets.reduce((n, o) => n + o.high, 0);
  const dropped = offsets.reduce((n, o) => n + o.low, 0);
  if (high !== events || dropped !== 0)
    throw new BenchFailure(
      `prefill: the topic's ${offsets.length} partitions hold offsets up to ${high} for ${events} records sent and ` +
        `the mock dropped ${dropped} (it keeps 5 MiB per partition)`,
    );
}

/** kafkajs-consumer: a bare kafkajs group consumer reads the pre-filled topic (first record to the last). */
export const kafkajsConsumer = {
  name: 'kafkajs-consumer',
  baseline: null,
  description: 'bare kafkajs consumer (bench/kafka-client.mjs) reading a pre-filled topic; first record to the last',
  targets: [],
  async setup(ctx, st) {
    await prefilled(ctx, st);
  },
  async run(ctx, st) {
    st.proc = client([
      'consume',
      '--brokers',
      st.mock.bootstrap,
      '--topic',
      'bench',
      '--events',
      String(ctx.data.events),
      '--group',
      'bench-baseline',
    ]);
    const { res, cpuSeconds, peakRssBytes } = await runClient(st.proc, ctx.data.events, 'kafkajs consumer');
    st.consumed = res.events;
    return { seconds: res.seconds, cpuSeconds, peakRssBytes };
  },
  async verify(ctx, st) {
    expectCleanExit(st.proc, 'kafkajs consumer', await st.proc.stop());
    if (st.consumed !== ctx.data.events)
      throw new BenchFailure(`consumed ${st.consumed} of ${ctx.data.events} records`);
    return { lines: st.consumed };
  },
  teardown,
};

/** kafka source -> memory -> null on a pre-filled topic: first event received to the last drained. */
export const kafkaMemoryNull = {
  name: 'kafka-memory-null',
  baseline: 'kafkajs-consumer',
  description:
    'agent: kafka source (batchSize 1000) on a pre-filled topic -> memory (100000/1000) -> null (batch 1000); first event received to the last drained, via /metrics',
  targets: [{ label: '>= 200k ev/s', test: (s) => s.eventsPerSec >= 200e3 }],
  async setup(ctx, st) {
    await prefilled(ctx, st);
    st.dir = await makeTempDir('kafka-memory-null');
    st.metricsPort = await freePort();
    st.conf = [
      'a1.sources = r1',
      'a1.channels = c1',
      'a1.sinks = k1',
      'a1.sources.r1.type = kafka',
      'a1.sources.r1.channels = c1',
      `a1.sources.r1.kafka.bootstrap.servers = ${st.mock.bootstrap}`,
      'a1.sources.r1.kafka.topics = bench',
      'a1.sources.r1.kafka.consumer.group.id = bench-agent',
      'a1.sources.r1.kafka.consumer.auto.offset.reset = earliest',
      'a1.sources.r1.batchSize = 1000',
      'a1.channels.c1.type = memory',
      'a1.channels.c1.capacity = 100000',
      'a1.channels.c1.transactionCapacity = 1000',
      'a1.sinks.k1.type = null',
      'a1.sinks.k1.channel = c1',
      'a1.sinks.k1.batchSize = 1000',
      'a1.sinks.k1.logEveryNEvents = 100000000',
      '',
    ].join('\n');
  },
  async run(ctx, st) {
    await fsp.mkdir(st.dir, { recursive: true });
    st.proc = await startAgentProcess(st.conf, st.dir, {
      extraArgs: ['-Dflume.monitoring.type=http', `-Dflume.monitoring.port=${st.metricsPort}`],
      nodeArgs: agentNodeArgs(ctx, 'kafka-memory-null'),
    });
    await waitForListening(st.metricsPort, st.proc, 60000);
    const cpu0 = procCpuSeconds(st.proc.pid);
    const first = await waitForMetric(
      st.proc,
      st.metricsPort,
      (m) => metric(m, 'SOURCE.r1', 'EventReceivedCount'),
      (v) => v > 0,
      'kafka source EventReceivedCount',
      60000,
    );
    const last = await waitForMetric(
      st.proc,
      st.metricsPort,
      (m) => metric(m, 'SINK.k1', 'EventDrainSuccessCount'),
      (v) => v >= ctx.data.events,
      'null sink EventDrainSuccessCount',
      budgetMs(ctx.data.events),
    );
    return {
      seconds: (last.at - first.at) / 1000,
      cpuSeconds: procCpuSeconds(st.proc.pid) - cpu0,
      peakRssBytes: procPeakRssBytes(st.proc.pid),
    };
  },
  async verify(ctx, st) {
    const m = await fetchMetrics(st.metricsPort);
    const accepted = metric(m, 'SOURCE.r1', 'EventAcceptedCount');
    const drained = metric(m, 'SINK.k1', 'EventDrainSuccessCount');
    expectCleanExit(st.proc, 'agent', await st.proc.stop());
    if (accepted !== ctx.data.events || drained !== ctx.data.events)
      throw new BenchFailure(`source accepted ${accepted}, null sink drained ${drained}; expected ${ctx.data.events}`);
    return { lines: drained };
  },
  teardown,
};
