/**
 * Sink-side event serializers (Flume's EventSerializer): turn a batch of events into the bytes a file sink
 * writes. Shared by file_roll (and any other file-writing sink).
 *
 * Names are Flume's, matched case-insensitively (`TEXT`, `header_and_text`, `AVRO_EVENT`), or Flume's builder
 * class names. Options are the keys after the sink's serializer prefix (`sink.serializer.appendNewline`).
 */
import { closest, didYouMeanHint, opt, OptionError, type OptionSpec, type Problem } from '../contract/index.js';
import text from './text.js';
import headerAndText from './header-and-text.js';
import avroEvent from './avro-event.js';
import type { EventSerializer, SerializerDef } from './types.js';

export type { EventSerializer, SerializerDef } from './types.js';

export const SERIALIZERS: readonly SerializerDef[] = [text, headerAndText, avroEvent];

/** Flume serializers we know but do not implement, with the reason. */
const UNSUPPORTED: Record<string, string> = {
  'org.apache.flume.sink.hdfs.avroeventserializer$builder':
    'the schema-carrying AvroEventSerializer (bodies that are already Avro) is not supported; use avro_event',
};

/** The serializer for a Flume type name or class name, or undefined. */
export function findSerializer(type: string): SerializerDef | undefined {
  const t = type.trim().toLowerCase();
  return SERIALIZERS.find((s) => s.name === t || s.className.toLowerCase() === t);
}

/** Accepted serializer names and, per serializer, its option keys (for validation messages and docs). */
export function listSerializers(): { name: string; className: string; summary: string; options: string[] }[] {
  return SERIALIZERS.map((s) => ({
    name: s.name,
    className: s.className,
    summary: s.summary,
    options: Object.keys(s.options),
  }));
}

/** Every accepted spelling of a serializer type (canonical names, then class names). */
export function serializerNames(): string[] {
  return [...SERIALIZERS.map((s) => s.name), ...SERIALIZERS.map((s) => s.className)];
}

/** Resolves a type to its canonical name; throws OptionError with a "did you mean" hint when unknown. */
export function canonicalSerializerName(type: string): string {
  const def = findSerializer(type);
  if (def) return def.name;
  const reason = UNSUPPORTED[type.trim().toLowerCase()];
  if (reason) throw new OptionError(`serializer '${type}' is not supported: ${reason}`);
  const names = SERIALIZERS.map((s) => s.name);
  const hint =
    didYouMeanHint(type, names) ??
    didYouMeanHint(
      type,
      SERIALIZERS.map((s) => s.className),
    ) ??
    `use one of ${names.join(', ')} (custom serializer classes cannot be loaded)`;
  throw new OptionError(`unknown serializer '${type}'`, hint);
}

/**
 * Checks serializer sub-options: unknown keys (with "did you mean") and bad values. `keyPrefix` is the
 * prefix the operator writes, e.g. `sink.serializer.`, so problems name the full key.
 */
export function checkSerializerOptions(type: string, options: Record<string, string>, keyPrefix: string): Problem[] {
  const def = findSerializer(type);
  if (!def) return [];
  const problems: Problem[] = [];
  const known = Object.keys(def.options);
  for (const key of Object.keys(options)) {
    const spec = def.options[key];
    if (!spec) {
      const guess = closest(key, known);
      problems.push({
        key: keyPrefix + key,
        message: `serializer ${def.name} has no option '${key}'`,
        hint:
          guess !== undefined
            ? `did you mean '${keyPrefix}${guess}'?`
            : known.length > 0
              ? `its options are: ${known.map((k) => keyPrefix + k).join(', ')}`
              : `${def.name} takes no options`,
      });
      continue;
    }
    try {
      spec.parse(options[key]!.trim());
    } catch (err) {
      if (!(err instanceof OptionError)) throw err;
      problems.push({ key: keyPrefix + key, message: err.message, hint: err.hint });
    }
  }
  return problems;
}

/** Parses sub-options against the serializer's table, filling defaults. Throws OptionError on the first problem. */
export function resolveSerializerOptions(def: SerializerDef, options: Record<string, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(def.options) as [string, OptionSpec<unknown>][]) {
    const raw = options[key];
    out[key] = raw === undefined ? spec.default : spec.parse(raw.trim());
  }
  for (const key of Object.keys(options)) {
    if (!(key in def.options)) {
      throw new OptionError(
        `serializer ${def.name} has no option '${key}'`,
        didYouMeanHint(key, Object.keys(def.options)),
      );
    }
  }
  return out;
}

/**
 * Builds a serializer from a Flume type (default `text`) and its raw sub-options. Throws OptionError for an
 * unknown type, unknown option or bad value (config validation reports these earlier, all at once).
 */
export function createSerializer(type: string | undefined, options: Record<string, string> = {}): EventSerializer {
  const name = canonicalSerializerName(type ?? 'text');
  const def = findSerializer(name)!;
  return def.create(resolveSerializerOptions(def, options));
}

/** The `<prefix>serializer` type option, for sinks that write files (parses to the canonical name). */
export function serializerTypeOption(doc: string): OptionSpec<string> {
  const base = opt.string({ default: 'text', defaultText: 'TEXT', doc });
  return {
    ...base,
    typeText: `one of: ${SERIALIZERS.map((s) => s.name).join(', ')} (or Flume's builder class name)`,
    parse: (raw: string) => canonicalSerializerName(raw),
  };
}
