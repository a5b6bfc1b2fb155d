/**
 * What an RPC source (avro, thrift) does with one append/appendBatch call: count it, put the events in the channels
 * (in several transactions when the batch is larger than the channels take at once), and answer OK once committed
 * or FAILED when a channel refused them (logged through the source's warning limiter; the client retries).
 */
import type { SourceContext } from '../../contract/index.js';
import { errorMessage } from '../../core/errors.js';
import type { FlumeEvent } from '../../core/event.js';
import type { WarnLimiter } from '../../net/warn-limiter.js';

export async function putRpcCall(
  ctx: SourceContext,
  warnings: WarnLimiter,
  events: FlumeEvent[],
  kind: 'append' | 'appendBatch',
): Promise<'OK' | 'FAILED'> {
  const c = ctx.counters;
  const n = events.length;
  if (kind === 'append') c.add('AppendReceivedCount');
  else c.add('AppendBatchReceivedCount');
  try {
    const max = ctx.maxBatchSize;
    if (n <= max) await ctx.emit(events);
    else for (let i = 0; i < n; i += max) await ctx.emit(events.slice(i, i + max));
  } catch (err) {
    warnings.log(
      ctx.logger,
      'failed',
      'Could not put the events into the channel; answered FAILED (the client retries)',
      {
        events: n,
        error: errorMessage(err),
      },
    );
    return 'FAILED';
  }
  if (kind === 'append') c.add('AppendAcceptedCount');
  else c.add('AppendBatchAcceptedCount');
  return 'OK';
}
