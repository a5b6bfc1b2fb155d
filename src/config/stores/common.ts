/** Helpers shared by the ZooKeeper and etcd stores. */
import { AgentError } from '../../core/errors.js';
import type { StoreConnection, StoreConnectionState, StoreListener } from './types.js';

/**
 * `<base>/<agent>`: the znode or key holding the agent configuration. The base defaults to /flume, also when
 * empty (as in Flume); trailing slashes are dropped.
 */
export function storeKey(base: string | undefined, agent: string, flag: string): string {
  const b = base === undefined || base === '' ? '/flume' : base;
  if (!b.startsWith('/')) throw new AgentError('FLUME_ERR_USAGE', `${flag}: '${b}' must start with '/'`);
  return `${b.replace(/\/+$/, '')}/${agent}`;
}

/** Resolves with `p`, or rejects with `onTimeout()` after `ms`. */
export function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
    timer.unref();
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

export function unavailable(message: string, cause?: unknown): AgentError {
  return new AgentError('FLUME_ERR_CONFIG_STORE_UNAVAILABLE', message, { cause });
}

export function missing(message: string): AgentError {
  return new AgentError('FLUME_ERR_CONFIG_STORE_MISSING', message);
}

/** The connection state of a store, told to its listener on every change. */
export class ConnectionTracker {
  private current: StoreConnection = { state: 'connecting', since: Date.now() };
  private waiters: (() => void)[] = [];
  listener?: StoreListener;

  get value(): StoreConnection {
    return { ...this.current };
  }

  set(state: StoreConnectionState, error?: string): void {
    if (state === this.current.state && error === this.current.error) return;
    const since = state === this.current.state ? this.current.since : Date.now();
    this.current = error === undefined ? { state, since } : { state, since, error };
    if (state === 'connected') for (const w of this.waiters.splice(0)) w();
    this.listener?.connection?.(this.value);
  }

  /** Resolves once connected. */
  connected(): Promise<void> {
    if (this.current.state === 'connected') return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
