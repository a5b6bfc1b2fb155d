/** Runs the real CLI (bin/flume-ng) as a subprocess, for integration tests. */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const BIN = path.join(ROOT, 'bin', 'flume-ng');

export function tmpDir(prefix = 'flume-ts-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A TCP port that was free a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. */
export function runCli(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): RunResult {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 30_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** runCli without blocking the event loop, so several can run at once. */
export function runCliAsync(
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: opts.cwd ?? ROOT,
        env: { ...process.env, ...opts.env },
        encoding: 'utf8',
        timeout: opts.timeoutMs ?? 60_000,
      },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

export class AgentProcess {
  readonly proc: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;

  constructor(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
    this.proc = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout!.setEncoding('utf8').on('data', (d: string) => (this.stdout += d));
    this.proc.stderr!.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.proc.on('exit', (code, sig) => resolve(code ?? (sig ? 128 : null))));
  }

  static agent(
    confFile: string,
    name = 'a1',
    extra: string[] = [],
    opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ): AgentProcess {
    return new AgentProcess(
      ['agent', '-n', name, '-f', confFile, '--no-reload-conf', '-Dflume.root.logger=INFO,console', ...extra],
      opts,
    );
  }

  /** Resolves when stdout+stderr match `re`; rejects when the process exits first or on timeout. */
  async waitForOutput(re: RegExp, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited = false;
    void this.exited.then(() => (exited = true));
    while (!re.test(this.stdout + this.stderr)) {
      if (exited) throw new Error(`agent exited before printing ${re}:\n${this.stdout}\n${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${re}:\n${this.stdout}\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 20_000): Promise<number | null> {
    if (this.proc.exitCode !== null) return this.proc.exitCode;
    this.proc.kill(signal);
    const t = setTimeout(() => this.proc.kill('SIGKILL'), timeoutMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

/** Connects, sends `data`, and resolves with everything the server answered once it closes or `until` matches. */
export function tcpExchange(
  port: number,
  data: string | Buffer,
  opts: { until?: (reply: string) => boolean; timeoutMs?: number; end?: boolean } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let reply = '';
    const t = setTimeout(() => {
      sock.destroy();
      reject(new Error(`tcpExchange timed out; got: ${JSON.stringify(reply.slice(0, 500))}`));
    }, opts.timeoutMs ?? 10_000);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      reply += d;
      if (opts.until?.(reply)) {
        clearTimeout(t);
        sock.end();
        resolve(reply);
      }
    });
    sock.on('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
    sock.on('close', () => {
      clearTimeout(t);
      resolve(reply);
    });
    sock.write(data, () => {
      if (opts.end ?? !opts.until) sock.end();
    });
  });
}

export function writeConfig(dir: string, text: string, name = 'agent.properties'): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}
