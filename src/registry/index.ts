/** THE list of components. Adding a component = one import line here. */
import type { AnyDef, Kind } from './define.js';
import memoryChannel from '../channels/memory.js';

export const ALL_COMPONENTS: readonly AnyDef[] = [
  memoryChannel,
];
