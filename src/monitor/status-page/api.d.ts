/**
 * GET /api/status: the JSON the monitoring server sends and the status page reads. The server's answer is checked
 * against it when the agent builds, the page's script when the page builds (its own program, lib "dom"), so the
 * two cannot drift apart. Self-contained on purpose: the page's program must not pull in any Node.js code.
 * Counter values are strings, as in Flume's /metrics JSON.
 */

export type Counters = Record<string, string>;

interface ComponentStatus {
  name: string;
  type: string;
  state: string;
  error?: string;
  counters: Counters;
}

export interface SourceStatus extends ComponentStatus {
  channels: string[];
  selector: string;
  interceptors: string[];
}

export interface ChannelStatus extends ComponentStatus {
  /** null for a channel that cannot know it (remote, e.g. Kafka). */
  size: number | null;
  capacity: number | null;
}

export interface SinkStatus extends ComponentStatus {
  channel: string;
  group: string;
}

export interface GroupStatus {
  name: string;
  processor: string;
  sinks: string[];
  implicit: boolean;
  failure?: { since: number; message: string };
}

export interface HealthStatus {
  component: string;
  state: string;
  reason: string;
  since?: number;
}

export interface ReloadStatusJson {
  status: 'never' | 'ok' | 'failed';
  at?: number;
  issues?: string[];
  count: number;
}

/** Where the configuration comes from: files, a ZooKeeper znode or an etcd key, and which version runs. */
export interface ConfigStatusJson {
  store: 'file' | 'zookeeper' | 'etcd';
  /** The files, or the servers and the znode or key. */
  location: string;
  /** The version running: 'znode version 3', 'revision 42', 'files modified at ...'. */
  running?: { version: string; since: number; fromCache?: boolean };
  /** The last version refused (invalid, or the znode or key deleted), until a later one applies. */
  refused?: { version: string; at: number; issues: string[] };
  /** The connection to ZooKeeper or etcd (absent for files). */
  connection?: { state: 'connected' | 'connecting' | 'disconnected'; since: number; error?: string };
  /** The on-disk cache of the last good configuration (absent for files or when turned off). */
  cache?: string;
}

export interface ProcessStats {
  rssBytes: number;
  heapUsedBytes: number;
  eventLoopLagP99Ms: number;
  uptimeSeconds: number;
}

export interface StatusResponse {
  agent: string;
  state: string;
  startedAt: number;
  /** Server time of this answer (ms); the page computes rates between answers with it. */
  now: number;
  sources: SourceStatus[];
  channels: ChannelStatus[];
  sinks: SinkStatus[];
  groups: GroupStatus[];
  health: HealthStatus[];
  process: ProcessStats;
  /** Absent when the agent runs without a configuration reloader. */
  reload?: ReloadStatusJson;
  /** Where the configuration comes from (absent without a configuration reloader). */
  config?: ConfigStatusJson;
}
