import { openStore, ConfigCache, defaultCacheDir, type StoreSpec } from '../../config/stores/index.js';
import { Agent } from '../../runtime/agent.js';
import { ConfigReloader } from '../../runtime/reload.js';
import { firstConfig } from '../../runtime/first-config.js';
import { MonitoringServer, monitoringFrom } from '../../monitor/http-server.js';
import { configureLogging, flushLogs, logSettingsFrom } from '../../telemetry/logger.js';
import { errorMessage } from '../../core/errors.js';
import { EXIT } from '../exit-codes.js';

export interface AgentArgs {
  name: string;
  /** Where the configuration comes from: files, ZooKeeper or etcd. */
  store: StoreSpec;
  /** How long one read of ZooKeeper or etcd may take. */
  storeTimeoutMs: number;
  /** Directory of the on-disk cache of the last good configuration from a store; false turns it off. */
  configCache?: string | false;
  conf?: string;
  sys: Record<string, string>;
  jvm: string[];
  reloadConf: boolean;
  /** Seconds between configuration checks (Flume: 30). */
  pollInterval?: number;
  shutdownTimeout: number;
  ignoredFlags: string[];
}

export async function runAgent(a: AgentArgs): Promise<number> {
  const logger = configureLogging(logSettingsFrom(a.sys));
  const log = logger.child({ component: `agent.${a.name}` });
  for (const f of a.ignoredFlags)
    log.warn('Flag accepted for Flume compatibility; it has no effect in flume-ts', { flag: f });
  if (a.jvm.length) log.info('JVM options ignored', { options: a.jvm.join(' ') });

  let monitoring;
  let store;
  try {
    monitoring = monitoringFrom(a.sys);
    const spec: StoreSpec = a.store.kind === 'file' ? { ...a.store, pollMs: (a.pollInterval ?? 30) * 1000 } : a.store;
    store = await openStore(spec, a.name, log);
  } catch (err) {
    process.stderr.write(`flume-ng: ${errorMessage(err)}\n`);
    await flushLogs();
    return EXIT.USAGE;
  }
  const cache =
    store.kind === 'file' || a.configCache === false
      ? undefined
      : new ConfigCache(a.configCache ?? defaultCacheDir(process.cwd()), a.name);
  if (store.kind !== 'file')
    log.info('Reading the configuration from the store', { from: store.location, cache: cache?.file ?? 'off' });

  // a signal while waiting for the store ends the wait (and the agent) cleanly
  const waiting = new AbortController();
  const stopWaiting = () => waiting.abort();
  process.on('SIGTERM', stopWaiting);
  process.on('SIGINT', stopWaiting);
  const first = await firstConfig({
    store,
    agentName: a.name,
    sys: a.sys,
    logger: log,
    cache,
    timeoutMs: a.storeTimeoutMs,
    signal: waiting.signal,
    print: (text) => process.stderr.write(text),
  });
  process.off('SIGTERM', stopWaiting);
  process.off('SIGINT', stopWaiting);
  if ('exit' in first) {
    await store.close();
    if (first.exit === 'stopped') log.info('Stopped while waiting for the configuration store');
    await flushLogs();
    return first.exit === 'config' ? EXIT.CONFIG : first.exit === 'failure' ? EXIT.FAILURE : EXIT.OK;
  }
  for (const i of first.result.issues)
    log.warn(i.message, { file: i.file, line: i.line, key: i.key, component: i.component, hint: i.hint });
  const agent = new Agent(first.plan, { shutdownTimeoutMs: a.shutdownTimeout * 1000 });
  const reloader = new ConfigReloader(agent, {
    store,
    agentName: a.name,
    sys: a.sys,
    logger: log,
    initial: first.doc,
    fromCache: first.fromCache,
    refused: first.refused,
    cache,
    readTimeoutMs: a.storeTimeoutMs,
  });
  const server = monitoring ? new MonitoringServer(() => agent, monitoring, log, reloader.status) : undefined;

  let signals = 0;
  let resolveExit!: (code: number) => void;
  const exited = new Promise<number>((r) => (resolveExit = r));
  const onSignal = (sig: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      log.info('Stopping: intake stopped, draining channels', { signal: sig, timeoutSeconds: a.shutdownTimeout });
      void reloader.stop();
      agent.stop().then(
        async (left) => {
          await server?.close();
          log.info('Agent stopped', { eventsLeftInChannels: left });
          resolveExit(EXIT.OK);
        },
        (err) => {
          log.error('Agent did not stop cleanly', { error: errorMessage(err) });
          resolveExit(EXIT.FAILURE);
        },
      );
    } else {
      log.warn('Second signal: aborting without draining', { signal: sig });
      agent.destroy();
      resolveExit(EXIT.FAILURE);
    }
  };
  const onHup = () => void reloader.reload('SIGHUP');
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('SIGHUP', onHup);

  try {
    await agent.start();
    await server?.start();
  } catch (err) {
    log.error('Agent failed to start', { error: errorMessage(err) });
    process.stderr.write(`flume-ng: agent ${a.name} failed to start: ${errorMessage(err)}\n`);
    agent.destroy();
    await reloader.stop();
    await server?.close();
    await flushLogs();
    return EXIT.FAILURE;
  }
  if (store.kind !== 'file' && !first.fromCache) reloader.saveRunning();
  if (a.reloadConf) reloader.watch();
  const code = await exited;
  process.off('SIGTERM', onSignal);
  process.off('SIGINT', onSignal);
  process.off('SIGHUP', onHup);
  await flushLogs();
  return code;
}
