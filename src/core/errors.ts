/**
 * Error catalogue. Every error the agent raises on purpose carries a stable code
 * (FLUME_ERR_<AREA>_<WHAT>); match on `code`, never on the message. docs/errors.md is generated from this table.
 */
export const ERRORS = {
  FLUME_ERR_CONFIG_INVALID: {
    retriable: false,
    doc: 'The configuration has one or more errors; the agent does not start. Every problem is listed.',
  },
  FLUME_ERR_CONFIG_SYNTAX: {
    retriable: false,
    doc:
      'A .properties file could not be parsed (for example a malformed \\uXXXX escape), or a log4j2.xml in the ' +
      'configuration directory is not well-formed XML (it is then not read, with a warning).',
  },
  FLUME_ERR_CONFIG_READ: { retriable: false, doc: 'A configuration file could not be read (missing, unreadable).' },
  FLUME_ERR_CONFIG_NO_AGENT: { retriable: false, doc: 'The agent named with -n has no keys in the configuration.' },
  FLUME_ERR_CONFIG_OPTION: {
    retriable: false,
    doc:
      'A value does not fit its option (type, range, pattern, unknown name). `flume-ng validate` reports it ' +
      'with file:line, the key and a hint; components that parse a value later (a regex, a serializer) raise ' +
      'the same code.',
  },
  FLUME_ERR_USAGE: { retriable: false, doc: 'Bad command-line flags.' },
  // configuration stores (src/config/stores): ZooKeeper and etcd
  FLUME_ERR_CONFIG_STORE_UNAVAILABLE: {
    retriable: true,
    doc:
      'The configuration store (ZooKeeper or etcd) cannot be reached or did not answer within --store-timeout. ' +
      'At start the agent runs the last configuration it cached on disk, or waits and retries (it never starts ' +
      'empty); while running it keeps the running configuration, reconnects with backoff and applies what ' +
      'changed meanwhile. `flume-ng validate` exits 1.',
  },
  FLUME_ERR_CONFIG_STORE_MISSING: {
    retriable: false,
    doc:
      'The znode or key that should hold the agent configuration does not exist; the message names the path ' +
      '(`<zkBasePath>/<agent>` or `<etcd-prefix>/<agent>`). At start the agent exits 78; a znode or key deleted ' +
      'while the agent runs is refused and the running configuration stays.',
  },
  FLUME_ERR_CONFIG_STORE_AUTH: {
    retriable: false,
    doc:
      'The configuration store refused the client: wrong etcd user or password, or no permission to read the key. ' +
      'The message names the store and what it answered. A failed TLS handshake (an untrusted server certificate, ' +
      'a missing client certificate) is reported as FLUME_ERR_CONFIG_STORE_UNAVAILABLE with the TLS error.',
  },
  FLUME_ERR_CHANNEL_FULL: {
    retriable: true,
    doc: 'A channel could not take the events within keep-alive: capacity or byteCapacity is exhausted. The source backs off, answers FAILED/503 or stops reading.',
  },
  FLUME_ERR_CHANNEL_TX_CAPACITY: {
    retriable: false,
    doc: 'More events were put or taken in one transaction than the channel transactionCapacity allows.',
  },
  FLUME_ERR_CHANNEL_TX_STATE: {
    retriable: false,
    doc: 'A channel transaction was used in the wrong state (for example commit after rollback). A bug, never a user error.',
  },
  FLUME_ERR_CHANNEL_LOCKED: {
    retriable: true,
    doc:
      'Another process holds the file channel directory (the message names it and the other pid). At first start ' +
      'the agent exits with status 1; a hot reload that would use it is refused and the running pipeline stays. ' +
      'Stop the other agent or give each its own directory.',
  },
  FLUME_ERR_CHANNEL_CORRUPT: {
    retriable: false,
    doc: 'The file channel store is damaged or does not match its checkpoint (deleted, moved or restored data directory). The channel refuses to start rather than start empty; see docs/operations.md for `recover = true`.',
  },
  FLUME_ERR_CHANNEL_IO: {
    retriable: true,
    doc: 'The file channel store failed to read or write (I/O error, disk full). The transaction was rolled back; the channel reopens the store when it can.',
  },
  FLUME_ERR_CHANNEL_RECORD: {
    retriable: false,
    doc:
      'A file channel record cannot be encoded or decoded. Encoding fails for an event with more than 65,535 ' +
      'headers: that put is refused and not retried, the puts queued behind it go on. A record read back damaged ' +
      '(checksum, version or length wrong) is reported as FLUME_ERR_CHANNEL_CORRUPT, naming the record and this cause.',
  },
  FLUME_ERR_CHANNEL_CLOSED: { retriable: true, doc: 'The channel is stopped or stopping.' },
  FLUME_ERR_SINK_DELIVERY: {
    retriable: true,
    doc: 'A sink could not deliver a batch; the batch is rolled back into the channel and retried after a backoff.',
  },
  FLUME_ERR_SINK_PERMANENT: {
    retriable: false,
    doc: 'A sink rejected a batch in a way retrying cannot fix (reported, the batch is rolled back and the sink backs off).',
  },
  FLUME_ERR_SINK_DEAD_LETTER: {
    retriable: true,
    doc:
      'The elasticsearch sink could not write refused documents to its dead-letter file (disk full, permissions). ' +
      'The batch is rolled back and retried: nothing is dropped; free space or fix deadLetterFile.',
  },
  FLUME_ERR_SOURCE_START: { retriable: true, doc: 'A source could not start (for example its port is in use).' },
  FLUME_ERR_SOURCE_HTTP_REQUEST: {
    retriable: false,
    doc:
      'The http source refused a request the client must fix: malformed JSON or a bad event (400), more events ' +
      'than one transaction holds (413), an unsupported charset (415). The response body says what; nothing of ' +
      'the request was committed.',
  },
  FLUME_ERR_SOURCE_POSITION_FILE: {
    retriable: false,
    doc:
      'The taildir position file cannot be used (empty, not JSON, bad entries, unreadable, or missing while its ' +
      'backup exists). Depending on positionFileRecovery the backup is restored, the file is moved aside, or the ' +
      'source does not start rather than send every file again; the message says which file and what is wrong.',
  },
  FLUME_ERR_SINK_START: { retriable: true, doc: 'A sink could not start (for example its directory is missing).' },
  // the hdfs sink (src/sinks/hdfs): local disk and WebHDFS
  FLUME_ERR_HDFS_IO: {
    retriable: true,
    doc:
      'The hdfs sink could not create, write, flush or rename a file (local disk: I/O error, disk full, ' +
      'permission; WebHDFS: connection refused, timeout, an HTTP error, RetriableException, SafeModeException, a ' +
      'lease still held). The batch is rolled back and retried after a backoff; on local disk the files are cut ' +
      'back to where the batch started, so the retry adds no duplicates.',
  },
  FLUME_ERR_HDFS_DENIED: {
    retriable: false,
    doc:
      'HDFS refused the sink (WebHDFS 401/403 with AccessControlException or SecurityException: wrong ' +
      'user.name, missing proxy-user rights, permissions of the target directory). The batch is rolled back and ' +
      'the sink backs off; fix hdfs.userName / hdfs.proxyUser or the permissions.',
  },
  // TLS (src/net/tls), client address rules (src/net/ip-filter.ts) and the Avro RPC wire (src/rpc/avro)
  FLUME_ERR_TLS_CONFIG: {
    retriable: false,
    doc:
      'TLS settings that cannot work: ssl = true without key material, sslCertificate without sslKey, TLS ' +
      'versions that leave nothing enabled or are not a contiguous range, a cipher suite this Node.js does ' +
      'not have, a private key that does not belong to its certificate. Reported by validate when the keys ' +
      'show it, otherwise when the component starts; the message names the component.',
  },
  FLUME_ERR_TLS_KEYSTORE: {
    retriable: false,
    doc:
      'A key store or trust store (PKCS12, JKS or PEM; the format is read from the file, whatever ' +
      'keystore-type says) cannot be used: missing or unreadable file, wrong password, no private key or no ' +
      'certificate in it, or a format Node.js cannot read (JCEKS, a PKCS12 file with a legacy RC2/3DES ' +
      'cipher). The message names the file and the keytool or openssl command that converts it.',
  },
  FLUME_ERR_NET_IP_RULE: {
    retriable: false,
    doc: 'An ipFilterRules entry is not `<allow|deny>:<ip|name>:<pattern>`.',
  },
  FLUME_ERR_RPC_FRAME: {
    retriable: false,
    doc:
      "A peer sent framing that breaks a limit or is malformed (Avro's Netty framing: buffer count, buffer or " +
      "message size; Thrift's framed transport: frame size); that connection is closed and counted " +
      '(EventReadFail), other connections go on.',
  },
  FLUME_ERR_RPC_DECODE: {
    retriable: false,
    doc:
      'A peer sent Avro, msgpack (Forward protocol) or Thrift data that cannot be decoded (truncated, out of ' +
      'range, a required field missing, over a limit such as maxEventsPerRequest, maxMessageBytes or ' +
      'maxEntriesPerMessage); that connection is closed and counted.',
  },
  FLUME_ERR_RPC_PROTOCOL: {
    retriable: false,
    doc:
      'A peer broke the Avro RPC protocol (for example a handshake with a protocol that is not ' +
      'AvroSourceProtocol); that connection is closed and counted.',
  },
  FLUME_ERR_RPC_CALL: {
    retriable: true,
    doc:
      'An Avro or Thrift RPC call did not get an answer: cannot connect, handshake failed, timeout, ' +
      'connection closed, an error answer, or an undecodable response. The avro and thrift sinks roll the ' +
      'batch back and retry; avro-client exits 1.',
  },
  FLUME_ERR_FORWARD_HANDSHAKE: {
    retriable: true,
    doc:
      'The shared-key handshake of the Forward protocol failed (sharedKey): the peer sent no HELO or PONG, refused ' +
      'the key or the user, or could not prove it knows the key. The forward sink retries with backoff; the forward ' +
      'source closes that connection and counts it (EventReadFail).',
  },
  // charsets (src/text) and the multiport syslog parser
  FLUME_ERR_TEXT_UNDECODABLE: {
    retriable: false,
    doc:
      'Input bytes are not valid in the configured charset and the decode error policy is FAIL (spooldir: ' +
      'decodeErrorPolicy = FAIL; the file is then handled by badFilePolicy and the message names the byte offset ' +
      'of the line).',
  },
  FLUME_ERR_SYSLOG_UNPARSABLE: {
    retriable: false,
    doc:
      'A multiport_syslogtcp message follows neither RFC 5424 nor RFC 3164. Never fatal: the message becomes an ' +
      'event with the raw line as body and flume.syslog.status = Invalid.',
  },
  // Kafka (src/kafka: the client port shared by the kafka sink, source and channel)
  FLUME_ERR_KAFKA_CONNECT: {
    retriable: true,
    doc:
      'The Kafka bootstrap servers cannot be reached, or refused the connection (TLS handshake, SASL ' +
      'authentication). The component does not start and is retried with backoff; /health names the brokers and ' +
      'the reason.',
  },
  FLUME_ERR_KAFKA_SEND: {
    retriable: true,
    doc:
      'Records were not acknowledged by Kafka (broker down, leader moving, timeout, not enough replicas). The ' +
      'kafka sink rolls the batch back and retries it; a kafka channel fails the put commit (the source retries).',
  },
  FLUME_ERR_KAFKA_RECORD: {
    retriable: false,
    doc:
      'One event cannot become a Kafka record, now or ever: a partition header that is not a partition of the ' +
      'topic, a topic name Kafka does not allow, a record larger than max.request.size or than the broker ' +
      'accepts. The kafka sink applies badEventPolicy to that event only (the rest of the batch is delivered); a ' +
      'kafka channel refuses the put.',
  },
  FLUME_ERR_KAFKA_COMMIT: {
    retriable: true,
    doc:
      'A consumer offset commit failed (broker down, the group rebalanced). The events were delivered: after a ' +
      'rebalance or a restart, the records since the last committed offset come again (at-least-once duplicates).',
  },
  FLUME_ERR_KAFKA_CONSUME: {
    retriable: true,
    doc:
      'The Kafka consumer failed (lost its group membership, brokers unreachable); it is restarted and resumes ' +
      'from the committed offsets.',
  },
  FLUME_ERR_KAFKA_CODEC: {
    retriable: false,
    doc:
      'A compression codec cannot be used: its package does not load on this platform, or a record batch cannot ' +
      'be compressed or decompressed.',
  },
  FLUME_ERR_PLUGIN: {
    retriable: false,
    doc:
      'A plugin (a component `type` naming a .js/.mjs file, an installed package, or a package under the ' +
      'plugins path) cannot be found, fails to import, exports no definition of the expected kind, or throws in ' +
      'create(). Reported as a configuration error (exit 78, nothing started); see docs/plugins.md.',
  },
  FLUME_ERR_RUNTIME: { retriable: false, doc: 'An unexpected runtime failure.' },
  FLUME_ERR_MONITOR_ASSET: {
    retriable: false,
    doc:
      'A file of the status page (status.html, status.css or a script, in dist/src/monitor/status-page/assets/) ' +
      'is missing or cannot be inlined: the installation is incomplete. The monitoring server, and so the agent, ' +
      'does not start; rebuild (`npm run build`) or reinstall the package.',
  },
} as const;

export type ErrorCode = keyof typeof ERRORS;

export class AgentError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;
  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, opts.cause !== undefined ? { cause: opts.cause } : undefined);
    this.name = 'AgentError';
    this.code = code;
    this.retriable = opts.retriable ?? ERRORS[code].retriable;
  }
}

/** Raised by a put/commit when a required channel cannot take the events. */
export class ChannelFullError extends AgentError {
  constructor(message: string) {
    super('FLUME_ERR_CHANNEL_FULL', message);
    this.name = 'ChannelFullError';
  }
}

export function isRetriable(err: unknown): boolean {
  return err instanceof AgentError ? err.retriable : true;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
