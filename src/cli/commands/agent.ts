import { openStore, ConfigCache, defaultCacheDir, type StoreSpec } from '../../config/stores/index.js';
import { Agent } from '../../runtime/agent.js';
import { ConfigReloader } from '../../runtime/reload.js';
import { pluginSettings } from '../../config/plugins/index.js';
import { firstConfig } from '../../runtime/first-config.js';
import { MonitoringServer, monitoringFrom } from '../../monitor/http-server.js';
import { configureLogging, flushLogs } from '../../telemetry/logger.js';
import { errorMessage } from '../../core/errors.js';
import { EXIT } from '../exit-codes.js';
import { JVM_HINT } from '../jvm-options.js';
import { effectiveSettings, readConfDir, type Effective } from '../conf-dir/index.js';
import { runDryRun } from './dry-run.js';
import { checkAddresses } from '../../config/addresses.js';
import { configLimits } from '../../config/limits.js';

export interface AgentArgs {
  name: string;
  /** Where the configuration comes from: files, ZooKeeper or etcd. */
  store: StoreSpec;
  /** How long one read of ZooKeeper or etcd may take. */
  storeTimeoutMs: number;
  /** Directory of the on-disk cache of the last good configuration from a store; false turns it off. */
  configCache?: string | false;
  /** -c/--conf: the configuration directory (flume-env.sh, log4j files). */
  conf?: string;
  sys: Record<string, string>;
  jvm: string[];
  reloadConf: boolean;
  /** Seconds between configuration checks (Flume: 30). */
  pollInterval?: number;
  shutdownTimeout: number;
  ignoredFlags: string[];
  /** --dryrun: validate and print what would start, start nothing. */
  dryRun?: boolean;
  /** Invoked as Flume's deprecated `flume-ng node`. */
  deprecatedNode?: boolean;
  /** --plugins-path (default: plugins.d next to the -c directory). */
  pluginsPath?: string;
}

export async function runAgent(a: AgentArgs): Promise<number> {
  const confDir = a.conf !== undefined ? readConfDir(a.conf) : undefined;
  let eff: Effective;
  let monitoring;
  try {
    eff = effectiveSettings(a.sys, confDir);
    monitoring = monitoringFrom(eff.sys);
  } catch (err) {
    process.stderr.write(`flume-ng: ${errorMessage(err)}\n`);
    return EXIT.USAGE;
  }
  // the configuration is read once, whatever the store: no watch, no cache
  if (a.dryRun) return runDryRun(a, eff, confDir, monitoring);
  const logger = configureLogging(eff.logging);
  const log = logger.child({ component: `agent.${a.name}` });
  if (a.deprecatedNode) log.warn("The 'node' command is deprecated; use 'flume-ng agent' (it runs the same agent)");
  for (const f of a.ignoredFlags)
    log.warn('Flag accepted for Flume compatibility; it has no effect in flume-ts', { flag: f });
  if (a.jvm.length) log.warn('JVM options ignored', { options: a.jvm.join(' '), hint: JVM_HINT });
  if (confDir?.read.length)
    log.info('Configuration directory read', { dir: confDir.dir, files: confDir.read.join(',') });
  for (const n of eff.notes) log.warn(n.message, { file: n.file, line: n.line, hint: n.hint });

  let store;
  try {
    // files past -Dflume.config.maxBytes are refused unread (the load reports a bad value of it)
    const spec: StoreSpec =
      a.store.kind === 'file'
        ? { ...a.store, pollMs: (a.pollInterval ?? 30) * 1000, maxBytes: configLimits(eff.sys).maxBytes }
        : a.store;
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

  // a signal while waiting for the store ends the wait (and the agent) cleanly; a second one exits at once (a
  // read of the store in progress can take its whole timeout to notice the first)
  const waiting = new AbortController();
  let waitSignals = 0;
  let giveUp!: (code: number) => void;
  const gaveUp = new Promise<{ exit: 'forced'; code: number }>((r) => (giveUp = (code) => r({ exit: 'forced', code })));
  const stopWaiting = (sig: NodeJS.Signals) => {
    waitSignals++;
    if (waitSignals === 1) {
      log.info('Stopping: waiting for the read of the configuration store to end', { signal: sig });
      waiting.abort();
    } else if (waitSignals === 2) {
      log.warn('Second signal: exiting now without waiting for the configuration store', { signal: sig });
      giveUp(EXIT.FAILURE);
    }
    // a third signal: already exiting
  };
  process.on('SIGTERM', stopWaiting);
  process.on('SIGINT', stopWaiting);
  const plugins = pluginSettings({ conf: a.conf, pluginsPath: a.pluginsPath, store: a.store });
  const readFirst = firstConfig({
    store,
    agentName: a.name,
    sys: eff.sys,
    logger: log,
    plugins,
    cache,
    timeoutMs: a.storeTimeoutMs,
    signal: waiting.signal,
    print: (text) => process.stderr.write(text),
  });
  const first = await Promise.race([readFirst, gaveUp]);
  if ('exit' in first) {
    // the wait's signal handlers stay: a further signal while the process exits must not kill it with a signal
    if (first.exit === 'forced') {
      void store.close().catch(() => undefined);
      await flushLogs();
      return first.code;
    }
    await Promise.race([store.close(), gaveUp]);
    if (waitSignals > 1) {
      await flushLogs();
      return EXIT.FAILURE;
    }
    if (first.exit === 'stopped') log.info('Stopped while waiting for the configuration store');
    await flushLogs();
    return first.exit === 'config' ? EXIT.CONFIG : first.exit === 'failure' ? EXIT.FAILURE : EXIT.OK;
  }
  for (const i of first.result.issues)
    log.warn(i.message, { file: i.file, line: i.line, key: i.key, component: i.component, hint: i.hint });
  // a bind address of another host or a name that does not resolve: said before the source starts retrying
  for (const i of await checkAddresses(first.plan))
    log[i.severity === 'error' ? 'error' : 'warn'](i.message, { key: i.key, hint: i.hint });
  if (waitSignals) {
    // told to stop while the addresses were checked: nothing started
    await Promise.race([store.close(), gaveUp]);
    if (waitSignals === 1) log.info('Stopped before the agent started');
    await flushLogs();
    return waitSignals > 1 ? EXIT.FAILURE : EXIT.OK;
  }
  const agent = new Agent(first.plan, { shutdownTimeoutMs: a.shutdownTimeout * 1000 });
  const reloader = new ConfigReloader(agent, {
    store,
    agentName: a.name,
    sys: eff.sys,
    logger: log,
    initial: first.doc,
    fromCache: first.fromCache,
    refused: first.refused,
    cache,
    readTimeoutMs: a.storeTimeoutMs,
    plugins,
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
      // after a second signal the outcome of this stop no longer matters (and the logs may be closed)
      agent.stop().then(
        async (left) => {
          if (signals > 1) return;
          await server?.close();
          log.info('Agent stopped', { eventsLeftInChannels: left });
          resolveExit(EXIT.OK);
        },
        (err) => {
          if (signals > 1) return;
          log.error('Agent did not stop cleanly', { error: errorMessage(err) });
          resolveExit(EXIT.FAILURE);
        },
      );
    } else if (signals === 2) {
      log.warn('Second signal: exiting now without draining (events still in memory channels are lost)', {
        signal: sig,
      });
      try {
        agent.destroy();
      } catch {
        // exiting anyway
      }
      void server?.close().catch(() => undefined);
      resolveExit(EXIT.FAILURE);
    }
    // a third signal: already exiting
  };
  const onHup = () => void reloader.reload('SIGHUP');
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.off('SIGTERM', stopWaiting);
  process.off('SIGINT', stopWaiting);
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
  // the signal handlers stay: a further signal while the process exits must not kill it with a signal status
  process.off('SIGHUP', onHup);
  await flushLogs();
  return code;
}
