/** THE list of components. Adding a component = one import line here. */
import type { AnyDef } from './define.js';
import memoryChannel from '../channels/memory.js';
import replicatingSelector from '../selectors/replicating.js';
import defaultProcessor from '../processors/default.js';

export const ALL_COMPONENTS: readonly AnyDef[] = [
  memoryChannel,
  replicatingSelector,
  defaultProcessor,
];
