/**
 * The public API of flume-ts (`import { defineInterceptor, opt } from 'flume-ts'`): what a plugin needs to define a
 * source, channel, sink, interceptor, selector or sink processor, and nothing of the agent's internals. Stable within
 * a major PLUGIN_API_VERSION (docs/plugins.md); `flume-ng version` prints it. A plugin's `import 'flume-ts'`
 * resolves to the running agent wherever the plugin lives (src/config/plugins/hooks.ts).
 */

export {
  PLUGIN_API_VERSION,
  KINDS,
  defineChannel,
  defineInterceptor,
  defineProcessor,
  defineSelector,
  defineSink,
  defineSource,
  opt,
  OptionError,
  parseSize,
  parseDurationMs,
} from './contract/index.js';
export type {
  AnyDef,
  Channel,
  ChannelContext,
  ChannelDef,
  ChannelSelector,
  ChannelTransaction,
  Claim,
  EmitOptions,
  Interceptor,
  InterceptorContext,
  InterceptorDef,
  Kind,
  Lifecycle,
  OptionKind,
  OptionSpec,
  OptionTable,
  Problem,
  ProcessorContext,
  ProcessorDef,
  Resolved,
  Selection,
  SelectorContext,
  SelectorDef,
  Sink,
  SinkContext,
  SinkDef,
  SinkHandle,
  SinkProcessor,
  Source,
  SourceContext,
  SourceDef,
} from './contract/index.js';
export { makeEvent, withHeaders, copyHeaders, type FlumeEvent } from './core/event.js';
export { AgentError, ChannelFullError, isRetriable, type ErrorCode } from './core/errors.js';
export type { Clock } from './core/clock.js';
export type { Logger } from './telemetry/logger.js';
export type { ChannelCounters, SinkCounters, SourceCounters, CounterGroup } from './telemetry/counters.js';
