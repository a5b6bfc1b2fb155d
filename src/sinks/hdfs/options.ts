/** The hdfs sink's options (Flume's §7.6 keys plus ours), the target URI grammar, and the cross-option checks. */
import path from 'node:path';
import { opt, OptionError, type OptionSpec, type Problem, type Resolved } from '../../contract/index.js';
import { BucketTemplate, parseTimeZone } from '../../format/bucket-path/index.js';
import { tlsClientOptions, resolveTls, tlsProblems } from '../../net/tls/index.js';
import { checkSerializerOptions, serializerTypeOption } from '../../serializers/index.js';
import { parseCodec } from './codecs.js';
import type { NameNode } from './fs/webhdfs/index.js';

export const SERIALIZER_OPTIONS_KEY = 'serializer.';

/** Where the files go: a local directory or a WebHDFS file system, and the (escaped) directory inside it. */
export type Target =
  | { kind: 'local'; dir: BucketTemplate }
  | { kind: 'webhdfs'; secure: boolean; namenode: NameNode; dir: BucketTemplate };

const WEBHDFS_PORTS = { webhdfs: 9870, swebhdfs: 9871 };

/** `hdfs.path` -> Target; throws OptionError for hdfs://, relative paths, other schemes and unknown escapes. */
export function parseTarget(raw: string): Target {
  const m = /^([a-zA-Z][\w+.-]*):(.*)$/.exec(raw);
  if (!m) {
    if (!raw.startsWith('/'))
      throw new OptionError(
        `'${raw}' is not an absolute path`,
        'write an absolute local directory (/data/flume), file:///data/flume, or webhdfs://<namenode>:9870/<path>',
      );
    return { kind: 'local', dir: BucketTemplate.compile(raw) };
  }
  const scheme = m[1]!.toLowerCase();
  const rest = m[2]!;
  if (scheme === 'file') {
    const p = rest.replace(/^\/\/(localhost)?(?=\/)/, '');
    if (!p.startsWith('/')) throw new OptionError(`'${raw}' is not a file:// URI with an absolute path`);
    return { kind: 'local', dir: BucketTemplate.compile(p) };
  }
  const a = /^\/\/([^/:]+|\[[^\]]+\])(?::(\d+))?(\/.*)?$/.exec(rest);
  if (scheme === 'hdfs' || scheme === 'viewfs') {
    const host = a?.[1] ?? '<namenode>';
    throw new OptionError(
      `${scheme}:// needs Java's Hadoop client (Flume's RPC port); flume-ts reaches HDFS through WebHDFS`,
      `use the NameNode's WebHDFS address: webhdfs://${host}:9870${a?.[3] ?? '/<path>'} (swebhdfs://${host}:9871 for ` +
        'HTTPS); for HA list every NameNode in hdfs.namenodes',
    );
  }
  if (scheme !== 'webhdfs' && scheme !== 'swebhdfs')
    throw new OptionError(
      `unsupported file system '${scheme}://'`,
      'use an absolute local path, file://, webhdfs:// or swebhdfs://',
    );
  if (!a || !a[3]) throw new OptionError(`'${raw}' is not ${scheme}://<namenode>[:port]/<absolute path>`);
  const port = a[2] === undefined ? WEBHDFS_PORTS[scheme] : Number(a[2]);
  if (!(port >= 1 && port <= 65535)) throw new OptionError(`'${a[2]}' is not a port`);
  return {
    kind: 'webhdfs',
    secure: scheme === 'swebhdfs',
    namenode: { host: a[1]!.replace(/^\[|\]$/g, ''), port },
    dir: BucketTemplate.compile(a[3]),
  };
}

function custom<T>(base: OptionSpec<any>, typeText: string, parse: (raw: string) => T): OptionSpec<T> {
  return { ...base, typeText, parse } as OptionSpec<T>;
}

const template = (o: { default: string; doc: string }): OptionSpec<BucketTemplate> => ({
  ...custom(opt.string(o), 'string with escapes (see docs/escapes.md)', (raw) => BucketTemplate.compile(raw)),
  default: BucketTemplate.compile(o.default),
  defaultText: o.default,
});

const refuse = (doc: string, message: string, hint: string) =>
  custom(opt.string({ doc }), 'not supported', (): string => {
    throw new OptionError(message, hint);
  });

const NAMENODE = /^([^:\s]+|\[[^\]]+\]):(\d+)$/;

export const options = {
  'hdfs.path': custom(
    opt.string({
      required: true,
      doc:
        'Directory the files go to, with escapes (`%{header}`, `%Y-%m-%d`, ... see docs/escapes.md): an ' +
        'absolute local path or `file:///...` (local disks, NFS), or `webhdfs://<namenode>:9870/<path>` / ' +
        '`swebhdfs://<namenode>:9871/<path>` for HDFS. `hdfs://` is refused with the WebHDFS address to use.',
    }),
    'absolute path, file://, webhdfs:// or swebhdfs:// URI',
    parseTarget,
  ),
  'hdfs.filePrefix': template({
    default: 'FlumeData',
    doc: 'File name prefix, with escapes (a `/` in it makes subdirectories).',
  }),
  'hdfs.fileSuffix': opt.string({
    default: '',
    doc: "Appended to the name (no dot added). Empty with a codec: the codec's extension (`.gz`, `.deflate`, `.zst`).",
  }),
  'hdfs.inUsePrefix': opt.string({ default: '', doc: 'Prefix of a file while it is written (e.g. `.` hides it).' }),
  'hdfs.inUseSuffix': opt.string({ default: '.tmp', doc: 'Suffix of a file while it is written.' }),
  'hdfs.emptyInUseSuffix': opt.bool({
    default: false,
    doc: 'true: no suffix while written (hdfs.inUseSuffix unused).',
  }),
  'hdfs.fileNaming': opt.enum({
    values: ['flume', 'exact'] as const,
    default: 'flume',
    doc:
      "New key. `flume`: Flume's BucketWriter names, `<filePrefix>.<counter><suffix>`, written under the in-use " +
      'name and renamed when closed. `exact` (mirroring): the file is exactly `<filePrefix><fileSuffix>` after ' +
      'escapes, written in place and appended to when it exists (no counter, no in-use name); rolls only close it.',
  }),
  'hdfs.rollInterval': opt.duration({
    default: 30,
    unit: 's',
    min: 0,
    doc: 'Close a file this long after it was opened, even while events flow (0 = never).',
  }),
  'hdfs.rollSize': opt.size({
    default: 1024,
    min: 0,
    doc: 'Close a file once this many body bytes are in it (before serialization and compression; 0 = never).',
  }),
  'hdfs.rollCount': opt.int({ default: 10, min: 0, doc: 'Close a file once it holds this many events (0 = never).' }),
  'hdfs.idleTimeout': opt.duration({
    default: 0,
    unit: 's',
    min: 0,
    doc: 'Close a file that got no events for this long (0 = never).',
  }),
  'hdfs.batchSize': opt.int({
    default: 100,
    min: 1,
    doc: 'Most events per transaction; every file touched is flushed before the transaction commits.',
  }),
  'hdfs.fileType': custom(
    opt.enum({
      values: ['DataStream', 'CompressedStream'] as const,
      defaultText: 'none: must be set (Flume: SequenceFile)',
      doc:
        '`DataStream`: the serializer output as is; `CompressedStream`: compressed with hdfs.codeC, one ' +
        "compressed member per flush. Flume's default `SequenceFile` is not supported: set this key.",
    }),
    'one of: DataStream, CompressedStream',
    (raw): 'DataStream' | 'CompressedStream' => {
      const v = raw.toLowerCase();
      if (v === 'datastream') return 'DataStream';
      if (v === 'compressedstream') return 'CompressedStream';
      if (v === 'sequencefile')
        throw new OptionError(
          "SequenceFile is not supported (it needs Hadoop's Writable classes)",
          'use DataStream (the serializer output as is) or CompressedStream with hdfs.codeC',
        );
      throw new OptionError(`'${raw}' is not one of DataStream, CompressedStream`);
    },
  ),
  'hdfs.codeC': custom(
    opt.string({
      doc: 'Codec of CompressedStream: gzip, deflate, or zstd (zstd where Node.js is 22.15 or later), or a Hadoop codec class name.',
    }),
    'one of: gzip, deflate, zstd (Node.js 22.15+)',
    parseCodec,
  ),
  'hdfs.writeFormat': opt.ignored({ doc: 'SequenceFile record format; SequenceFile is not supported.' }),
  serializer: serializerTypeOption(
    'How events are written: `text` (body per line), `header_and_text` or `avro_event` (no `hdfs.` prefix, as in Flume).',
  ),
  [SERIALIZER_OPTIONS_KEY]: opt.map({
    doc: 'Options of the serializer, e.g. `serializer.appendNewline = false`.',
    keyText: '<option>',
  }),
  'hdfs.maxOpenFiles': opt.int({
    default: 5000,
    min: 1,
    doc: 'Most files open at once (one per distinct path + prefix); the least recently written is closed beyond it.',
  }),
  'hdfs.round': opt.bool({ default: false, doc: 'Round the timestamp down before the time escapes (not %t).' }),
  'hdfs.roundValue': opt.int({ default: 1, min: 1, max: 60, doc: 'Round down to a multiple of this many units.' }),
  'hdfs.roundUnit': opt.enum({
    values: ['second', 'minute', 'hour'] as const,
    default: 'second',
    doc: 'Unit of hdfs.roundValue (second and minute: 1-60, hour: 1-24).',
  }),
  'hdfs.timeZone': custom(
    opt.string({
      defaultText: "the agent's zone (TZ)",
      doc: 'IANA zone of the time escapes and of rounding (`UTC`, `Europe/Paris`, `GMT+8`); unknown zones are errors.',
    }),
    'IANA time zone id',
    parseTimeZone,
  ),
  'hdfs.useLocalTimeStamp': opt.bool({
    default: false,
    doc: 'Use the time the sink writes the event instead of its `timestamp` header.',
  }),
  'hdfs.closeTries': opt.int({
    default: 0,
    min: 0,
    doc: 'Attempts to rename a closed file before giving up until the next start (0 = keep trying).',
  }),
  'hdfs.retryInterval': opt.duration({
    default: 180,
    unit: 's',
    min: 0,
    doc: 'Time between rename attempts (0 = one attempt).',
  }),
  'hdfs.callTimeout': opt.duration({
    default: 30000,
    unit: 'ms',
    min: 1,
    doc: 'Longest time one file system call may take (a WebHDFS request, a local write) before it fails.',
  }),
  'hdfs.syncInterval': opt.duration({
    default: 10,
    unit: 's',
    min: 0,
    doc:
      'New key, local disk: fsync open files this often (they are always fsynced when closed). Writes reach the ' +
      'page cache at every commit, which survives the agent dying but not the machine (0 = only when closed).',
  }),
  'hdfs.fileMode': opt.string({
    default: '0640',
    pattern: /^0?[0-7]{3}$/,
    patternText: 'an octal file mode such as 0640',
    doc: 'New key. Permissions of the files created (local disk: exactly, whatever the umask; WebHDFS: `permission`).',
  }),
  'hdfs.openFilesJournal': opt.string({
    defaultText: '<agent dir>/.flume-ts/hdfs/<sink>.open-files',
    doc:
      'New key. Local file listing the in-use files this sink has open, so that files left by a crash are ' +
      'renamed to their final names at the next start.',
  }),
  'hdfs.proxyUser': opt.string({
    doc: 'WebHDFS: the user to act as (`doas`, or `user.name` when hdfs.userName is not set).',
  }),
  'hdfs.userName': opt.string({
    defaultText: "the agent's OS user",
    doc: 'New key, WebHDFS: `user.name` of every call (clusters without Kerberos).',
  }),
  'hdfs.namenodes': custom(
    opt.list({
      doc:
        'New key, WebHDFS high availability: every NameNode as `host:port`, tried in order; a standby ' +
        '(StandbyException) or unreachable one sends the call to the next. Default: the one in hdfs.path.',
    }),
    'list of host:port',
    (raw) =>
      raw
        .split(/[\s,]+/)
        .filter(Boolean)
        .map((s): NameNode => {
          const m = NAMENODE.exec(s);
          if (!m || !(Number(m[2]) >= 1 && Number(m[2]) <= 65535))
            throw new OptionError(`'${s}' is not host:port`, 'e.g. nn1.example.com:9870 nn2.example.com:9870');
          return { host: m[1]!.replace(/^\[|\]$/g, ''), port: Number(m[2]) };
        }),
  ),
  'hdfs.kerberosPrincipal': refuse(
    'Kerberos principal (not supported).',
    'Kerberos is not supported (WebHDFS with SPNEGO is not implemented)',
    'use a cluster or an HttpFS gateway without Kerberos, with hdfs.userName / hdfs.proxyUser',
  ),
  'hdfs.kerberosKeytab': refuse(
    'Kerberos keytab (not supported).',
    'Kerberos is not supported (WebHDFS with SPNEGO is not implemented)',
    'use a cluster or an HttpFS gateway without Kerberos, with hdfs.userName / hdfs.proxyUser',
  ),
  'hdfs.minBlockReplicas': opt.ignored({ doc: 'Under-replication rolls need the HDFS client; WebHDFS has none.' }),
  'hdfs.threadsPoolSize': opt.ignored({ doc: 'Flume thread pool; Node uses its event loop.' }),
  'hdfs.rollTimerPoolSize': opt.ignored({ doc: 'Flume thread pool; Node uses its event loop.' }),
  'hdfs.useRawLocalFileSystem': opt.ignored({ doc: 'Local paths always write the file directly.' }),
  ...tlsClientOptions,
};

export type HdfsOptions = Resolved<typeof options>;

export function journalPath(o: HdfsOptions, agentDir: string, sink: string): string {
  return path.resolve(agentDir, o['hdfs.openFilesJournal'] ?? path.join('.flume-ts', 'hdfs', `${sink}.open-files`));
}

export function check(o: HdfsOptions): Problem[] {
  const problems: Problem[] = [];
  const type = o['hdfs.fileType'];
  const codec = o['hdfs.codeC'];
  if (type === undefined)
    problems.push({
      key: 'hdfs.fileType',
      message: "hdfs.fileType is not set, and Flume's default (SequenceFile) is not supported",
      hint: 'set hdfs.fileType = DataStream (or CompressedStream with hdfs.codeC = gzip)',
    });
  if (type === 'DataStream' && codec !== undefined)
    problems.push({
      key: 'hdfs.codeC',
      message: 'hdfs.codeC has no effect with hdfs.fileType = DataStream (Flume refuses it too)',
      hint: 'set hdfs.fileType = CompressedStream, or remove hdfs.codeC',
    });
  if (type === 'CompressedStream' && codec === undefined)
    problems.push({
      key: 'hdfs.codeC',
      message: 'hdfs.fileType = CompressedStream needs hdfs.codeC',
      hint: 'one of: gzip, deflate, zstd (Node.js 22.15+)',
    });
  if (o['hdfs.round'] && o['hdfs.roundUnit'] === 'hour' && o['hdfs.roundValue'] > 24)
    problems.push({ key: 'hdfs.roundValue', message: 'with hdfs.roundUnit = hour, hdfs.roundValue must be 1-24' });
  problems.push(...checkSerializerOptions(o.serializer, o[SERIALIZER_OPTIONS_KEY] ?? {}, SERIALIZER_OPTIONS_KEY));
  if (o['hdfs.fileNaming'] === 'exact' && o.serializer === 'avro_event')
    problems.push({
      key: 'hdfs.fileNaming',
      message:
        'hdfs.fileNaming = exact appends to existing files, and an avro_event container file cannot be appended to',
      hint: 'use the text or header_and_text serializer, or hdfs.fileNaming = flume',
    });
  const target = o['hdfs.path'];
  if (target.kind === 'local') {
    for (const k of ['hdfs.namenodes', 'hdfs.proxyUser', 'hdfs.userName'] as const)
      if (o[k] !== undefined)
        problems.push({ key: k, message: `${k} applies to webhdfs:// and swebhdfs:// paths only; hdfs.path is local` });
    if (o.ssl) problems.push({ key: 'ssl', message: 'ssl applies to swebhdfs:// paths only; hdfs.path is local' });
  } else {
    if (o.ssl && !target.secure)
      problems.push({ key: 'ssl', message: 'ssl = true with a webhdfs:// path', hint: 'write swebhdfs:// for HTTPS' });
    if (target.secure) problems.push(...tlsProblems(resolveTls({ ...o, ssl: true }, 'client')));
  }
  return problems;
}
