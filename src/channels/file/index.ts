/**
 * `file` channel: durable FIFO on LevelDB. See channel.ts for the design and the parts it coordinates.
 *
 * Differences from Flume (for the migration guide):
 *  - No write-ahead log files + checkpoint: one LevelDB record per committed put transaction, and a state record
 *    written atomically with every commit. Start-up is constant time (no replay), whatever the depth.
 *  - Capacity is checked at commit (like the memory channel), not reserved at put().
 *  - Below minimumRequiredSpace only puts are refused (ChannelFullError, so sources back off); takes keep
 *    draining. Flume stops takes too.
 *  - A second agent on the same directories fails with a message naming the directory and the holding process.
 *  - A damaged store, or a checkpoint that names another store, refuses to start with a recovery hint; recover =
 *    true repairs and reports recovered/lost counts. Flume silently replays what it can.
 *  - Only the first of dataDirs is used. encryption.* is refused (events would be stored unencrypted).
 */
import { defineChannel } from '../../contract/index.js';
import { FileChannel } from './channel.js';
import { dirClaims, options } from './options.js';

export { FileChannel, FileTransaction, type FileChannelInternals } from './channel.js';
export { FileChannelError } from './store.js';

export default defineChannel({
  type: 'file',
  classNames: ['org.apache.flume.channel.file.FileChannel'],
  summary:
    'Durable queue on LevelDB: a committed put survives kill -9 (and power loss with fsyncPerTransaction); uncommitted takes come back after a crash.',
  options,
  transactionCapacity: (o) => o.transactionCapacity,
  check: (o) =>
    o.transactionCapacity <= o.capacity || {
      key: 'transactionCapacity',
      message: `transactionCapacity ${o.transactionCapacity} exceeds capacity ${o.capacity}`,
      hint: 'raise capacity or lower transactionCapacity',
    },
  claims: (o) => dirClaims(o),
  create: (o, ctx) => new FileChannel(o, ctx),
});
