/**
 * Flume events <-> Kafka records, as Flume's kafka sink, source and channel map them: the `key` header is the
 * record key, a partition header or a default partition picks the partition, `header.<flume> = <kafka>` copies
 * headers across, and useFlumeEventFormat / parseAsFlumeEvent carries the whole event as an Avro-binary
 * AvroFlumeEvent datum (the encoder of the Avro RPC, byte-compatible with Flume's SpecificDatumWriter).
 */
import { AgentError } from '../core/errors.js';
import { makeEvent, type FlumeEvent } from '../core/event.js';
import { decodeEventDatum, encodeEventDatum } from '../rpc/avro/protocol.js';
import type { InRecord, OutRecord } from './port.js';

/** Kafka's topic name rule (kafka.common.internals.Topic). */
export function topicProblem(name: string): string | undefined {
  if (name === '') return 'a topic name must not be empty';
  if (name === '.' || name === '..') return `'${name}' is not allowed as a topic name`;
  if (name.length > 249) return `topic name of ${name.length} characters is longer than Kafka's 249`;
  const bad = /[^a-zA-Z0-9._-]/.exec(name);
  if (bad) return `topic name '${name}' has '${bad[0]}'; Kafka allows only ASCII letters, digits, '.', '_' and '-'`;
  return undefined;
}

/** A permanent problem with one event (badEventPolicy). */
export function recordError(message: string): AgentError {
  return new AgentError('FLUME_ERR_KAFKA_RECORD', message);
}

export interface OutMapping {
  useFlumeEventFormat: boolean;
  /** Header holding the partition number; overrides defaultPartitionId. */
  partitionIdHeader?: string;
  defaultPartitionId?: number;
  /** Header holding the record timestamp (epoch ms). */
  timestampHeader?: string;
  /** Flume header -> Kafka record header name. */
  headerMap: Readonly<Record<string, string>>;
}

const INTEGER = /^[+-]?\d+$/;

/** The record for one event to `topic`; throws FLUME_ERR_KAFKA_RECORD for a header value it cannot use. */
export function toRecord(e: FlumeEvent, topic: string, m: OutMapping): OutRecord {
  const h = e.headers;
  const key = h.key;
  const rec: OutRecord = {
    topic,
    key: key === undefined ? null : Buffer.from(key, 'utf8'),
    value: m.useFlumeEventFormat ? encodeEventDatum(e) : e.body,
  };
  const pv = m.partitionIdHeader === undefined ? undefined : h[m.partitionIdHeader];
  if (pv !== undefined) {
    if (!INTEGER.test(pv.trim()) || Number(pv) < 0 || Number(pv) > 2 ** 31 - 1)
      throw recordError(`header ${m.partitionIdHeader} = '${pv}' is not a partition number`);
    rec.partition = Number(pv);
  } else if (m.defaultPartitionId !== undefined) {
    rec.partition = m.defaultPartitionId;
  }
  const tv = m.timestampHeader === undefined ? undefined : h[m.timestampHeader];
  if (tv !== undefined) {
    if (!INTEGER.test(tv.trim()) || !Number.isSafeInteger(Number(tv)))
      throw recordError(`header ${m.timestampHeader} = '${tv}' is not a timestamp in milliseconds`);
    rec.timestamp = Number(tv);
  }
  let headers: Record<string, Buffer> | undefined;
  for (const flumeName in m.headerMap) {
    const v = h[flumeName];
    if (v === undefined) continue;
    (headers ??= {})[m.headerMap[flumeName]!] = Buffer.from(v, 'utf8');
  }
  if (headers) rec.headers = headers;
  return rec;
}

/** Bytes a record takes in a produce request (an upper estimate: Kafka's v2 record overhead is at most ~70). */
export function recordSize(r: OutRecord): number {
  let n = 70 + r.value.length + (r.key?.length ?? 0);
  if (r.headers) for (const k in r.headers) n += 10 + Buffer.byteLength(k) + r.headers[k]!.length;
  return n;
}

export interface InMapping {
  useFlumeEventFormat: boolean;
  /** Kafka record header -> Flume header, the reverse of the sink's (Flume: header.<flume> = <kafka>). */
  headerMap: Readonly<Record<string, string>>;
  /** Add the topic under this header name (undefined: do not). */
  topicHeader?: string;
  /** Add timestamp, partition, offset and key headers (the source; not the channel). */
  recordHeaders: boolean;
}

/**
 * The event for one record. A value that is not an AvroFlumeEvent when one is expected is delivered as the body
 * (nothing is lost) and reported through `onUndecodable`.
 */
export function toEvent(r: InRecord, m: InMapping, onUndecodable?: (err: unknown) => void): FlumeEvent {
  const value = r.value ?? Buffer.alloc(0);
  let headers: Record<string, string> = Object.create(null);
  let body = value;
  if (m.useFlumeEventFormat) {
    try {
      const e = decodeEventDatum(value);
      headers = Object.assign(Object.create(null), e.headers) as Record<string, string>;
      body = e.body;
    } catch (err) {
      onUndecodable?.(err);
    }
  }
  for (const flumeName in m.headerMap) {
    const v = r.headers[m.headerMap[flumeName]!];
    if (v !== undefined) headers[flumeName] = v.toString('utf8');
  }
  if (m.recordHeaders) {
    if (headers.timestamp === undefined) headers.timestamp = String(r.timestamp);
    if (m.topicHeader !== undefined && headers[m.topicHeader] === undefined) headers[m.topicHeader] = r.topic;
    if (headers.partition === undefined) headers.partition = String(r.partition);
    if (headers.offset === undefined) headers.offset = String(r.offset);
    if (r.key !== null && headers.key === undefined) headers.key = r.key.toString('utf8');
  }
  return Object.keys(headers).length === 0 ? makeEvent(body) : { headers, body };
}
