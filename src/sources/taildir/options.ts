/** taildir's options, their cross-checks, and where the position file lives. */
import os from 'node:os';
import path from 'node:path';
import { opt, type OptionSpec, type Resolved } from '../../contract/index.js';
import { parseGroupPath } from './matcher.js';

const groupPath: OptionSpec<string> = {
  ...opt.string({ doc: 'group path' }),
  typeText: 'absolute path: a literal directory, then a Java regex on the file name',
  parse: (raw: string) => {
    parseGroupPath(raw);
    return raw;
  },
};

export const options = {
  filegroups: opt.list({ required: true, doc: 'Space-separated names of the file groups.' }),
  'filegroups.': opt.map({
    of: groupPath,
    keyText: '<group>',
    doc:
      'Files of one group: an absolute path whose directory part is literal and whose last ' +
      'component is a Java regex matched against whole file names in that directory (no recursion; ' +
      'directories are skipped). Example: `filegroups.f1 = /var/log/app/app\\.log.*`. The ' +
      'directory must exist when the source starts.',
  }),
  positionFile: opt.string({
    default: '~/.flume/taildir_position.json',
    nonEmpty: true,
    doc:
      "JSON file holding the committed offset of every tailed file, in Flume's format (an existing Flume position " +
      'file is picked up). Written atomically (temp file, fsync, rename) with the previous version kept as ' +
      '`<positionFile>.bak`; mode 0600, parent directories created (0700).',
  }),
  'headers.': opt.map({
    keyText: '<group>.<header>',
    doc: 'Static header added to every event of a group: `headers.<group>.<header> = <value>`.',
  }),
  byteOffsetHeader: opt.bool({
    default: false,
    doc: 'Add the header `byteoffset`: the byte offset of the line start in its file.',
  }),
  skipToEnd: opt.bool({
    default: false,
    doc:
      'Files not known from the position file at start-up are read from their end (from the start ' +
      'of their last, unterminated line) instead of from byte 0. Files that appear later are ' +
      'always read from 0.',
  }),
  idleTimeout: opt.duration({
    default: 120000,
    unit: 'ms',
    min: 0,
    doc:
      'A file with no new data for this long is closed (reopened when it changes). A file renamed ' +
      'away or deleted is closed this long after its last data; its unterminated last line, if ' +
      'any, is then emitted.',
  }),
  maxOpenFiles: opt.int({
    default: 0,
    defaultText: '0 (half of the open-file limit, at most 4096)',
    min: 0,
    doc:
      'New key. Most matched files held open at once. Past it, a file read to its end is closed (the least ' +
      'recently active first) so that others can be read; a closed file is reopened - checked by inode and ' +
      'fingerprint - when it has unread data and a slot is free. 0 = half of `ulimit -n`, at most 4096. Flume: ' +
      'no limit (it fails with too many open files).',
  }),
  writePosInterval: opt.duration({
    default: 3000,
    unit: 'ms',
    min: 1,
    doc:
      'How often the position file is written (only when an offset changed). It is also written at ' +
      'start, right after a truncation is detected, on stop, and while catching up after every ' +
      '10,000 committed lines (at most every 200 ms), so a crash repeats few lines.',
  }),
  batchSize: opt.int({
    default: 100,
    min: 1,
    doc: 'Most lines per channel transaction (also capped by the smallest transactionCapacity of the channels).',
  }),
  maxBatchCount: opt.int({
    min: 1,
    defaultText: 'unlimited',
    doc: 'Most consecutive batches read from one file before moving to the next file (fairness between busy files).',
  }),
  backoffSleepIncrement: opt.duration({
    default: 1000,
    unit: 'ms',
    min: 1,
    doc:
      'Poll backoff step when no file had new data or the channel was full: min(n x this, ' +
      'maxBackoffSleep). A change in a group directory (inotify) ends the wait early.',
  }),
  maxBackoffSleep: opt.duration({
    default: 5000,
    unit: 'ms',
    min: 1,
    doc: 'Longest poll backoff; also the pause after an unexpected error.',
  }),
  cachePatternMatching: opt.bool({
    default: true,
    doc: 'List a group directory again only when its mtime changed (or changed in the last 2 seconds).',
  }),
  fileHeader: opt.bool({ default: false, doc: 'Add the path of the file as a header.' }),
  fileHeaderKey: opt.string({ default: 'file', nonEmpty: true, doc: 'Name of the fileHeader header.' }),
  basenameHeader: opt.bool({
    default: false,
    doc:
      'Add the file name (without its directory) as a header, as spooldir does. A file renamed while read ' +
      'carries its new name from then on. With the hdfs sink `hdfs.fileNaming = exact` and `hdfs.filePrefix = ' +
      '%{basename}`, files land under the same names on another host (docs/hdfs.md, mirroring).',
  }),
  basenameHeaderKey: opt.string({ default: 'basename', nonEmpty: true, doc: 'Name of the basenameHeader header.' }),
  maxLineBytes: opt.size({
    default: 1048576,
    min: 1,
    doc:
      'New key. Longest line kept, in bytes (without the line terminator). A longer line is ' +
      'handled by oversizeLinePolicy while streaming, so memory stays bounded; it is counted in ' +
      'OversizeLineCount and the following lines flow. Flume has no limit.',
  }),
  oversizeLinePolicy: opt.enum({
    values: ['truncate', 'skip'] as const,
    default: 'truncate',
    doc:
      'New key. `truncate`: an oversize line becomes one event holding its first maxLineBytes ' +
      'bytes; `skip`: it is dropped. Either way the rest of the line is discarded up to its ' +
      'newline.',
  }),
  followSymlinks: opt.enum({
    values: ['never', 'withinDirectory', 'always'] as const,
    default: 'withinDirectory',
    doc:
      'New key. Matching names that are symbolic links: `withinDirectory` follows a link only when ' +
      'its target is inside the group directory (a link pointing elsewhere is skipped with a ' +
      'warning naming it); `never` skips every link; `always` follows any link.',
  }),
  positionFileRecovery: opt.enum({
    values: ['backup', 'fail', 'reset'] as const,
    default: 'backup',
    doc:
      'New key. What to do when the position file cannot be used (empty, not JSON, bad entries, or ' +
      'missing while its backup exists): `backup` restores `<positionFile>.bak` (lines committed ' +
      'since that backup was written may be sent again) and refuses to start if there is none; ' +
      '`fail` refuses to start; `reset` moves the bad file aside (`.corrupt-<time>`) and starts as ' +
      'if there were no position file. The bad file is never overwritten.',
  }),
};

export type TaildirOptions = Resolved<typeof options>;

/** `~` and relative paths -> absolute. */
export function resolvePositionFile(p: string): string {
  if (p === '~' || p.startsWith('~/')) p = path.join(os.homedir(), p.slice(1));
  return path.resolve(p);
}

export function check(o: TaildirOptions) {
  const problems: { key?: string; message: string; hint?: string }[] = [];
  const defined = o['filegroups.'];
  for (const g of o.filegroups) {
    if (defined[g] === undefined)
      problems.push({
        key: 'filegroups',
        message: `file group '${g}' has no path (Flume ignores it silently)`,
        hint: `add filegroups.${g} = /directory/<regex on the file name>`,
      });
  }
  for (const g of Object.keys(defined)) {
    if (!o.filegroups.includes(g))
      problems.push({
        key: `filegroups.${g}`,
        message: `file group '${g}' is defined but not listed in filegroups (Flume ignores it silently)`,
        hint: `filegroups = ${[...o.filegroups, g].join(' ')}`,
      });
  }
  for (const k of Object.keys(o['headers.'])) {
    const dot = k.indexOf('.');
    const g = dot > 0 ? k.slice(0, dot) : '';
    if (dot <= 0 || dot === k.length - 1)
      problems.push({ key: `headers.${k}`, message: `'headers.${k}' must be headers.<group>.<header>` });
    else if (!o.filegroups.includes(g))
      problems.push({ key: `headers.${k}`, message: `headers for file group '${g}', which is not in filegroups` });
  }
  return problems;
}
