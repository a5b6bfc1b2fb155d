/**
 * http sink (Flume's HttpSink): POSTs events to an HTTP endpoint; the response status decides commit or rollback.
 * See sink.ts for the delivery rules, options.ts for the keys and status rules, body.ts for the request formats.
 */
import { defineSink } from '../../contract/index.js';
import { check, options } from './options.js';
import { HttpSink } from './sink.js';

export { HttpSink } from './sink.js';

export default defineSink({
  type: 'http',
  classNames: ['org.apache.flume.sink.http.HttpSink'],
  summary:
    'POSTs events to an HTTP endpoint (one per request as Flume, or batches as JSON lines or arrays); 2xx commits, ' +
    'other statuses follow the rollback/backoff/incrementMetrics rules.',
  options,
  batchSize: (o) => o.batchSize,
  batchSizeKey: 'batchSize',
  check,
  create: (o, ctx) => new HttpSink(o, ctx),
});
