/**
 * The plugin's entry point (package.json "exports"): its default export is the list of its components. On the
 * plugins path, each one registers its `type` name: `a1.sources.r1.interceptors.i1.type = mask`.
 */
import mask from './mask.js';
import jsonl from './jsonl-sink.js';

export default [mask, jsonl];
