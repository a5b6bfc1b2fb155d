/**
 * One read of the configuration from any store, for the commands that run nothing (`validate`, `agent --dryrun`):
 * no watch, no cache (neither read nor written), the store closed afterwards.
 */
import { openStore, type ConfigDocument, type StoreKind, type StoreSpec } from '../../config/stores/index.js';
import { AgentError, errorMessage } from '../../core/errors.js';
import { silentLogger } from '../../telemetry/logger.js';
import { EXIT } from '../exit-codes.js';

export type ReadOnce =
  | { doc: ConfigDocument; kind: StoreKind; location: string }
  /** Nothing was read: bad flags (usage), no such key or znode (config), the store failed (failure). */
  | { exit: number; message: string; location?: string };

export async function readOnce(spec: StoreSpec, agent: string, timeoutMs: number): Promise<ReadOnce> {
  let store;
  try {
    store = await openStore(spec, agent, silentLogger());
  } catch (err) {
    return { exit: EXIT.USAGE, message: errorMessage(err) };
  }
  try {
    return { doc: await store.read(timeoutMs), kind: store.kind, location: store.location };
  } catch (err) {
    const missing = err instanceof AgentError && err.code === 'FLUME_ERR_CONFIG_STORE_MISSING';
    return { exit: missing ? EXIT.CONFIG : EXIT.FAILURE, message: errorMessage(err), location: store.location };
  } finally {
    await store.close();
  }
}
