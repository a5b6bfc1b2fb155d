/** uuid: sets a header to a random UUID (v4), optionally prefixed (Flume's morphline UUIDInterceptor). */
import { randomUUID } from 'node:crypto';
import { defineInterceptor, type Interceptor, opt } from '../contract/index.js';
import { withHeaders, type FlumeEvent } from '../core/event.js';

const options = {
  headerName: opt.string({ default: 'id', nonEmpty: true, doc: 'Header to set.' }),
  preserveExisting: opt.bool({ default: true, doc: 'Keep the header when the event already has it.' }),
  prefix: opt.string({ default: '', doc: 'Text put before the UUID.' }),
};

export class UuidInterceptor implements Interceptor {
  constructor(
    private readonly header: string,
    private readonly preserve: boolean,
    private readonly prefix: string,
  ) {}

  intercept(events: FlumeEvent[]): FlumeEvent[] {
    const out = new Array<FlumeEvent>(events.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      out[i] =
        this.preserve && e.headers[this.header] !== undefined
          ? e
          : withHeaders(e, { [this.header]: this.prefix + randomUUID() });
    }
    return out;
  }
}

export default defineInterceptor({
  type: 'uuid',
  classNames: ['org.apache.flume.sink.solr.morphline.UUIDInterceptor$Builder'],
  summary: 'Adds a random UUID as a header (an event id).',
  options,
  create: (o) => new UuidInterceptor(o.headerName, o.preserveExisting, o.prefix),
});
