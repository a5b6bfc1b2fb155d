/**
 * The memory a forward source may hold in buffered request bytes, over all its connections: the shared network
 * budget of src/net/byte-budget.ts (its Listener's, `maxBufferedBytes`), seen through the part the server uses.
 */
import { ByteBudget } from '../../net/byte-budget.js';

export interface MemoryBudget {
  /** Reserves `n` bytes; false when that would pass the cap. */
  take(n: number): boolean;
  give(n: number): void;
  readonly used: number;
  readonly limit: number;
}

/** The budget of one source (maxBufferedBytes). */
export function sourceMemoryBudget(maxBufferedBytes: number): MemoryBudget {
  return new ByteBudget(maxBufferedBytes);
}
