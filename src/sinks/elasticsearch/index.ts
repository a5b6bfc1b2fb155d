/**
 * elasticsearch sink (Flume 1.9's ElasticSearchSink, removed from Flume in 1.10): batches of events as `_bulk`
 * requests to Elasticsearch 8 or later over its REST API. See sink.ts for the delivery rules, options.ts for the
 * keys, documents.ts for the serializers and index-name.ts for the index names.
 */
import { defineSink } from '../../contract/index.js';
import { check, options } from './options.js';
import { ElasticsearchSink } from './sink.js';

export { ElasticsearchSink, defaultDeadLetterFile, type PortFactory } from './sink.js';
export type { BulkItem, BulkResult, ElasticsearchPort, ClientSettings } from './client.js';

export default defineSink({
  type: 'elasticsearch',
  classNames: ['org.apache.flume.sink.elasticsearch.ElasticSearchSink'],
  summary:
    'Indexes events in Elasticsearch 8+ with _bulk requests; checks every item, retries 429/5xx items, ' +
    'dead-letters refused ones; commits when every item is indexed or dead-lettered.',
  options,
  batchSize: (o) => o.batchSize,
  batchSizeKey: 'batchSize',
  check,
  create: (o, ctx) => new ElasticsearchSink(o, ctx),
});
