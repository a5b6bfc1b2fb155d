/**
 * kafka source (Flume KafkaSource): a consumer-group member that turns records into events. A pollable source:
 * each poll fills a batch (up to batchSize records, or what arrived within batchDurationMillis), emits it, and only
 * after the channels committed it commits the consumer offsets - at-least-once across rebalances and restarts
 * (what was emitted but not committed comes again; duplicates are bounded by one batch per partition in flight).
 * The offset commit of a batch runs while the next batch fills (commits stay in order; close() waits for them).
 * A batch the channel refuses is kept and retried (Flume's BACKOFF with the pending batch), never dropped.
 *
 * Headers (added when the record did not bring them): timestamp (the record timestamp), topic (setTopicHeader /
 * topicHeader), partition, offset, and key (the record key as UTF-8). useFlumeEventFormat restores the headers and
 * body of an AvroFlumeEvent value; a value that is not one is delivered as the body and counted in EventReadFail.
 */
import { defineSource, type Problem, type Resolved, type Source, type SourceContext, opt } from '../contract/index.js';
import { errorMessage } from '../core/errors.js';
import type { FlumeEvent } from '../core/event.js';
import { LinearBackoff } from '../core/backoff.js';
import { retrying } from '../core/retry.js';
import { compileJavaRegex, javaRegexOption } from '../compat/java/java-regex/index.js';
import { WarnLimiter } from '../net/warn-limiter.js';
import { KafkaIntake, type Lease } from '../kafka/intake.js';
import { KafkajsConsumer, type Subscription } from '../kafka/kafkajs/consumer.js';
import { bootstrapOption, consumerFrom, consumerPropertiesOption } from '../kafka/options.js';
import type { ConsumerSettings } from '../kafka/config/properties.js';
import { toEvent, topicProblem, type InMapping } from '../kafka/records.js';
import { PollableLoop, type PollResult } from './support/pollable.js';

const options = {
  ...bootstrapOption,
  'kafka.topics': opt.list({
    separator: /\s*,\s*/,
    doc: 'Topics to consume, separated by commas (one of kafka.topics and kafka.topics.regex is required).',
  }),
  'kafka.topics.regex': javaRegexOption({
    doc:
      'Java regex of the topics to consume (overrides kafka.topics); matched against the topics the cluster ' +
      'has when the consumer (re)starts.',
  }),
  topic: opt.renamed({ to: 'kafka.topics', doc: 'Flume 1.6 spelling of kafka.topics.' }),
  ...consumerPropertiesOption,
  groupId: opt.renamed({ to: 'kafka.consumer.group.id', doc: 'Flume 1.6 spelling of kafka.consumer.group.id.' }),
  batchSize: opt.int({ default: 1000, min: 1, doc: 'Most records per batch (per channel transaction).' }),
  batchDurationMillis: opt.duration({
    default: 1000,
    unit: 'ms',
    min: 1,
    doc: 'Longest time spent filling a batch once its first record arrived (and the wait for a first one).',
  }),
  backoffSleepIncrement: opt.duration({
    default: 1000,
    unit: 'ms',
    min: 1,
    doc: 'Pollable-runner backoff step when topics are empty or the channel is full.',
  }),
  maxBackoffSleep: opt.duration({ default: 5000, unit: 'ms', min: 1, doc: 'Longest backoff sleep.' }),
  useFlumeEventFormat: opt.bool({
    default: false,
    doc: 'Values are Avro-binary AvroFlumeEvents (from a kafka sink with useFlumeEventFormat): restore headers.',
  }),
  setTopicHeader: opt.bool({ default: true, doc: 'Add the record topic as a header.' }),
  topicHeader: opt.string({ default: 'topic', nonEmpty: true, doc: 'Name of that header.' }),
  header: opt.map({
    keyText: 'header.<flumeHeader>',
    doc: 'header.<flumeHeader> = <kafkaHeader>: copy that Kafka record header into the event header.',
  }),
  migrateZookeeperOffsets: opt.ignored({
    doc: 'Flume 1.7-1.9 migrated offsets kept in ZooKeeper by Kafka 0.8 consumers; flume-ts reads Kafka offsets only.',
  }),
  zookeeperConnect: opt.ignored({ doc: 'Flume 1.6 consumer setting; set kafka.bootstrap.servers instead.' }),
};

type Options = Resolved<typeof options>;

/** Consumer defaults of Flume's source: group flume, Kafka's auto.offset.reset (latest). */
const SOURCE_DEFAULTS: Partial<ConsumerSettings> = { groupId: 'flume', fromBeginning: false };
const NEVER = new AbortController().signal;

function subscription(o: Options): Subscription {
  const re = o['kafka.topics.regex'];
  if (re !== undefined) {
    const j = compileJavaRegex(re);
    return { pattern: new RegExp(`^(?:${j.translation.source})$`, j.translation.flags) };
  }
  return { topics: o['kafka.topics'] ?? [] };
}

export class KafkaSource implements Source {
  readonly topics: readonly string[];
  private readonly intake: KafkaIntake;
  private readonly mapping: InMapping;
  private loop?: PollableLoop;
  /** The offset commits in flight (never rejects): drains toCommit. */
  private committing?: Promise<void>;
  /** Delivered to the channel, offsets not committed yet (the next commit request takes them all). */
  private toCommit: Lease[] = [];
  private toCommitEvents = 0;
  /** The commit request in flight (never rejects). */
  private request?: Promise<void>;
  /** Emitted but not committed: retried as is by the next poll. */
  private pending?: { events: FlumeEvent[]; leases: Lease[] };
  private readonly backoff: LinearBackoff;
  private readonly undecodable = new WarnLimiter(10_000);

  constructor(
    private readonly o: Options,
    private readonly ctx: SourceContext,
    settings: ConsumerSettings,
  ) {
    this.topics = o['kafka.topics'] ?? [];
    this.backoff = new LinearBackoff(o.backoffSleepIncrement, o.maxBackoffSleep);
    this.mapping = {
      useFlumeEventFormat: o.useFlumeEventFormat,
      headerMap: o.header,
      topicHeader: o.setTopicHeader ? o.topicHeader : undefined,
      recordHeaders: true,
    };
    const port = new KafkajsConsumer(settings, subscription(o), ctx.logger, `kafka source ${ctx.name}`);
    this.intake = new KafkaIntake(port, {
      maxBuffered: Math.max(2 * o.batchSize, 1000),
      joinTimeoutMs: 60_000,
      logger: ctx.logger,
    });
    for (const n of ['KafkaEventGetTimer', 'KafkaCommitTimer', 'KafkaEmptyCount']) ctx.counters.set(n, 0);
  }

  async start(): Promise<void> {
    await this.intake.start();
    this.loop = new PollableLoop(() => this.poll(), {
      incrementMs: this.o.backoffSleepIncrement,
      maxMs: this.o.maxBackoffSleep,
      logger: this.ctx.logger,
    });
  }

  private async fill(): Promise<Lease[]> {
    const max = Math.min(this.o.batchSize, this.ctx.maxBatchSize);
    const signal = this.loop?.signal ?? NEVER;
    const t0 = performance.now();
    const deadline = t0 + this.o.batchDurationMillis;
    const leases: Lease[] = [];
    let n = 0;
    for (;;) {
      const l = this.intake.take(max - n);
      if (l.records.length > 0) {
        leases.push(l);
        n += l.records.length;
      }
      const left = deadline - performance.now();
      if (n >= max || left <= 0 || signal.aborted) break;
      await this.intake.waitForRecords(left, signal);
      if (this.intake.size === 0 && performance.now() >= deadline) break;
    }
    this.ctx.counters.add('KafkaEventGetTimer', Math.round(performance.now() - t0));
    return leases;
  }

  private toEvents(leases: Lease[]): FlumeEvent[] {
    const out: FlumeEvent[] = [];
    for (const l of leases)
      for (const r of l.records)
        out.push(
          toEvent(r, this.mapping, (err) => {
            this.ctx.counters.add('EventReadFail');
            const suppressed = this.undecodable.hit('avro');
            if (suppressed >= 0)
              this.ctx.logger.warn('A record is not an AvroFlumeEvent (useFlumeEventFormat); delivered as the body', {
                topic: r.topic,
                partition: r.partition,
                offset: r.offset,
                error: errorMessage(err),
                ...(suppressed > 0 ? { suppressed } : {}),
              });
          }),
        );
    return out;
  }

  /** One poll: a batch (new, or the pending one again), emitted, then its offsets committed. */
  async poll(): Promise<PollResult> {
    let p = this.pending;
    if (!p) {
      const leases = await this.fill();
      if (leases.length === 0) {
        this.ctx.counters.add('KafkaEmptyCount');
        return 'backoff';
      }
      p = this.pending = { events: this.toEvents(leases), leases };
    }
    const batch = p;
    // a refusal that is not a full channel leaves the batch pending: the runner logs it and sleeps maxBackoffSleep
    const committed = await retrying(() => this.ctx.emit(batch.events), {
      backoff: this.backoff,
      signal: this.loop?.signal ?? NEVER,
      onRetry: (err, attempt, waitMs) =>
        this.ctx.logger.warn('Channel full; the batch is kept and retried after a backoff', {
          events: batch.events.length,
          attempt,
          retryInMs: waitMs,
          error: errorMessage(err),
        }),
    });
    if (!committed) return 'backoff';
    this.pending = undefined;
    // the offset commit runs while the next batches fill: one request at a time, carrying every batch delivered
    // since the last one. Delivered batches wait for it with their records, so once a batchSize of them waits, the
    // source waits for the commit too (bounded memory when commits are slower than the channel).
    this.toCommit.push(...batch.leases);
    this.toCommitEvents += batch.events.length;
    this.committing ??= this.drainCommits();
    if (this.toCommitEvents >= this.o.batchSize) await this.request;
    return 'ready';
  }

  /** Commits what was delivered, one request at a time, until nothing is left (never rejects). */
  private async drainCommits(): Promise<void> {
    try {
      while (this.toCommit.length > 0) {
        const leases = this.toCommit;
        const events = this.toCommitEvents;
        this.toCommit = [];
        this.toCommitEvents = 0;
        this.request = this.commitOffsets(leases, events);
        await this.request;
      }
    } finally {
      this.committing = undefined;
      this.request = undefined;
    }
  }

  private async commitOffsets(leases: Lease[], events: number): Promise<void> {
    const t0 = performance.now();
    try {
      await this.intake.commit(leases);
    } catch (err) {
      this.ctx.logger.warn('Offset commit failed; the events were delivered and may come again after a restart', {
        events,
        error: errorMessage(err),
      });
    } finally {
      this.ctx.counters.add('KafkaCommitTimer', Math.round(performance.now() - t0));
    }
  }

  async close(): Promise<void> {
    await this.loop?.stop();
    this.loop = undefined;
    await this.committing;
    // a batch emitted but not committed is not acknowledged: the group delivers it again
    const p = this.pending;
    this.pending = undefined;
    if (p) this.intake.giveBack(p.leases);
    await this.intake.stop();
  }

  destroy(): void {
    void this.close().catch(() => undefined);
  }
}

function problems(o: Options): Problem[] {
  const out = consumerFrom(o, SOURCE_DEFAULTS).problems;
  const topics = o['kafka.topics'];
  if (o['kafka.topics.regex'] === undefined) {
    if (!topics || topics.length === 0)
      out.push({
        key: 'kafka.topics',
        message: 'kafka.topics or kafka.topics.regex must be set',
        hint: 'a1.sources.r1.kafka.topics = topic1,topic2',
      });
    for (const t of topics ?? []) {
      const why = topicProblem(t);
      if (why) out.push({ key: 'kafka.topics', message: why });
    }
  }
  return out;
}

export default defineSource({
  type: 'kafka',
  classNames: ['org.apache.flume.source.kafka.KafkaSource'],
  summary: 'Consumes Kafka topics in a consumer group; offsets are committed after the channel commit.',
  options,
  batchSize: (o) => o.batchSize,
  batchSizeKey: 'batchSize',
  check: (o) => problems(o),
  create: (o, ctx) => new KafkaSource(o, ctx, consumerFrom(o, SOURCE_DEFAULTS).settings),
});
