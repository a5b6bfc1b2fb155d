/**
 * The TLS keys every network component spreads into its option table: `tlsServerOptions` for what listens,
 * `tlsClientOptions` for what connects. Flume's keys keep Flume's spelling and defaults; flume-ts' own keys are
 * camelCase; old spellings are accepted with a warning. Lists are separated by whitespace and/or commas.
 */
import { opt } from '../../contract/index.js';

const STORE_TYPES = ['JKS', 'PKCS12', 'PEM'] as const;
const SEPARATOR = /[\s,]+/;
const FORMATS = 'PKCS12, JKS or PEM (the format is read from the file)';

function list(doc: string, defaultText?: string) {
  return opt.list({ separator: SEPARATOR, doc, ...(defaultText ? { defaultText } : {}) });
}

/** TLS versions and cipher suites: the same on both sides. */
const suites = {
  'include-protocols': list(
    'TLS versions to allow: TLSv1, TLSv1.1, TLSv1.2, TLSv1.3, separated by spaces or commas; ' +
      'they must form a contiguous range. Default: environment FLUME_SSL_INCLUDE_PROTOCOLS, else TLSv1.2 and TLSv1.3.',
  ),
  'exclude-protocols': list(
    'TLS versions to refuse (SSLv3 and SSLv2Hello are never available). ' +
      'Default: environment FLUME_SSL_EXCLUDE_PROTOCOLS, else SSLv3.',
    'SSLv3',
  ),
  'include-cipher-suites': list(
    'Cipher suites to allow, Java/IANA names (TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256) or ' +
      'OpenSSL names, separated by spaces or commas. Default: environment FLUME_SSL_INCLUDE_CIPHERSUITES, else the ' +
      'Node.js defaults.',
  ),
  'exclude-cipher-suites': list(
    'Cipher suites to refuse (Java/IANA or OpenSSL names). Default: environment FLUME_SSL_EXCLUDE_CIPHERSUITES.',
  ),
};

/** Keys of a component that accepts TLS connections (avro, http, syslogtcp, multiport_syslogtcp, ...). */
export const tlsServerOptions = {
  ssl: opt.bool({
    default: false,
    doc: 'Serve TLS on this port (plaintext clients are refused). Needs keystore, or sslCertificate and sslKey.',
  }),
  keystore: opt.string({
    doc:
      `Key store with this server's private key and certificate chain: ${FORMATS}. ` +
      'Default: environment FLUME_SSL_KEYSTORE_PATH.',
  }),
  'keystore-password': opt.string({
    doc:
      'Password of the key store and its key (also opens an encrypted sslKey). ' +
      'Default: environment FLUME_SSL_KEYSTORE_PASSWORD.',
  }),
  'keystore-type': opt.enum({
    values: STORE_TYPES,
    defaultText: 'JKS',
    doc:
      'As in Flume; the format is read from the file whatever this says (a PEM/binary mismatch is logged). ' +
      'Default: environment FLUME_SSL_KEYSTORE_TYPE.',
  }),
  ...suites,
  sslCertificate: opt.string({
    doc: "PEM file with this server's certificate chain, instead of a keystore (with sslKey). flume-ts key.",
  }),
  sslKey: opt.string({
    doc:
      'PEM file with the private key of sslCertificate; an encrypted key is opened with ' +
      'keystore-password. flume-ts key.',
  }),
  sslHandshakeTimeout: opt.duration({
    default: 10,
    unit: 's',
    min: 0,
    doc:
      'Clients that do not complete the TLS handshake within this time are disconnected ' +
      '(bare number = seconds; 0 = the Node.js default, 120 s).',
  }),
  // old spellings (Flume's http source before 1.9; flume-ts' avro source before the keys were unified)
  enableSSL: opt.renamed({ to: 'ssl' }),
  keystorePassword: opt.renamed({ to: 'keystore-password' }),
  excludeProtocols: opt.renamed({ to: 'exclude-protocols' }),
  'ssl-cert': opt.renamed({ to: 'sslCertificate' }),
  'ssl-key': opt.renamed({ to: 'sslKey' }),
};

/** Keys of a component that connects with TLS (avro sink, avro-client, ...). */
export const tlsClientOptions = {
  ssl: opt.bool({
    default: false,
    doc:
      'Connect with TLS. The server certificate is verified against truststore and ' +
      'sslCaCertificate (or the system CAs) unless trust-all-certs = true.',
  }),
  'trust-all-certs': opt.bool({
    default: false,
    doc:
      'Do not verify the server certificate (insecure: anyone on the ' +
      'path can read and alter the events; logs a warning).',
  }),
  truststore: opt.string({
    doc: `Trusted certificates: ${FORMATS}. ` + 'Default: environment FLUME_SSL_TRUSTSTORE_PATH, else the system CAs.',
  }),
  'truststore-password': opt.string({
    doc:
      "Password of the trust store (checks a JKS store's integrity, decrypts " +
      'PKCS12). Default: environment FLUME_SSL_TRUSTSTORE_PASSWORD.',
  }),
  'truststore-type': opt.enum({
    values: STORE_TYPES,
    defaultText: 'JKS',
    doc:
      'As in Flume; the format is read from ' +
      'the file whatever this says. Default: environment FLUME_SSL_TRUSTSTORE_TYPE.',
  }),
  sslCaCertificate: opt.string({
    doc: 'PEM file of trusted CA certificates, in addition to truststore. flume-ts key.',
  }),
  sslVerifyHostname: opt.bool({
    default: true,
    doc: 'Check that the server certificate names the host connected to (Flume does not check it). flume-ts key.',
  }),
  keystore: opt.string({
    doc:
      `Client certificate for mutual TLS: key store with this client's private key and ` +
      `certificate chain, ${FORMATS}. Only when the server asks for one.`,
  }),
  'keystore-password': opt.string({
    doc: 'Password of the client key store and its key (also opens an encrypted sslKey).',
  }),
  'keystore-type': opt.enum({
    values: STORE_TYPES,
    defaultText: 'JKS',
    doc: 'As in Flume; the format is read from the file whatever this says.',
  }),
  ...suites,
  sslCertificate: opt.string({
    doc: 'PEM client certificate chain for mutual TLS, instead of keystore (with sslKey). flume-ts key.',
  }),
  sslKey: opt.string({
    doc:
      'PEM file with the private key of sslCertificate; an encrypted key is opened with ' +
      'keystore-password. flume-ts key.',
  }),
  // old spellings (flume-ts' avro sink before the keys were unified)
  'ssl-ca': opt.renamed({ to: 'sslCaCertificate' }),
  'ssl-verify-hostname': opt.renamed({ to: 'sslVerifyHostname' }),
};
