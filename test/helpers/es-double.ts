/**
 * A protocol-level test double of Elasticsearch's REST API, written from the public spec (docs/bulk, the 8.x
 * specification, the client's product check), NOT a real server: `GET /` (cluster info), `POST /_bulk` and
 * `POST /<index>/_bulk` with NDJSON bodies (index, create, delete, update actions; per-item results in request
 * order; `errors` true when any item failed), `x-elastic-product: Elasticsearch` on every answer, content types
 * `application/x-ndjson` or the vendored `application/vnd.elasticsearch+x-ndjson; compatible-with=8|9` (anything
 * else 406), gzip request bodies, a maximum request size (413), optional basic or API-key authentication (401).
 * Index names with upper-case letters get 400 invalid_index_name_exception items; `create` of an existing id gets
 * 409 version_conflict_engine_exception; a top-level field whose value does not fit the type its first value gave it
 * (a simplified dynamic mapping: long, text, boolean, object) gets 400 document_parsing_exception. Also
 * `filter_path` on bulk answers, and `POST /<index>/_refresh`, `GET /<index>/_count` and `DELETE /<index>` for the
 * opt-in test's checks. Tests inject failures with `itemFault` (per item) and `requestFault` (per request) and read
 * what was stored in `indices`.
 */
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo } from 'node:net';

export interface BulkAction {
  op: 'index' | 'create' | 'delete' | 'update';
  index: string;
  id?: string;
  /** The source line (undefined for delete). */
  doc?: Record<string, unknown>;
}

export interface ItemFault {
  status: number;
  error?: { type: string; reason: string };
}

export interface EsDoubleOptions {
  /** Per item: a fault to answer instead of storing (undefined = store); `seen` counts how often it came. */
  itemFault?: (a: BulkAction, seen: number) => ItemFault | undefined;
  /** Per request (1-based count): a status to answer for the whole request, e.g. 429, 503, 401. */
  requestFault?: (n: number, req: http.IncomingMessage) => number | undefined;
  /** Largest request body accepted (bytes, after gunzip is NOT considered: as http.max_content_length). */
  maxContentLength?: number;
  /** Require `Authorization: Basic` with these credentials, or `ApiKey <key>`. */
  auth?: { username: string; password: string } | { apiKey: string };
  /** Leave out x-elastic-product (an old or foreign server). */
  noProductHeader?: boolean;
  /** Called for every stored document, in order (bench: write the messages to a file). */
  onDocument?: (a: BulkAction) => void;
  /** Keep the documents in `indices` (default true; the bench turns it off). */
  store?: boolean;
  /** Version number reported by GET /. */
  version?: string;
}

export class EsDouble {
  readonly server: http.Server;
  /** index -> id -> document. */
  readonly indices = new Map<string, Map<string, Record<string, unknown>>>();
  /** Every bulk request's headers, in order. */
  readonly requests: http.IncomingHttpHeaders[] = [];
  private nextId = 1;
  private requestCount = 0;
  private readonly seen = new Map<string, number>();
  /** index -> top-level field -> the type its first value gave it (Elasticsearch's dynamic mapping, simplified). */
  private readonly mappings = new Map<string, Map<string, 'long' | 'text' | 'boolean' | 'object'>>();
  /** Index names already found valid. */
  private readonly validIndices = new Set<string>();

  constructor(readonly opts: EsDoubleOptions = {}) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        chunks.push(c);
      });
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks, size)));
    });
    this.server.keepAliveTimeout = 60_000;
  }

  async listen(port = 0): Promise<number> {
    await new Promise<void>((r) => this.server.listen(port, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** Every stored document of indices whose name starts with `prefix`, in storing order. */
  docs(prefix = ''): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const [name, docs] of this.indices) if (name.startsWith(prefix)) out.push(...docs.values());
    return out;
  }

  get count(): number {
    let n = 0;
    for (const docs of this.indices.values()) n += docs.size;
    return n;
  }

  private send(res: http.ServerResponse, status: number, body: string, extra: http.OutgoingHttpHeaders = {}): void {
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'application/vnd.elasticsearch+json;compatible-with=8',
      'content-length': Buffer.byteLength(body),
      ...extra,
    };
    if (!this.opts.noProductHeader) headers['x-elastic-product'] = 'Elasticsearch';
    res.writeHead(status, headers);
    res.end(body);
  }

  private error(res: http.ServerResponse, status: number, type: string, reason: string, extra = {}): void {
    this.send(res, status, JSON.stringify({ error: { root_cause: [{ type, reason }], type, reason }, status }), extra);
  }

  private authorized(req: http.IncomingMessage): boolean {
    const a = this.opts.auth;
    if (!a) return true;
    const h = req.headers.authorization ?? '';
    if ('apiKey' in a) return h === `ApiKey ${a.apiKey}`;
    return h === `Basic ${Buffer.from(`${a.username}:${a.password}`).toString('base64')}`;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!this.authorized(req)) {
      return this.error(res, 401, 'security_exception', 'missing authentication credentials for REST request', {
        'www-authenticate': 'Basic realm="security" charset="UTF-8", ApiKey',
      });
    }
    if (req.method === 'GET' && url.pathname === '/') {
      return this.send(
        res,
        200,
        JSON.stringify({
          name: 'es-double',
          cluster_name: 'double',
          version: { number: this.opts.version ?? '8.19.0', build_flavor: 'default' },
          tagline: 'You Know, for Search',
        }),
      );
    }
    const adm = /^\/([^/_][^/]*)(?:\/(_refresh|_count))?$/.exec(url.pathname);
    if (adm) {
      const name = decodeURIComponent(adm[1]!);
      if (req.method === 'DELETE' && !adm[2]) {
        const had = this.indices.delete(name);
        this.mappings.delete(name);
        if (!had) return this.error(res, 404, 'index_not_found_exception', `no such index [${name}]`);
        return this.send(res, 200, '{"acknowledged":true}');
      }
      if (adm[2] === '_refresh') return this.send(res, 200, '{"_shards":{"total":1,"successful":1,"failed":0}}');
      if (adm[2] === '_count') return this.send(res, 200, JSON.stringify({ count: this.indices.get(name)?.size ?? 0 }));
    }
    const m = /^\/(?:([^/]+)\/)?_bulk$/.exec(url.pathname);
    if (!m || (req.method !== 'POST' && req.method !== 'PUT')) {
      return this.error(res, 405, 'illegal_argument_exception', `no handler for ${req.method} ${url.pathname}`);
    }
    this.requests.push(req.headers);
    const n = ++this.requestCount;
    const fault = this.opts.requestFault?.(n, req);
    if (fault !== undefined) return this.error(res, fault, 'injected_fault', `request ${n} refused by the test`);
    const limit = this.opts.maxContentLength ?? 100 * 1024 * 1024;
    if (raw.length > limit) {
      return this.error(res, 413, 'content_too_long', `request body of ${raw.length} bytes exceeds ${limit}`);
    }
    const type = req.headers['content-type'] ?? '';
    if (!/^application\/(x-ndjson|vnd\.elasticsearch\+x-ndjson;\s*compatible-with=(8|9))/.test(type)) {
      return this.error(res, 406, 'media_type_header_exception', `Content-Type header [${type}] is not supported`);
    }
    let body = raw;
    if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(raw);
    const text = body.toString('utf8');
    if (text.length > 0 && !text.endsWith('\n')) {
      return this.error(res, 400, 'illegal_argument_exception', 'The bulk request must be terminated by a newline');
    }
    let actions: BulkAction[];
    try {
      actions = parseBulk(text, m[1] === undefined ? undefined : decodeURIComponent(m[1]));
    } catch (err) {
      return this.error(res, 400, 'x_content_parse_exception', (err as Error).message);
    }
    const t0 = performance.now();
    const filter = filterPath(url.searchParams.get('filter_path'));
    const items: string[] = [];
    let errors = false;
    for (const a of actions) {
      const item = this.apply(a);
      if ((item.status as number) >= 300) errors = true;
      items.push(`{${JSON.stringify(a.op)}:${JSON.stringify(filter ? pick(item, filter.item) : item)}}`);
    }
    const took = Math.round(performance.now() - t0);
    const top: Record<string, string> = { errors: String(errors), took: String(took), items: `[${items.join(',')}]` };
    const keys = Object.keys(top).filter((k) => !filter || filter.top.has(k));
    this.send(res, 200, `{${keys.map((k) => `"${k}":${top[k]}`).join(',')}}`);
  }

  /** A document_parsing_exception when a top-level field does not fit the type its index mapped; maps new fields. */
  private mapping(index: string, doc: Record<string, unknown>, id: string): ItemFault['error'] | undefined {
    let m = this.mappings.get(index);
    if (!m) this.mappings.set(index, (m = new Map()));
    let unmapped = false;
    for (const k in doc) {
      const t = m.get(k);
      if (t === undefined) unmapped = true;
      else if (!fits(t, doc[k]))
        return {
          type: 'document_parsing_exception',
          reason: `[1:2] failed to parse field [${k}] of type [${t}] in document with id '${id}'`,
        };
    }
    if (unmapped)
      for (const k in doc) {
        const t = fieldType(doc[k]);
        if (t !== undefined && !m.has(k)) m.set(k, t);
      }
    return undefined;
  }

  private apply(a: BulkAction): Record<string, unknown> {
    if (!this.validIndices.has(a.index)) {
      if (a.index !== a.index.toLowerCase() || a.index === '' || a.index.startsWith('_')) {
        return {
          _index: a.index,
          _id: a.id ?? null,
          status: 400,
          error: { type: 'invalid_index_name_exception', reason: `Invalid index name [${a.index}], must be lowercase` },
        };
      }
      this.validIndices.add(a.index);
    }
    let fault: ItemFault | undefined;
    if (this.opts.itemFault) {
      // counted only for the tests that inject item faults (the bench sends millions of documents)
      const key = `${a.index}\n${a.id ?? JSON.stringify(a.doc)}`;
      const seen = (this.seen.get(key) ?? 0) + 1;
      this.seen.set(key, seen);
      fault = this.opts.itemFault(a, seen);
    }
    if (fault)
      return { _index: a.index, _id: a.id ?? null, status: fault.status, error: fault.error ?? defaultError(fault) };
    if (a.op === 'delete' || a.op === 'update') {
      return {
        _index: a.index,
        _id: a.id,
        status: 404,
        error: { type: 'document_missing_exception', reason: 'not stored' },
      };
    }
    let docs = this.indices.get(a.index);
    const id = a.id ?? `d${this.nextId++}`;
    const conflict = this.mapping(a.index, a.doc!, id);
    if (conflict) return { _index: a.index, _id: id, status: 400, error: conflict };
    if (a.op === 'create' && docs?.has(id)) {
      return {
        _index: a.index,
        _id: id,
        status: 409,
        error: {
          type: 'version_conflict_engine_exception',
          reason: `[${id}]: version conflict, document already exists`,
        },
      };
    }
    const existed = docs?.has(id) ?? false;
    if (this.opts.store !== false) {
      if (!docs) this.indices.set(a.index, (docs = new Map()));
      docs.set(id, a.doc!);
    }
    this.opts.onDocument?.(a);
    return {
      _index: a.index,
      _id: id,
      _version: 1,
      result: existed ? 'updated' : 'created',
      status: existed ? 200 : 201,
    };
  }
}

/**
 * `filter_path` as the bulk API applies it, for the shapes a bulk answer has: top-level names (`errors`, `took`,
 * `items`) and item fields (`items.*.status`). Undefined when absent.
 */
function filterPath(raw: string | null): { top: Set<string>; item: Set<string> | undefined } | undefined {
  if (raw === null || raw === '') return undefined;
  const top = new Set<string>();
  let item: Set<string> | undefined;
  for (const p of raw.split(',')) {
    const parts = p.trim().split('.');
    top.add(parts[0]!);
    if (parts[0] === 'items' && parts.length === 3) (item ??= new Set()).add(parts[2]!);
  }
  return { top, item };
}

function pick(o: Record<string, unknown>, keep: Set<string> | undefined): Record<string, unknown> {
  if (!keep) return o;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o)) if (keep.has(k)) out[k] = o[k];
  return out;
}

type FieldType = 'long' | 'text' | 'boolean' | 'object';

function fieldType(v: unknown): FieldType | undefined {
  if (typeof v === 'number') return 'long';
  if (typeof v === 'string') return 'text';
  if (typeof v === 'boolean') return 'boolean';
  if (v !== null && typeof v === 'object' && !Array.isArray(v)) return 'object';
  return undefined;
}

/** Whether a value can go into a field of type `t` (Elasticsearch coerces numeric strings and scalars to text). */
function fits(t: FieldType, v: unknown): boolean {
  if (v === null || Array.isArray(v)) return true;
  if (t === 'long') return typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && !isNaN(Number(v)));
  if (t === 'object') return typeof v === 'object';
  if (t === 'boolean') return typeof v === 'boolean' || v === 'true' || v === 'false';
  return typeof v !== 'object';
}

function defaultError(f: ItemFault): { type: string; reason: string } {
  if (f.status === 429)
    return { type: 'es_rejected_execution_exception', reason: 'rejected execution (queue capacity 200)' };
  if (f.status >= 500) return { type: 'unavailable_shards_exception', reason: 'primary shard is not active' };
  return { type: 'mapper_parsing_exception', reason: 'failed to parse field [x] of type [long]' };
}

/** Parses a bulk NDJSON body into actions (throws on malformed lines, as Elasticsearch answers 400). */
export function parseBulk(text: string, defaultIndex?: string): BulkAction[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const out: BulkAction[] = [];
  const strip = (l: string) => (l.endsWith('\r') ? l.slice(0, -1) : l);
  // consecutive action lines are often identical (one index, no ids): parsed once
  let lastLine: string | undefined;
  let last: { op: BulkAction['op']; meta: { _index?: string; _id?: string } } | undefined;
  for (let i = 0; i < lines.length; i++) {
    const line = strip(lines[i]!);
    if (line !== lastLine || !last) {
      const action = JSON.parse(line) as Record<string, { _index?: string; _id?: string }>;
      const op = Object.keys(action)[0] as BulkAction['op'];
      if (!['index', 'create', 'delete', 'update'].includes(op))
        throw new Error(`Malformed action/metadata line [${i + 1}]`);
      last = { op, meta: action[op]! };
      lastLine = line;
    }
    const { op, meta } = last;
    const index = meta._index ?? defaultIndex;
    if (index === undefined) throw new Error(`Validation Failed: 1: index is missing for request ${out.length};`);
    const a: BulkAction = { op, index, ...(meta._id !== undefined ? { id: String(meta._id) } : {}) };
    if (op !== 'delete') {
      const src = lines[++i];
      if (src === undefined) throw new Error(`The bulk request has an action without a source at line ${i}`);
      a.doc = JSON.parse(strip(src)) as Record<string, unknown>;
    }
    out.push(a);
  }
  return out;
}
