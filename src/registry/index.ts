/** THE list of components. Adding a component = one import line here. */
import type { AnyDef } from './define.js';
import memoryChannel from '../channels/memory.js';
import replicatingSelector from '../selectors/replicating.js';
import defaultProcessor from '../processors/default.js';
import netcatSource from '../sources/netcat.js';
import seqSource from '../sources/seq.js';
import stressSource from '../sources/stress.js';
import loggerSink from '../sinks/logger.js';
import nullSink from '../sinks/null.js';
import fileRollSink from '../sinks/file-roll/index.js';

export const ALL_COMPONENTS: readonly AnyDef[] = [
  memoryChannel,
  replicatingSelector,
  defaultProcessor,
  netcatSource,
  seqSource,
  stressSource,
  loggerSink,
  nullSink,
  fileRollSink,
];
