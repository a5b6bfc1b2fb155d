/** Request bodies of the http sink, one function per `format`. */
import type { FlumeEvent } from '../../core/event.js';

const NL = Buffer.from('\n');

/** The JSON text of a body: embedded when it parses as JSON, else a JSON string of its UTF-8 text. */
function jsonValue(body: Buffer): string {
  const text = body.toString('utf8');
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return JSON.stringify(text);
  }
}

/**
 * `body`: one event -> its body as is (unless `lines`); `lines` (batchSize > 1) -> every body followed by `\n`.
 * `json_array`: `[v1,v2]`. `flume_json`: `[{"headers":{...},"body":"..."}]` (Flume's JSONHandler format).
 */
export function requestBody(events: readonly FlumeEvent[], format: string, lines: boolean): Buffer {
  if (format === 'body') {
    if (!lines) return events[0]!.body;
    const parts: Buffer[] = [];
    let size = 0;
    for (const e of events) {
      parts.push(e.body, NL);
      size += e.body.length + 1;
    }
    return Buffer.concat(parts, size);
  }
  let out = '[';
  for (let i = 0; i < events.length; i++) {
    const e = events[i]!;
    if (i > 0) out += ',';
    out +=
      format === 'json_array'
        ? jsonValue(e.body)
        : `{"headers":${JSON.stringify(e.headers)},"body":${JSON.stringify(e.body.toString('utf8'))}}`;
  }
  return Buffer.from(out + ']', 'utf8');
}
