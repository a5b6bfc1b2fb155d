#!/usr/bin/env node
// `npm run bench`: throughput of real agent processes against a baseline measured in the same run.
// Usage: node bench/run.mjs [filter ...] [--runs N] [--events N] [--no-baseline] [--strict] [--list] [--cpu-prof]
// See bench/README.md. Never part of `npm test`.
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  BENCH_DIR,
  BenchFailure,
  expectCleanExit,
  freePort,
  machineInfo,
  makeDataSet,
  makeTempDir,
  measureTcpToDir,
  median,
  removeDir,
  spawnNode,
  startAgentProcess,
  verifyOutput,
  waitForListening,
  waitForStdout,
} from './lib.mjs';

// ---------------------------------------------------------------- targets

const MiB = 1024 * 1024;
/** Target helpers; each returns { label, test(summary) -> boolean, or undefined when it cannot be judged (n/a) }. */
const atLeastRate = (n) => ({ label: `>= ${n >= 1e6 ? `${n / 1e6}M` : `${n / 1e3}k`} ev/s`, test: (s) => s.eventsPerSec >= n });
const atLeastRatio = (x, of) => ({ label: `>= ${x}x ${of}`, test: (s) => (s.ratio === undefined ? undefined : s.ratio >= x) });
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
function netcatToFileRoll({ name, baseline, description, channelConf, targets }) {
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
        'a1.sinks.k1.type = file_roll',
        'a1.sinks.k1.channel = c1',
        `a1.sinks.k1.sink.directory = ${outDir}`,
        'a1.sinks.k1.sink.rollInterval = 0',
        'a1.sinks.k1.sink.batchSize = 1000',
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

/** Extra node flags for agent processes: --cpu-prof writes one profile per run into bench/out/profiles/. */
function agentNodeArgs(ctx, name) {
  if (!ctx.opts.cpuProf) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`];
}
const PROFILE_DIR = path.join(BENCH_DIR, 'out', 'profiles');

export const PIPELINES = [
  nodePipe,
  netcatToFileRoll({
    name: 'netcat-memory-file_roll',
    baseline: 'node-pipe',
    description: 'agent: netcat (one connection, ack-every-event=false) -> memory (100000/1000) -> file_roll (batch 1000)',
    channelConf: () => ['type = memory', 'capacity = 100000', 'transactionCapacity = 1000'],
    targets: [atLeastRate(600e3), atLeastRatio(0.25, 'node-pipe'), atMostCpu(1.7), atMostRss(150)],
  }),
  netcatToFileRoll({
    name: 'netcat-file-file_roll',
    baseline: 'netcat-memory-file_roll',
    description: 'agent: netcat -> file channel (LevelDB, sync per commit, transactionCapacity 1000) -> file_roll (batch 1000)',
    channelConf: (dir) => ['type = file', `dataDirs = ${dir}/fc-data`, `checkpointDir = ${dir}/fc-cp`, 'transactionCapacity = 1000', 'minimumRequiredSpace = 64m'],
    targets: [atLeastRate(200e3), atLeastRatio(0.4, 'netcat-memory-file_roll')],
  }),
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
  console.error('usage: node bench/run.mjs [filter ...] [--runs N] [--events N] [--no-baseline] [--strict] [--list] [--cpu-prof]');
  process.exit(64);
}

function parseArgs(argv) {
  const opts = { runs: 3, events: 2_000_000, filters: [], withBaselines: true, strict: false, list: false, cpuProf: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
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
  const wanted = new Set(opts.filters.length === 0 ? byName.keys() : PIPELINES.filter((p) => opts.filters.some((f) => p.name.includes(f))).map((p) => p.name));
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
    p.baseline ? (s.ratio === undefined ? `  n/a x ${p.baseline}` : `${s.ratio.toFixed(2)}x ${p.baseline}`) : 'baseline',
  ];
  const t = s.targets.map((r) => `${r.label}: ${r.pass === undefined ? 'n/a' : r.pass ? 'PASS' : 'MISS'}`).join(', ');
  return `${cols.join('  ')}${t ? `  [${t}]` : ''}`;
}

// ---------------------------------------------------------------- main

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.list) {
    for (const p of PIPELINES) console.log(`${p.name.padEnd(26)} ${p.baseline ? `(baseline ${p.baseline}) ` : '(baseline) '}${p.description}`);
    return 0;
  }
  const selected = select(opts);
  const machine = machineInfo();
  const startedAt = new Date();
  log(`bench: ${selected.map((p) => p.name).join(', ')}; ${opts.runs} run(s) of ${fmtInt(opts.events)} events; node ${machine.node}, ${machine.nproc} CPU(s), load ${machine.loadAvgAtStart.join(' ')}`);
  if (opts.cpuProf) {
    await fsp.mkdir(PROFILE_DIR, { recursive: true });
    log(`bench: --cpu-prof: agents write profiles to ${path.relative(process.cwd(), PROFILE_DIR)} (figures include the profiler's overhead; summarise with node bench/profile-top.mjs <file>)`);
  }

  let t = performance.now();
  const data = makeDataSet(opts.events);
  log(`bench: data set ${fmtInt(data.events)} x ${data.lineBytes} B = ${(data.bytes / MiB).toFixed(1)} MiB, sha1 ${data.sha1.slice(0, 12)} (${((performance.now() - t) / 1000).toFixed(1)} s)`);
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
        log(`  run ${r}/${opts.runs} ${p.name}: ${fmtRate(run.eventsPerSec)} ev/s, ${run.cpuPer1M.toFixed(2)} CPU s/1M, ${(run.peakRssBytes / MiB).toFixed(1)} MiB, ${run.seconds.toFixed(2)} s, verified ${check.lines} lines`);
      } catch (err) {
        res.failure = err instanceof BenchFailure ? err.message : (err?.stack ?? String(err));
        log(`  run ${r}/${opts.runs} ${p.name}: FAILED`);
      } finally {
        await (p.teardown ?? defaultTeardown)(ctx, state).catch((err) => log(`  teardown of ${p.name} failed: ${err.message}`));
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
    const pairs = results.get(p.name).runs.map((x, i) => (b.runs[i] ? x.eventsPerSec / b.runs[i].eventsPerSec : undefined)).filter((x) => x !== undefined);
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
    options: { runs: opts.runs, events: opts.events, lineBytes: data.lineBytes, filters: opts.filters, cpuProf: opts.cpuProf },
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
