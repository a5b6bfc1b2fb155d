/** spooldir's options, their cross-checks, and the deserializer settings they resolve to. */
import path from 'node:path';
import { opt, OptionError, type OptionSpec, type Resolved } from '../../contract/index.js';
import { javaRegexOption } from '../../compat/java/java-regex/index.js';
import { inputCharset, outputCharset } from './deserializers.js';

const DESERIALIZERS: Record<string, 'LINE' | 'AVRO' | 'BLOB'> = {
  line: 'LINE',
  'org.apache.flume.serialization.linedeserializer$builder': 'LINE',
  avro: 'AVRO',
  'org.apache.flume.serialization.avroeventdeserializer$builder': 'AVRO',
  blob: 'BLOB',
  'org.apache.flume.sink.solr.morphline.blobdeserializer$builder': 'BLOB',
};

const deserializerOption: OptionSpec<'LINE' | 'BLOB'> = {
  ...(opt.string({
    default: 'LINE',
    doc:
      'How files become events: `LINE` (one event per line; Flume class ' +
      'org.apache.flume.serialization.LineDeserializer$Builder) or `BLOB` (the whole file as one ' +
      'event, org.apache.flume.sink.solr.morphline.BlobDeserializer$Builder). `AVRO` is not ' +
      'implemented (a config error).',
  }) as OptionSpec<any>),
  typeText: 'LINE, BLOB (org.apache.flume.sink.solr.morphline.BlobDeserializer$Builder)',
  parse: (raw: string) => {
    const d = DESERIALIZERS[raw.trim().toLowerCase()];
    if (d === 'AVRO')
      throw new OptionError(
        'the AVRO deserializer is not implemented in flume-ts',
        'use LINE or BLOB, or convert the Avro container files before spooling them',
      );
    if (!d)
      throw new OptionError(
        `'${raw}' is not a known deserializer`,
        'use LINE or BLOB (org.apache.flume.sink.solr.morphline.BlobDeserializer$Builder); ' +
          'custom deserializer classes cannot be loaded',
      );
    return d;
  },
};

const charsetOption = (doc: string, def: string, check: (raw: string) => unknown): OptionSpec<string> => ({
  ...opt.string({ default: def, doc }),
  typeText: 'charset',
  parse: (raw: string) => {
    check(raw);
    return raw;
  },
});

export const options = {
  spoolDir: opt.string({
    required: true,
    nonEmpty: true,
    doc:
      'Directory to read files from. It must exist and be writable (a hidden canary file is ' +
      'created and removed at start).',
  }),
  fileSuffix: opt.string({
    default: '.COMPLETED',
    nonEmpty: true,
    doc:
      'Appended to the name of a file once it is completely ingested (trackingPolicy rename). ' +
      'Files ending with it are never picked up.',
  }),
  deletePolicy: opt.enum({
    values: ['never', 'immediate'] as const,
    default: 'never',
    doc: '`immediate` deletes a file once it is completely ingested; `never` keeps it (see trackingPolicy).',
  }),
  trackingPolicy: opt.enum({
    values: ['rename', 'tracker_dir'] as const,
    default: 'rename',
    doc:
      'With deletePolicy = never: `rename` appends fileSuffix to a completed file; `tracker_dir` ' +
      'leaves it untouched and creates an empty marker `<trackerDir>/<relative path><fileSuffix>`.',
  }),
  trackerDir: opt.string({
    default: '.flumespool',
    nonEmpty: true,
    doc:
      'Metadata directory, relative to spoolDir unless absolute: the position of the current file ' +
      '(`.flume-ts-spool.json`), the tracker_dir markers, and `quarantine/`.',
  }),
  fileHeader: opt.bool({ default: false, doc: 'Add the absolute path of the file as a header.' }),
  fileHeaderKey: opt.string({ default: 'file', nonEmpty: true, doc: 'Name of the fileHeader header.' }),
  basenameHeader: opt.bool({ default: false, doc: 'Add the file name as a header.' }),
  basenameHeaderKey: opt.string({ default: 'basename', nonEmpty: true, doc: 'Name of the basenameHeader header.' }),
  includePattern: javaRegexOption({
    default: '^.*$',
    doc: 'Java regex a file name must match (whole name) to be picked up.',
  }),
  ignorePattern: javaRegexOption({
    default: '^$',
    doc:
      'Java regex of file names to ignore (whole name); wins over includePattern. With ' +
      'recursiveDirectorySearch it also skips directories.',
  }),
  consumeOrder: opt.enum({
    values: ['oldest', 'youngest', 'random'] as const,
    default: 'oldest',
    doc:
      'Which file next: `oldest` / `youngest` by modification time (ties: the lexicographically ' +
      'smaller path first), or `random`.',
  }),
  recursiveDirectorySearch: opt.bool({
    default: false,
    doc: 'Also pick up files in sub-directories (directories whose name starts with `.` are skipped).',
  }),
  pollDelay: opt.duration({
    default: 500,
    unit: 'ms',
    min: 1,
    doc: 'Pause between directory scans when there is nothing to read.',
  }),
  fileStableTime: opt.duration({
    default: 3000,
    unit: 'ms',
    min: 0,
    doc:
      'New key. A file is consumed only once its size and modification time have not changed for this long ' +
      '(a file still being written waits); a completed file that changes afterwards (a writer still appending) ' +
      'is moved to quarantine with an error. 0 = consume at once, as Flume.',
  }),
  maxBackoff: opt.duration({
    default: 4000,
    unit: 'ms',
    min: 1,
    doc: 'Longest wait between retries of a batch the channel refused (starts at 250 ms, doubling).',
  }),
  batchSize: opt.int({
    default: 100,
    min: 1,
    doc: 'Most events per channel transaction (also capped by the smallest transactionCapacity of the channels).',
  }),
  inputCharset: charsetOption(
    'Charset of the files for the LINE deserializer: UTF-8, US-ASCII, ISO-8859-1 or a ' +
      'single-byte charset such as windows-1252.',
    'UTF-8',
    inputCharset,
  ),
  decodeErrorPolicy: opt.enum({
    values: ['FAIL', 'REPLACE', 'IGNORE'] as const,
    default: 'FAIL',
    doc:
      'Undecodable input: `FAIL` handles the file by badFilePolicy (Flume stops the source), ' +
      '`REPLACE` puts U+FFFD in place of the bad bytes, `IGNORE` drops them.',
  }),
  deserializer: deserializerOption,
  'deserializer.': opt.map({
    keyText: '<option>',
    doc:
      'Deserializer options. LINE: `maxLineLength` (2048 characters; a longer line is cut into ' +
      'several events), `outputCharset` (UTF-8; the charset of the bodies). BLOB: `maxBlobLength` ' +
      '(100000000 bytes per event; a longer file becomes several events).',
  }),
  badFilePolicy: opt.enum({
    values: ['quarantine', 'skip', 'fail'] as const,
    default: 'quarantine',
    doc:
      'New key. A file that cannot be consumed cleanly - modified after it was picked up, its ' +
      'completed name already taken (name reused), undecodable with decodeErrorPolicy = FAIL, ' +
      'unreadable: `quarantine` moves it to `<trackerDir>/quarantine/` and goes on with the other ' +
      'files; `skip` leaves it in place and ignores it until it changes (for this run); `fail` ' +
      'stops the source as Flume does. Events already committed from the file stay committed.',
  }),
  bufferMaxLines: opt.ignored({ doc: 'Obsolete in Flume.' }),
  bufferMaxLineLength: opt.int({
    min: 1,
    doc: 'Deprecated Flume key: maxLineLength of the LINE deserializer when deserializer.maxLineLength is not set.',
  }),
};

export type SpoolDirOptions = Resolved<typeof options>;

export interface DeserializerConfig {
  kind: 'LINE' | 'BLOB';
  maxLineLength: number;
  outputCharset: string;
  maxBlobLength: number;
}

export function deserializerConfig(o: SpoolDirOptions): DeserializerConfig {
  const d = o['deserializer.'];
  const kind = o.deserializer as 'LINE' | 'BLOB';
  const allowed = kind === 'LINE' ? ['maxLineLength', 'outputCharset'] : ['maxBlobLength'];
  for (const k of Object.keys(d)) {
    if (!allowed.includes(k))
      throw new OptionError(
        `deserializer.${k} is not an option of the ${kind} deserializer`,
        `${kind} takes: ${allowed.map((a) => `deserializer.${a}`).join(', ')}`,
      );
  }
  const int = (k: string, def: number): number => {
    const raw = d[k];
    if (raw === undefined) return def;
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(n) || n < 1)
      throw new OptionError(`deserializer.${k} = '${raw}' is not a whole number >= 1`);
    return n;
  };
  const out = d.outputCharset ?? 'UTF-8';
  outputCharset(out);
  return {
    kind,
    maxLineLength: int('maxLineLength', o.bufferMaxLineLength ?? 2048),
    outputCharset: out,
    maxBlobLength: int('maxBlobLength', 100000000),
  };
}

export function check(o: SpoolDirOptions) {
  try {
    deserializerConfig(o);
  } catch (err) {
    if (err instanceof OptionError) return { key: 'deserializer', message: err.message, hint: err.hint };
    throw err;
  }
  if (!path.isAbsolute(o.spoolDir))
    return {
      key: 'spoolDir',
      message: `spoolDir '${o.spoolDir}' is not an absolute path`,
      hint: 'write the full path of the directory',
    };
  return undefined;
}
