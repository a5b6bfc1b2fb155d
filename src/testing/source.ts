/** The source contract for plugin sources: emits within maxBatchSize, survives a full channel, stops on close. */
import assert from 'node:assert/strict';
import type { SourceDef, SourceContext } from '../contract/index.js';
import type { FlumeEvent } from '../core/event.js';
import { systemClock } from '../core/clock.js';
import { ChannelFullError } from '../core/errors.js';
import { sourceCounters } from '../telemetry/counters.js';
import { silentLogger } from '../telemetry/logger.js';
import { checkDefinition, optionsFor } from './checks.js';

export interface SourceCheck {
  props?: Record<string, string>;
  /** Gives the started source its input (e.g. connect and send lines); not needed for a generating source. */
  feed?: () => Promise<void>;
  /** Events to wait for (default 1). */
  events?: number;
  /** How long to wait for them (default 10 s). */
  timeoutMs?: number;
  /** The largest batch the stand-in channel accepts (default 5). */
  maxBatchSize?: number;
}

/**
 * The source contract: every emit is a batch of events no larger than ctx.maxBatchSize; when emit rejects with
 * ChannelFullError (the first one does here) the source neither crashes nor loses the refused events for good (it
 * retries, or refuses them to its client, who sends again); close() stops intake (no emit starts after it resolved)
 * and is idempotent, also without start(). Returns the events accepted.
 */
export async function checkSource(def: SourceDef<any>, c: SourceCheck = {}): Promise<FlumeEvent[]> {
  checkDefinition(def);
  assert.equal(def.kind, 'source');
  const o = optionsFor(def, c.props);
  const maxBatchSize = c.maxBatchSize ?? 5;
  const want = c.events ?? 1;
  const accepted: FlumeEvent[] = [];
  let emits = 0;
  let closed = false;
  let late = 0;
  const oversized: number[] = [];
  const ctx: SourceContext = {
    name: 'r1',
    logger: silentLogger(),
    clock: systemClock,
    counters: sourceCounters('r1'),
    maxBatchSize,
    emit: (batch) => {
      if (closed) late++;
      if (batch.length > maxBatchSize) oversized.push(batch.length);
      if (emits++ === 0)
        return Promise.reject(new ChannelFullError('checkSource: the first emit finds the channel full'));
      accepted.push(...batch);
      return Promise.resolve();
    },
  };
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  process.on('unhandledRejection', onUnhandled);
  try {
    await def.create(o, { ...ctx, name: 'r0' }).close();
    const src = def.create(o, ctx);
    await src.start();
    await c.feed?.();
    const deadline = Date.now() + (c.timeoutMs ?? 10_000);
    while (accepted.length < want && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.ok(accepted.length >= want, `${accepted.length} of ${want} events accepted after a full channel`);
    await src.close();
    closed = true;
    await src.close();
    src.destroy?.();
    await new Promise((r) => setTimeout(r, 50)); // a timer the source forgot would fire here
    assert.deepEqual(oversized, [], `batches larger than maxBatchSize (${maxBatchSize})`);
    assert.equal(late, 0, 'emits after close() resolved');
    assert.deepEqual(unhandled, [], 'unhandled rejections');
    return accepted;
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
}
