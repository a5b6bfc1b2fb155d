import { AgentError } from '../core/errors.js';
import { isJvmOption } from './jvm-options.js';

/** Java-style flags Flume's launcher accepts, split off before yargs sees the rest. */
export interface PreParsed {
  sys: Record<string, string>;
  /** -X..., -XX:..., -verbose:..., -javaagent:... : accepted for compatibility, no effect. */
  jvm: string[];
  rest: string[];
  /** The command was Flume's deprecated `node` (run as `agent`). */
  deprecatedNode: boolean;
}

export function prePass(argv: readonly string[]): PreParsed {
  const sys: Record<string, string> = {};
  const jvm: string[] = [];
  const rest: string[] = [];
  // Flume's deprecated alias: `flume-ng node ...` runs `flume-ng agent ...` with a warning
  const deprecatedNode = argv[0] === 'node';
  if (deprecatedNode) argv = ['agent', ...argv.slice(1)];
  for (const a of argv) {
    if (a.startsWith('-D') && a.length > 2) {
      const kv = a.slice(2);
      const eq = kv.indexOf('=');
      if (eq < 0) sys[kv] = '';
      else sys[kv.slice(0, eq)] = kv.slice(eq + 1);
    } else if (isJvmOption(a)) {
      jvm.push(a);
    } else if (a === '-prov') {
      rest.push('--conf-provider');
    } else {
      rest.push(a);
    }
  }
  return { sys, jvm, rest, deprecatedNode };
}

/** A bad command line: main prints the message and exits 64 (EX_USAGE). */
export class UsageError extends AgentError {
  constructor(message: string) {
    super('FLUME_ERR_USAGE', message);
    this.name = 'UsageError';
  }
}
