/**
 * Kafka's client security properties (security.protocol, sasl.*, ssl.*) as Flume passes them through
 * kafka.producer.* / kafka.consumer.*, turned into the shared TLS settings (src/net/tls: the same stores, PEM files,
 * FLUME_SSL_* fallbacks and checks as every other network component) and a SASL mechanism with its credentials.
 */
import { resolveTls, tlsProblems, type TlsSettings } from '../../net/tls/index.js';
import type { Problem } from '../../contract/index.js';

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];
export const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface SaslSettings {
  mechanism: SaslMechanism;
  username: string;
  password: string;
}

export interface Security {
  protocol: SecurityProtocol;
  /** Set for SSL and SASL_SSL. */
  tls?: TlsSettings;
  /** Set for SASL_PLAINTEXT and SASL_SSL. */
  sasl?: SaslSettings;
}

/** The security keys this module reads (the property tables mark them as handled). */
export const SECURITY_KEYS = [
  'security.protocol',
  'sasl.mechanism',
  'sasl.jaas.config',
  'ssl.truststore.location',
  'ssl.truststore.password',
  'ssl.truststore.type',
  'ssl.keystore.location',
  'ssl.keystore.password',
  'ssl.keystore.type',
  'ssl.key.password',
  'ssl.endpoint.identification.algorithm',
  'ssl.enabled.protocols',
  'ssl.cipher.suites',
] as const;

/** Keys Kafka's Java client has that have no equivalent here, with why (reported as warnings). */
export const SECURITY_NO_EFFECT: Record<string, string> = {
  'ssl.protocol': 'the TLS versions come from ssl.enabled.protocols (default TLSv1.2 and TLSv1.3)',
  'ssl.provider': 'Node.js uses OpenSSL',
  'ssl.keymanager.algorithm': 'Node.js uses OpenSSL',
  'ssl.trustmanager.algorithm': 'Node.js uses OpenSSL',
  'ssl.secure.random.implementation': 'Node.js uses OpenSSL',
  'sasl.kerberos.service.name': 'GSSAPI (Kerberos) is not supported',
  'sasl.login.class': 'the login comes from sasl.jaas.config',
  'sasl.client.callback.handler.class': 'the login comes from sasl.jaas.config',
};

/**
 * `sasl.jaas.config`: `<LoginModule class> required key="value" ...;` -> its options. Values may be quoted (with
 * \" and \\ escapes) or bare words. Returns an error text when the entry cannot be read.
 */
export function parseJaas(text: string): { module: string; options: Record<string, string> } | string {
  const m = /^\s*([\w.$]+)\s+(required|requisite|sufficient|optional)\b([\s\S]*)$/.exec(text);
  if (!m) return 'expected `<LoginModule class> required key="value" ...;`';
  const options: Record<string, string> = Object.create(null);
  let rest = m[3]!;
  for (;;) {
    rest = rest.replace(/^\s+/, '');
    if (rest === '' || rest === ';') break;
    const kv = /^([\w.-]+)\s*=\s*/.exec(rest);
    if (!kv) return `cannot read the option at '${rest.slice(0, 20)}'`;
    rest = rest.slice(kv[0].length);
    let value: string;
    if (rest.startsWith('"')) {
      let i = 1;
      value = '';
      while (i < rest.length && rest[i] !== '"') {
        if (rest[i] === '\\' && i + 1 < rest.length) i++;
        value += rest[i++];
      }
      if (i >= rest.length) return `unterminated quoted value of ${kv[1]}`;
      rest = rest.slice(i + 1);
    } else {
      const w = /^[^\s;]*/.exec(rest)![0];
      value = w;
      rest = rest.slice(w.length);
    }
    options[kv[1]!] = value;
  }
  return { module: m[1]!, options };
}

const PLAIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule';
const SCRAM_MODULE = 'org.apache.kafka.common.security.scram.ScramLoginModule';

/** The security of one client (`prefix` is `kafka.producer.` or `kafka.consumer.`, for the keys in problems). */
export function securityFrom(
  props: Readonly<Record<string, string>>,
  prefix: string,
  env: NodeJS.ProcessEnv = process.env,
): { security: Security; problems: Problem[] } {
  const problems: Problem[] = [];
  const key = (k: string) => prefix + k;
  const rawProtocol = (props['security.protocol'] ?? 'PLAINTEXT').trim().toUpperCase();
  let protocol: SecurityProtocol = 'PLAINTEXT';
  if ((SECURITY_PROTOCOLS as readonly string[]).includes(rawProtocol)) protocol = rawProtocol as SecurityProtocol;
  else
    problems.push({
      key: key('security.protocol'),
      message: `security.protocol '${props['security.protocol']}' is not one of ${SECURITY_PROTOCOLS.join(', ')}`,
    });
  const security: Security = { protocol };
  const usesSasl = protocol.startsWith('SASL_');
  const usesTls = protocol.endsWith('SSL');

  if (usesSasl) {
    const mech = (props['sasl.mechanism'] ?? 'GSSAPI').trim().toUpperCase();
    if (!(SASL_MECHANISMS as readonly string[]).includes(mech)) {
      problems.push({
        key: key('sasl.mechanism'),
        message:
          mech === 'GSSAPI'
            ? `sasl.mechanism GSSAPI (Kerberos${props['sasl.mechanism'] ? '' : ", Kafka's default"}) is not supported`
            : `sasl.mechanism '${mech}' is not supported`,
        hint: `use one of ${SASL_MECHANISMS.join(', ')} with sasl.jaas.config`,
      });
    } else {
      const jaas = props['sasl.jaas.config'];
      const parsed = jaas === undefined ? 'it is not set' : parseJaas(jaas);
      if (typeof parsed === 'string') {
        problems.push({
          key: key(jaas === undefined ? 'sasl.mechanism' : 'sasl.jaas.config'),
          message: `sasl.jaas.config: ${parsed}`,
          hint: `write ${mech === 'PLAIN' ? PLAIN_MODULE : SCRAM_MODULE} required username="..." password="...";`,
        });
      } else {
        const want = mech === 'PLAIN' ? PLAIN_MODULE : SCRAM_MODULE;
        if (parsed.module !== want)
          problems.push({
            key: key('sasl.jaas.config'),
            message: `sasl.jaas.config names ${parsed.module}, which does not go with sasl.mechanism ${mech}`,
            hint: `use ${want}`,
          });
        const { username, password } = parsed.options;
        if (username === undefined || password === undefined)
          problems.push({ key: key('sasl.jaas.config'), message: 'sasl.jaas.config needs username and password' });
        else security.sasl = { mechanism: mech as SaslMechanism, username, password };
      }
    }
  } else {
    for (const k of ['sasl.mechanism', 'sasl.jaas.config'])
      if (props[k] !== undefined)
        problems.push({
          key: key(k),
          severity: 'warning',
          message: `${k} has no effect with security.protocol ${protocol}`,
        });
  }

  // ssl.* -> the keys of the shared client TLS fragment, then the same resolution and checks
  const tlsKeys: Record<string, unknown> = { ssl: usesTls };
  const str = (k: string) => (props[k] !== undefined && props[k] !== '' ? props[k] : undefined);
  tlsKeys.truststore = str('ssl.truststore.location');
  tlsKeys['truststore-password'] = props['ssl.truststore.password'];
  tlsKeys['truststore-type'] = str('ssl.truststore.type');
  tlsKeys.keystore = str('ssl.keystore.location');
  tlsKeys['keystore-password'] = props['ssl.keystore.password'];
  tlsKeys['keystore-type'] = str('ssl.keystore.type');
  const keyPassword = props['ssl.key.password'];
  if (
    keyPassword !== undefined &&
    props['ssl.keystore.password'] !== undefined &&
    keyPassword !== tlsKeys['keystore-password']
  )
    problems.push({
      key: key('ssl.key.password'),
      message: 'ssl.key.password differs from ssl.keystore.password; flume-ts opens the key with the store password',
      hint: 'give the key the password of its store (keytool -keypasswd), or convert the store to PKCS12',
    });
  if (keyPassword !== undefined && tlsKeys['keystore-password'] === undefined)
    tlsKeys['keystore-password'] = keyPassword;
  // Kafka verifies the host name unless the algorithm is set empty (Kafka 2.0+)
  const algo = props['ssl.endpoint.identification.algorithm'];
  tlsKeys.sslVerifyHostname = algo === undefined || algo.trim() !== '';
  const list = (k: string) => props[k]?.split(/[\s,]+/).filter(Boolean);
  tlsKeys['include-protocols'] = list('ssl.enabled.protocols');
  tlsKeys['include-cipher-suites'] = list('ssl.cipher.suites');
  if (usesTls) {
    const tls = resolveTls(tlsKeys, 'client', env);
    const names: Record<string, string> = {
      'include-protocols': 'ssl.enabled.protocols',
      'exclude-protocols': 'ssl.enabled.protocols',
      'include-cipher-suites': 'ssl.cipher.suites',
      sslKey: 'ssl.keystore.location',
      sslCertificate: 'ssl.keystore.location',
    };
    for (const p of tlsProblems(tls))
      problems.push({ ...p, key: key(names[p.key ?? ''] ?? 'security.protocol'), message: p.message });
    security.tls = tls;
  } else {
    for (const k of Object.keys(props))
      if (k.startsWith('ssl.') && (SECURITY_KEYS as readonly string[]).includes(k))
        problems.push({
          key: key(k),
          severity: 'warning',
          message: `${k} has no effect with security.protocol ${protocol}`,
          hint: 'set security.protocol = SSL or SASL_SSL',
        });
  }
  return { security, problems };
}
