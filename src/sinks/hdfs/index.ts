/**
 * `hdfs` sink (Flume's HDFSEventSink): bucketed, rolled files on local disk (absolute paths, `file://`) or in HDFS
 * through WebHDFS (`webhdfs://`, `swebhdfs://`). See sink.ts for the batch cycle, bucket-writer.ts for naming and
 * rolling, journal.ts for crash recovery, fs/ for the two targets, and docs/hdfs.md for the user's view.
 */
import { defineSink } from '../../contract/index.js';
import { check, journalPath, options } from './options.js';
import { HdfsSink } from './sink.js';

export { HdfsSink } from './sink.js';
export { parseTarget } from './options.js';

export default defineSink({
  type: 'hdfs',
  classNames: ['org.apache.flume.sink.hdfs.HDFSEventSink'],
  summary: 'Writes bucketed, rolled files (Flume BucketWriter names) to a local disk or to HDFS through WebHDFS.',
  options,
  batchSize: (o) => o['hdfs.batchSize'],
  batchSizeKey: 'hdfs.batchSize',
  check: (o) => {
    const p = check(o);
    return p.length > 0 ? p : true;
  },
  claims: (o) =>
    o['hdfs.openFilesJournal'] === undefined
      ? []
      : [{ resource: 'dir', id: journalPath(o, process.cwd(), ''), key: 'hdfs.openFilesJournal' }],
  create: (o, ctx) => new HdfsSink(o, ctx),
});
