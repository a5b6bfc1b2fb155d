/**
 * Compression codecs of `hdfs.fileType = CompressedStream`. Each flush (one per transaction and bucket) writes one
 * complete compressed member, as Flume's HDFSCompressedDataStream finishes the stream on every flush: a gzip file
 * is a series of gzip members, which `gzip -d`, zcat and Hadoop's GzipCodec read as one stream.
 *
 * Names are matched as Flume matches codec classes: the simple name, with or without `Codec`, any case, or the
 * Hadoop class name. Supported: gzip (GzipCodec, `.gz`), deflate (DefaultCodec, a zlib stream, `.deflate`) and,
 * where Node.js has it (22.15 and later), zstd (ZStandardCodec, `.zst`). bzip2, lzo, lzop, snappy and lz4 have
 * no maintained library here and are refused by name.
 */
import zlib from 'node:zlib';
import { OptionError } from '../../contract/index.js';

export interface Codec {
  /** Canonical name. */
  readonly name: string;
  /** Hadoop's default extension, used when hdfs.fileSuffix is empty. */
  readonly extension: string;
  /** One complete compressed member for `data`. */
  compress(data: Buffer): Buffer;
}

type ZstdSync = (data: Buffer) => Buffer;
const zstdSync = (zlib as unknown as { zstdCompressSync?: ZstdSync }).zstdCompressSync;

const CODECS: Record<string, Codec | undefined> = {
  gzip: { name: 'gzip', extension: '.gz', compress: (d) => zlib.gzipSync(d, { level: 6 }) },
  deflate: { name: 'deflate', extension: '.deflate', compress: (d) => zlib.deflateSync(d, { level: 6 }) },
  zstd: zstdSync ? { name: 'zstd', extension: '.zst', compress: (d) => zstdSync(d) } : undefined,
};

const ALIASES: Record<string, string> = {
  gzip: 'gzip',
  gz: 'gzip',
  'org.apache.hadoop.io.compress.gzipcodec': 'gzip',
  default: 'deflate',
  deflate: 'deflate',
  'org.apache.hadoop.io.compress.defaultcodec': 'deflate',
  'org.apache.hadoop.io.compress.deflatecodec': 'deflate',
  zstd: 'zstd',
  zstandard: 'zstd',
  'org.apache.hadoop.io.compress.zstandardcodec': 'zstd',
};

const UNSUPPORTED = ['bzip2', 'lzo', 'lzop', 'snappy', 'lz4'];

/** The names this runtime supports, for messages and docs. */
export function supportedCodecs(): string[] {
  return Object.keys(CODECS).filter((k) => CODECS[k] !== undefined);
}

/** `hdfs.codeC` value -> codec name, or undefined for `None`; throws OptionError naming what is supported. */
export function parseCodec(raw: string): string | undefined {
  let k = raw.trim().toLowerCase();
  if (k === 'none' || k === '') return undefined;
  if (!k.includes('.') && k.endsWith('codec') && k !== 'codec') k = k.slice(0, -'codec'.length);
  const name = ALIASES[k];
  const supported = supportedCodecs().join(', ');
  if (name === 'zstd' && CODECS.zstd === undefined) {
    throw new OptionError(
      `codec '${raw}' needs Node.js 22.15 or later (this is ${process.version})`,
      `use one of: ${supported}`,
    );
  }
  if (name !== undefined) return name;
  const simple = k.replace(/^org\.apache\.hadoop\.io\.compress\./, '').replace(/codec$/, '');
  if (UNSUPPORTED.includes(simple)) {
    throw new OptionError(`codec '${raw}' is not supported (no maintained library for it)`, `use one of: ${supported}`);
  }
  throw new OptionError(`unknown codec '${raw}'`, `use one of: ${supported} (or None)`);
}

export function codecByName(name: string): Codec {
  const c = CODECS[name];
  if (!c) throw new OptionError(`codec '${name}' is not available`, `use one of: ${supportedCodecs().join(', ')}`);
  return c;
}
