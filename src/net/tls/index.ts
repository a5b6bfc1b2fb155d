/**
 * One TLS vocabulary for every network component (avro, http, syslogtcp, multiport_syslogtcp, the avro sink and
 * avro-client, and whatever connects or listens next).
 *
 * Use: spread `tlsServerOptions` (listens) or `tlsClientOptions` (connects) into the option table; in check(),
 * `tlsProblems(resolveTls(o, side))`; in start(), `loadServerTls(resolveTls(o, 'server'), { label, warn })` or
 * `loadClientTls(resolveTls(o, 'client'), { label, host, warn })`. Key and trust stores are PKCS12, JKS or PEM,
 * detected from the file; failures are TlsConfigError (FLUME_ERR_TLS_CONFIG) or KeystoreError
 * (FLUME_ERR_TLS_KEYSTORE).
 */
export { tlsClientOptions, tlsServerOptions } from './options.js';
export { resolveTls, tlsOptionsFromProperties, tlsProblems, type TlsSettings, type TlsSide } from './settings.js';
export { loadClientTls, loadServerTls, type ServerTls, type TlsLoadContext } from './load.js';
export { KeystoreError, TlsConfigError } from './errors.js';
export {
  keyMaterial,
  readKeyStore,
  readTrustStore,
  sniffStore,
  trustedCertificates,
  type KeyMaterial,
  type StoreFormat,
  type StoreRef,
} from './stores.js';
export { readJks, type JksContents } from './jks.js';
export { cipherList, opensslCipherName, protocolRange, type NodeProtocol } from './suites.js';
