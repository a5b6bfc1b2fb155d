/**
 * remove_header: removes headers by exact name (`withName`), by a list of names (`fromList`, split by the
 * `fromListSeparator` regex), and by a regex that must match the whole name (`matching`). None set: no-op.
 * Regexes use Java syntax (translated; constructs without a JavaScript equivalent are config errors).
 */
import { defineInterceptor, type Interceptor, opt } from '../contract/index.js';
import type { FlumeEvent } from '../core/event.js';
import { compileJavaRegex, javaRegexOption, type JavaRegex } from '../compat/java/java-regex/index.js';

const options = {
  withName: opt.string({ doc: 'Name of a header to remove (exact).' }),
  fromList: opt.string({ doc: 'Names of headers to remove, separated by fromListSeparator.' }),
  fromListSeparator: javaRegexOption({ default: '\\s*,\\s*', doc: 'Regex separating the names in fromList.' }),
  matching: javaRegexOption({ doc: 'Remove every header whose whole name matches this regex.' }),
};

export class RemoveHeaderInterceptor implements Interceptor {
  private readonly names: Set<string>;
  constructor(
    withName: string | undefined,
    fromList: string[],
    private readonly matching: JavaRegex | undefined,
  ) {
    this.names = new Set(fromList);
    if (withName) this.names.add(withName);
  }

  private removes(k: string): boolean {
    return this.names.has(k) || (this.matching !== undefined && this.matching.matches(k));
  }

  intercept(events: FlumeEvent[]): FlumeEvent[] {
    if (this.names.size === 0 && !this.matching) return events;
    const out = new Array<FlumeEvent>(events.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      let h: Record<string, string> | undefined;
      for (const k of Object.keys(e.headers)) {
        if (!this.removes(k)) continue;
        if (!h) {
          h = Object.create(null) as Record<string, string>;
          for (const k2 of Object.keys(e.headers)) h[k2] = e.headers[k2]!;
        }
        delete h[k];
      }
      out[i] = h ? { headers: h, body: e.body } : e;
    }
    return out;
  }
}

export default defineInterceptor({
  type: 'remove_header',
  classNames: ['org.apache.flume.interceptor.RemoveHeaderInterceptor$Builder'],
  summary: 'Removes headers by name, by a list of names, or by a regex over the names.',
  options,
  create: (o) => {
    const list = o.fromList
      ? compileJavaRegex(o.fromListSeparator)
          .split(o.fromList)
          .filter((x) => x !== '')
      : [];
    return new RemoveHeaderInterceptor(
      o.withName || undefined,
      list,
      o.matching ? compileJavaRegex(o.matching) : undefined,
    );
  },
});
