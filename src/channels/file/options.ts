/** Option table of the file channel (also the overflow keys of spillablememory). */
import path from 'node:path';
import { OptionError, opt, type Resolved, type Claim } from '../../contract/index.js';

/** Keys that configure where and how the store is written (shared with spillablememory's overflow). */
export const storeOptions = {
  checkpointDir: opt.string({
    nonEmpty: true,
    defaultText: '<agent dir>/.flume-ts/file-channel/<channel>/checkpoint',
    doc: 'Directory for checkpoint.json, a small file rewritten every checkpointInterval that records which store this channel uses and how many events it held; on start it is compared with the store so a deleted, moved or unmounted data directory is refused instead of silently starting empty. Relative paths are resolved against the agent directory.',
  }),
  dataDirs: opt.list({
    separator: /\s*,\s*/,
    defaultText: '<agent dir>/.flume-ts/file-channel/<channel>/data',
    doc: 'Directory of the LevelDB store (in its `leveldb/` subdirectory, with `in_use.pid` beside it). Flume spreads logs over a comma-separated list; here only the first directory is used (a warning names the others).',
  }),
  minimumRequiredSpace: opt.size({
    default: 524288000,
    min: 1048576,
    doc: 'Free bytes that must stay available on the volume of dataDirs. Below it puts are refused with ChannelFullError (back-pressure: sources back off or answer FAILED/503) before the disk fills; takes keep draining.',
  }),
  checkpointInterval: opt.duration({
    default: 30000,
    unit: 'ms',
    min: 1,
    doc: 'How often checkpoint.json is rewritten and the consumed part of the store is compacted to give disk space back. Every commit is already durable by itself; this is housekeeping.',
  }),
  fsyncPerTransaction: opt.bool({
    default: true,
    doc: 'Sync every committed put to disk before the commit returns (survives power loss). false: committed puts survive a process crash but the last fsyncInterval of them may be lost on power loss or an OS crash.',
  }),
  fsyncInterval: opt.duration({
    default: 5,
    unit: 's',
    min: 0,
    doc: 'With fsyncPerTransaction = false: the longest time between two synced writes.',
  }),
  recover: opt.bool({
    default: false,
    doc: 'When the store is damaged, repair it and continue with what is readable, logging how many events were recovered and lost (unreadable records are dropped), instead of refusing to start. Also accepts a checkpoint that names another store. Set it for one start after a crash report, then remove it.',
  }),
  useDualCheckpoints: opt.ignored({ doc: 'No checkpoint files to duplicate: LevelDB is its own checkpoint.' }),
  backupCheckpointDir: opt.ignored({ doc: 'No checkpoint files to back up: LevelDB is its own checkpoint.' }),
  compressBackupCheckpoint: opt.ignored({ doc: 'No backup checkpoint.' }),
  maxFileSize: opt.ignored({ doc: 'LevelDB sizes its own files.' }),
  checkpointOnClose: opt.ignored({ doc: 'Every commit is durable; nothing to checkpoint on close.' }),
  'use-log-replay-v1': opt.ignored({ doc: 'No log replay: start-up reads one state record (constant time).' }),
  'use-fast-replay': opt.ignored({ doc: 'No log replay: start-up reads one state record (constant time).' }),
  'write-timeout': opt.ignored({ doc: 'Deprecated in Flume.' }),
  'checkpoint-timeout': opt.ignored({ doc: 'Deprecated in Flume.' }),
  // an error, not a warning: accepting it would store events unencrypted while the operator asked for encryption
  'encryption.': opt.map({
    doc: 'Not supported: flume-ts does not encrypt the store. Setting any encryption key is an error (put dataDirs on an encrypted filesystem instead).',
    of: {
      ...opt.string({ doc: '' }),
      parse: () => {
        throw new OptionError(
          'file channel encryption is not supported by flume-ts; events would be stored unencrypted',
          'remove the encryption.* keys and put dataDirs on an encrypted filesystem (e.g. LUKS, fscrypt)',
        );
      },
    },
  }),
};

export const options = {
  capacity: opt.int({ default: 1000000, min: 1, doc: 'Most events the channel holds.' }),
  transactionCapacity: opt.int({ default: 10000, min: 1, doc: 'Most events in one put or one take transaction.' }),
  'keep-alive': opt.duration({
    default: 3,
    unit: 's',
    min: 0,
    doc: 'How long a put commit waits for free capacity before failing with ChannelFullError.',
  }),
  ...storeOptions,
};

export type FileChannelOptions = Resolved<typeof options>;
export type StoreOptionValues = Resolved<typeof storeOptions>;

export interface ResolvedDirs {
  dataDir: string;
  checkpointDir: string;
  /** dataDirs entries past the first (unused). */
  extraDataDirs: string[];
}

export function defaultBase(agentDir: string, channel: string): string {
  return path.join(agentDir, '.flume-ts', 'file-channel', channel);
}

export function resolveDirs(
  o: { checkpointDir?: string; dataDirs?: string[] },
  agentDir: string,
  channel: string,
): ResolvedDirs {
  const base = defaultBase(agentDir, channel);
  const dirs = o.dataDirs?.length ? o.dataDirs : [path.join(base, 'data')];
  return {
    dataDir: path.resolve(agentDir, dirs[0]!),
    checkpointDir: path.resolve(agentDir, o.checkpointDir ?? path.join(base, 'checkpoint')),
    extraDataDirs: dirs.slice(1).map((d) => path.resolve(agentDir, d)),
  };
}

/** Directories claimed exclusively (only those set explicitly; defaults are per channel name). */
export function dirClaims(o: { checkpointDir?: string; dataDirs?: string[] }): Claim[] {
  const out: Claim[] = [];
  const data = o.dataDirs?.[0] ? path.resolve(o.dataDirs[0]) : undefined;
  if (data) out.push({ resource: 'dir', id: data, key: 'dataDirs' });
  if (o.checkpointDir) {
    const cp = path.resolve(o.checkpointDir);
    if (cp !== data) out.push({ resource: 'dir', id: cp, key: 'checkpointDir' });
  }
  return out;
}
