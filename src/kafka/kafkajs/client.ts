/**
 * The kafkajs client behind the port: connection settings (brokers, TLS from the shared loader, SASL, timeouts,
 * retries), our codecs registered with kafkajs once, and kafkajs' log routed into the component's logger (its
 * errors as rate-limited warnings: the component reports failures itself, with what they mean for the events).
 */
import kafkajsPkg from 'kafkajs';
import type { KafkaConfig, LogEntry, SASLOptions } from 'kafkajs';
import { loadClientTls } from '../../net/tls/index.js';
import { WarnLimiter } from '../../net/warn-limiter.js';
import type { Logger } from '../../telemetry/logger.js';
import { CODECS, type CodecName } from '../codecs.js';
import type { ClientSettings } from '../config/properties.js';

const { Kafka, CompressionCodecs, CompressionTypes, logLevel } = kafkajsPkg;
export { Kafka };

let codecsRegistered = false;

/** Registers snappy, lz4 and zstd with kafkajs (gzip is its own). Codecs that cannot load fail when used. */
export function registerCodecs(): void {
  if (codecsRegistered) return;
  codecsRegistered = true;
  const codecs = CompressionCodecs as Record<number, () => unknown>;
  const wrap = (name: CodecName) => () => ({
    compress: (encoder: { buffer: Buffer }) => CODECS[name].compress(encoder.buffer),
    decompress: (buf: Buffer) => CODECS[name].decompress(buf),
  });
  codecs[CompressionTypes.Snappy] = wrap('snappy');
  codecs[CompressionTypes.LZ4] = wrap('lz4');
  codecs[CompressionTypes.ZSTD] = wrap('zstd');
}

export const COMPRESSION: Record<CodecName, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

function logCreator(logger: Logger) {
  const limiter = new WarnLimiter(10_000);
  return () =>
    ({ namespace, level, log }: LogEntry) => {
      const { message, timestamp: _t, logger: _l, stack: _s, ...extra } = log as Record<string, unknown>;
      const text = `kafka client: ${String(message)}`;
      if (level === logLevel.ERROR || level === logLevel.WARN) {
        const suppressed = limiter.hit(`${namespace}:${String(message)}`);
        if (suppressed < 0) return;
        logger.warn(text, { namespace, ...extra, ...(suppressed > 0 ? { suppressed } : {}) });
      } else {
        logger.debug(text, { namespace, ...extra });
      }
    };
}

/** A kafkajs client for these settings; TLS key material is read now (call from start()). */
export function createKafka(s: ClientSettings, logger: Logger, label: string): InstanceType<typeof Kafka> {
  registerCodecs();
  const config: KafkaConfig = {
    brokers: s.brokers,
    clientId: s.clientId,
    connectionTimeout: s.connectionTimeoutMs,
    authenticationTimeout: s.connectionTimeoutMs,
    requestTimeout: s.requestTimeoutMs,
    retry: { retries: s.retries, initialRetryTime: s.retryBackoffMs, maxRetryTime: s.retryBackoffMaxMs },
    logLevel: logLevel.INFO,
    logCreator: logCreator(logger),
  };
  const sec = s.security;
  if (sec.tls) config.ssl = loadClientTls(sec.tls, { label, warn: (m) => logger.warn(m) });
  if (sec.sasl) {
    const mechanism = sec.sasl.mechanism.toLowerCase() as 'plain' | 'scram-sha-256' | 'scram-sha-512';
    config.sasl = { mechanism, username: sec.sasl.username, password: sec.sasl.password } as SASLOptions;
  }
  return new Kafka(config);
}
