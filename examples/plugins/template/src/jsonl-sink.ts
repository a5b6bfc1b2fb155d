/**
 * A sink that appends each event as one JSON line ({"headers": {...}, "body": "..."}) to a file. deliver() resolves
 * only once the whole batch is written (and synced, with `sync = true`): the agent commits the channel transaction
 * after that, and rolls it back and retries when deliver() throws, so an event is never lost.
 */
import fs from 'node:fs/promises';
import { AgentError, defineSink, opt, type FlumeEvent } from 'flume-ts';

export default defineSink({
  type: 'jsonl',
  summary: 'Appends events as JSON lines to a file.',
  options: {
    path: opt.string({ required: true, nonEmpty: true, doc: 'The file events are appended to.' }),
    batchSize: opt.int({ default: 100, min: 1, doc: 'Most events per delivery.' }),
    sync: opt.bool({ default: true, doc: 'fsync after each batch, so a delivered batch survives a crash.' }),
  },
  batchSize: (o) => o.batchSize,
  create: (o) => {
    let file: fs.FileHandle | undefined;
    const line = (e: FlumeEvent) => `${JSON.stringify({ headers: e.headers, body: e.body.toString('utf8') })}\n`;
    return {
      batchSize: o.batchSize,
      async start() {
        file = await fs.open(o.path, 'a');
      },
      async deliver(batch) {
        if (!file) throw new AgentError('FLUME_ERR_SINK_DELIVERY', `jsonl sink: ${o.path} is not open`);
        try {
          await file.write(batch.map(line).join(''));
          if (o.sync) await file.sync();
        } catch (err) {
          // retriable: the runner rolls the batch back into the channel, backs off and tries again
          throw new AgentError('FLUME_ERR_SINK_DELIVERY', `jsonl sink: cannot write ${o.path}`, { cause: err });
        }
      },
      async close() {
        const f = file;
        file = undefined;
        await f?.close();
      },
    };
  },
});
