/** The error of a failed RPC call (Avro or Thrift), shared by the clients and the sinks. */
import { AgentError } from '../core/errors.js';

export type RpcErrorKind = 'connect' | 'handshake' | 'timeout' | 'closed' | 'protocol' | 'remote' | 'aborted';

/** A failed call; `kind` says how (match on it, or on `code`). */
export class RpcError extends AgentError {
  constructor(
    message: string,
    readonly kind: RpcErrorKind,
    options?: { cause?: unknown },
  ) {
    super('FLUME_ERR_RPC_CALL', message, options);
    this.name = 'RpcError';
  }
}
