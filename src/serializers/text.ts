/**
 * `text` (Flume's BodyTextEventSerializer): the body bytes, then `\n` when appendNewline. Headers are ignored.
 */
import type { FlumeEvent } from '../core/event.js';
import { opt } from '../contract/index.js';
import type { EventSerializer, SerializerDef } from './types.js';

const EMPTY = Buffer.alloc(0);

export const textOptions = {
  appendNewline: opt.bool({ default: true, doc: 'Write a newline (`\\n`) after each event body.' }),
};

export class BodyTextSerializer implements EventSerializer {
  constructor(private readonly appendNewline: boolean) {}

  header(): Buffer {
    return EMPTY;
  }

  serialize(batch: readonly FlumeEvent[]): Buffer {
    const nl = this.appendNewline ? 1 : 0;
    let total = 0;
    for (let i = 0; i < batch.length; i++) total += batch[i]!.body.length + nl;
    const out = Buffer.allocUnsafe(total);
    let pos = 0;
    for (let i = 0; i < batch.length; i++) {
      const body = batch[i]!.body;
      pos += body.copy(out, pos);
      if (nl) out[pos++] = 0x0a;
    }
    return out;
  }
}

const def: SerializerDef = {
  name: 'text',
  className: 'org.apache.flume.serialization.BodyTextEventSerializer$Builder',
  summary: 'The event body, one event per line. Headers are not written.',
  options: textOptions,
  create: (o) => new BodyTextSerializer(o.appendNewline as boolean),
};
export default def;
