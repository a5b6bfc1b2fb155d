/**
 * The monitoring server (-Dflume.monitoring.type=http|prometheus -Dflume.monitoring.port=N):
 *   GET /metrics      Flume's JSON shape ({"SOURCE.r1": {...}, ...}, every value a string), or Prometheus text
 *   GET /health       200 {"status":"ok"} when every component runs; 503 with the failing components and why;
 *                     `config` when a configuration version was refused or the store cannot be reached
 *   GET /api/status   the agent snapshot (topology, counters, health, reload status) for the status page
 *   GET /             the live status page
 * TRACE and OPTIONS answer 403, as Flume's server does.
 */
import http from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Agent } from '../runtime/agent.js';
import type { ReloadStatus } from '../runtime/reload.js';
import { AgentError } from '../core/errors.js';
import type { Logger } from '../telemetry/logger.js';
import { prometheusText } from './prometheus.js';
import { loadStatusPage, type StatusPage, type StatusResponse } from './status-page/index.js';
import type { ConfigStatusJson, ReloadStatusJson } from './status-page/api.js';

export interface MonitoringOptions {
  type: 'http' | 'prometheus';
  port: number;
  host: string;
}

/** Reads flume.monitoring.* system properties; undefined when monitoring is off. Throws on bad values. */
export function monitoringFrom(sys: Record<string, string>): MonitoringOptions | undefined {
  const type = sys['flume.monitoring.type'];
  if (type === undefined || type === '') return undefined;
  const t = type.toLowerCase();
  if (t !== 'http' && t !== 'prometheus') {
    throw new AgentError(
      'FLUME_ERR_USAGE',
      `-Dflume.monitoring.type=${type} is not supported; use http (Flume's JSON) or prometheus`,
    );
  }
  const portText = sys['flume.monitoring.port'] ?? '41414';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new AgentError('FLUME_ERR_USAGE', `-Dflume.monitoring.port=${portText} is not a port number`);
  }
  return { type: t, port, host: sys['flume.monitoring.bind'] ?? '0.0.0.0' };
}

export function flumeMetricsJson(agent: Agent, reload?: ReloadStatus): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const g of agent.counterGroups()) out[`${g.type}.${g.name}`] = g.toFlumeJson();
  if (reload) {
    out[`AGENT.${agent.name}`] = {
      Type: 'AGENT',
      StartTime: String(agent.startedAt),
      LastReloadStatus: reload.status,
      LastReloadTime: String(reload.at ?? 0),
      ReloadCount: String(reload.count),
      ConfigStore: reload.config.store,
      ConfigVersion: reload.config.running?.version ?? '',
      Healthy: String(agent.health().length === 0),
    };
  }
  return out;
}

/** /api/status's `reload`: the reload status without its `config`, which has its own entry. */
function reloadJson(r: ReloadStatus): ReloadStatusJson {
  const { config: _config, ...rest } = r;
  return rest;
}

/**
 * /health's `config` entry, present when something about the configuration needs a look (the status stays 200:
 * the pipeline runs): a refused version, a store that cannot be reached, or a start from the on-disk cache.
 */
function configHealth(r: ReloadStatus | undefined): { config?: ConfigStatusJson } {
  const c = r?.config;
  if (!c) return {};
  const down = c.connection && c.connection.state !== 'connected';
  return c.refused || down || c.running?.fromCache ? { config: c } : {};
}

export class MonitoringServer {
  private server?: http.Server;
  private page?: StatusPage;
  private readonly lag: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });

  constructor(
    private readonly agent: () => Agent,
    private readonly opts: MonitoringOptions,
    private readonly log: Logger,
    private readonly reload?: ReloadStatus,
  ) {}

  get port(): number {
    const a = this.server?.address();
    return a && typeof a === 'object' ? a.port : this.opts.port;
  }

  /** Listens; fails (FLUME_ERR_MONITOR_ASSET) before listening when the status page's files are not installed. */
  async start(): Promise<void> {
    this.page = loadStatusPage();
    this.lag.enable();
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 10_000;
    this.server.keepAliveTimeout = 5_000;
    this.server.maxConnections = 256;
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(this.opts.port, this.opts.host, () => {
        this.server!.off('error', reject);
        resolve();
      });
    });
    this.log.info('Monitoring server listening', { type: this.opts.type, host: this.opts.host, port: this.port });
  }

  async close(): Promise<void> {
    this.lag.disable();
    const s = this.server;
    if (!s) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      s.close(() => resolve());
      s.closeAllConnections();
    });
  }

  processStats(): { rssBytes: number; heapUsedBytes: number; eventLoopLagP99Ms: number; uptimeSeconds: number } {
    const m = process.memoryUsage();
    const p99 = this.lag.percentile(99) / 1e6;
    this.lag.reset();
    return {
      rssBytes: m.rss,
      heapUsedBytes: m.heapUsed,
      eventLoopLagP99Ms: Number.isFinite(p99) ? p99 : 0,
      uptimeSeconds: process.uptime(),
    };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (req.method === 'TRACE' || req.method === 'OPTIONS') {
      res.writeHead(403).end();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const p = url.pathname.toLowerCase();
    const agent = this.agent();
    const json = (code: number, body: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json;charset=utf-8', 'cache-control': 'no-store' });
      res.end(JSON.stringify(body));
    };
    if (p === '/metrics') {
      if (this.opts.type === 'prometheus' || url.searchParams.get('format') === 'prometheus') {
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(prometheusText(agent, this.processStats(), this.reload));
      } else {
        json(200, flumeMetricsJson(agent, this.reload));
      }
      return;
    }
    if (p === '/health') {
      const failing = agent.health();
      const reload =
        this.reload && this.reload.status === 'failed'
          ? { lastReload: { status: 'failed', at: this.reload.at, issues: this.reload.issues } }
          : {};
      json(failing.length ? 503 : 200, {
        status: failing.length ? 'failing' : 'ok',
        agent: agent.name,
        failing,
        ...reload,
        ...configHealth(this.reload),
      });
      return;
    }
    if (p === '/api/status') {
      const status: StatusResponse = {
        ...agent.snapshot(),
        process: this.processStats(),
        ...(this.reload ? { reload: reloadJson(this.reload), config: this.reload.config } : {}),
        now: Date.now(),
      };
      json(200, status);
      return;
    }
    if (p === '/' || p === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html;charset=utf-8', 'cache-control': 'no-store' });
      res.end(this.page!(agent.name));
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
  }
}
