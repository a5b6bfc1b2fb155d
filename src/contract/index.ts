/**
 * The component contract: what every source, channel, sink, interceptor, selector and processor implements
 * (define.ts: the kinds, their contexts and the define* helpers) and how it declares its keys (options.ts: the
 * opt.* builders, parsing and "did you mean"). It sits below every component family and imports only core/ and
 * telemetry/; the list of components (registry/) and the configuration (config/) sit above the families.
 */
/** Version of the plugin API (src/index.ts): a plugin written against API 1.x runs on every agent whose API is 1.x. */
export const PLUGIN_API_VERSION = '1.0';

export * from './define.js';
export * from './options.js';
