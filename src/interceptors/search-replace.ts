/**
 * search_replace: replaces every match of `searchPattern` in the body (Java `replaceAll`, `$1`/`${name}` group
 * references, `\$` for a literal dollar) (Flume SearchAndReplaceInterceptor). The body is decoded with `charset`
 * and re-encoded with it. Group references to groups the regex does not have are config errors (Flume fails
 * at runtime on the first event).
 */
import { defineInterceptor, type Interceptor, opt, OptionError } from '../contract/index.js';
import type { FlumeEvent } from '../core/event.js';
import {
  compileJavaRegex,
  compileJavaReplacement,
  javaRegexOption,
  type JavaRegex,
  type JavaReplacement,
} from '../compat/java/java-regex/index.js';
import { charsetFor, charsetOption, type Charset } from '../text/index.js';

const options = {
  searchPattern: javaRegexOption({ required: true, nonEmpty: true, doc: 'Java regex to search for.' }),
  replaceString: opt.string({
    default: '',
    doc: 'Replacement; `$1` or `${name}` insert groups, `\\$` is a literal dollar.',
  }),
  charset: charsetOption({
    need: 'encode',
    who: 'search_replace',
    doc: 'Charset the body is decoded with and re-encoded in.',
  }),
};

export class SearchReplaceInterceptor implements Interceptor {
  constructor(
    private readonly re: JavaRegex,
    private readonly repl: JavaReplacement,
    private readonly cs: Charset,
  ) {}

  intercept(events: FlumeEvent[]): FlumeEvent[] {
    const out = new Array<FlumeEvent>(events.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const text = this.cs.decode(e.body);
      const replaced = this.re.replaceAll(text, this.repl);
      out[i] = replaced === text ? e : { headers: e.headers, body: this.cs.encode(replaced) };
    }
    return out;
  }
}

export default defineInterceptor({
  type: 'search_replace',
  classNames: ['org.apache.flume.interceptor.SearchAndReplaceInterceptor$Builder'],
  summary: 'Replaces every match of a regex in the event body.',
  options,
  check: (o) => {
    try {
      compileJavaReplacement(o.replaceString, compileJavaRegex(o.searchPattern));
      return true;
    } catch (err) {
      if (err instanceof OptionError) return { key: 'replaceString', message: err.message, hint: err.hint };
      throw err;
    }
  },
  create: (o) => {
    const re = compileJavaRegex(o.searchPattern);
    return new SearchReplaceInterceptor(re, compileJavaReplacement(o.replaceString, re), charsetFor(o.charset));
  },
});
