/** Claims phase: a port or directory claimed by two components is an error naming both. */
import type { PropEntry } from '../properties.js';
import type { AnyDef, Claim } from '../../contract/index.js';
import type { Ctx } from './context.js';
import { whenParsed } from './options.js';
import type { Part, Parts } from './components.js';

interface Held {
  /** Order of the claim (earlier claims are named in the errors). */
  seq: number;
  claim: Claim;
  comp: string;
  entry?: PropEntry;
}

export function checkClaims(ctx: Ctx, parts: Parts): void {
  const held: Held[] = [];
  const add = (p: Part<AnyDef>): void => {
    const fn = p.def?.claims as ((o: unknown) => Claim[]) | undefined;
    if (!fn || !p.res) return;
    for (const claim of whenParsed(p.res, fn) ?? []) {
      held.push({
        seq: held.length,
        claim,
        comp: ctx.label(p.comp.section, p.name),
        entry: p.comp.props.get(claim.key),
      });
    }
  };
  [...parts.channels, ...parts.sources, ...parts.sinks].forEach(add);
  // each claim is checked against the earlier ones of its resource and port (or directory), through an index:
  // one error per claim, naming the first earlier claim it conflicts with
  const groups = new Map<string, ClaimGroup>();
  for (const b of held) {
    const [host, port] = b.claim.resource === 'dir' ? ['', b.claim.id] : splitHostPort(b.claim.id);
    if (b.claim.resource !== 'dir' && port === '0') continue;
    const id = `${b.claim.resource}\u0000${port}`;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = new ClaimGroup()));
    const a = g.firstConflict(b.claim.resource === 'dir' ? '' : host);
    g.add(b.claim.resource === 'dir' ? '' : host, b);
    if (!a) continue;
    ctx.c.error({
      ...ctx.c.at(b.entry),
      component: b.comp,
      message:
        `${describeClaim(b.claim)} is also claimed by ${a.comp}` +
        `${a.entry ? ` (${a.entry.file}:${a.entry.line})` : ''}`,
      hint: b.claim.resource === 'dir' ? 'give each component its own directory' : 'give each component its own port',
    });
  }
}

/**
 * The claims of one port (or one directory) in order: the first by host, the first on any address, the first on a
 * loopback name. Two claims conflict on the same host, when either is on any address, or when both are loopback.
 */
class ClaimGroup {
  private first: Held | undefined;
  private readonly byHost = new Map<string, Held>();
  private anyHost: Held | undefined;
  private local: Held | undefined;

  /** The earliest claim held so far that conflicts with one on `host`. */
  firstConflict(host: string): Held | undefined {
    if (ANY_HOST.has(host)) return this.first;
    const hits = [this.byHost.get(host), this.anyHost, isLocal(host) ? this.local : undefined];
    let best: Held | undefined;
    for (const h of hits) if (h && (!best || h.seq < best.seq)) best = h;
    return best;
  }

  add(host: string, h: Held): void {
    this.first ??= h;
    if (!this.byHost.has(host)) this.byHost.set(host, h);
    if (ANY_HOST.has(host)) this.anyHost ??= h;
    if (isLocal(host)) this.local ??= h;
  }
}

const ANY_HOST = new Set(['0.0.0.0', '::', '', '*']);
function isLocal(h: string): boolean {
  return h === 'localhost' || h === '127.0.0.1' || h === '::1';
}
function splitHostPort(id: string): [string, string] {
  const i = id.lastIndexOf(':');
  return [id.slice(0, i), id.slice(i + 1)];
}
function describeClaim(c: Claim): string {
  return c.resource === 'dir' ? `directory ${c.id}` : `${c.resource.toUpperCase()} port ${c.id}`;
}
