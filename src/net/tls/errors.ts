/** The two TLS errors: settings that cannot work, and key or trust stores that cannot be read. */
import { AgentError } from '../../core/errors.js';

function withHint(reason: string, hint: string | undefined): string {
  return hint ? `${reason} (${hint})` : reason;
}

/** TLS settings that cannot work (FLUME_ERR_TLS_CONFIG). `reason` is the message without the hint. */
export class TlsConfigError extends AgentError {
  constructor(
    readonly reason: string,
    readonly hint?: string,
    opts: { cause?: unknown } = {},
  ) {
    super('FLUME_ERR_TLS_CONFIG', withHint(reason, hint), opts);
    this.name = 'TlsConfigError';
  }
}

/** A key or trust store that cannot be read (FLUME_ERR_TLS_KEYSTORE). `reason` is the message without the hint. */
export class KeystoreError extends AgentError {
  constructor(
    readonly reason: string,
    readonly hint?: string,
    opts: { cause?: unknown } = {},
  ) {
    super('FLUME_ERR_TLS_KEYSTORE', withHint(reason, hint), opts);
    this.name = 'KeystoreError';
  }
}
