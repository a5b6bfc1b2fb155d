/**
 * Kafka's record-batch compression codecs. gzip is Node's zlib; snappy (`snappy`, napi-rs) and lz4 (`lz4-napi`,
 * napi-rs, LZ4 frame format as Kafka's v2 batches use it) are maintained native packages shipped prebuilt in the npm
 * registry; zstd is Node's own zlib where the runtime has it (Node >= 22.15), else `@bokuweb/zstd-wasm` (the
 * reference zstd library compiled to WebAssembly). A codec whose package cannot load on this platform reports why,
 * and `compression.type` naming it is a validation error with that reason.
 *
 * snappy: produced as raw snappy blocks (as librdkafka and kafkajs write them); read both raw and in the xerial
 * framing Java's producer writes.
 */
import { createRequire } from 'node:module';
import zlib from 'node:zlib';
import { promisify } from 'node:util';
import { AgentError, errorMessage } from '../core/errors.js';

const require = createRequire(import.meta.url);

export interface Codec {
  /** Why this codec cannot be used here, or undefined. */
  unavailable(): string | undefined;
  compress(data: Buffer): Promise<Buffer>;
  decompress(data: Buffer): Promise<Buffer>;
}

export type CodecName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

/** Largest decompressed record batch accepted (a hostile batch cannot make us allocate more). */
export const MAX_DECOMPRESSED_BYTES = 256 * 1024 * 1024;

function codecError(name: string, err: unknown): AgentError {
  if (err instanceof AgentError) return err;
  return new AgentError('FLUME_ERR_KAFKA_CODEC', `${name}: ${errorMessage(err)}`, { cause: err });
}

/** Loads a package once; remembers why it could not be loaded. */
function lazy<T>(id: string): { get(): T; why(): string | undefined } {
  let mod: T | undefined;
  let failure: string | undefined;
  const load = () => {
    if (mod === undefined && failure === undefined) {
      try {
        mod = require(id) as T;
      } catch (err) {
        failure = `the package ${id} cannot be loaded on ${process.platform}-${process.arch} (${errorMessage(err)})`;
      }
    }
  };
  return {
    get() {
      load();
      if (mod === undefined) throw new AgentError('FLUME_ERR_KAFKA_CODEC', failure!);
      return mod;
    },
    why() {
      load();
      return failure;
    },
  };
}

interface SnappyModule {
  compressSync(b: Buffer): Buffer;
  uncompressSync(b: Buffer, o?: { asBuffer: true }): Buffer;
}
interface Lz4Module {
  compressFrame(b: Buffer): Promise<Buffer>;
  decompressFrame(b: Buffer): Promise<Buffer>;
}
interface ZstdWasm {
  init(): Promise<void>;
  compress(b: Uint8Array, level?: number): Uint8Array;
  decompress(b: Uint8Array, o?: { defaultHeapSize: number }): Uint8Array;
}

const snappyPkg = lazy<SnappyModule>('snappy');
const lz4Pkg = lazy<Lz4Module>('lz4-napi');
const zstdPkg = lazy<ZstdWasm>('@bokuweb/zstd-wasm');

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);

/** Raw snappy, or the xerial framing (magic, version, compatible version, then length-prefixed blocks). */
function snappyDecompress(s: SnappyModule, data: Buffer): Buffer {
  if (data.length < 16 || !data.subarray(0, 8).equals(XERIAL_MAGIC)) return s.uncompressSync(data, { asBuffer: true });
  const parts: Buffer[] = [];
  let total = 0;
  let p = 16;
  while (p < data.length) {
    if (p + 4 > data.length) throw codecError('snappy', 'truncated xerial block header');
    const n = data.readInt32BE(p);
    p += 4;
    if (n < 0 || p + n > data.length) throw codecError('snappy', 'truncated xerial block');
    const block = s.uncompressSync(data.subarray(p, p + n), { asBuffer: true });
    total += block.length;
    if (total > MAX_DECOMPRESSED_BYTES)
      throw codecError('snappy', `decompressed batch larger than ${MAX_DECOMPRESSED_BYTES} bytes`);
    parts.push(block);
    p += n;
  }
  return Buffer.concat(parts, total);
}

const gzip = promisify(zlib.gzip);
const unzip = promisify(zlib.unzip);

type ZlibZstd = {
  zstdCompress?: (b: Buffer, cb: (e: Error | null, r: Buffer) => void) => void;
  zstdDecompress?: (b: Buffer, o: { maxOutputLength: number }, cb: (e: Error | null, r: Buffer) => void) => void;
};
const nodeZstd = zlib as unknown as ZlibZstd;
const hasNodeZstd = typeof nodeZstd.zstdCompress === 'function' && typeof nodeZstd.zstdDecompress === 'function';
let zstdReady: Promise<ZstdWasm> | undefined;
function wasmZstd(): Promise<ZstdWasm> {
  zstdReady ??= (async () => {
    const z = zstdPkg.get();
    await z.init();
    return z;
  })();
  return zstdReady;
}

/** zstd without a known content size: grow the output until it fits, up to the limit. */
function wasmDecompress(z: ZstdWasm, data: Buffer): Buffer {
  let size = Math.max(1 << 20, data.length * 8);
  for (;;) {
    try {
      return Buffer.from(z.decompress(data, { defaultHeapSize: size }));
    } catch (err) {
      if (size >= MAX_DECOMPRESSED_BYTES) throw err;
      size = Math.min(size * 4, MAX_DECOMPRESSED_BYTES);
    }
  }
}

export const CODECS: Record<CodecName, Codec> = {
  none: {
    unavailable: () => undefined,
    compress: async (d) => d,
    decompress: async (d) => d,
  },
  gzip: {
    unavailable: () => undefined,
    compress: (d) => gzip(d),
    decompress: async (d) => {
      try {
        return await unzip(d, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
      } catch (err) {
        throw codecError('gzip', err);
      }
    },
  },
  snappy: {
    unavailable: () => snappyPkg.why(),
    compress: async (d) => snappyPkg.get().compressSync(d),
    decompress: async (d) => {
      try {
        return snappyDecompress(snappyPkg.get(), d);
      } catch (err) {
        throw codecError('snappy', err);
      }
    },
  },
  lz4: {
    unavailable: () => lz4Pkg.why(),
    compress: (d) => lz4Pkg.get().compressFrame(d),
    decompress: async (d) => {
      try {
        return await lz4Pkg.get().decompressFrame(d);
      } catch (err) {
        throw codecError('lz4', err);
      }
    },
  },
  zstd: {
    unavailable: () => (hasNodeZstd ? undefined : zstdPkg.why()),
    compress: async (d) => {
      if (hasNodeZstd) return promisify(nodeZstd.zstdCompress!)(d);
      return Buffer.from((await wasmZstd()).compress(d, 3));
    },
    decompress: async (d) => {
      try {
        if (hasNodeZstd)
          return await promisify(nodeZstd.zstdDecompress!)(d, { maxOutputLength: MAX_DECOMPRESSED_BYTES });
        return wasmDecompress(await wasmZstd(), d);
      } catch (err) {
        throw codecError('zstd', err);
      }
    },
  },
};
