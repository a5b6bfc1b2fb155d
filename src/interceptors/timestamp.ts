/**
 * timestamp: sets a header to the current time in epoch milliseconds (Flume TimestampInterceptor).
 * One clock reading per batch (Flume reads the clock per event; events of one batch arrive together).
 */
import { defineInterceptor, type Interceptor, opt } from '../contract/index.js';
import { withHeaders, type FlumeEvent } from '../core/event.js';

const options = {
  headerName: opt.string({
    default: 'timestamp',
    nonEmpty: true,
    doc: 'Header to set (Flume has no `header` key; it is headerName).',
  }),
  preserveExisting: opt.bool({ default: false, doc: 'Keep the header when the event already has it.' }),
};

export class TimestampInterceptor implements Interceptor {
  constructor(
    private readonly header: string,
    private readonly preserve: boolean,
    private readonly now: () => number = Date.now,
  ) {}

  intercept(events: FlumeEvent[]): FlumeEvent[] {
    const extra = { [this.header]: String(this.now()) };
    const out = new Array<FlumeEvent>(events.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      out[i] = this.preserve && e.headers[this.header] !== undefined ? e : withHeaders(e, extra);
    }
    return out;
  }
}

export default defineInterceptor({
  type: 'timestamp',
  classNames: ['org.apache.flume.interceptor.TimestampInterceptor$Builder'],
  summary: 'Adds the current time (epoch milliseconds) as a header.',
  options,
  create: (o) => new TimestampInterceptor(o.headerName, o.preserveExisting),
});
