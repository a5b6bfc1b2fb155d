import { KINDS, type Kind, closest } from '../../contract/index.js';
import { defsOf, explainUnknownType, findDef } from '../../registry/lookup.js';
import { describeMarkdown, describeText } from '../../registry/docs.js';
import { EXIT } from '../exit-codes.js';

export function runDescribe(a: { kind?: string; type?: string; markdown: boolean }): number {
  if (!a.kind) {
    for (const k of KINDS) {
      const defs = defsOf(k);
      if (defs.length) process.stdout.write(`${k}: ${defs.map((d) => d.type).join(', ')}\n`);
    }
    process.stdout.write('\nflume-ng describe <kind> <type> prints the keys of one component.\n');
    return EXIT.OK;
  }
  const kind = a.kind.replace(/s$/, '').replace(/^sinkgroup$/, 'processor') as Kind;
  if (!KINDS.includes(kind)) {
    const g = closest(a.kind, KINDS);
    process.stderr.write(
      `flume-ng describe: unknown kind '${a.kind}'${g ? ` (did you mean '${g}'?)` : ''}; kinds: ${KINDS.join(', ')}\n`,
    );
    return EXIT.USAGE;
  }
  if (!a.type) {
    for (const d of defsOf(kind)) process.stdout.write(`${d.type.padEnd(20)} ${d.summary}\n`);
    return EXIT.OK;
  }
  const def = findDef(kind, a.type);
  if (!def) {
    const miss = explainUnknownType(kind, a.type);
    process.stderr.write(`flume-ng describe: ${miss.message}${miss.hint ? ` (${miss.hint})` : ''}\n`);
    return EXIT.USAGE;
  }
  process.stdout.write(`${a.markdown ? describeMarkdown(def) : describeText(def)}\n`);
  return EXIT.OK;
}
