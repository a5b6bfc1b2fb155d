/**
 * regex_filter: keeps the events whose body (decoded as UTF-8) contains a match of `regex`, or drops them when
 * excludeEvents=true (Flume RegexFilteringInterceptor). Java regex syntax, translated.
 * Difference from Flume: bodies are decoded as UTF-8 (Flume: the JVM default charset, usually UTF-8).
 */
import { defineInterceptor, type Interceptor, opt } from '../contract/index.js';
import type { FlumeEvent } from '../core/event.js';
import { compileJavaRegex, javaRegexOption, type JavaRegex } from '../compat/java/java-regex/index.js';

const options = {
  regex: javaRegexOption({
    default: '.*',
    doc: 'Java regex searched for anywhere in the body (find, not a whole-body match).',
  }),
  excludeEvents: opt.bool({ default: false, doc: 'false: keep only matching events; true: drop matching events.' }),
};

export class RegexFilterInterceptor implements Interceptor {
  /** Events removed by this filter (for metrics). */
  filtered = 0;
  constructor(
    private readonly re: JavaRegex,
    private readonly exclude: boolean,
  ) {}

  intercept(events: FlumeEvent[]): FlumeEvent[] {
    const out: FlumeEvent[] = [];
    const re = this.re.regex;
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (re.test(e.body.toString('utf8')) !== this.exclude) out.push(e);
    }
    this.filtered += events.length - out.length;
    return out;
  }
}

export default defineInterceptor({
  type: 'regex_filter',
  classNames: ['org.apache.flume.interceptor.RegexFilteringInterceptor$Builder'],
  summary: 'Keeps (or drops, with excludeEvents) the events whose body matches a regex.',
  options,
  create: (o) => new RegexFilterInterceptor(compileJavaRegex(o.regex), o.excludeEvents),
});
