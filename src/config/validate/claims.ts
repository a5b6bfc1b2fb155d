/** Claims phase: a port or directory claimed by two components is an error naming both. */
import type { PropEntry } from '../properties.js';
import type { AnyDef, Claim } from '../../contract/index.js';
import type { Ctx } from './context.js';
import { whenParsed } from './options.js';
import type { Part, Parts } from './components.js';

interface Held {
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
      held.push({ claim, comp: ctx.label(p.comp.section, p.name), entry: p.comp.props.get(claim.key) });
    }
  };
  [...parts.channels, ...parts.sources, ...parts.sinks].forEach(add);
  for (let i = 0; i < held.length; i++) {
    for (let j = 0; j < i; j++) {
      const a = held[j]!;
      const b = held[i]!;
      if (!conflicts(a.claim, b.claim)) continue;
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
}

const ANY_HOST = new Set(['0.0.0.0', '::', '', '*']);
function conflicts(a: Claim, b: Claim): boolean {
  if (a.resource !== b.resource) return false;
  if (a.resource === 'dir') return a.id === b.id;
  const [ha, pa] = splitHostPort(a.id);
  const [hb, pb] = splitHostPort(b.id);
  if (pa !== pb || pa === '0') return false;
  return ha === hb || ANY_HOST.has(ha) || ANY_HOST.has(hb) || (isLocal(ha) && isLocal(hb));
}
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
