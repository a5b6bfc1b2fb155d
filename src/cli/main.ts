/** flume-ng / flume-ts command line: yargs wiring only. */
import yargs from 'yargs';
import { prePass, UsageError } from './args.js';
import { EXIT } from './exit-codes.js';
import { runAgent } from './commands/agent.js';
import { runValidate } from './commands/validate.js';
import { runDescribe } from './commands/describe.js';
import { runVersion } from './commands/version.js';
import { avroClientArgs, avroClientBuilder, runAvroClient } from './commands/avro-client.js';
import { storeOptions, storeSpecFrom } from './store-args.js';

type Action = () => Promise<number> | number;

const FLUME_IGNORED = [
  'conf-uri',
  'conf-user',
  'conf-password',
  'auth-provider',
  'backup-directory',
  'conf-provider',
  'classpath',
] as const;

export async function main(argv: readonly string[]): Promise<number> {
  const pre = prePass(argv);
  let action: Action | undefined;
  const usage = (msg: string): never => {
    throw new UsageError(msg);
  };
  const confFileOpts = {
    'conf-file': {
      alias: 'f',
      type: 'string',
      array: true,
      describe: 'Configuration file (repeatable; later files override earlier ones key by key)',
    },
    name: { alias: 'n', type: 'string', describe: 'Name of the agent to run' },
  } as const;
  const pluginsPathOpt = {
    type: 'string',
    describe: 'Plugin directories, separated by ":" (default: plugins.d next to the -c directory; docs/plugins.md)',
  } as const;
  const cli = yargs(pre.rest)
    .scriptName('flume-ng')
    .usage('Usage: $0 <command> [options]\n\nRuns Apache Flume agent configurations on Node.js.')
    .parserConfiguration({
      'short-option-groups': false,
      'dot-notation': false,
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'boolean-negation': true,
    })
    .strict()
    .exitProcess(false)
    .fail((msg, err) => usage(msg || err?.message || 'bad command line'))
    .command(
      'agent',
      'Run an agent',
      (y) =>
        y
          .options(confFileOpts)
          .options(storeOptions)
          .option('config-cache', {
            type: 'string',
            describe:
              'Directory of the last good configuration read from ZooKeeper or etcd, used when the store is down at ' +
              'start (default .flume-ts/config-cache; --no-config-cache turns it off)',
          })
          .option('conf', {
            alias: 'c',
            type: 'string',
            describe: 'Configuration directory: the -D options of its flume-env.sh, its log4j2.xml or log4j.properties',
          })
          .option('reload-conf', {
            type: 'boolean',
            default: true,
            describe: 'Re-read the configuration when it changes (--no-reload-conf turns it off)',
          })
          .option('poll-interval', { alias: 'i', type: 'string', describe: 'Seconds between configuration checks' })
          .option('shutdown-timeout', {
            type: 'string',
            default: '30',
            describe: 'Seconds the sinks may drain the channels on SIGTERM/SIGINT',
          })
          .option('conf-uri', { alias: 'u', type: 'string', array: true, hidden: true })
          .option('conf-user', { type: 'string', hidden: true })
          .option('conf-password', { type: 'string', hidden: true })
          .option('auth-provider', { alias: 'a', type: 'string', hidden: true })
          .option('backup-directory', { alias: 'b', type: 'string', hidden: true })
          .option('conf-provider', { type: 'string', hidden: true })
          .option('classpath', { alias: 'C', type: 'string', hidden: true })
          .option('plugins-path', pluginsPathOpt)
          .option('dryrun', {
            alias: 'd',
            type: 'boolean',
            describe: 'Validate, print what would start (and the logging and monitoring settings), exit',
          })
          .epilog(
            'Java-style -Dkey=value options set system properties (flume.root.logger, flume.monitoring.*, ${sys:key}); -X... options are ignored.',
          ),
      (a) => {
        if (!a.name) usage('missing required option -n/--name: the agent to run');
        if (a['conf-uri']?.length) usage('-u/--conf-uri is not supported by flume-ts yet; use -f/--conf-file');
        const { spec, timeoutMs } = storeSpecFrom(a);
        const cache = a['config-cache'] as string | boolean | undefined;
        if (cache === true || cache === '') usage('--config-cache: give a directory');
        const shutdown = Number(a['shutdown-timeout']);
        if (!Number.isFinite(shutdown) || shutdown < 0)
          usage(`--shutdown-timeout: '${a['shutdown-timeout']}' is not a number of seconds`);
        let poll: number | undefined;
        if (a['poll-interval'] !== undefined) {
          poll = Number(a['poll-interval']);
          if (!Number.isFinite(poll) || poll <= 0)
            usage(`-i/--poll-interval: '${a['poll-interval']}' is not a positive number of seconds`);
        }
        const ignored = FLUME_IGNORED.filter((k) => (a as Record<string, unknown>)[k] !== undefined).map(
          (k) => `--${k}`,
        );
        action = () =>
          runAgent({
            name: a.name!,
            store: spec,
            storeTimeoutMs: timeoutMs,
            configCache: cache as string | false | undefined,
            conf: a.conf,
            sys: pre.sys,
            jvm: pre.jvm,
            reloadConf: a['reload-conf'],
            pollInterval: poll,
            shutdownTimeout: shutdown,
            ignoredFlags: ignored,
            dryRun: a.dryrun === true,
            deprecatedNode: pre.deprecatedNode,
            pluginsPath: a['plugins-path'],
          });
      },
    )
    .command(
      'validate',
      'Check a configuration and list every problem (exit 0 valid, 78 invalid)',
      (y) =>
        y
          .options(confFileOpts)
          .options(storeOptions)
          .option('conf', { alias: 'c', type: 'string', describe: 'Configuration directory (for plugins.d)' })
          .option('plugins-path', pluginsPathOpt)
          .option('json', { type: 'boolean', default: false, describe: 'Print the issues as JSON' }),
      (a) => {
        if (!a.name) usage('missing required option -n/--name: the agent to validate');
        const { spec, timeoutMs } = storeSpecFrom(a);
        action = () =>
          runValidate({
            name: a.name!,
            store: spec,
            timeoutMs,
            sys: pre.sys,
            json: a.json,
            conf: a.conf,
            pluginsPath: a['plugins-path'],
          });
      },
    )
    .command(
      'describe [kind] [type]',
      'Print the keys of a component type (kinds: source, channel, sink, interceptor, selector, processor)',
      (y) =>
        y
          .positional('kind', { type: 'string' })
          .positional('type', { type: 'string' })
          .option('markdown', { type: 'boolean', default: false, describe: 'Print Markdown' })
          .option('plugin', { type: 'string', describe: 'Describe the components of a plugin file or package' })
          .option('plugins-path', pluginsPathOpt),
      (a) => {
        action = () =>
          runDescribe({
            kind: a.kind,
            type: a.type,
            markdown: a.markdown,
            plugin: a.plugin,
            pluginsPath: a['plugins-path'],
          });
      },
    )
    .command(
      'avro-client',
      'Send the lines of a file, stdin or a directory as events to an avro source',
      (y) => avroClientBuilder(y),
      (a) => {
        const args = avroClientArgs(a as Record<string, unknown>);
        action = () => runAvroClient(args);
      },
    )
    .command(
      'version',
      'Print the version',
      (y) => y,
      () => {
        action = () => runVersion();
      },
    )
    .demandCommand(1, 'give a command: agent, validate, describe, avro-client, version')
    .recommendCommands()
    .help()
    .alias('help', 'h')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 100));
  try {
    await cli.parseAsync();
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(
        `flume-ng: ${err.message}\nRun 'flume-ng --help' or 'flume-ng <command> --help' for usage.\n`,
      );
      return EXIT.USAGE;
    }
    throw err;
  }
  if (!action) return EXIT.OK; // --help was printed
  return action();
}

/** Entry point used by bin/flume-ng: runs main() and exits with its code. */
export function run(): void {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // give stdout/stderr a chance to flush, then exit even if a stray handle is still open
      setTimeout(() => process.exit(code), 100).unref();
    },
    (err) => {
      process.stderr.write(`flume-ng: unexpected failure: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(EXIT.FAILURE);
    },
  );
}
