// Shared helpers for bench/run.mjs: deterministic data, process sampling from /proc,
// TCP sending with backpressure, output polling and verification. Plain ESM, no dependencies.
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ROOT_DIR = path.resolve(BENCH_DIR, '..');

/** Extra node flags for agent processes: --cpu-prof writes one profile per run into bench/out/profiles/. */
export function agentNodeArgs(ctx, name) {
  if (!ctx.opts.cpuProf) return [];
  return ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`];
}
export const PROFILE_DIR = path.join(BENCH_DIR, 'out', 'profiles');

/** A failure that should end the pipeline with a FAIL line (no stack trace needed). */
export class BenchFailure extends Error {}

// ---------------------------------------------------------------- data

/** Small seeded PRNG (mulberry32): same seed, same sequence, on every machine. */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/**
 * `events` lines of exactly `lineBytes` bytes including the '\n', in one Buffer:
 * a 12-digit zero-padded counter, a space, then printable ASCII (0x21-0x7e) from a seeded PRNG.
 * Returns { buf, events, lineBytes, bytes, sha1 }.
 */
export function makeDataSet(events, { lineBytes = 200, seed = 0x5eed } = {}) {
  if (lineBytes < 14) throw new Error('lineBytes must be at least 14');
  const buf = Buffer.allocUnsafe(events * lineBytes);
  const next = prng(seed);
  // A pool of random printable bytes; each line takes a window at a random offset, so lines
  // differ without calling the PRNG 200 times per line (2M lines would take seconds).
  const pool = Buffer.allocUnsafe(64 * 1024 + lineBytes);
  for (let i = 0; i < pool.length; i++) pool[i] = 0x21 + (next() % 94);
  const fill = lineBytes - 14; // 12 digits + space + ... + '\n'
  let off = 0;
  for (let i = 0; i < events; i++) {
    buf.write(String(i).padStart(12, '0'), off, 'latin1');
    buf[off + 12] = 0x20;
    const from = next() % (pool.length - fill);
    pool.copy(buf, off + 13, from, from + fill);
    buf[off + lineBytes - 1] = 0x0a;
    off += lineBytes;
  }
  const sha1 = createHash('sha1').update(buf).digest('hex');
  return { buf, events, lineBytes, bytes: buf.length, sha1 };
}

// ---------------------------------------------------------------- statistics

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

// ---------------------------------------------------------------- /proc sampling

let clkTck;
/** Clock ticks per second for /proc/<pid>/stat times (`getconf CLK_TCK`, almost always 100). */
export function clockTicks() {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime + stime of a process in seconds, from /proc/<pid>/stat (fields 14 and 15). */
export function procCpuSeconds(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  // comm (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field n is fields[n - 3].
  const utime = Number(fields[14 - 3]);
  const stime = Number(fields[15 - 3]);
  return (utime + stime) / clockTicks();
}

/** Peak resident set size (VmHWM) of a process in bytes. */
export function procPeakRssBytes(pid) {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
  const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new BenchFailure(`no VmHWM in /proc/${pid}/status`);
  return Number(m[1]) * 1024;
}

// ---------------------------------------------------------------- processes

/**
 * Spawns a Node process (`node <args>`), keeping the last 64 KiB of its stdout+stderr for
 * failure reports. The returned handle's pid is the Node process itself (no shell in between).
 */
export function spawnNode(args, { cwd = ROOT_DIR, env = process.env } = {}) {
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keep = (chunk) => {
    output += chunk.toString('utf8');
    if (output.length > 65536) output = output.slice(-65536);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exit;
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
    child.on('error', (err) => {
      exit = { code: null, signal: null, error: err };
      resolve(exit);
    });
  });
  return {
    child,
    pid: child.pid,
    exited,
    /** undefined while running, else { code, signal }. */
    get exit() {
      return exit;
    },
    get output() {
      return output;
    },
    /** Sends SIGTERM and waits; resolves { code, signal }, SIGKILLs after `timeoutMs`. */
    async stop(timeoutMs = 30000) {
      if (exit) return exit;
      child.kill('SIGTERM');
      let timer;
      const timedOut = new Promise((resolve) => {
        timer = setTimeout(() => resolve('timeout'), timeoutMs);
      });
      const r = await Promise.race([exited, timedOut]);
      clearTimeout(timer);
      if (r === 'timeout') {
        child.kill('SIGKILL');
        await exited;
        return { code: null, signal: 'SIGKILL', timedOut: true };
      }
      return r;
    },
    /** Last lines of the process output, for FAIL messages. */
    tail(lines = 15) {
      return output.trimEnd().split('\n').slice(-lines).join('\n');
    },
  };
}

/** `code 78` / `signal SIGKILL`. */
export function exitText(exit) {
  if (exit.error) return `spawn failed: ${exit.error.message}`;
  return exit.code === null ? `signal ${exit.signal}` : `code ${exit.code}`;
}

/** `msg`, then the process's last output lines indented (if it printed anything). */
export function withTail(msg, proc, lines = 15) {
  const t = proc.tail(lines);
  return t ? `${msg}\n${t.replace(/^/gm, '    | ')}` : msg;
}

/** Throws a BenchFailure with the process output unless it exited with code 0. */
export function expectCleanExit(proc, what, r) {
  if (r.timedOut)
    throw new BenchFailure(withTail(`${what} did not exit within the timeout after SIGTERM (killed)`, proc));
  if (r.code !== 0)
    throw new BenchFailure(withTail(`${what} exited with ${exitText(r)} after SIGTERM (expected code 0)`, proc));
}

// ---------------------------------------------------------------- network

/** A TCP port that was free a moment ago on 127.0.0.1 (listen on 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Resolves true if a TCP connection to host:port opens (and closes it at once). */
export function canConnect(port, host = '127.0.0.1') {
  return new Promise((resolve) => {
    const s = net.connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `cond()` every `everyMs` until truthy; fails after `timeoutMs` or when `abort()` returns a reason. */
export async function waitFor(cond, { timeoutMs = 30000, everyMs = 20, what = 'condition', abort } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    const reason = abort?.();
    if (reason) {
      const nl = reason.indexOf('\n'); // keep a process-output tail at the end
      throw new BenchFailure(
        nl < 0
          ? `${reason} while waiting for ${what}`
          : `${reason.slice(0, nl)} while waiting for ${what}${reason.slice(nl)}`,
      );
    }
    if (Date.now() > deadline) throw new BenchFailure(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(everyMs);
  }
}

/** Waits until `port` accepts connections; fails early if `proc` exits. */
export function waitForListening(port, proc, timeoutMs = 30000) {
  return waitFor(() => canConnect(port), {
    timeoutMs,
    everyMs: 50,
    what: `port ${port} to accept connections`,
    abort: () => (proc.exit ? withTail(`process exited (${exitText(proc.exit)})`, proc) : undefined),
  });
}

/**
 * Connects to host:port and writes `buf` in `chunkBytes` slices honouring backpressure (waits
 * for 'drain' whenever write() returns false), then ends the write side unless `end` is false.
 * `onConnect` is called synchronously on 'connect' (start clocks there).
 * Returns { socket, done } where `done` resolves when everything has been handed to the kernel.
 */
export function connectAndSend(port, buf, { host = '127.0.0.1', chunkBytes = 64 * 1024, onConnect, end = false } = {}) {
  const socket = net.connect({ port, host });
  socket.setNoDelay(true);
  const done = new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.once('connect', () => {
      onConnect?.();
      let off = 0;
      const pump = () => {
        while (off < buf.length) {
          const slice = buf.subarray(off, Math.min(off + chunkBytes, buf.length));
          off += slice.length;
          if (!socket.write(slice)) {
            socket.once('drain', pump);
            return;
          }
        }
        if (end) socket.end(resolve);
        else resolve();
      };
      pump();
    });
  });
  // Replies (e.g. netcat "OK" if acks were on) are read and dropped so they cannot block the peer.
  socket.on('data', () => {});
  return { socket, done };
}

// ---------------------------------------------------------------- output files

/** Regular files in `dir`, sorted in writing order: numeric runs compared as numbers (`<epoch>-2` < `<epoch>-10`). */
export async function listOutputFiles(dir) {
  const names = (await fsp.readdir(dir, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
  const key = (n) => n.split(/(\d+)/).map((p, i) => (i % 2 ? Number(p) : p));
  names.sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      if (ka[i] < kb[i]) return -1;
      if (ka[i] > kb[i]) return 1;
    }
    return ka.length - kb.length;
  });
  return names.map((n) => path.join(dir, n));
}

/** Sum of the sizes of the regular files in `dir` (0 if it does not exist yet). */
export async function dirBytes(dir) {
  let names;
  try {
    names = await fsp.readdir(dir);
  } catch {
    return 0;
  }
  let total = 0;
  for (const n of names) {
    try {
      const st = await fsp.stat(path.join(dir, n));
      if (st.isFile()) total += st.size;
    } catch {
      // vanished between readdir and stat
    }
  }
  return total;
}

/**
 * Polls the total size of the files in `dir` every `everyMs` until it reaches `expected`.
 * Fails if it grows past `expected`, if it has not grown for `stallMs`, or if `abort()` gives a reason.
 * Resolves performance.now() at the poll that saw the expected size.
 */
export async function waitForOutputBytes(dir, expected, { everyMs = 10, stallMs = 20000, abort } = {}) {
  let last = -1;
  let lastChange = Date.now();
  for (;;) {
    const size = await dirBytes(dir);
    const now = performance.now();
    if (size === expected) return now;
    if (size > expected)
      throw new BenchFailure(`output is ${size} bytes, more than the ${expected} sent (duplicates?)`);
    if (size !== last) {
      last = size;
      lastChange = Date.now();
    } else if (Date.now() - lastChange > stallMs) {
      throw new BenchFailure(
        `output stalled at ${size} of ${expected} bytes (${((100 * size) / expected).toFixed(1)}%) for ${stallMs / 1000} s`,
      );
    }
    const reason = abort?.();
    if (reason) throw new BenchFailure(`${reason} (output ${size} of ${expected} bytes)`); // reason has no tail here
    await delay(everyMs);
  }
}

/**
 * Checks that the files in `dir`, concatenated in writing order, are exactly the data set:
 * same byte count, same number of '\n', same SHA-1. Throws BenchFailure otherwise.
 */
export async function verifyOutput(dir, data) {
  const files = await listOutputFiles(dir);
  const hash = createHash('sha1');
  let bytes = 0;
  let lines = 0;
  for (const f of files) {
    for await (const chunk of fs.createReadStream(f, { highWaterMark: 1024 * 1024 })) {
      hash.update(chunk);
      bytes += chunk.length;
      for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
    }
  }
  const sha1 = hash.digest('hex');
  const problems = [];
  if (bytes !== data.bytes) problems.push(`bytes ${bytes} != ${data.bytes}`);
  if (lines !== data.events) problems.push(`lines ${lines} != ${data.events}`);
  if (sha1 !== data.sha1)
    problems.push(`sha1 ${sha1.slice(0, 12)} != ${data.sha1.slice(0, 12)} (content or order differs)`);
  if (problems.length > 0)
    throw new BenchFailure(`data check failed in ${files.length} file(s): ${problems.join(', ')}`);
  return { files: files.length, bytes, lines, sha1 };
}

// ---------------------------------------------------------------- temp dirs and machine

export async function makeTempDir(tag) {
  return fsp.mkdtemp(path.join(os.tmpdir(), `flume-bench-${tag}-`));
}

export async function removeDir(dir) {
  if (dir) await fsp.rm(dir, { recursive: true, force: true });
}

export function machineInfo() {
  const cpus = os.cpus();
  return {
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpuModel: cpus[0]?.model ?? 'unknown',
    nproc: os.availableParallelism?.() ?? cpus.length,
    memTotalGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    clkTck: clockTicks(),
    loadAvgAtStart: os.loadavg().map((x) => +x.toFixed(2)),
  };
}

// ---------------------------------------------------------------- the common measurement

/**
 * The measurement shared by TCP -> file pipelines: reads the receiver's CPU time, connects
 * (the clock starts at 'connect'), sends the data set, waits until `outDir` holds every byte,
 * then reads CPU time and VmHWM again. `receiver` is a spawnNode() handle; `abort` may add
 * more reasons to stop early. Returns { seconds, cpuSeconds, peakRssBytes }.
 */
export async function measureTcpToDir({ port, receiver, outDir, data }) {
  const cpu0 = procCpuSeconds(receiver.pid);
  let t0 = 0;
  const { socket, done } = connectAndSend(port, data.buf, { onConnect: () => (t0 = performance.now()) });
  let sendError;
  done.catch((err) => (sendError = err));
  try {
    const t1 = await waitForOutputBytes(outDir, data.bytes, {
      abort: () => {
        if (receiver.exit) return `receiver exited (${exitText(receiver.exit)})`;
        if (sendError) return `sending failed: ${sendError.message}`;
        return undefined;
      },
    });
    const cpu1 = procCpuSeconds(receiver.pid);
    const peakRssBytes = procPeakRssBytes(receiver.pid);
    await done;
    return { seconds: (t1 - t0) / 1000, cpuSeconds: cpu1 - cpu0, peakRssBytes };
  } catch (err) {
    // A dying receiver usually shows up first as a reset connection: name the real cause.
    if (!receiver.exit) await Promise.race([receiver.exited, delay(1000)]);
    if (receiver.exit) {
      const msg = /receiver exited/.test(err.message)
        ? err.message
        : `receiver exited (${exitText(receiver.exit)}); ${err.message}`;
      throw new BenchFailure(withTail(msg, receiver));
    }
    throw err;
  } finally {
    socket.end();
  }
}

/**
 * Like measureTcpToDir for pipelines fed by files: reads the receiver's CPU time, calls `start()` (the clock
 * starts just before; it may return a promise, e.g. a writer still appending), waits until `outDir` holds
 * `data.bytes`, then reads CPU time and VmHWM. Returns { seconds, cpuSeconds, peakRssBytes }.
 */
export async function measureToDir({ receiver, outDir, data, start }) {
  const cpu0 = procCpuSeconds(receiver.pid);
  const t0 = performance.now();
  let startError;
  const started = Promise.resolve().then(start);
  started.catch((err) => (startError = err));
  const t1 = await waitForOutputBytes(outDir, data.bytes, {
    abort: () => {
      if (receiver.exit) return withTail(`receiver exited (${exitText(receiver.exit)})`, receiver);
      if (startError) return `feeding failed: ${startError.message}`;
      return undefined;
    },
  });
  const cpu1 = procCpuSeconds(receiver.pid);
  const peakRssBytes = procPeakRssBytes(receiver.pid);
  await started;
  return { seconds: (t1 - t0) / 1000, cpuSeconds: cpu1 - cpu0, peakRssBytes };
}

// ---------------------------------------------------------------- agents

/**
 * Writes `confText` to `<dir>/<name>.properties` and starts a real agent through the CLI:
 * `node bin/flume-ng agent -n <agentName> -f <file> --no-reload-conf -Dflume.root.logger=WARN,console`.
 * `nodeArgs` go to node before the script (e.g. --cpu-prof). Returns the spawnNode() handle (its pid is the agent
 * process).
 */
export async function startAgentProcess(
  confText,
  dir,
  { agentName = 'a1', name = 'agent', extraArgs = [], nodeArgs = [] } = {},
) {
  const confFile = path.join(dir, `${name}.properties`);
  await fsp.writeFile(confFile, confText);
  return spawnNode([
    ...nodeArgs,
    path.join(ROOT_DIR, 'bin', 'flume-ng'),
    'agent',
    '-n',
    agentName,
    '-f',
    confFile,
    '--no-reload-conf',
    '-Dflume.root.logger=WARN,console',
    ...extraArgs,
  ]);
}

/** Resolves the first stdout line of `proc` matching `re` (its match), failing if the process exits first. */
export function waitForStdout(proc, re, timeoutMs = 30000) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(
      () => finish(new BenchFailure(withTail(`timed out waiting for ${re} on stdout`, proc))),
      timeoutMs,
    );
    const onData = (chunk) => {
      buf += chunk.toString('utf8');
      const m = re.exec(buf);
      if (m) finish(undefined, m);
    };
    const onExit = () =>
      finish(new BenchFailure(withTail(`process exited (${exitText(proc.exit)}) before printing ${re}`, proc)));
    function finish(err, m) {
      clearTimeout(timer);
      proc.child.stdout.off('data', onData);
      proc.child.off('exit', onExit);
      if (err) reject(err);
      else resolve(m);
    }
    proc.child.stdout.on('data', onData);
    proc.child.once('exit', onExit);
  });
}
