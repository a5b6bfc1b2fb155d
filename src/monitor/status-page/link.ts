/**
 * Links the page's compiled browser modules into the one inline module script the page carries: its
 * Content-Security-Policy lets it load no script from anywhere, and the server serves no route for one.
 *
 * From the entry, every module imported with `import { a, b } from './x.js'` comes first, once, in depth-first
 * order; import lines and `export` keywords are dropped, since the modules then share one scope. tsc's output of
 * assets/*.ts keeps to these forms; anything else (another import form, an import cycle, a name declared at the top
 * level of two modules, which would collide in the shared scope) is refused, so a page that would break in the
 * browser never starts.
 */
import { AgentError } from '../../core/errors.js';

const IMPORT = /^import\s*\{[^}]*\}\s*from\s*'\.\/([\w.-]+\.js)';$/;
const EXPORT = /^export\s+(?=(?:async\s+)?(?:function|const|let|var|class)\b)/;
const TYPE_ONLY_EXPORT = /^export\s*\{\s*\};?$/;
const TOP_LEVEL_NAME = /^(?:async\s+)?(?:function\*?|const|let|var|class)\s+([\w$]+)/;

/**
 * `read(name)` gives a module's compiled text. Throws AgentError FLUME_ERR_MONITOR_ASSET naming the module and what
 * it cannot link.
 */
export function linkModules(entry: string, read: (name: string) => string): string {
  const refuse = (message: string) => new AgentError('FLUME_ERR_MONITOR_ASSET', `status page script ${message}`);
  const out: string[] = [];
  const declaredIn = new Map<string, string>();
  const linked = new Set<string>();
  const linking: string[] = [];

  const link = (name: string): void => {
    if (linked.has(name)) return;
    if (linking.includes(name)) throw refuse(`import cycle: ${[...linking, name].join(' -> ')}`);
    linking.push(name);
    const body: string[] = [];
    for (const line of read(name).split('\n')) {
      if (/^import\b/.test(line)) {
        const m = IMPORT.exec(line.trimEnd());
        if (!m) throw refuse(`${name}: cannot link '${line}' (only import { names } from './module.js')`);
        link(m[1]!);
        continue;
      }
      if (TYPE_ONLY_EXPORT.test(line.trimEnd())) continue;
      if (/^export\b/.test(line) && !EXPORT.test(line)) {
        throw refuse(`${name}: cannot link '${line}' (only export function/const/let/var/class)`);
      }
      const unexported = line.replace(EXPORT, '');
      const declared = TOP_LEVEL_NAME.exec(unexported)?.[1];
      if (declared !== undefined) {
        const other = declaredIn.get(declared);
        if (other !== undefined) {
          throw refuse(`${name}: '${declared}' is also declared at the top level of ${other} (one scope once linked)`);
        }
        declaredIn.set(declared, name);
      }
      body.push(unexported);
    }
    linking.pop();
    linked.add(name);
    out.push(`// ${name}`, ...body);
  };

  link(entry);
  return out.join('\n');
}
