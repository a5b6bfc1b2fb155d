/**
 * Just enough XML for a log4j2.xml: elements with attributes and text, comments, CDATA, the prolog and a DOCTYPE
 * skipped, the five predefined entities and character references. Each element remembers its line. Anything
 * malformed throws XmlError (the caller reports the file as not read).
 */
import { AgentError } from '../../core/errors.js';

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
  line: number;
}

export class XmlError extends AgentError {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super('FLUME_ERR_CONFIG_SYNTAX', message);
    this.name = 'XmlError';
  }
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode(s: string, line: number): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (m, e: string) => {
    if (e.startsWith('#x')) return String.fromCodePoint(parseInt(e.slice(2), 16));
    if (e.startsWith('#')) return String.fromCodePoint(parseInt(e.slice(1), 10));
    const v = ENTITIES[e];
    if (v === undefined) throw new XmlError(`unknown entity ${m}`, line);
    return v;
  });
}

/** Parses a document and returns its root element. */
export function parseXml(text: string): XmlElement {
  let i = 0;
  let line = 1;
  const advance = (to: number) => {
    for (let k = i; k < to; k++) if (text.charCodeAt(k) === 10) line++;
    i = to;
  };
  const skipPast = (end: string, what: string) => {
    const j = text.indexOf(end, i);
    if (j < 0) throw new XmlError(`unterminated ${what}`, line);
    advance(j + end.length);
  };
  const stack: XmlElement[] = [];
  let rootEl: XmlElement | undefined;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = lt < 0 ? text.slice(i) : text.slice(i, lt);
    if (chunk.trim() !== '') {
      const top = stack[stack.length - 1];
      if (!top) throw new XmlError('text outside the root element', line);
      top.text += decode(chunk, line);
    }
    if (lt < 0) {
      advance(text.length);
      break;
    }
    advance(lt);
    if (text.startsWith('<!--', i)) skipPast('-->', 'comment');
    else if (text.startsWith('<?', i)) skipPast('?>', 'processing instruction');
    else if (text.startsWith('<![CDATA[', i)) {
      const j = text.indexOf(']]>', i);
      if (j < 0) throw new XmlError('unterminated CDATA section', line);
      const top = stack[stack.length - 1];
      if (top) top.text += text.slice(i + 9, j);
      advance(j + 3);
    } else if (text.startsWith('<!', i)) skipPast('>', 'declaration');
    else if (text.startsWith('</', i)) {
      const m = /^<\/([\w:.-]+)\s*>/.exec(text.slice(i, i + 200));
      const top = stack.pop();
      if (!m || !top || top.name !== m[1]) throw new XmlError(`unexpected closing tag ${m ? m[1] : ''}`, line);
      advance(i + m[0].length);
    } else {
      const m = /^<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(text.slice(i));
      if (!m) throw new XmlError('malformed tag', line);
      const el: XmlElement = { name: m[1]!, attrs: {}, children: [], text: '', line };
      for (const a of m[2]!.matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g))
        el.attrs[a[1]!] = decode(a[2] ?? a[3] ?? '', line);
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else if (rootEl) throw new XmlError('a second root element', line);
      else rootEl = el;
      if (m[3] !== '/') stack.push(el);
      advance(i + m[0].length);
    }
  }
  if (stack.length > 0) throw new XmlError(`element <${stack[stack.length - 1]!.name}> is not closed`, line);
  if (!rootEl) throw new XmlError('no root element', line);
  return rootEl;
}
