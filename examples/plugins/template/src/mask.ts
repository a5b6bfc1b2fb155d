/**
 * An interceptor that masks and enriches: replaces what `pattern` matches in each body (card numbers by default)
 * with `replacement`, blanks the headers listed in `headers`, and counts the replacements in the header named by
 * `countHeader`. Like every interceptor it never mutates its input: changed events are new objects.
 */
import { defineInterceptor, makeEvent, opt, type FlumeEvent } from 'flume-ts';

export default defineInterceptor({
  type: 'mask',
  summary: 'Masks what a regular expression matches in event bodies, and blanks listed headers.',
  options: {
    pattern: opt.string({
      default: '\\b\\d{4}[ -]?\\d{4}[ -]?\\d{4}[ -]?\\d{1,7}\\b',
      doc: 'JavaScript regular expression of what to mask in the body (decoded as UTF-8).',
      nonEmpty: true,
    }),
    replacement: opt.string({ default: '****', doc: 'Text that replaces each match.' }),
    headers: opt.list({ default: [], doc: 'Headers whose values are replaced by the replacement text.' }),
    countHeader: opt.string({
      default: '',
      doc: 'When set, the header that receives the number of replacements made in the event (enrichment).',
    }),
  },
  // a cross-option check runs at validation: a bad pattern is a configuration error with file:line, exit 78
  check: (o) => {
    try {
      new RegExp(o.pattern, 'g');
      return true;
    } catch (err) {
      return { key: 'pattern', message: `not a valid regular expression: ${(err as Error).message}` };
    }
  },
  create: (o) => {
    const re = new RegExp(o.pattern, 'g');
    const maskOne = (e: FlumeEvent): FlumeEvent => {
      let count = 0;
      const text = e.body.toString('utf8');
      const masked = text.replace(re, () => {
        count++;
        return o.replacement;
      });
      const blank = o.headers.filter((h) => h in e.headers);
      if (count === 0 && blank.length === 0 && !o.countHeader) return e; // unchanged: the same event object
      const headers: Record<string, string> = { ...e.headers };
      for (const h of blank) headers[h] = o.replacement;
      if (o.countHeader) headers[o.countHeader] = String(count);
      return makeEvent(count ? Buffer.from(masked, 'utf8') : e.body, headers);
    };
    return { intercept: (events) => events.map(maskOne) };
  },
});
