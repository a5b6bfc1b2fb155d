/**
 * kafka.producer.* and kafka.consumer.*: Kafka's Java client properties, as Flume passes them through, mapped onto
 * client settings. One table per side says what each property becomes; the security properties go to security.ts.
 * A property the table knows but that has no effect here is a warning saying why; an unknown one is a warning that
 * names it (Flume passes it to the Java client, which logs and ignores it); a value that cannot work is an error.
 * docs/kafka.md lists the same tables for operators (a unit test keeps the two in step).
 */
import type { Problem } from '../../contract/index.js';
import { CODECS, type CodecName } from '../codecs.js';
import { SECURITY_KEYS, SECURITY_NO_EFFECT, securityFrom, type Security } from './security.js';

/** What every client (producer or consumer) gets. */
export interface ClientSettings {
  brokers: string[];
  clientId: string;
  security: Security;
  /** Time allowed for one request (Java request.timeout.ms). */
  requestTimeoutMs: number;
  /** Time allowed to open a connection (socket.connection.setup.timeout.ms). */
  connectionTimeoutMs: number;
  /** Retries of a failed request inside the client, and the waits between them. */
  retries: number;
  retryBackoffMs: number;
  retryBackoffMaxMs: number;
  metadataMaxAgeMs: number;
}

export interface ProducerSettings extends ClientSettings {
  /** -1 = all in-sync replicas, 1 = the leader, 0 = none. */
  acks: -1 | 0 | 1;
  compression: CodecName;
  idempotent: boolean;
  /** Largest produce request; a record bigger than this is refused for good (Java's RecordTooLargeException). */
  maxRequestSize: number;
  /** Longest a send may take, retries included (Java delivery.timeout.ms). */
  deliveryTimeoutMs: number;
  maxInFlightRequests: number | undefined;
}

export interface ConsumerSettings extends ClientSettings {
  groupId: string;
  /** auto.offset.reset: where a partition without a committed offset starts. */
  fromBeginning: boolean;
  sessionTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** max.poll.interval.ms: how long the group waits for members to rejoin during a rebalance. */
  rebalanceTimeoutMs: number;
  fetchMaxWaitMs: number;
  fetchMinBytes: number;
  fetchMaxBytes: number;
  maxPartitionFetchBytes: number;
  readUncommitted: boolean;
  allowAutoTopicCreation: boolean;
}

type Setter<S> = (s: S, v: string) => string | undefined;
type Rule<S> = Setter<S> | { noEffect: string } | { refused: string; hint?: string };

function int(min: number, max: number, set: (n: number) => void): (v: string) => string | undefined {
  return (v) => {
    if (!/^[+-]?\d+$/.test(v.trim())) return `'${v}' is not a whole number`;
    const n = Number(v.trim());
    if (n < min || n > max) return `${n} is outside ${min}..${max}`;
    set(n);
    return undefined;
  };
}
const ms =
  <S>(pick: (s: S, n: number) => void, min = 0): Setter<S> =>
  (s, v) =>
    int(min, 2 ** 31 - 1, (n) => pick(s, n))(v);
const bool =
  <S>(pick: (s: S, b: boolean) => void): Setter<S> =>
  (s, v) => {
    const t = v.trim().toLowerCase();
    if (t !== 'true' && t !== 'false') return `'${v}' is not true or false`;
    pick(s, t === 'true');
    return undefined;
  };

const COMMON: Record<string, Rule<ClientSettings>> = {
  'client.id': (s, v) => {
    s.clientId = v.trim();
    return undefined;
  },
  'request.timeout.ms': ms((s, n) => (s.requestTimeoutMs = n), 1),
  'socket.connection.setup.timeout.ms': ms((s, n) => (s.connectionTimeoutMs = n), 1),
  'retry.backoff.ms': ms((s, n) => (s.retryBackoffMs = n)),
  'retry.backoff.max.ms': ms((s, n) => (s.retryBackoffMaxMs = n)),
  'metadata.max.age.ms': ms((s, n) => (s.metadataMaxAgeMs = n)),
  'bootstrap.servers': { noEffect: 'flume-ts takes the brokers from kafka.bootstrap.servers' },
  'socket.connection.setup.timeout.max.ms': { noEffect: 'the client retries with retry.backoff.ms' },
  'reconnect.backoff.ms': { noEffect: 'the client retries with retry.backoff.ms' },
  'reconnect.backoff.max.ms': { noEffect: 'the client retries with retry.backoff.max.ms' },
  'connections.max.idle.ms': { noEffect: 'connections stay open while the component runs' },
  'send.buffer.bytes': { noEffect: 'Node.js sizes socket buffers' },
  'receive.buffer.bytes': { noEffect: 'Node.js sizes socket buffers' },
  'client.dns.lookup': { noEffect: 'Node.js resolves the broker names' },
  'metric.reporters': { noEffect: 'Kafka client metrics are Java-only; see the component counters' },
  'metrics.num.samples': { noEffect: 'Kafka client metrics are Java-only' },
  'metrics.recording.level': { noEffect: 'Kafka client metrics are Java-only' },
  'metrics.sample.window.ms': { noEffect: 'Kafka client metrics are Java-only' },
  'interceptor.classes': { noEffect: 'Java classes cannot be loaded; use Flume interceptors' },
  ...Object.fromEntries(Object.entries(SECURITY_NO_EFFECT).map(([k, why]) => [k, { noEffect: why }])),
};

const PRODUCER: Record<string, Rule<ProducerSettings>> = {
  ...(COMMON as Record<string, Rule<ProducerSettings>>),
  acks: (s, v) => {
    const t = v.trim().toLowerCase();
    const n = t === 'all' ? -1 : t === '-1' ? -1 : t === '0' ? 0 : t === '1' ? 1 : undefined;
    if (n === undefined) return `'${v}' is not one of all, -1, 0, 1`;
    s.acks = n;
    return undefined;
  },
  'compression.type': (s, v) => {
    const t = v.trim().toLowerCase();
    const codec = CODECS[t as CodecName];
    if (!codec) return `'${v}' is not one of ${Object.keys(CODECS).join(', ')}`;
    const why = codec.unavailable();
    if (why) return `compression.type ${t} cannot be offered here: ${why}`;
    s.compression = t as CodecName;
    return undefined;
  },
  'enable.idempotence': bool((s, b) => (s.idempotent = b)),
  'max.request.size': (s, v) => int(1, 2 ** 31 - 1, (n) => (s.maxRequestSize = n))(v),
  retries: (s, v) => int(0, 2 ** 31 - 1, (n) => (s.retries = n))(v),
  'delivery.timeout.ms': ms((s, n) => (s.deliveryTimeoutMs = n), 1),
  'max.in.flight.requests.per.connection': (s, v) => int(1, 1000, (n) => (s.maxInFlightRequests = n))(v),
  'linger.ms': { noEffect: 'each Flume batch (flumeBatchSize) is sent at once; the batch is the linger' },
  'batch.size': { noEffect: 'each partition gets one record batch per request, bounded by max.request.size' },
  'buffer.memory': { noEffect: 'a Flume batch is the only thing buffered' },
  'max.block.ms': { noEffect: 'the send is bounded by delivery.timeout.ms' },
  'partitioner.class': { noEffect: "Java's default partitioner is used (murmur2 of the key, as Java's)" },
  'partitioner.ignore.keys': { noEffect: "Java's default partitioner is used" },
  'partitioner.adaptive.partitioning.enable': { noEffect: "Java's default partitioner is used" },
  'key.serializer': { noEffect: 'keys are the `key` header as UTF-8 bytes' },
  'value.serializer': { noEffect: 'values are the event body (or the Avro event with useFlumeEventFormat)' },
  'compression.gzip.level': { noEffect: 'the codec default level is used' },
  'compression.lz4.level': { noEffect: 'the codec default level is used' },
  'compression.zstd.level': { noEffect: 'the codec default level is used' },
  'transaction.timeout.ms': { noEffect: 'transactions are not used' },
  'transactional.id': {
    refused: 'Kafka transactions are not supported',
    hint: 'remove it: the take commits only after every record is acknowledged (at-least-once)',
  },
};

const CONSUMER: Record<string, Rule<ConsumerSettings>> = {
  ...(COMMON as Record<string, Rule<ConsumerSettings>>),
  'group.id': (s, v) => {
    if (v.trim() === '') return 'group.id must not be empty';
    s.groupId = v.trim();
    return undefined;
  },
  'auto.offset.reset': (s, v) => {
    const t = v.trim().toLowerCase();
    if (t === 'none') return 'auto.offset.reset = none is not supported (the client has no such mode)';
    if (t !== 'earliest' && t !== 'latest') return `'${v}' is not one of earliest, latest`;
    s.fromBeginning = t === 'earliest';
    return undefined;
  },
  'session.timeout.ms': ms((s, n) => (s.sessionTimeoutMs = n), 1),
  'heartbeat.interval.ms': ms((s, n) => (s.heartbeatIntervalMs = n), 1),
  'max.poll.interval.ms': ms((s, n) => (s.rebalanceTimeoutMs = n), 1),
  'fetch.max.wait.ms': ms((s, n) => (s.fetchMaxWaitMs = n)),
  'fetch.min.bytes': (s, v) => int(1, 2 ** 31 - 1, (n) => (s.fetchMinBytes = n))(v),
  'fetch.max.bytes': (s, v) => int(1, 2 ** 31 - 1, (n) => (s.fetchMaxBytes = n))(v),
  'max.partition.fetch.bytes': (s, v) => int(1, 2 ** 31 - 1, (n) => (s.maxPartitionFetchBytes = n))(v),
  'isolation.level': (s, v) => {
    const t = v.trim().toLowerCase();
    if (t !== 'read_uncommitted' && t !== 'read_committed') return `'${v}' is not read_uncommitted or read_committed`;
    s.readUncommitted = t === 'read_uncommitted';
    return undefined;
  },
  'allow.auto.create.topics': bool((s, b) => (s.allowAutoTopicCreation = b)),
  'enable.auto.commit': { noEffect: 'offsets are committed after each channel commit (Flume forces false too)' },
  'auto.commit.interval.ms': { noEffect: 'offsets are committed after each channel commit' },
  'max.poll.records': { noEffect: 'batchSize (source) or the take size (channel) bounds what is taken at once' },
  'partition.assignment.strategy': { noEffect: 'the group assigns partitions round-robin' },
  'group.instance.id': { noEffect: 'static membership is not supported' },
  'key.deserializer': { noEffect: 'keys are read as bytes (the `key` header as UTF-8)' },
  'value.deserializer': { noEffect: 'values are read as bytes' },
  'check.crcs': { noEffect: 'record checksums are always checked' },
  'exclude.internal.topics': { noEffect: 'internal topics are never subscribed' },
  'client.rack': { noEffect: 'rack-aware fetching is not used' },
};

export const PRODUCER_PROPERTIES: readonly string[] = [...Object.keys(PRODUCER), ...SECURITY_KEYS];
export const CONSUMER_PROPERTIES: readonly string[] = [...Object.keys(CONSUMER), ...SECURITY_KEYS];

function apply<S extends ClientSettings>(
  table: Record<string, Rule<S>>,
  settings: S,
  props: Readonly<Record<string, string>>,
  prefix: string,
): Problem[] {
  const problems: Problem[] = [];
  for (const [name, value] of Object.entries(props)) {
    const key = prefix + name;
    if ((SECURITY_KEYS as readonly string[]).includes(name)) continue;
    const rule = table[name];
    if (rule === undefined) {
      problems.push({
        key,
        severity: 'warning',
        message: `unknown ${prefix.slice(6, -1)} property '${name}' is ignored`,
        hint: 'see docs/kafka.md for the properties flume-ts maps onto its Kafka client',
      });
    } else if (typeof rule === 'function') {
      const err = rule(settings, value);
      if (err) problems.push({ key, message: `${name}: ${err}` });
    } else if ('noEffect' in rule) {
      problems.push({ key, severity: 'warning', message: `${name} has no effect in flume-ts: ${rule.noEffect}` });
    } else {
      problems.push({ key, message: `${name}: ${rule.refused}`, hint: rule.hint });
    }
  }
  const sec = securityFrom(props, prefix);
  settings.security = sec.security;
  problems.push(...sec.problems);
  return problems;
}

function clientDefaults(brokers: string[]): ClientSettings {
  return {
    brokers,
    clientId: 'flume',
    security: { protocol: 'PLAINTEXT' },
    requestTimeoutMs: 30_000,
    connectionTimeoutMs: 10_000,
    retries: 5,
    retryBackoffMs: 100,
    retryBackoffMaxMs: 1000,
    metadataMaxAgeMs: 300_000,
  };
}

/** Producer settings from kafka.producer.* (keys without the prefix); `defaults` are the component's own. */
export function producerSettings(
  brokers: string[],
  props: Readonly<Record<string, string>>,
  defaults: Partial<ProducerSettings> = {},
): { settings: ProducerSettings; problems: Problem[] } {
  const s: ProducerSettings = {
    ...clientDefaults(brokers),
    acks: -1,
    compression: 'none',
    idempotent: false,
    maxRequestSize: 1_048_576,
    deliveryTimeoutMs: 120_000,
    maxInFlightRequests: undefined,
    ...defaults,
  };
  const problems = apply(PRODUCER, s, props, 'kafka.producer.');
  if (s.idempotent && s.acks !== -1)
    problems.push({
      key: 'kafka.producer.enable.idempotence',
      message: `enable.idempotence = true needs acks = all (acks is ${s.acks})`,
    });
  return { settings: s, problems };
}

/** Consumer settings from kafka.consumer.* (keys without the prefix); `defaults` are the component's own. */
export function consumerSettings(
  brokers: string[],
  props: Readonly<Record<string, string>>,
  defaults: Partial<ConsumerSettings> = {},
): { settings: ConsumerSettings; problems: Problem[] } {
  const s: ConsumerSettings = {
    ...clientDefaults(brokers),
    groupId: 'flume',
    fromBeginning: false,
    sessionTimeoutMs: 45_000,
    heartbeatIntervalMs: 3000,
    rebalanceTimeoutMs: 300_000,
    fetchMaxWaitMs: 500,
    fetchMinBytes: 1,
    fetchMaxBytes: 52_428_800,
    maxPartitionFetchBytes: 1_048_576,
    readUncommitted: false,
    allowAutoTopicCreation: true,
    ...defaults,
  };
  const problems = apply(CONSUMER, s, props, 'kafka.consumer.');
  if (s.heartbeatIntervalMs >= s.sessionTimeoutMs)
    problems.push({
      key: 'kafka.consumer.heartbeat.interval.ms',
      message: `heartbeat.interval.ms (${s.heartbeatIntervalMs}) must be below session.timeout.ms (${s.sessionTimeoutMs})`,
    });
  return { settings: s, problems };
}

/** `host:port` list of kafka.bootstrap.servers; problems name the key. */
export function parseBrokers(raw: string, key = 'kafka.bootstrap.servers'): { brokers: string[]; problems: Problem[] } {
  const brokers = raw
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
  const problems: Problem[] = [];
  if (brokers.length === 0) problems.push({ key, message: `${key} lists no broker` });
  for (const b of brokers) {
    const m = /^(?:[A-Za-z][A-Za-z0-9+.-]*:\/\/)?(\[[^\]]+\]|[^:/\s]+):(\d+)$/.exec(b);
    if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
      problems.push({ key, message: `'${b}' is not host:port`, hint: 'write host1:9092,host2:9092' });
  }
  // a PLAINTEXT:// or SSL:// prefix (as in broker listeners) is tolerated and dropped
  return { brokers: brokers.map((b) => b.replace(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//, '')), problems };
}
