/** The contract between the http source and its handlers (Flume's HTTPSourceHandler). */
import type { FlumeEvent } from '../../core/event.js';
import { AgentError } from '../../core/errors.js';

/** A client error with its HTTP status; the message goes into the response body. */
export class HttpError extends AgentError {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super('FLUME_ERR_SOURCE_HTTP_REQUEST', message);
    this.name = 'HttpError';
  }
}

export interface RequestInfo {
  method: string;
  /** The Content-Type header as sent, if any. */
  contentType: string | undefined;
  /** The charset parameter of Content-Type (lower-case), if any. */
  charset: string | undefined;
  /** Query-string parameters. */
  query: URLSearchParams;
  /** The request target as sent (path and query, not decoded). */
  url: string;
}

export interface HandlerLimits {
  /** Most events one request may carry (all of them commit in one transaction). */
  maxEvents: number;
}

export interface HttpHandler {
  /**
   * Turns a complete (decompressed) request body into events. Throws HttpError for what the client must fix
   * (400, 413, 415); any other throw is answered 500.
   */
  getEvents(req: RequestInfo, body: Buffer, limits: HandlerLimits): FlumeEvent[];
}
