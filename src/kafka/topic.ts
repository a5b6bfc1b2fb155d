/**
 * The kafka sink's topic: kafka.topic with Flume's header escapes (`%{name}` is the event's header, "" when absent;
 * `%%` is `%`), applied as Flume applies them: only when allowTopicOverride is true and the event has no topic
 * header. Time escapes (`%Y`...) in a topic name are refused at validation with a message that says so.
 */
export interface TopicTemplate {
  /** True when the template has `%{header}` escapes (the topic depends on the event). */
  readonly dynamic: boolean;
  render(headers: Readonly<Record<string, string>>): string;
}

type Part = string | { header: string };

/** Compiles a template, or returns why it cannot be used. */
export function compileTopic(template: string): TopicTemplate | string {
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i]!;
    if (c !== '%') {
      lit += c;
      continue;
    }
    const n = template[i + 1];
    if (n === '%') {
      lit += '%';
      i++;
    } else if (n === '{') {
      const end = template.indexOf('}', i + 2);
      if (end < 0) return `unterminated %{ at position ${i}`;
      if (lit) parts.push(lit);
      lit = '';
      parts.push({ header: template.slice(i + 2, end) });
      i = end;
    } else {
      return (
        `the escape %${n ?? ''} is not supported in a Kafka topic name (only %{header} and %%); ` +
        'set the topic header instead (e.g. with a timestamp or static interceptor)'
      );
    }
  }
  if (lit) parts.push(lit);
  const dynamic = parts.some((p) => typeof p !== 'string');
  if (!dynamic) {
    const fixed = parts.join('');
    return { dynamic, render: () => fixed };
  }
  return {
    dynamic,
    render: (h) => {
      let out = '';
      for (const p of parts) out += typeof p === 'string' ? p : (h[p.header] ?? '');
      return out;
    },
  };
}
