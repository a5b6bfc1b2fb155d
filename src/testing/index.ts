/**
 * `flume-ts/testing`: the contract checks of flume-ts's own components, for plugin authors to run against theirs
 * (with node:test or any runner: each check resolves, or throws an AssertionError saying what broke). Public and
 * stable like the main entry (docs/plugins.md, "Testing your plugin").
 */
export {
  checkDefinition,
  optionsFor,
  sampleBatch,
  checkInterceptor,
  checkSink,
  type InterceptorCheck,
  type SinkCheck,
} from './checks.js';
export { makeEvent, type FlumeEvent } from '../core/event.js';
export { checkChannel, type ChannelCheck } from './channel.js';
export { checkSource, type SourceCheck } from './source.js';
