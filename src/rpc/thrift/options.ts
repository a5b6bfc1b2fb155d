/** Option pieces the thrift source and sink share: the protocol and Flume's Kerberos keys (refused clearly). */
import { opt, type Problem } from '../../contract/index.js';

export const protocolOptions = {
  protocol: opt.enum({
    values: ['compact', 'binary'] as const,
    default: 'compact',
    doc:
      'Thrift protocol on the framed transport; must match the peer. Flume matches `binary` exactly and silently ' +
      'uses compact for any other spelling (even `Binary`) or value; here the case is ignored and anything else ' +
      'is a validation error.',
  }),
};

export const kerberosOption = opt.bool({
  default: false,
  doc: "Flume's SASL GSSAPI transport. Not supported: `true` is a validation error (use ssl for encryption).",
});

/** A problem for `kerberos = true` or a Kerberos principal/keytab key that is set. */
export function kerberosProblems(o: Record<string, unknown>, keys: readonly string[]): Problem[] {
  const hint =
    'flume-ts has no Kerberos (SASL GSSAPI) transport for thrift; remove the key, use ssl = true for encryption';
  const problems: Problem[] = [];
  if (o.kerberos === true) problems.push({ key: 'kerberos', message: 'Kerberos is not supported', hint });
  for (const k of keys) if (o[k] !== undefined) problems.push({ key: k, message: 'Kerberos is not supported', hint });
  return problems;
}
