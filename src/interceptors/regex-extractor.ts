/**
 * regex_extractor: runs `regex` once (first match) over the body decoded as UTF-8 and puts group i into header
 * `serializers.<i-th serializer>.name`, through that serializer (Flume RegexExtractorInterceptor).
 * Serializer types: `DEFAULT` (the group text; any case accepted, Flume needs upper case) or the millis
 * serializer (`org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer`, or `millis`) with a
 * Joda `pattern`, which writes epoch milliseconds. Events whose body does not match pass unchanged.
 *
 * Differences from Flume: a value the millis serializer cannot parse leaves that header unset and is counted and
 * logged (Flume throws, failing the whole put); a group that did not participate sets no header (Flume: null);
 * serializers without a group to read, unknown serializer keys and listed serializers without a name are config
 * errors (Flume ignores or fails at runtime).
 */
import {
  defineInterceptor,
  type Interceptor,
  type InterceptorContext,
  type Problem,
  opt,
  OptionError,
  didYouMeanHint,
  type Resolved,
} from '../contract/index.js';
import type { FlumeEvent } from '../core/event.js';
import { compileJavaRegex, javaRegexOption, type JavaRegex } from '../compat/java/java-regex/index.js';
import { JodaPattern } from '../compat/java/joda-time.js';

const SERIALIZERS_KEY = 'serializers.';
const PASS_THROUGH = ['default', 'org.apache.flume.interceptor.regexextractorinterceptorpassthroughserializer'];
const MILLIS = ['millis', 'org.apache.flume.interceptor.regexextractorinterceptormillisserializer'];
const SUB_KEYS = ['name', 'type', 'pattern'];

const options = {
  regex: javaRegexOption({ required: true, doc: 'Java regex; its groups (1, 2, ...) feed the serializers in order.' }),
  serializers: opt.list({ required: true, doc: 'Serializer names, one per regex group, in group order.' }),
  [SERIALIZERS_KEY]: opt.map({
    keyText: '<s>.name|type|pattern',
    doc: '`serializers.<s>.name` (required): header to set; `serializers.<s>.type`: `DEFAULT` (the group text) or `org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer` (alias `millis`); `serializers.<s>.pattern`: Joda date pattern for the millis serializer (e.g. `yyyy-MM-dd HH:mm`).',
  }),
};

export type RegexExtractorOptions = Resolved<typeof options>;

interface GroupSerializer {
  header: string;
  /** Returns the header value, or undefined when the value cannot be serialized. */
  serialize(v: string): string | undefined;
}

function buildSerializers(o: RegexExtractorOptions): { serializers: GroupSerializer[]; problems: Problem[] } {
  const problems: Problem[] = [];
  const m = o[SERIALIZERS_KEY] as Record<string, string>;
  const listed = o.serializers;
  const serializers: GroupSerializer[] = [];
  for (const k of Object.keys(m)) {
    const dot = k.lastIndexOf('.');
    const s = dot < 0 ? k : k.slice(0, dot);
    const sub = dot < 0 ? '' : k.slice(dot + 1);
    if (!listed.includes(s)) {
      problems.push({
        key: `serializers.${k}`,
        message: `serializer '${s}' has properties but is not listed in serializers`,
        hint: didYouMeanHint(s, listed) ?? `add it: serializers = ${[...listed, s].join(' ')}`,
      });
    } else if (!SUB_KEYS.includes(sub)) {
      problems.push({
        key: `serializers.${k}`,
        message: `unknown serializer property '${sub}'`,
        hint: didYouMeanHint(sub, SUB_KEYS) ?? 'serializers take name, type and pattern',
      });
    }
  }
  for (const s of listed) {
    const name = m[`${s}.name`];
    const type = (m[`${s}.type`] ?? 'DEFAULT').trim();
    const pattern = m[`${s}.pattern`];
    if (!name) {
      problems.push({
        key: 'serializers',
        message: `serializer '${s}' has no name`,
        hint: `add serializers.${s}.name = <header>`,
      });
      continue;
    }
    const lower = type.toLowerCase();
    if (PASS_THROUGH.includes(lower)) {
      if (pattern !== undefined)
        problems.push({
          key: `serializers.${s}.pattern`,
          message: `serializer '${s}' is DEFAULT, which takes no pattern`,
          hint: `set serializers.${s}.type = org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer to parse dates`,
        });
      serializers.push({ header: name, serialize: (v) => v });
    } else if (MILLIS.includes(lower)) {
      if (!pattern) {
        problems.push({
          key: `serializers.${s}.type`,
          message: `the millis serializer '${s}' needs a pattern`,
          hint: `add serializers.${s}.pattern = yyyy-MM-dd HH:mm`,
        });
        continue;
      }
      try {
        const p = new JodaPattern(pattern);
        serializers.push({
          header: name,
          serialize: (v) => {
            const t = p.parse(v);
            return t === undefined ? undefined : String(t);
          },
        });
      } catch (err) {
        if (!(err instanceof OptionError)) throw err;
        problems.push({ key: `serializers.${s}.pattern`, message: err.message, hint: err.hint });
      }
    } else {
      problems.push({
        key: `serializers.${s}.type`,
        message: `unknown serializer type '${type}'`,
        hint: 'use DEFAULT or org.apache.flume.interceptor.RegexExtractorInterceptorMillisSerializer (custom Java classes cannot be loaded)',
      });
    }
  }
  return { serializers, problems };
}

export class RegexExtractorInterceptor implements Interceptor {
  /** Values the serializers could not convert (header left unset). */
  failures = 0;
  private lastWarn = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly re: JavaRegex,
    private readonly serializers: GroupSerializer[],
    private readonly ctx?: InterceptorContext,
  ) {}

  intercept(events: FlumeEvent[]): FlumeEvent[] {
    const out = new Array<FlumeEvent>(events.length);
    const n = Math.min(this.re.groupCount, this.serializers.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      const m = this.re.exec(e.body.toString('utf8'));
      if (!m) {
        out[i] = e;
        continue;
      }
      let h: Record<string, string> | undefined;
      for (let g = 1; g <= n; g++) {
        const v = this.re.group(m, g);
        if (v === undefined) continue;
        const s = this.serializers[g - 1]!;
        const value = s.serialize(v);
        if (value === undefined) {
          this.fail(s.header, v);
          continue;
        }
        if (!h) {
          h = Object.create(null) as Record<string, string>;
          for (const k of Object.keys(e.headers)) h[k] = e.headers[k]!;
        }
        h[s.header] = value;
      }
      out[i] = h ? { headers: h, body: e.body } : e;
    }
    return out;
  }

  private fail(header: string, value: string): void {
    this.failures++;
    const now = performance.now();
    if (now - this.lastWarn >= 60_000) {
      this.lastWarn = now;
      this.ctx?.logger.warn('regex_extractor could not convert a value; the header was not set', {
        interceptor: this.ctx.name,
        header,
        value,
        failures: this.failures,
      });
    }
  }
}

export default defineInterceptor({
  type: 'regex_extractor',
  classNames: ['org.apache.flume.interceptor.RegexExtractorInterceptor$Builder'],
  summary: 'Copies regex groups of the body into headers, optionally converting dates to epoch milliseconds.',
  options,
  check: (o) => {
    const { problems } = buildSerializers(o);
    const groups = compileJavaRegex(o.regex).groupCount;
    if (o.serializers.length > groups) {
      problems.push({
        key: 'serializers',
        message: `${o.serializers.length} serializers but the regex has ${groups} group(s): serializer(s) ${o.serializers.slice(groups).join(', ')} would never be used`,
        hint: 'add capturing groups to the regex or remove serializers',
      });
    }
    return problems.length ? problems : true;
  },
  create: (o, ctx) => new RegexExtractorInterceptor(compileJavaRegex(o.regex), buildSerializers(o).serializers, ctx),
});
