// The bare kafkajs baseline of the kafka pipelines: what kafkajs alone does on this machine, in the same run.
//   node bench/kafka-client.mjs produce --brokers B --topic T --events N [--batch 1000] [--now] [--partitions P]
//     builds the bench data set (200 B lines; values are the lines without `\n`, as netcat makes bodies), prints
//     `ready`, waits for SIGUSR2 (or starts at once with --now), sends batches one at a time with acks = all (as
//     the kafka sink does), prints `result {"seconds":...}`. With --partitions (the untimed pre-fill), batch i goes
//     to partition i % P instead of through the default partitioner.
//   node bench/kafka-client.mjs consume --brokers B --topic T --events N --group G
//     consumes from the earliest offset in group G until N records arrived; prints `result {"seconds":...}`
//     timed from the first record to the N-th (the group join is left out, as for the agent).
// Any failure prints `error <reason>` and exits 1 (the harness shows the reason), as does a consumer that received
// no record for 20 s (`error stalled ...`): no wait in this process is unbounded.
import kafkajsPkg from 'kafkajs';
import { makeDataSet } from './lib.mjs';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const { Kafka, Partitioners, logLevel } = kafkajsPkg;

function args(argv) {
  const o = { cmd: argv[0], batch: 1000, now: false };
  for (let i = 1; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (k === 'now') o.now = true;
    else o[k] = argv[++i];
  }
  o.events = Number(o.events);
  o.batch = Number(o.batch);
  o.partitions = o.partitions === undefined ? undefined : Number(o.partitions);
  return o;
}

const STALL_MS = 20000;
const o = args(process.argv.slice(2));
process.on('SIGTERM', () => process.exit(0));
function fail(why) {
  console.log(`error ${why}`);
  process.exit(1);
}
process.on('unhandledRejection', (err) => fail(err?.stack ?? String(err)));
// A harness killed from outside (e.g. `timeout`) must not leave a client fetching or retrying: exit with the parent.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && process.exit(1), 1000).unref();
const kafka = new Kafka({ clientId: 'bench', brokers: o.brokers.split(','), logLevel: logLevel.NOTHING });

async function produce() {
  const data = makeDataSet(o.events);
  const values = new Array(o.events);
  for (let i = 0; i < o.events; i++) values[i] = data.buf.subarray(i * data.lineBytes, (i + 1) * data.lineBytes - 1);
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: true });
  await producer.connect();
  if (!o.now) {
    console.log('ready');
    await new Promise((r) => process.once('SIGUSR2', r));
  }
  const t0 = performance.now();
  for (let i = 0; i < o.events; i += o.batch) {
    const messages = [];
    const partition = o.partitions === undefined ? undefined : (i / o.batch) % o.partitions;
    for (let j = i; j < Math.min(i + o.batch, o.events); j++) messages.push({ key: null, value: values[j], partition });
    await producer.send({ topic: o.topic, acks: Number(process.env.BENCH_ACKS ?? -1), messages });
  }
  const seconds = (performance.now() - t0) / 1000;
  await producer.disconnect();
  if (!o.now) setInterval(() => undefined, 1 << 30);
  console.log(`result ${JSON.stringify({ seconds, events: o.events })}`);
  if (o.now) process.exit(0);
  // the harness reads this process's CPU time and peak RSS, then stops it (SIGTERM)
}

async function consume() {
  const consumer = kafka.consumer({ groupId: o.group, sessionTimeout: 10000, heartbeatInterval: 1000 });
  await consumer.connect();
  await consumer.subscribe({ topics: [o.topic], fromBeginning: true });
  let n = 0;
  let t0 = 0;
  let lastRecordAt = performance.now();
  let finished;
  const done = new Promise((r) => (finished = r));
  await consumer.run({
    autoCommit: false,
    eachBatch: async ({ batch }) => {
      if (n === 0) t0 = performance.now();
      n += batch.messages.length;
      lastRecordAt = performance.now();
      if (n >= o.events) finished((performance.now() - t0) / 1000);
    },
  });
  console.log('ready');
  const watchdog = setInterval(() => {
    if (performance.now() - lastRecordAt > STALL_MS)
      fail(`stalled: consumed ${n} of ${o.events} records, none for ${STALL_MS / 1000} s`);
  }, 1000);
  const seconds = await done;
  clearInterval(watchdog);
  await consumer.disconnect();
  console.log(`result ${JSON.stringify({ seconds, events: n })}`);
  // the harness reads this process's CPU time and peak RSS, then stops it (SIGTERM)
  setInterval(() => undefined, 1 << 30);
}

await (o.cmd === 'produce' ? produce() : consume()).catch((err) => fail(err?.stack ?? String(err)));
