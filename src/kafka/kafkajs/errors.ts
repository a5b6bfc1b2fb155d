/** kafkajs errors -> the agent's catalogue: what a sink, source or channel does depends only on the code. */
import { AgentError, errorMessage, type ErrorCode } from '../../core/errors.js';

/** Kafka protocol errors that condemn the records of a produce request for good (retrying cannot help). */
const RECORD_ERRORS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_TOPIC_EXCEPTION',
  'CORRUPT_MESSAGE',
  'INVALID_RECORD',
  'INVALID_TIMESTAMP',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
]);

interface KafkaJsLike {
  name?: string;
  type?: string;
  message?: string;
  cause?: unknown;
  broker?: string;
}

/** The innermost kafkajs error (kafkajs wraps retried failures in KafkaJSNumberOfRetriesExceeded/NonRetriable). */
export function rootCause(err: unknown): KafkaJsLike {
  let e = err as KafkaJsLike;
  for (let i = 0; i < 8 && e && typeof e === 'object' && e.cause && e.cause !== e; i++) e = e.cause as KafkaJsLike;
  return e ?? {};
}

/** The Kafka protocol error type (MESSAGE_TOO_LARGE, ...) anywhere in the chain, if any. */
export function protocolType(err: unknown): string | undefined {
  let e = err as KafkaJsLike;
  for (let i = 0; i < 8 && e && typeof e === 'object'; i++) {
    if (typeof e.type === 'string') return e.type;
    if (!e.cause || e.cause === e) break;
    e = e.cause as KafkaJsLike;
  }
  return undefined;
}

/** True when a produce failure condemns its records (badEventPolicy), not the attempt. */
export function isRecordError(err: unknown): boolean {
  const t = protocolType(err);
  return t !== undefined && RECORD_ERRORS.has(t);
}

/** A readable reason: the root message, with the protocol error type when there is one. */
export function reason(err: unknown): string {
  const root = rootCause(err);
  const t = protocolType(err);
  const msg = root.message ?? errorMessage(err);
  return t && !msg.includes(t) ? `${msg} (${t})` : msg;
}

function isConnectionError(err: unknown): boolean {
  let e = err as KafkaJsLike;
  for (let i = 0; i < 8 && e && typeof e === 'object'; i++) {
    if (e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSConnectionClosedError') return true;
    if (e.name === 'KafkaJSSASLAuthenticationError') return true;
    if (e.name === 'KafkaJSBrokerNotFound' || e.name === 'KafkaJSNoBrokerAvailableError') return true;
    if (!e.cause || e.cause === e) break;
    e = e.cause as KafkaJsLike;
  }
  return false;
}

/** Wraps a kafkajs failure: record errors -> KAFKA_RECORD, unreachable -> KAFKA_CONNECT, others -> `code`. */
export function toAgentError(err: unknown, code: ErrorCode, what: string): AgentError {
  if (err instanceof AgentError) return err;
  const c: ErrorCode = isRecordError(err)
    ? 'FLUME_ERR_KAFKA_RECORD'
    : isConnectionError(err)
      ? 'FLUME_ERR_KAFKA_CONNECT'
      : code;
  return new AgentError(c, `${what}: ${reason(err)}`, { cause: err });
}
