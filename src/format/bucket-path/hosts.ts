/** The values of `%[localhost]`, `%[IP]` and `%[FQDN]`, looked up once (Flume resolves them once too). */
import os from 'node:os';
import { canonicalHostName, localAddress } from '../../net/local-host.js';
import type { HostNames } from './template.js';

/** Looks up this host's names; `fqdn` needs a DNS round trip (bounded by a timeout), so call it at start. */
export async function hostNames(): Promise<HostNames> {
  return { localhost: os.hostname(), ip: localAddress(), fqdn: await canonicalHostName() };
}
