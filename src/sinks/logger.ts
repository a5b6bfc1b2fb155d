/**
 * `logger` sink (Flume's LoggerSink): logs every event at INFO to the agent log, in Flume's exact rendering
 * `Event: { headers:{k1=v1} body: <hexdump of the first maxBytesToLog bytes> }`.
 *
 * Differences from Flume (for the migration guide):
 *  - Flume moves one event per transaction; this sink takes up to `batchSize` events per transaction (new key).
 *  - maxBytesToLog must be a whole number >= 0 (Flume silently falls back to 16 on a non-number and fails every
 *    transaction on a negative number). With maxBytesToLog = 0 the body renders empty (Flume prints
 *    `...Exception while dumping: illegal index: 0 into array of length 0`).
 *  - Headers are rendered in insertion order (Flume: HashMap order).
 */
import { defineSink, type Sink, type SinkContext, opt } from '../contract/index.js';
import { headersToJavaString, type FlumeEvent } from '../core/event.js';
import type { Logger } from '../telemetry/logger.js';

const options = {
  maxBytesToLog: opt.int({ default: 16, min: 0, doc: 'Most body bytes shown in the hex dump of each event.' }),
  batchSize: opt.int({
    default: 100,
    min: 1,
    doc: "Most events per transaction. New key: Flume's logger sink moves one event per transaction.",
  }),
};

const HEX = '0123456789ABCDEF';

/**
 * commons-io `HexDump.dump(data, 0, out, 0)` of the first `maxBytes` body bytes, as Flume's EventHelper uses
 * it: rows of 16 bytes `XXXXXXXX ` offset + 16 × (`HH ` or 3 spaces) + the printable ASCII (0x20..0x7E, else
 * `.`) + line separator; then the first row's `00000000` offset is cut and the final line separator dropped.
 */
export function hexDumpBody(body: Uint8Array, maxBytes: number): string {
  const n = Math.min(body.length, Math.max(0, maxBytes));
  if (n === 0) return '';
  let s = '';
  for (let row = 0; row < n; row += 16) {
    const len = Math.min(16, n - row);
    if (row > 0) s += '\n' + row.toString(16).toUpperCase().padStart(8, '0');
    s += ' ';
    for (let k = 0; k < 16; k++) {
      if (k < len) {
        const b = body[row + k]!;
        s += HEX[b >> 4]! + HEX[b & 15]! + ' ';
      } else {
        s += '   ';
      }
    }
    for (let k = 0; k < len; k++) {
      const b = body[row + k]!;
      s += b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.';
    }
  }
  return s;
}

/** Flume's `"Event: " + EventHelper.dumpEvent(event, maxBytes)`. */
export function renderEventForLog(e: FlumeEvent, maxBytes: number): string {
  return `Event: { headers:${headersToJavaString(e.headers)} body:${hexDumpBody(e.body, maxBytes)} }`;
}

export class LoggerSink implements Sink {
  readonly batchSize: number;
  private readonly maxBytes: number;
  private readonly log: Logger;

  constructor(o: { maxBytesToLog: number; batchSize: number }, ctx: SinkContext) {
    this.batchSize = o.batchSize;
    this.maxBytes = o.maxBytesToLog;
    this.log = ctx.logger;
  }

  async start(): Promise<void> {}

  async deliver(batch: FlumeEvent[]): Promise<void> {
    if (!this.log.isInfoEnabled()) return;
    for (let i = 0; i < batch.length; i++) this.log.info(renderEventForLog(batch[i]!, this.maxBytes));
  }

  async close(): Promise<void> {}

  destroy(): void {}
}

export default defineSink({
  type: 'logger',
  classNames: ['org.apache.flume.sink.LoggerSink'],
  summary: 'Logs every event at INFO to the agent log (headers and a hex dump of the body). For testing and debugging.',
  options,
  batchSize: (o) => o.batchSize,
  batchSizeKey: 'batchSize',
  create: (o, ctx) => new LoggerSink(o, ctx),
});
