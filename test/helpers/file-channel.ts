/**
 * File channel fixtures shared by its tests: a started channel under a test directory, and a real source emitting
 * into a channel through the real ChannelProcessor (as the agent wires them).
 */
import path from 'node:path';
import fileDef, { FileChannel } from '../../src/channels/file/index.js';
import type { FileChannelInternals } from '../../src/channels/file/channel.js';
import { componentOptions } from '../../src/config/validate/index.js';
import { formatIssues } from '../../src/config/issues.js';
import { systemClock } from '../../src/core/clock.js';
import { ChannelCounters, sourceCounters } from '../../src/telemetry/counters.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { ChannelProcessor } from '../../src/runtime/channel-processor.js';
import replicating from '../../src/selectors/replicating.js';
import type { Channel, SourceDef } from '../../src/contract/index.js';
import { optionsFor } from './agent.js';

/** What a test file undoes after each test, last first. */
export type Cleanup = (() => Promise<void> | void)[];

/**
 * A file channel c1 with its data and checkpoint directories under `dir` (minimumRequiredSpace 1m unless `props`
 * says otherwise), started. `cleanup` closes it unless the test closed it.
 */
export async function openFileChannel(
  dir: string,
  cleanup: Cleanup,
  props: Record<string, string> = {},
  internals: FileChannelInternals = {},
): Promise<FileChannel> {
  const r = componentOptions(fileDef, {
    dataDirs: path.join(dir, 'data'),
    checkpointDir: path.join(dir, 'cp'),
    minimumRequiredSpace: '1m',
    ...props,
  });
  if (!r.options) throw new Error(formatIssues(r.issues));
  const ch = new FileChannel(
    r.options as never,
    { name: 'c1', logger: silentLogger(), clock: systemClock, agentDir: dir, counters: new ChannelCounters('c1') },
    internals,
  );
  await ch.start();
  let closed = false;
  cleanup.push(async () => {
    if (!closed) await ch.close();
  });
  const close = ch.close.bind(ch);
  ch.close = async () => {
    closed = true;
    await close();
  };
  return ch;
}

/**
 * Source r1 of `def` with `props`, emitting into channel c1 through the real ChannelProcessor and a replicating
 * selector, with quick full-channel retries; started, and closed by `cleanup`.
 */
export async function sourceInto<S>(
  def: SourceDef<any>,
  props: Record<string, string>,
  ch: Channel,
  cleanup: Cleanup,
  retry: { initialMs: number; maxMs: number },
): Promise<{ src: S; processor: ChannelProcessor; counters: ReturnType<typeof sourceCounters> }> {
  const selector = replicating.create({ optional: [] } as never, {
    source: 'r1',
    channels: ['c1'],
    logger: silentLogger(),
  });
  const counters = sourceCounters('r1');
  const processor = new ChannelProcessor([], selector, new Map([['c1', ch]]), silentLogger(), counters);
  const src = def.create(optionsFor(def, props), {
    name: 'r1',
    logger: silentLogger(),
    clock: systemClock,
    counters,
    emit: processor.emit,
    maxBatchSize: processor.maxBatchSize,
    pipelineDepth: processor.pipelineDepth,
  }) as unknown as S & { retryInitialMs: number; retryMaxMs: number; start(): Promise<void>; close(): Promise<void> };
  src.retryInitialMs = retry.initialMs;
  src.retryMaxMs = retry.maxMs;
  await src.start();
  cleanup.push(() => src.close());
  return { src, processor, counters };
}
