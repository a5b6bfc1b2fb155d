/** Java replacement strings (`Matcher.appendReplacement` syntax) parsed against a compiled regex. */
import { OptionError } from '../../../contract/index.js';
import type { JavaRegex, JavaReplacement } from './regex.js';

/**
 * Parses a Java `Matcher.appendReplacement` replacement: `$n` (multi-digit while such a group exists), `${name}`,
 * `\x` for a literal x. Errors Java raises at runtime (missing group, dangling `$` or `\`) are OptionErrors here.
 */
export function compileJavaReplacement(repl: string, re: JavaRegex): JavaReplacement {
  const parts: (string | number)[] = [];
  let lit = '';
  let i = 0;
  while (i < repl.length) {
    const c = repl[i]!;
    if (c === '\\') {
      if (i + 1 >= repl.length)
        throw new OptionError(`replacement '${repl}' ends with a lone backslash`, 'write \\\\ for a literal backslash');
      lit += repl[i + 1]!;
      i += 2;
    } else if (c === '$') {
      i++;
      if (i >= repl.length)
        throw new OptionError(
          `replacement '${repl}' ends with '$' (Java: illegal group reference)`,
          'write \\$ for a literal dollar sign',
        );
      let g: number;
      if (repl[i] === '{') {
        const close = repl.indexOf('}', i);
        const name = close < 0 ? '' : repl.slice(i + 1, close);
        if (close < 0 || !/^[a-zA-Z][a-zA-Z0-9]*$/.test(name))
          throw new OptionError(
            `replacement '${repl}' has a malformed named group reference`,
            'write ${name} with an ASCII letter followed by letters or digits',
          );
        const n = re.names.get(name);
        if (n === undefined)
          throw new OptionError(`replacement '${repl}' refers to group '${name}', which the regex does not define`);
        g = n;
        i = close + 1;
      } else {
        const d = repl.charCodeAt(i) - 48;
        if (d < 0 || d > 9)
          throw new OptionError(
            `replacement '${repl}' has '$' not followed by a group number or {name} (Java: illegal group reference)`,
            'write \\$ for a literal dollar sign',
          );
        if (d > re.groupCount)
          throw new OptionError(
            `replacement '${repl}' refers to group ${d}, but the regex has ${re.groupCount} group(s)`,
          );
        g = d;
        i++;
        while (i < repl.length) {
          const e = repl.charCodeAt(i) - 48;
          if (e < 0 || e > 9 || g * 10 + e > re.groupCount) break;
          g = g * 10 + e;
          i++;
        }
      }
      if (lit) parts.push(lit);
      lit = '';
      parts.push(g);
    } else {
      lit += c;
      i++;
    }
  }
  if (lit) parts.push(lit);
  if (parts.every((p) => typeof p === 'string')) return { parts, literal: parts.join('') };
  return { parts };
}
