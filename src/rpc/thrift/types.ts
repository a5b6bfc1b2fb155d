/** Thrift type numbers, message types, Flume's Status and the decode error, shared by the readers and writers. */
import { AgentError } from '../../core/errors.js';

export type ThriftProtocolName = 'compact' | 'binary';

/** Field and element types (the binary protocol's numbers). */
export const T = {
  STOP: 0,
  BOOL: 2,
  BYTE: 3,
  DOUBLE: 4,
  I16: 6,
  I32: 8,
  I64: 10,
  STRING: 11,
  STRUCT: 12,
  MAP: 13,
  SET: 14,
  LIST: 15,
} as const;

export const MessageType = { CALL: 1, REPLY: 2, EXCEPTION: 3, ONEWAY: 4 } as const;

/** TApplicationException types used here. */
export const AppError = { UNKNOWN_METHOD: 1, INTERNAL_ERROR: 6, PROTOCOL_ERROR: 7 } as const;

export const STATUS_NAMES = ['OK', 'FAILED', 'ERROR', 'UNKNOWN'] as const;
export type Status = (typeof STATUS_NAMES)[number];

export class ThriftDecodeError extends AgentError {
  constructor(message: string) {
    super('FLUME_ERR_RPC_DECODE', message);
    this.name = 'ThriftDecodeError';
  }
}

export interface MessageHead {
  name: string;
  type: number;
  seqid: number;
}

/** Compact type nibble -> binary type number (index = compact type). */
export const FROM_COMPACT: readonly number[] = [
  T.STOP,
  T.BOOL, // true
  T.BOOL, // false
  T.BYTE,
  T.I16,
  T.I32,
  T.I64,
  T.DOUBLE,
  T.STRING,
  T.LIST,
  T.SET,
  T.MAP,
  T.STRUCT,
];
export const TO_COMPACT: Record<number, number> = {
  [T.BOOL]: 1,
  [T.BYTE]: 3,
  [T.I16]: 4,
  [T.I32]: 5,
  [T.I64]: 6,
  [T.DOUBLE]: 7,
  [T.STRING]: 8,
  [T.LIST]: 9,
  [T.SET]: 10,
  [T.MAP]: 11,
  [T.STRUCT]: 12,
};

export const MAX_DEPTH = 32;
