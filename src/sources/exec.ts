/**
 * exec (Flume's ExecSource): runs a command and turns each line of its standard output into an event.
 *
 * - No shell unless `shell` is set: `command` is split on whitespace and executed directly (no quoting, as in
 *   Flume); with `shell` (e.g. `/bin/sh -c`) the shell words are followed by the command as one argument.
 * - The child runs in its own session and process group, stdin closed. On stop the whole group gets SIGTERM,
 *   then SIGKILL after stopTimeout; when the command exits by itself, what is left of its group is sent
 *   SIGTERM too (no orphans accumulate across restarts).
 * - Lines end at `\n`, `\r` or `\r\n` (Java's readLine), split on bytes; the body is the line's bytes. A line
 *   longer than maxLineBytes is truncated (counted). The unterminated last line is emitted at end of output.
 * - Backpressure: while a batch waits for channel space the source stops reading the pipe (the command blocks
 *   on write); the batch is retried, never dropped (Flume loses it and kills the command).
 * - stderr is always drained; its lines are logged (INFO) only with logStdErr.
 *
 * Delivery class: best-effort. Lines still in the pipe or in the command's own buffers are lost when the agent
 * or the command dies, and a restarted command may repeat or skip output (`tail -F` restarts at its last lines).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { defineSource, type Source, type SourceContext, opt, type Resolved } from '../contract/index.js';
import { ChannelFullError, errorMessage } from '../core/errors.js';
import { ExponentialBackoff } from '../core/backoff.js';
import { retrying } from '../core/retry.js';
import type { FlumeEvent } from '../core/event.js';
import { charsetOption, LineSplitter, type LineSink } from '../text/index.js';

const charset = charsetOption({
  need: 'lines',
  who: 'exec',
  doc: 'Charset of the command output (Flume: undocumented). Bodies are the line bytes as read.',
});

const options = {
  command: opt.string({
    required: true,
    nonEmpty: true,
    doc: 'The command line. Without `shell` it is split on whitespace and executed directly (no quotes, pipes or variables).',
  }),
  shell: opt.string({
    doc: 'A shell to run the command with, e.g. `/bin/sh -c` or `/bin/bash -c`: its words, then the command as one argument. Needed for pipes, quotes, globs and variables.',
  }),
  restart: opt.bool({ default: false, doc: 'Run the command again after it exits.' }),
  restartThrottle: opt.duration({ default: 10000, unit: 'ms', min: 0, doc: 'Wait this long before a restart.' }),
  logStdErr: opt.bool({
    default: false,
    doc: "Log the lines of the command's standard error (INFO). It is always read, so the command never blocks on it.",
  }),
  batchSize: opt.int({
    default: 20,
    min: 1,
    doc: 'Most lines per channel transaction (also capped by the smallest transactionCapacity of the channels).',
  }),
  batchTimeout: opt.duration({
    default: 3000,
    unit: 'ms',
    min: 1,
    doc: 'A partial batch is sent this long after its first line arrived.',
  }),
  charset,
  maxLineBytes: opt.size({
    default: 1048576,
    min: 1,
    doc: 'New key. Longest line kept, in bytes; a longer line is truncated to this many bytes (counted in OversizeLineCount). Flume has no limit.',
  }),
  inheritEnvironment: opt.bool({
    default: false,
    doc: "New key. Pass the agent's whole environment to the command (Flume does). Off by default so secrets the agent was given (keystore passwords, tokens used through ${env:X}) do not reach the command: it gets PATH, HOME, USER, LOGNAME, SHELL, LANG, LC_*, TZ and TMPDIR, plus `env.<NAME>` entries.",
  }),
  'env.': opt.map({ doc: 'New key. `env.NAME = value` sets an environment variable for the command.' }),
  stopTimeout: opt.duration({
    default: 5000,
    unit: 'ms',
    min: 0,
    doc: "New key. On stop the command's process group gets SIGTERM, then SIGKILL after this long.",
  }),
};

export type ExecOptions = Resolved<typeof options>;

/** argv for the options (Flume's rules: whitespace split, no quoting). */
export function commandLine(o: { command: string; shell?: string }): string[] {
  if (o.shell !== undefined && o.shell.trim() !== '') return [...o.shell.trim().split(/\s+/), o.command];
  return o.command.trim().split(/\s+/);
}

/** Lines buffered (read from the pipe, not yet sent) before reading pauses. */
const READ_AHEAD_BATCHES = 4;
/** How long close() keeps retrying a batch the channel refuses. */
const CLOSE_GRACE_MS = 3000;

const SAFE_ENV = /^(PATH|HOME|USER|LOGNAME|SHELL|LANG|LANGUAGE|LC_[A-Z]+|TZ|TMPDIR)$/;

/** The command's environment: a safe subset of the agent's (or all of it with inheritEnvironment), plus env.* keys. */
export function childEnvironment(
  o: { inheritEnvironment: boolean; 'env.': Record<string, string> },
  from: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(from))
    if (v !== undefined && (o.inheritEnvironment || SAFE_ENV.test(k))) env[k] = v;
  return { ...env, ...o['env.'] };
}

export class ExecSource implements Source {
  private child: ChildProcess | undefined;
  private childClosed: Promise<void> = Promise.resolve();
  private readonly splitter: LineSplitter;
  private readonly sink: LineSink = { bodies: [], ends: [] };
  private queue: FlumeEvent[] = [];
  private pumping: Promise<void> | undefined;
  private retrying = false;
  private timer: NodeJS.Timeout | undefined;
  private restartTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private closing: Promise<void> | undefined;
  private readonly abort = new AbortController();
  private readonly headers: Record<string, string> = Object.freeze(Object.create(null));
  /** Commands started (for tests and status). */
  runs = 0;
  /** pid of the running command (its process group id), if any. */
  get pid(): number | undefined {
    return this.child?.exitCode === null && this.child.signalCode === null ? this.child.pid : undefined;
  }

  constructor(
    readonly o: ExecOptions,
    readonly ctx: SourceContext,
  ) {
    this.splitter = new LineSplitter(o.maxLineBytes, 'truncate', 'any');
  }

  private limit(): number {
    return Math.max(1, Math.min(this.o.batchSize, this.ctx.maxBatchSize));
  }

  async start(): Promise<void> {
    if (this.child || this.runs > 0) return;
    this.stopping = false;
    this.launch();
  }

  private launch(): void {
    if (this.stopping) return;
    const argv = commandLine(this.o);
    this.runs++;
    this.splitter.reset(0);
    let child: ChildProcess;
    try {
      child = spawn(argv[0]!, argv.slice(1), {
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: childEnvironment(this.o),
      });
    } catch (err) {
      this.ctx.logger.error('Cannot run the command', { command: this.o.command, error: errorMessage(err) });
      this.afterExit(null, null);
      return;
    }
    this.child = child;
    let settled = false;
    this.childClosed = new Promise<void>((resolve) => {
      const done = (code: number | null, signal: NodeJS.Signals | null, err?: Error) => {
        if (settled) return;
        settled = true;
        if (err) this.ctx.logger.error('Cannot run the command', { command: this.o.command, error: errorMessage(err) });
        resolve();
        void this.onClosed(code, signal);
      };
      child.once('error', (err) => done(null, null, err));
      child.once('close', (code, signal) => done(code, signal));
    });
    child.once('exit', () => this.killGroup(child, 'SIGTERM')); // leftovers of the group (background children)
    child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk));
    const errSplit = new LineSplitter(64 * 1024, 'truncate', 'any');
    const errSink: LineSink = { bodies: [], ends: [] };
    child.stderr!.on('data', (chunk: Buffer) => {
      if (!this.o.logStdErr) return;
      errSplit.push(chunk, 0, errSink);
      for (const b of errSink.bodies) this.ctx.logger.info('Command stderr', { line: b.toString('utf8') });
      errSink.bodies.length = 0;
      errSink.ends.length = 0;
    });
    child.stderr!.on('end', () => {
      if (this.o.logStdErr && errSplit.flushPartial(errSink))
        for (const b of errSink.bodies) this.ctx.logger.info('Command stderr', { line: b.toString('utf8') });
    });
    this.ctx.logger.info('Exec source started the command', {
      command: this.o.command,
      pid: child.pid,
      shell: this.o.shell ?? '(none)',
    });
  }

  private killGroup(child: ChildProcess, sig: NodeJS.Signals): void {
    if (child.pid === undefined) return;
    try {
      process.kill(-child.pid, sig);
    } catch {
      // group gone already
    }
  }

  private onData(chunk: Buffer): void {
    this.splitter.push(chunk, 0, this.sink);
    this.takeLines();
  }

  private takeLines(): void {
    const bodies = this.sink.bodies;
    if (bodies.length === 0) return;
    const headers = this.headers;
    const wasEmpty = this.queue.length === 0;
    for (let i = 0; i < bodies.length; i++) this.queue.push({ headers, body: bodies[i]! });
    this.sink.bodies = [];
    this.sink.ends = [];
    if (wasEmpty) this.armTimer();
    if (this.queue.length >= this.limit()) this.kick(false);
    this.updateFlow();
  }

  private armTimer(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.queue.length > 0) this.kick(true);
    }, this.o.batchTimeout);
  }

  /** Reads from the pipe only while the read-ahead is small and no batch waits for channel space. */
  private updateFlow(): void {
    const out = this.child?.stdout;
    if (!out || out.destroyed) return;
    const hold = this.retrying || this.queue.length >= READ_AHEAD_BATCHES * this.limit();
    if (hold && !out.isPaused()) out.pause();
    else if (!hold && out.isPaused()) out.resume();
  }

  private kick(partial: boolean): void {
    if (this.pumping) {
      if (partial) this.pendingPartial = true;
      return;
    }
    this.pumping = this.pump(partial).finally(() => {
      this.pumping = undefined;
      this.updateFlow();
      if (this.pendingPartial && this.queue.length > 0) {
        this.pendingPartial = false;
        this.kick(true);
      } else if (this.queue.length >= this.limit()) this.kick(false);
      else if (this.queue.length > 0) this.armTimer();
    });
  }

  private pendingPartial = false;

  /** Sends full batches (and the partial one when `partial`), one at a time, in order. */
  private async pump(partial: boolean): Promise<void> {
    const limit = this.limit();
    while (this.queue.length >= limit || (partial && this.queue.length > 0)) {
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      const batch = this.queue.slice(0, limit);
      if (!(await this.deliver(batch))) return;
      this.queue.splice(0, batch.length);
      this.updateFlow();
    }
  }

  /** Emits one batch, retrying while the channel refuses it. False when given up (closing). */
  private async deliver(batch: FlumeEvent[]): Promise<boolean> {
    const { ctx } = this;
    ctx.counters.add('AppendBatchReceivedCount');
    const committed = await retrying(() => ctx.emit(batch), {
      backoff: new ExponentialBackoff(100, 2000),
      signal: this.abort.signal,
      retriable: () => true,
      onRetry: (err) => {
        if (this.retrying) return;
        this.retrying = true;
        this.updateFlow();
        const what =
          err instanceof ChannelFullError
            ? 'Channel full; stopped reading the command output and retrying the batch'
            : 'Channel error; retrying the batch';
        ctx.logger.warn(what, { events: batch.length, error: errorMessage(err) });
      },
    });
    if (!committed) {
      const lines = this.queue.length;
      ctx.logger.warn('Exec source stopping; lines waiting for channel space are dropped', { lines });
      return false;
    }
    if (this.retrying) {
      this.retrying = false;
      ctx.logger.info('Channel accepted the batch; reading the command output again');
    }
    ctx.counters.add('AppendBatchAcceptedCount');
    return true;
  }

  /** The command and its output are done: send the rest, then restart if configured. */
  private async onClosed(code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (this.splitter.flushPartial(this.sink)) this.takeLines();
    const cut = this.splitter.oversize;
    if (cut > 0) {
      this.ctx.counters.add('OversizeLineCount', cut);
      this.ctx.logger.warn('Line(s) longer than maxLineBytes were truncated', {
        lines: cut,
        maxLineBytes: this.o.maxLineBytes,
      });
      this.splitter.oversize = 0;
    }
    await this.flushAll();
    this.afterExit(code, signal);
  }

  private async flushAll(): Promise<void> {
    await this.pumped();
    if (this.queue.length > 0) {
      this.kick(true);
      await this.pumped();
    }
  }

  /** Resolves once no pump is running. */
  private async pumped(): Promise<void> {
    while (this.pumping) await this.pumping;
  }

  private afterExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.child = undefined;
    if (this.stopping) return;
    if (this.o.restart) {
      this.ctx.logger.info('Command exited; restarting it after restartThrottle', {
        command: this.o.command,
        exitCode: code,
        signal,
        restartThrottleMs: this.o.restartThrottle,
      });
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        this.launch();
      }, this.o.restartThrottle);
    } else {
      this.ctx.logger.info('Command exited; the source stays idle (restart = false)', {
        command: this.o.command,
        exitCode: code,
        signal,
      });
    }
  }

  close(): Promise<void> {
    this.closing ??= this.doClose();
    return this.closing;
  }

  private async doClose(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    const child = this.child;
    const grace = setTimeout(() => this.abort.abort(), CLOSE_GRACE_MS + this.o.stopTimeout);
    if (child) {
      child.stdout?.resume();
      this.killGroup(child, 'SIGTERM');
      const kill = setTimeout(() => this.killGroup(child, 'SIGKILL'), this.o.stopTimeout);
      // a process that left the group (setsid) may keep the pipes open: stop waiting for them after a while
      let giveUp: NodeJS.Timeout | undefined;
      const stuck = await Promise.race([
        this.childClosed.then(() => false),
        new Promise<boolean>((r) => (giveUp = setTimeout(() => r(true), this.o.stopTimeout + 1000))),
      ]);
      clearTimeout(giveUp);
      clearTimeout(kill);
      this.killGroup(child, 'SIGKILL'); // anything of the group still alive
      if (stuck) {
        this.ctx.logger.warn(
          "The command's output pipes stayed open after its process group was killed (a process left the group?); closing them",
          { command: this.o.command, pid: child.pid },
        );
        child.stdout?.destroy();
        child.stderr?.destroy();
        child.kill('SIGKILL');
      }
    }
    await this.flushAll();
    clearTimeout(grace);
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.abort.abort();
    this.ctx.logger.info('Exec source stopped', { command: this.o.command });
  }

  destroy(): void {
    this.stopping = true;
    this.abort.abort();
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.timer) clearTimeout(this.timer);
    if (this.child) this.killGroup(this.child, 'SIGKILL');
  }
}

export default defineSource({
  type: 'exec',
  classNames: ['org.apache.flume.source.ExecSource'],
  summary:
    'Runs a command and turns each line of its output into an event. Best-effort delivery (see docs/sources.md).',
  options,
  batchSize: (o) => o.batchSize,
  batchSizeKey: 'batchSize',
  create: (o, ctx) => new ExecSource(o, ctx),
});
