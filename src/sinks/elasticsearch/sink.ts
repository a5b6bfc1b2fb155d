/**
 * The elasticsearch sink: each batch becomes one `_bulk` request, and every item of the answer is inspected (a 200
 * answer does not mean every document was stored):
 * - 2xx (and 409 with action = create: already stored) is indexed;
 * - 429 and 5xx items are sent again, alone, with backoff, for up to itemRetryTimeout; after that the whole batch
 *   is rolled back and retried later;
 * - 401/403 and 404 index_not_found items mean a configuration or privilege problem: the batch is rolled back and
 *   retried after a backoff until it is fixed (nothing is dead-lettered for it);
 * - any other 4xx item (mapping errors, invalid index names...) is poison: written to the dead-letter file with the
 *   reason (fsynced) and counted in DeadLetterCount, never retried.
 * The take commits only when every item is indexed or dead-lettered. A request refused as too large (413) is split
 * in halves; a single document too large is dead-lettered.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Sink, SinkContext, DeliveryReport } from '../../contract/index.js';
import { AgentError, errorMessage, type ErrorCode } from '../../core/errors.js';
import type { FlumeEvent } from '../../core/event.js';
import { ExponentialBackoff } from '../../core/backoff.js';
import { sleep } from '../../core/clock.js';
import { WarnLimiter } from '../../net/warn-limiter.js';
import { loadClientTls } from '../../net/tls/index.js';
import { documentWriter, type DocumentContext, type DocumentWriter } from './documents.js';
import { ByteSink } from '../../text/json-bytes.js';
import { IndexNamer } from './index-name.js';
import { DeadLetterFile, deadLetterLine, reasonText, type DeadLetter } from './dead-letter.js';
import {
  officialClient,
  type BulkItem,
  type BulkResult,
  type ClientSettings,
  type ElasticsearchPort,
} from './client.js';
import { endpoints, tlsSettings, type Options } from './options.js';

const NL = Buffer.from('\n');
const ACTION_END = Buffer.from('}}\n');

/** A batch's bulk lines (action and document of each event) written into one buffer. */
interface BulkLines {
  /** Every line, in order: the first request's body. */
  body: Buffer;
  /** Where the lines of each event end in body (they start where the previous event's end). */
  ends: number[];
  indexes: string[];
}

/** The request body for the events `ids` (ascending): a view of the batch's buffer when they are contiguous. */
function requestBody(bl: BulkLines, ids: readonly number[]): Buffer {
  if (ids.length === 0) return bl.body;
  const start = (i: number) => (i === 0 ? 0 : bl.ends[i - 1]!);
  const first = ids[0]!;
  const last = ids[ids.length - 1]!;
  if (last - first === ids.length - 1) return bl.body.subarray(start(first), bl.ends[last]);
  return Buffer.concat(ids.map((i) => bl.body.subarray(start(i), bl.ends[i])));
}

export type PortFactory = (s: ClientSettings) => Promise<ElasticsearchPort>;

/** What the sink made of one item's status. */
type Verdict = 'ok' | 'retry' | 'config' | 'dead';

export function defaultDeadLetterFile(agentDir: string, sink: string): string {
  return path.join(agentDir, '.flume-ts', 'dead-letter', `${sink}.jsonl`);
}

export class ElasticsearchSink implements Sink {
  readonly batchSize: number;
  private port?: ElasticsearchPort;
  private readonly namer: IndexNamer;
  private readonly writeDocument: DocumentWriter;
  private readonly docCtx: DocumentContext;
  private readonly deadLetters: DeadLetterFile;
  private readonly warnings = new WarnLimiter();
  private readonly countInvalidTime = () => this.ctx.counters.add('TimestampInvalidCount');
  private readonly create: boolean;
  /** The action line's start for the last index name (the index rarely changes within a batch). */
  private action = { index: '', bytes: Buffer.alloc(0) };

  constructor(
    private readonly o: Options,
    private readonly ctx: SinkContext,
    private readonly makePort: PortFactory = officialClient,
  ) {
    this.batchSize = o.batchSize;
    this.create = o.action === 'create';
    this.namer = new IndexNamer(
      o.indexNameBuilder,
      o.indexName,
      o['indexNameBuilder.dateFormat'],
      o['indexNameBuilder.timeZone'],
    );
    this.writeDocument = documentWriter(o.serializer);
    this.docCtx = { notJson: () => ctx.counters.add('NotJsonBodyCount') };
    this.deadLetters = new DeadLetterFile(
      path.resolve(ctx.agentDir, o.deadLetterFile ?? defaultDeadLetterFile(ctx.agentDir, ctx.name)),
    );
  }

  async start(): Promise<void> {
    const o = this.o;
    await this.namer.start();
    const ep = endpoints(o.hostNames, o.ssl);
    const t = tlsSettings(o);
    const warn = (msg: string) => this.ctx.logger.warn(msg, { sink: this.ctx.name });
    const auth =
      o.apiKey !== undefined
        ? { apiKey: o.apiKey }
        : o.username !== undefined
          ? { username: o.username, password: o.password ?? '' }
          : ep.auth;
    if (ep.urls.some((u) => new URL(u).port === '9300'))
      warn('hostNames names port 9300, Elasticsearch transport port; this sink talks to the REST API (9200)');
    try {
      await this.deadLetters.open();
    } catch (err) {
      throw new AgentError(
        'FLUME_ERR_SINK_START',
        `elasticsearch sink ${this.ctx.name}: cannot open the dead-letter file ${this.deadLetters.file}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    this.port = await this.makePort({
      nodes: ep.urls,
      auth,
      tls: t.enabled ? loadClientTls(t, { label: `elasticsearch sink ${this.ctx.name}`, warn }) : undefined,
      requestTimeoutMs: o.requestTimeout,
      gzip: o.compression === 'gzip',
    });
    this.ctx.counters.add('ConnectionCreatedCount');
    this.ctx.logger.info('Sending to Elasticsearch', { nodes: ep.urls, deadLetterFile: this.deadLetters.file });
  }

  /** The action line up to its `_id`: `{"index":{"_index":"name"`. */
  private actionStart(index: string): Buffer {
    if (this.action.index !== index || this.action.bytes.length === 0)
      this.action = {
        index,
        bytes: Buffer.from(`{"${this.create ? 'create' : 'index'}":{"_index":${JSON.stringify(index)}`),
      };
    return this.action.bytes;
  }

  /** One bulk line pair (action and document) per event, written into one buffer, and the index of each. */
  private lines(batch: readonly FlumeEvent[]): BulkLines {
    const now = this.ctx.clock.nowMs();
    const n = batch.length;
    let bodies = 0;
    for (let i = 0; i < n; i++) bodies += batch[i]!.body.length;
    const w = new ByteSink(bodies + n * 96 + 4096);
    const ends = new Array<number>(n);
    const indexes = new Array<string>(n);
    const { idHeader, idHash } = this.o;
    // with idHash the document is written first aside: its hash is the id, in the action line before it
    const aside = idHash ? new ByteSink(4096) : undefined;
    for (let i = 0; i < n; i++) {
      const e = batch[i]!;
      const index = this.namer.name(e, now, this.countInvalidTime);
      let id = idHeader !== undefined ? e.headers[idHeader] : undefined;
      let doc: Buffer | undefined;
      if (id === undefined && aside) {
        aside.len = 0;
        this.writeDocument(e, this.docCtx, aside);
        doc = aside.view();
        id = createHash('sha1').update(index).update('\n').update(doc).digest('hex');
      }
      w.bytes(this.actionStart(index));
      if (id !== undefined) w.utf8(`,"_id":${JSON.stringify(id)}`);
      w.bytes(ACTION_END);
      if (doc) w.bytes(doc);
      else this.writeDocument(e, this.docCtx, w);
      w.bytes(NL);
      ends[i] = w.len;
      indexes[i] = index;
    }
    return { body: w.view(), ends, indexes };
  }

  private verdict(item: BulkItem): Verdict {
    const s = item.status;
    if (s >= 200 && s < 300) return 'ok';
    if (s === 409 && this.create) return 'ok';
    if (s === 429 || s >= 500 || s === 0) return 'retry';
    if (s === 401 || s === 403) return 'config';
    if (s === 404 && (item.error as { type?: unknown } | undefined)?.type === 'index_not_found_exception')
      return 'config';
    return 'dead';
  }

  /**
   * One _bulk request for the events `ids` of the batch; a 413 splits it in halves (a single document too large
   * becomes a 413 item).
   */
  private async send(bl: BulkLines, ids: readonly number[], signal: AbortSignal): Promise<BulkResult> {
    const res = await this.port!.bulk(requestBody(bl, ids), signal);
    if (res.ok && res.items.length !== ids.length)
      return {
        ok: false,
        kind: 'refused',
        message: `the _bulk response has ${res.items.length} items for ${ids.length} documents`,
      };
    if (res.ok || res.kind !== 'too-large') return res;
    if (ids.length === 1) {
      const error = { type: 'request_too_large', reason: `the document alone is refused: ${res.message}` };
      return { ok: true, items: [{ status: 413, error }] };
    }
    const half = Math.ceil(ids.length / 2);
    const a = await this.send(bl, ids.slice(0, half), signal);
    if (!a.ok) return a;
    const b = await this.send(bl, ids.slice(half), signal);
    if (!b.ok) return b;
    return { ok: true, items: [...a.items, ...b.items] };
  }

  async deliver(batch: FlumeEvent[], signal: AbortSignal): Promise<void | DeliveryReport> {
    if (!this.port)
      throw new AgentError('FLUME_ERR_SINK_DELIVERY', `elasticsearch sink ${this.ctx.name} is not started`);
    const c = this.ctx.counters;
    const n = batch.length;
    const bl = this.lines(batch);
    let pending = new Array<number>(n);
    for (let i = 0; i < n; i++) pending[i] = i;
    let indexed = 0;
    let deadLettered = 0;
    const started = this.ctx.clock.monotonicMs();
    const backoff = new ExponentialBackoff(200, 5000);
    for (;;) {
      const res = await this.send(bl, pending, signal);
      if (signal.aborted) throw this.failure('FLUME_ERR_SINK_DELIVERY', n, 'the sink is stopping');
      let lastReason = '';
      if (!res.ok) {
        // nothing of the batch is stored yet, or the server refuses outright: the runner backs off and retries
        if (indexed === 0 || res.kind !== 'retry') {
          c.add('ConnectionFailedCount');
          const code: ErrorCode = res.kind === 'retry' ? 'FLUME_ERR_SINK_DELIVERY' : 'FLUME_ERR_SINK_PERMANENT';
          throw this.failure(code, n, res.message);
        }
        lastReason = res.message;
      } else {
        const retry: number[] = [];
        const dead: DeadLetter[] = [];
        let config: BulkItem | undefined;
        for (let k = 0; k < pending.length; k++) {
          const i = pending[k]!;
          const item = res.items[k]!;
          const v = this.verdict(item);
          if (v === 'ok') indexed++;
          else if (v === 'retry') {
            retry.push(i);
            lastReason = `${item.status} ${reasonText(item.error)}`;
          } else if (v === 'config') config ??= item;
          else dead.push({ event: batch[i]!, index: bl.indexes[i]!, status: item.status, error: item.error });
        }
        if (dead.length > 0) await this.writeDeadLetters(dead);
        deadLettered += dead.length;
        if (config)
          throw this.failure(
            'FLUME_ERR_SINK_PERMANENT',
            n,
            `Elasticsearch refused documents with ${config.status} (${reasonText(config.error)}); check the ` +
              'credentials, their privileges and that the index can be created',
          );
        if (retry.length === 0) return deadLettered > 0 ? { drained: n - deadLettered } : undefined;
        pending = retry;
      }
      c.add('ItemRetryCount', pending.length);
      const wait = backoff.next();
      if (this.ctx.clock.monotonicMs() - started + wait > this.o.itemRetryTimeout)
        throw this.failure(
          'FLUME_ERR_SINK_DELIVERY',
          n,
          `${pending.length} documents still refused after ${backoff.consecutive} attempts (${lastReason}); ` +
            `the batch is retried whole${indexed > 0 ? `, and the ${indexed} documents already indexed are sent again` : ''}`,
        );
      if (this.warnings.hit('retry') >= 0)
        this.ctx.logger.warn('Elasticsearch refused documents for now; retrying them', {
          sink: this.ctx.name,
          documents: pending.length,
          reason: lastReason,
          retryInMs: wait,
        });
      await sleep(wait, signal);
      if (signal.aborted) throw this.failure('FLUME_ERR_SINK_DELIVERY', n, 'the sink is stopping');
    }
  }

  private async writeDeadLetters(dead: readonly DeadLetter[]): Promise<void> {
    const now = this.ctx.clock.nowMs();
    let text = '';
    for (const d of dead) text += deadLetterLine(this.ctx.name, d, now);
    try {
      await this.deadLetters.append(text);
    } catch (err) {
      throw new AgentError(
        'FLUME_ERR_SINK_DEAD_LETTER',
        `elasticsearch sink ${this.ctx.name}: cannot write ${dead.length} refused documents to the dead-letter ` +
          `file ${this.deadLetters.file}: ${errorMessage(err)}`,
        { cause: err },
      );
    }
    this.ctx.counters.add('DeadLetterCount', dead.length);
    const suppressed = this.warnings.hit('dead');
    if (suppressed >= 0)
      this.ctx.logger.warn('Elasticsearch refused documents for good; written to the dead-letter file', {
        sink: this.ctx.name,
        documents: dead.length,
        status: dead[0]!.status,
        reason: reasonText(dead[0]!.error),
        file: this.deadLetters.file,
        ...(suppressed > 0 ? { similarWarningsSuppressed: suppressed } : {}),
      });
  }

  private failure(code: ErrorCode, n: number, why: string): AgentError {
    return new AgentError(code, `elasticsearch sink ${this.ctx.name}: batch of ${n} events not stored: ${why}`);
  }

  async close(): Promise<void> {
    const p = this.port;
    this.port = undefined;
    if (p) {
      await p.close();
      this.ctx.counters.add('ConnectionClosedCount');
    }
    await this.deadLetters.close();
  }

  destroy(): void {
    const p = this.port;
    this.port = undefined;
    p?.close().catch(() => {});
    this.deadLetters.close().catch(() => {});
  }
}
