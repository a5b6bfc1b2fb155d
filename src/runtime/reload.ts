/**
 * Hot reload: re-reads the configuration when a file changes (polled, like Flume, every 30 s by default) or on
 * demand (SIGHUP), and applies it to the running agent as a diff. An invalid new configuration never touches the
 * running pipeline: the agent keeps the old one and the failure is kept for /metrics and /health.
 */
import fs from 'node:fs';
import { loadConfigWithPlugins, type PluginOptions } from '../config/plugins/index.js';
import { formatIssue, type ConfigIssue } from '../config/issues.js';
import type { Agent, ReloadReport } from './agent.js';
import type { Logger } from '../telemetry/logger.js';
import { errorMessage } from '../core/errors.js';

export interface ReloadStatus {
  /** 'never' until the first reload attempt. */
  status: 'never' | 'ok' | 'failed';
  at?: number;
  /** Problems of the last failed attempt. */
  issues?: string[];
  report?: ReloadReport;
  count: number;
}

export class ConfigReloader {
  readonly status: ReloadStatus = { status: 'never', count: 0 };
  private timer?: NodeJS.Timeout;
  private mtimes = new Map<string, number>();
  private running?: Promise<void>;

  constructor(
    private readonly agent: Agent,
    private readonly opts: {
      files: string[];
      agentName: string;
      sys: Record<string, string>;
      pollMs: number;
      logger: Logger;
      /** Where plugins are looked up (the agent's --plugins-path). */
      plugins?: PluginOptions;
    },
  ) {
    for (const f of opts.files) this.mtimes.set(f, mtimeOf(f));
  }

  /** Starts polling the files' modification times. */
  watch(): void {
    const tick = () => {
      let changed = false;
      for (const f of this.opts.files) {
        const m = mtimeOf(f);
        if (m !== this.mtimes.get(f)) {
          this.mtimes.set(f, m);
          changed = true;
        }
      }
      if (changed) void this.reload('file changed');
      this.timer = setTimeout(tick, this.opts.pollMs);
      this.timer.unref();
    };
    this.timer = setTimeout(tick, this.opts.pollMs);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }

  /** Re-reads and applies the configuration now. Concurrent calls share one reload. */
  reload(reason: string): Promise<void> {
    this.running ??= this.doReload(reason).finally(() => (this.running = undefined));
    return this.running;
  }

  private async doReload(reason: string): Promise<void> {
    const log = this.opts.logger;
    for (const f of this.opts.files) this.mtimes.set(f, mtimeOf(f));
    log.info('Reloading configuration', { reason, files: this.opts.files.join(' ') });
    const res = await loadConfigWithPlugins({
      files: this.opts.files,
      agent: this.opts.agentName,
      sys: this.opts.sys,
      ...this.opts.plugins,
    });
    this.status.count++;
    this.status.at = Date.now();
    if (!res.plan) {
      this.status.status = 'failed';
      this.status.issues = res.issues.filter((i: ConfigIssue) => i.severity === 'error').map(formatIssue);
      this.status.report = undefined;
      log.error('New configuration is invalid; the running configuration stays in place', {
        errors: this.status.issues.length,
      });
      for (const line of this.status.issues) log.error(line);
      return;
    }
    for (const i of res.issues) log.warn(formatIssue(i));
    try {
      const report = await this.agent.apply(res.plan);
      this.status.status = 'ok';
      this.status.issues = undefined;
      this.status.report = report;
      log.info('Configuration reloaded', {
        kept: report.kept.length,
        started: report.started.join(' ') || '-',
        stopped: report.stopped.join(' ') || '-',
        reconfigured: report.reconfigured.join(' ') || '-',
      });
    } catch (err) {
      this.status.status = 'failed';
      this.status.issues = [errorMessage(err)];
      log.error('Applying the new configuration failed', { error: errorMessage(err) });
    }
  }
}

function mtimeOf(f: string): number {
  try {
    return fs.statSync(f).mtimeMs;
  } catch {
    return -1; // unreadable files are skipped until they come back (Flume does the same)
  }
}
