/** static: adds one fixed header to every event (Flume StaticInterceptor); chain several for several headers. */
import { defineInterceptor, type Interceptor, opt } from '../contract/index.js';
import { withHeaders, type FlumeEvent } from '../core/event.js';

const options = {
  key: opt.string({ default: 'key', nonEmpty: true, doc: 'Header name.' }),
  value: opt.string({ default: 'value', doc: 'Header value.' }),
  preserveExisting: opt.bool({
    default: true,
    doc: 'Keep the header when the event already has it (default true, unlike timestamp and host).',
  }),
};

export class StaticInterceptor implements Interceptor {
  private readonly extra: Record<string, string>;
  constructor(
    private readonly key: string,
    value: string,
    private readonly preserve: boolean,
  ) {
    this.extra = { [key]: value };
  }

  intercept(events: FlumeEvent[]): FlumeEvent[] {
    const out = new Array<FlumeEvent>(events.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      out[i] = this.preserve && e.headers[this.key] !== undefined ? e : withHeaders(e, this.extra);
    }
    return out;
  }
}

export default defineInterceptor({
  type: 'static',
  classNames: ['org.apache.flume.interceptor.StaticInterceptor$Builder'],
  summary: 'Adds one fixed header to every event.',
  options,
  create: (o) => new StaticInterceptor(o.key, o.value, o.preserveExisting),
});
