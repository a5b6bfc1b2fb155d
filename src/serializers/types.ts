/** The serializer contract (Flume's EventSerializer), apart from the list in index.ts that imports every serializer. */
import type { FlumeEvent } from '../core/event.js';
import type { OptionTable } from '../contract/index.js';

export interface EventSerializer {
  /** Bytes written when a new file starts (empty for text formats). Written only at the start of a file. */
  header(): Buffer;
  /** The bytes for a whole batch, in one Buffer. */
  serialize(batch: readonly FlumeEvent[]): Buffer;
}

export interface SerializerDef {
  /** Canonical (Flume alias) name, lower-case: `text`, `header_and_text`, `avro_event`. */
  name: string;
  /** Flume's builder class name. */
  className: string;
  summary: string;
  options: OptionTable;
  /** Builds a fresh serializer (one per file: stateful formats keep per-file state such as a sync marker). */
  create(o: Record<string, unknown>): EventSerializer;
}
