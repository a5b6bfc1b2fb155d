/** Pieces shared by the syslog sources: option specs, client address headers. */
import { opt } from '../../contract/index.js';

export const clientIPHeader = opt.string({ doc: 'Header that receives the client IP address (e.g. 192.0.2.7).' });
export const clientHostnameHeader = opt.string({
  doc: 'Header that receives the client host name (reverse lookup through the system resolver, cached; the IP when it has no name).',
});
export const formatIgnored = {
  ...opt.map({
    doc: "Flume's undocumented custom format (format.regex, format.search, format.replace, format.dateFormat): not implemented; the built-in RFC 5424 and RFC 3164 parsers are used.",
  }),
  ignored: true,
};

/** Builds the per-client extra headers (null-prototype), or undefined when none are configured. */
export function clientHeaders(
  o: { clientIPHeader?: string; clientHostnameHeader?: string },
  ip: string,
  hostname: string | undefined,
  more?: Record<string, string>,
): Record<string, string> | undefined {
  if (!o.clientIPHeader && !o.clientHostnameHeader && !more) return undefined;
  const h = Object.create(null) as Record<string, string>;
  if (more) for (const k of Object.keys(more)) h[k] = more[k]!;
  if (o.clientIPHeader) h[o.clientIPHeader] = ip;
  if (o.clientHostnameHeader) h[o.clientHostnameHeader] = hostname ?? ip;
  return h;
}
