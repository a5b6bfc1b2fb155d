/**
 * `flume-ng agent --dryrun`: Flume's "do not start". Validates the configuration, prints what would start (in start
 * order) and the logging and monitoring settings in effect, and exits: 0 valid, 78 invalid. Nothing is opened: no
 * port, no file, no log file. A configuration in ZooKeeper or etcd is read once: no watch, the on-disk cache neither
 * read nor written (an unreachable store fails the dry run, exit 1).
 */
import { loadDocumentWithPlugins, pluginSettings } from '../../config/plugins/index.js';
import { formatIssues, type ConfigIssue } from '../../config/issues.js';
import type { Plan, Planned } from '../../config/validate/index.js';
import type { AnyDef } from '../../contract/index.js';
import type { MonitoringOptions } from '../../monitor/http-server.js';
import type { LogSettings } from '../../telemetry/logger.js';
import { EXIT } from '../exit-codes.js';
import { checkAddresses } from '../../config/addresses.js';
import type { ConfDir, Effective } from '../conf-dir/index.js';
import type { AgentArgs } from './agent.js';
import { readOnce } from './read-once.js';

export async function runDryRun(
  a: AgentArgs,
  eff: Effective,
  confDir: ConfDir | undefined,
  monitoring: MonitoringOptions | undefined,
): Promise<number> {
  if (a.deprecatedNode) process.stderr.write("flume-ng: the 'node' command is deprecated; use 'flume-ng agent'\n");
  const read = await readOnce(a.store, a.name, a.storeTimeoutMs, eff.sys);
  if ('exit' in read) {
    process.stderr.write(`flume-ng: ${read.message}\n`);
    return read.exit;
  }
  const plugins = pluginSettings({ conf: a.conf, pluginsPath: a.pluginsPath, store: a.store });
  const res = await loadDocumentWithPlugins(read.doc, { agent: a.name, sys: eff.sys, ...plugins });
  const addresses = res.plan ? await checkAddresses(res.plan) : [];
  const warnings: ConfigIssue[] = [...eff.notes, ...res.issues, ...addresses];
  if (!res.plan || addresses.some((i) => i.severity === 'error')) {
    process.stderr.write(
      `Configuration of agent '${a.name}' has errors; nothing would start.\n${formatIssues(warnings, res.omitted)}\n`,
    );
    return EXIT.CONFIG;
  }
  if (warnings.length) process.stderr.write(`${formatIssues(warnings, res.omitted)}\n`);
  const lines = [
    `Dry run of agent '${a.name}': the configuration is valid; nothing was started.`,
    ...(read.kind === 'file' ? [] : [`Configuration from: ${read.location} (${read.doc.version})`]),
    'Would start, in this order:',
    ...describePlan(res.plan).map((l) => `  ${l}`),
    `Logging: ${describeLogging(eff.logging)}`,
    `Monitoring: ${monitoring ? `${monitoring.type} on ${monitoring.host}:${monitoring.port}` : 'off'}`,
  ];
  if (confDir)
    lines.push(
      `Configuration directory: ${confDir.dir} (${confDir.read.length ? `read ${confDir.read.join(', ')}` : 'nothing read'})`,
    );
  if (a.jvm.length) lines.push(`JVM options ignored: ${a.jvm.join(' ')}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT.OK;
}

/** The components in start order, one line each, with the settings written for them. */
export function describePlan(plan: Plan): string[] {
  const out: string[] = [];
  for (const c of plan.channels) out.push(`channel ${c.name}: ${c.def.type}${settings(c)}`);
  for (const k of plan.sinks) out.push(`sink ${k.name}: ${k.def.type} <- channel ${k.channel}${settings(k)}`);
  for (const g of plan.groups.filter((x) => !x.implicit)) {
    const proc = g.signature
      .split('\n')
      .filter((l) => l.startsWith('processor.') && !l.startsWith('processor.type='))
      .map((l) => l.slice('processor.'.length));
    out.push(
      `sink group ${g.name}: ${g.processor.def.type} over ${g.sinks.join(', ')}${proc.length ? ` (${proc.join(' ')})` : ''}`,
    );
  }
  for (const s of plan.sources) {
    const extra = [
      ...(s.interceptors.length
        ? [`interceptors ${s.interceptors.map((i) => `${i.name}:${i.def.type}`).join(' ')}`]
        : []),
      ...(s.selector.def.type !== 'replicating' || s.channels.length > 1 ? [`selector ${s.selector.def.type}`] : []),
    ];
    out.push(
      `source ${s.name}: ${s.def.type} -> channel${s.channels.length > 1 ? 's' : ''} ${s.channels.join(', ')}` +
        `${settings(s, /^(interceptors|selector)(\.|$)/)}${extra.length ? `; ${extra.join('; ')}` : ''}`,
    );
  }
  return out;
}

const STRUCTURE = new Set(['type', 'channel', 'channels']);

function settings(p: Planned<AnyDef>, skip?: RegExp): string {
  const kv = p.signature
    .split('\n')
    .filter((l) => l !== '')
    .filter((l) => {
      const k = l.slice(0, l.indexOf('='));
      return !STRUCTURE.has(k) && !(skip && skip.test(k));
    });
  return kv.length ? ` (${kv.join(' ')})` : '';
}

export function describeLogging(s: LogSettings): string {
  const level = s.level.toUpperCase();
  const to = s.appenders.map((a) =>
    a.kind === 'console'
      ? 'console (stdout)'
      : `${a.path} (${[
          ...(a.maxBytes > 0 ? [`rolled at ${Math.round(a.maxBytes / 1024 / 1024)} MiB`] : []),
          ...(a.daily ? ['rolled daily'] : []),
          `${a.maxFiles} kept`,
        ].join(', ')})`,
  );
  return `${level} to ${to.join(' and ')}; timestamps in ${s.timezone === 'utc' ? 'UTC' : 'local time'}`;
}
