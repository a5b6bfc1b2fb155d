/**
 * BlobHandler (Flume's org.apache.flume.sink.solr.morphline.BlobHandler): the whole request body is one event;
 * its headers are the query-string parameters (first value of each) plus `Content-Type` when the request has
 * one. A body longer than handler.maxBlobLength is truncated to that length (Flume does the same).
 *
 * Difference from Flume: form parameters of an application/x-www-form-urlencoded body are not turned into
 * headers (the body is the blob); only the query string is.
 */
import type { FlumeEvent } from '../../core/event.js';
import type { HandlerLimits, HttpHandler, RequestInfo } from './handler.js';

export const DEFAULT_MAX_BLOB_LENGTH = 100_000_000;

export class BlobHandler implements HttpHandler {
  constructor(readonly maxBlobLength: number = DEFAULT_MAX_BLOB_LENGTH) {}

  getEvents(req: RequestInfo, body: Buffer, _limits: HandlerLimits): FlumeEvent[] {
    const headers = Object.create(null) as Record<string, string>;
    if (req.contentType !== undefined) headers['Content-Type'] = req.contentType;
    const seen = new Set<string>();
    for (const [k, v] of req.query) {
      if (seen.has(k)) continue;
      seen.add(k);
      headers[k] = v;
    }
    // the body buffer belongs to this request; copy only a truncated view (not to pin the whole body)
    const blob = body.length > this.maxBlobLength ? Buffer.from(body.subarray(0, this.maxBlobLength)) : body;
    return [{ headers, body: blob }];
  }
}
