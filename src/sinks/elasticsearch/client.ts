/**
 * The narrow port between the sink and Elasticsearch: one `_bulk` call with a ready NDJSON body, answered with
 * the per-item results or a classified failure of the whole request. The implementation uses the official client
 * (@elastic/elasticsearch 8.x: the last line that runs on Node.js 20), which checks that the server says it is
 * Elasticsearch (`x-elastic-product`) and speaks the 8.x REST API (Elasticsearch 8 and 9).
 */
import type tls from 'node:tls';
import { errorMessage } from '../../core/errors.js';

export interface BulkItem {
  /** HTTP status of the item. */
  readonly status: number;
  /** The error object Elasticsearch gives for a failed item ({ type, reason, ... }). */
  readonly error?: unknown;
}

export type BulkFailureKind =
  /** Worth retrying as is: connection error, timeout, 429, 5xx. */
  | 'retry'
  /** 413: the request is larger than http.max_content_length; a smaller one may pass. */
  | 'too-large'
  /** 401/403: credentials or privileges; retried after a backoff until the configuration is fixed. */
  | 'auth'
  /** The server answered something that is not a usable bulk response (another product, 400, 404, 406...). */
  | 'refused';

export type BulkResult =
  | { readonly ok: true; readonly items: readonly BulkItem[] }
  | { readonly ok: false; readonly kind: BulkFailureKind; readonly status?: number; readonly message: string };

export interface ElasticsearchPort {
  bulk(body: Buffer, signal: AbortSignal): Promise<BulkResult>;
  close(): Promise<void>;
}

export interface ClientSettings {
  /** Node URLs (http:// or https://, credentials already removed). */
  nodes: string[];
  auth?: { username: string; password: string } | { apiKey: string };
  tls?: tls.ConnectionOptions;
  requestTimeoutMs: number;
  gzip: boolean;
}

function statusKind(status: number): BulkFailureKind {
  if (status === 413) return 'too-large';
  if (status === 401 || status === 403) return 'auth';
  if (status === 408 || status === 429 || status >= 500) return 'retry';
  return 'refused';
}

function reasonOf(body: unknown): string {
  if (body && typeof body === 'object') {
    const err = (body as { error?: unknown }).error;
    if (typeof err === 'string') return err;
    if (err && typeof err === 'object') {
      const e = err as { type?: unknown; reason?: unknown };
      return [e.type, e.reason].filter((x) => typeof x === 'string').join(': ');
    }
  }
  return typeof body === 'string' ? body.slice(0, 300) : '';
}

/** Only the documents' statuses and errors come back (less to send and to parse). */
const FILTER_PATH = 'errors,items.*.status,items.*.error';

/**
 * The official client behind the port, loaded when the first elasticsearch sink starts (not by every agent). Each
 * request tries every node once before it fails.
 */
export async function officialClient(s: ClientSettings): Promise<ElasticsearchPort> {
  const { Client, errors } = await import('@elastic/elasticsearch');
  const client = new Client({
    // the answers are only read for their item statuses: no need for the prototype-poisoning scan of every answer
    disablePrototypePoisoningProtection: true,
    nodes: s.nodes,
    auth: s.auth,
    tls: s.tls,
    requestTimeout: s.requestTimeoutMs,
    compression: s.gzip,
    // the sink backs off and retries batches itself; a connection error or 502/503/504 tries the next node
    maxRetries: s.nodes.length - 1,
  });
  return {
    async bulk(body, signal) {
      try {
        const res = (await client.bulk({ body, filter_path: FILTER_PATH } as never, { signal })) as {
          items?: unknown;
        };
        const raw = Array.isArray(res?.items) ? (res.items as unknown[]) : undefined;
        if (!raw) return { ok: false, kind: 'refused', message: 'the _bulk response has no items' };
        const items: BulkItem[] = new Array<BulkItem>(raw.length);
        for (let i = 0; i < raw.length; i++) {
          const entry = raw[i] as Record<string, { status?: unknown; error?: unknown }> | null;
          const r = entry ? entry[Object.keys(entry)[0]!] : undefined;
          items[i] = { status: typeof r?.status === 'number' ? r.status : 0, error: r?.error };
        }
        return { ok: true, items };
      } catch (err) {
        if (err instanceof errors.ResponseError) {
          const status = err.statusCode ?? 0;
          const reason = reasonOf(err.body);
          return {
            ok: false,
            kind: statusKind(status),
            status,
            message: `HTTP ${status}${reason ? ` (${reason})` : ''}`,
          };
        }
        if (err instanceof errors.ProductNotSupportedError) {
          return {
            ok: false,
            kind: 'refused',
            message:
              'the server did not identify itself as Elasticsearch (no x-elastic-product header; the client needs ' +
              'Elasticsearch 8 or later, or a compatible server)',
          };
        }
        return { ok: false, kind: 'retry', message: errorMessage(err) };
      }
    },
    close: () => client.close(),
  };
}
