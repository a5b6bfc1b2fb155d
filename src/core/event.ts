/** A Flume event: string headers and a byte body. Bodies stay bytes end to end. */
export interface FlumeEvent {
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const EMPTY_HEADERS: Record<string, string> = Object.freeze(Object.create(null)) as Record<string, string>;

/** Builds an event. Header objects are null-prototype so keys like `__proto__` are inert. */
export function makeEvent(body: Buffer | string, headers?: Record<string, string>): FlumeEvent {
  return {
    headers: headers ? copyHeaders(headers) : EMPTY_HEADERS,
    body: typeof body === 'string' ? Buffer.from(body, 'utf8') : body,
  };
}

/** A null-prototype copy of a header map. */
export function copyHeaders(h: Record<string, string>): Record<string, string> {
  const out = Object.create(null) as Record<string, string>;
  for (const k of Object.keys(h)) out[k] = h[k]!;
  return out;
}

/** Returns a new event with extra/overridden headers (events are never mutated in place). */
export function withHeaders(e: FlumeEvent, extra: Record<string, string>): FlumeEvent {
  const h = copyHeaders(e.headers);
  for (const k of Object.keys(extra)) h[k] = extra[k]!;
  return { headers: h, body: e.body };
}

/** Java's Map.toString rendering of headers: `{k1=v1, k2=v2}`. */
export function headersToJavaString(h: Record<string, string>): string {
  const parts: string[] = [];
  for (const k of Object.keys(h)) parts.push(`${k}=${h[k]}`);
  return `{${parts.join(', ')}}`;
}
