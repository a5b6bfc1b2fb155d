/** Type resolution: aliases (case-insensitive) and Flume class names -> our component definitions. */
import { type AnyDef, type Kind, closest } from '../contract/index.js';
import { ALL_COMPONENTS } from './index.js';

/** Flume's built-in aliases that flume-ts does not implement (yet): a clear "not implemented" instead of "unknown". */
export const FLUME_UNIMPLEMENTED: Record<Kind, readonly string[]> = {
  source: ['jms', 'scribe', 'twitter', 'org.apache.flume.source.kafka.KafkaSource'],
  channel: ['jdbc', 'org.apache.flume.channel.kafka.KafkaChannel'],
  sink: [
    'irc',
    'hbase',
    'hbase2',
    'asynchbase',
    'morphline_solr',
    'hive',
    'elasticsearch',
    'org.apache.flume.sink.kafka.KafkaSink',
  ],
  interceptor: ['org.apache.flume.sink.solr.morphline.MorphlineInterceptor$Builder'],
  selector: [],
  processor: [],
};

export function defsOf(kind: Kind): AnyDef[] {
  return ALL_COMPONENTS.filter((d) => d.kind === kind);
}

export function findDef(kind: Kind, type: string): AnyDef | undefined {
  const t = type.trim();
  const lower = t.toLowerCase();
  for (const d of defsOf(kind)) {
    if (d.type.toLowerCase() === lower) return d;
    if (d.aliases?.some((a) => a.toLowerCase() === lower)) return d;
    if (d.classNames?.includes(t)) return d;
  }
  return undefined;
}

export function typeNames(kind: Kind): string[] {
  return defsOf(kind).map((d) => d.type);
}

export interface TypeMiss {
  message: string;
  hint?: string;
}

export function explainUnknownType(kind: Kind, type: string): TypeMiss {
  const known = typeNames(kind);
  const lower = type.toLowerCase();
  if (FLUME_UNIMPLEMENTED[kind].some((u) => u.toLowerCase() === lower || u === type)) {
    return {
      message: `${kind} type '${type}' is a Flume component that flume-ts does not implement yet`,
      hint: `available ${kind} types: ${known.join(', ')}`,
    };
  }
  const names = [...known, ...defsOf(kind).flatMap((d) => [...(d.aliases ?? []), ...(d.classNames ?? [])])];
  const guess = closest(type, names);
  if (type.includes('.')) {
    return {
      message: `${kind} class '${type}' is not a component flume-ts provides (custom Java classes cannot be loaded; a JavaScript plugin can replace one: docs/plugins.md)`,
      hint: guess ? `did you mean '${guess}'?` : `available ${kind} types: ${known.join(', ')}`,
    };
  }
  return {
    message: `unknown ${kind} type '${type}'`,
    hint: guess ? `did you mean '${guess}'?` : `available ${kind} types: ${known.join(', ')}`,
  };
}
