/**
 * flume-env.sh, read as text and never executed: the `-D` options of its JAVA_OPTS and FLUME_JAVA_OPTS assignments
 * become system properties (below the command line's, as Flume's launcher puts them first). `$VAR` and `${VAR}` are
 * expanded from the file's earlier assignments, then the environment. Everything else is reported once, by line:
 * JVM options, other assignments (JAVA_HOME, FLUME_CLASSPATH, ...), commands, command substitutions.
 */
import type { ConfigIssue } from '../../config/issues.js';
import { isJvmOption, JVM_HINT } from '../jvm-options.js';

export interface FlumeEnv {
  sys: Record<string, string>;
  notes: ConfigIssue[];
}

const OPTS_VARS = new Set(['JAVA_OPTS', 'FLUME_JAVA_OPTS']);

/** System properties of the JVM itself or of Java libraries: no meaning for flume-ts. */
const JVM_PROPERTY = /^(?:java\.|javax\.|sun\.|jdk\.|com\.sun\.|log4j|org\.apache\.logging\.|user\.|file\.encoding)/;

interface Logical {
  text: string;
  line: number;
}

/** Physical lines joined at trailing backslashes; comments and blank lines dropped. */
function logicalLines(text: string): Logical[] {
  const out: Logical[] = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const start = i + 1;
    let cur = lines[i]!;
    while (cur.endsWith('\\') && i + 1 < lines.length) cur = cur.slice(0, -1) + lines[++i]!;
    const t = cur.trim();
    if (t !== '' && !t.startsWith('#')) out.push({ text: t, line: start });
  }
  return out;
}

/** A shell word: quotes removed, `$VAR` expanded. `unsupported` when it holds a command substitution. */
function shellValue(
  s: string,
  lookup: (name: string) => string,
): { value: string; rest: string; unsupported?: string } {
  let out = '';
  let i = 0;
  let quote: '"' | "'" | undefined;
  const expand = (): void => {
    const m = /^\$(?:\{(\w+)(?::?-([^}]*))?\}|(\w+))/.exec(s.slice(i));
    if (!m) {
      out += '$';
      i++;
      return;
    }
    const v = lookup(m[1] ?? m[3]!);
    out += v !== '' ? v : (m[2] ?? '');
    i += m[0].length;
  };
  while (i < s.length) {
    const c = s[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else out += c;
      i++;
    } else if (c === '`' || (c === '$' && s[i + 1] === '(')) {
      return { value: out, rest: '', unsupported: 'command substitution' };
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < s.length && '"\\$`'.includes(s[i + 1]!)) out += s[++i];
      else if (c === '$') {
        expand();
        continue;
      } else out += c;
      i++;
    } else if (c === '"' || c === "'") {
      quote = c;
      i++;
    } else if (c === '\\' && i + 1 < s.length) {
      out += s[i + 1];
      i += 2;
    } else if (c === '$') {
      expand();
    } else if (/\s/.test(c)) {
      return { value: out, rest: s.slice(i).trim() };
    } else if (c === ';') {
      return { value: out, rest: s.slice(i + 1).trim() };
    } else {
      out += c;
      i++;
    }
  }
  return { value: out, rest: '', unsupported: quote ? 'an unterminated quote' : undefined };
}

export function parseFlumeEnv(
  text: string,
  file: string,
  env: Record<string, string | undefined> = process.env,
): FlumeEnv {
  const notes: ConfigIssue[] = [];
  const note = (line: number, message: string, hint?: string) =>
    notes.push({ severity: 'warning', file, line, message, hint });
  const vars = new Map<string, string>();
  const lookup = (name: string) => vars.get(name) ?? env[name] ?? '';
  /** Other variables, reported unless an options line uses them. */
  const others = new Map<string, number>();
  const used = new Set<string>();
  /** The line each option word was last written on, for the notes below. */
  const origin = new Map<string, number>();
  for (const { text: t, line } of logicalLines(text)) {
    const m = /^(?:export\s+)?([A-Za-z_]\w*)=(.*)$/s.exec(t);
    if (!m) {
      if (
        /^export(?:\s+[A-Za-z_]\w*)+$/.test(t) &&
        t
          .split(/\s+/)
          .slice(1)
          .every((n) => vars.has(n))
      )
        continue;
      note(line, `'${short(t)}' is not run: flume-ts reads flume-env.sh as text, only -D options of JAVA_OPTS`);
      continue;
    }
    const name = m[1]!;
    const v = shellValue(m[2]!, lookup);
    if (v.unsupported) {
      note(line, `${name} is not read: it uses ${v.unsupported}, which flume-ts does not run`);
      continue;
    }
    if (v.rest !== '' && !v.rest.startsWith('#')) {
      note(line, `'${short(t)}' is not run: flume-ts reads flume-env.sh as text, only -D options of JAVA_OPTS`);
      continue;
    }
    vars.set(name, v.value);
    if (!OPTS_VARS.has(name)) {
      if (!others.has(name)) others.set(name, line);
      continue;
    }
    // words this line wrote itself (not those it carried over from $JAVA_OPTS)
    const own = shellValue(m[2]!, (n) => (OPTS_VARS.has(n) ? '' : (used.add(n), lookup(n)))).value;
    for (const w of own.split(/\s+/).filter(Boolean)) origin.set(w, line);
  }
  // the launcher runs: java $JAVA_OPTS $FLUME_JAVA_OPTS ... (later -D wins)
  const words = [...(vars.get('JAVA_OPTS') ?? '').split(/\s+/), ...(vars.get('FLUME_JAVA_OPTS') ?? '').split(/\s+/)];
  const sys: Record<string, string> = {};
  const byLine = new Map<number, { jvm: string[]; props: string[]; other: string[] }>();
  const at = (w: string) => {
    const l = origin.get(w) ?? 0;
    let e = byLine.get(l);
    if (!e) byLine.set(l, (e = { jvm: [], props: [], other: [] }));
    return e;
  };
  for (const w of words.filter(Boolean)) {
    if (w.startsWith('-D') && w.length > 2) {
      const kv = w.slice(2);
      const eq = kv.indexOf('=');
      const key = eq < 0 ? kv : kv.slice(0, eq);
      sys[key] = eq < 0 ? '' : kv.slice(eq + 1);
      if (JVM_PROPERTY.test(key)) at(w).props.push(key);
    } else if (isJvmOption(w)) {
      at(w).jvm.push(w);
    } else {
      at(w).other.push(w);
    }
  }
  for (const [line, e] of [...byLine].sort((a, b) => a[0] - b[0])) {
    const l = line || undefined;
    if (e.jvm.length) note(l ?? 0, `JVM options ignored: ${e.jvm.join(' ')}`, JVM_HINT);
    if (e.props.length) {
      const jmx = e.props.some((p) => p.startsWith('com.sun.management.jmxremote'));
      note(
        l ?? 0,
        `Java system properties with no effect in flume-ts: ${e.props.join(' ')}`,
        jmx ? 'JMX is not available; use -Dflume.monitoring.type=http (or prometheus) for metrics' : undefined,
      );
    }
    if (e.other.length) note(l ?? 0, `not a -D or JVM option, ignored: ${e.other.join(' ')}`);
  }
  for (const [name, line] of others) {
    if (!used.has(name))
      note(line, `${name} is ignored: flume-ts reads only the -D options of JAVA_OPTS and FLUME_JAVA_OPTS`);
  }
  for (const n of notes) if (n.line === 0) delete n.line;
  notes.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return { sys, notes };
}

function short(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
