/**
 * `header_and_text` (Flume's HeaderAndBodyTextEventSerializer): the headers as Java's Map.toString
 * (`{k1=v1, k2=v2}`), a space, the body bytes, then `\n` when appendNewline. Header text is written as UTF-8
 * (Flume uses the JVM's platform charset); headers appear in insertion order (Flume: HashMap order).
 */
import type { FlumeEvent } from '../core/event.js';
import { headersToJavaString } from '../core/event.js';
import { opt } from '../contract/index.js';
import type { EventSerializer, SerializerDef } from './types.js';

const EMPTY = Buffer.alloc(0);

export const headerAndTextOptions = {
  appendNewline: opt.bool({ default: true, doc: 'Write a newline (`\\n`) after each event body.' }),
};

export class HeaderAndBodyTextSerializer implements EventSerializer {
  constructor(private readonly appendNewline: boolean) {}

  header(): Buffer {
    return EMPTY;
  }

  serialize(batch: readonly FlumeEvent[]): Buffer {
    const nl = this.appendNewline ? 1 : 0;
    const prefixes: string[] = new Array(batch.length);
    const prefixLens: number[] = new Array(batch.length);
    let total = 0;
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i]!;
      const p = headersToJavaString(e.headers) + ' ';
      const len = Buffer.byteLength(p, 'utf8');
      prefixes[i] = p;
      prefixLens[i] = len;
      total += len + e.body.length + nl;
    }
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    for (let i = 0; i < batch.length; i++) {
      pos += out.write(prefixes[i]!, pos, prefixLens[i]!, 'utf8');
      pos += batch[i]!.body.copy(out, pos);
      if (nl) out[pos++] = 0x0a;
    }
    return out;
  }
}

const def: SerializerDef = {
  name: 'header_and_text',
  className: 'org.apache.flume.serialization.HeaderAndBodyTextEventSerializer$Builder',
  summary: 'The headers as `{k1=v1, k2=v2}`, a space, then the body; one event per line.',
  options: headerAndTextOptions,
  create: (o) => new HeaderAndBodyTextSerializer(o.appendNewline as boolean),
};
export default def;
