/**
 * Module resolution hook (registered with `module.register`, runs on Node's loader thread): makes a plugin's
 * `import 'flume-ts'` and `import 'flume-ts/testing'` resolve to the running agent's own public entries, wherever
 * the plugin lives (/etc, plugins.d, a project with its own copy of flume-ts). One agent, one set of classes:
 * `instanceof AgentError` holds across the plugin boundary. Imports nothing of the agent.
 */
interface HookData {
  readonly entries: Record<string, string>;
}
interface ResolveContext {
  readonly parentURL?: string;
  readonly conditions: readonly string[];
}
interface ResolveResult {
  readonly url: string;
  readonly shortCircuit?: boolean;
  readonly format?: string | null;
}

let entries: Record<string, string> = {};

export function initialize(data: HookData): void {
  entries = data.entries;
}

export async function resolve(
  specifier: string,
  context: ResolveContext,
  next: (specifier: string, context: ResolveContext) => Promise<ResolveResult>,
): Promise<ResolveResult> {
  const url = entries[specifier];
  if (url) return { url, shortCircuit: true, format: 'module' };
  return next(specifier, context);
}
