import { test } from 'node:test';
import assert from 'node:assert/strict';
import failover, { FailoverSinkProcessor } from '../../src/processors/failover.js';
import loadBalance, { LoadBalancingSinkProcessor } from '../../src/processors/load-balance.js';
import defaultProcessor from '../../src/processors/default.js';
import type { ProcessorDef, SinkHandle } from '../../src/contract/index.js';
import type { Clock } from '../../src/core/clock.js';
import { AgentError } from '../../src/core/errors.js';
import { silentLogger } from '../../src/telemetry/logger.js';
import { optionsFor } from '../helpers/agent.js';
import { configFromText } from '../../src/config/load.js';

class FakeClock implements Clock {
  t = 1_000_000;
  monotonicMs(): number {
    return this.t;
  }
  nowMs(): number {
    return this.t;
  }
}

/** A sink handle that delivers, fails, or finds its channel empty, on command. */
class FakeSink implements SinkHandle {
  mode: 'ok' | 'fail' | 'empty' = 'ok';
  calls = 0;
  delivered = 0;
  waits = 0;
  constructor(
    readonly name: string,
    private readonly log: string[],
  ) {}
  async process(): Promise<'ready' | 'backoff'> {
    this.calls++;
    if (this.mode === 'fail') {
      this.log.push(`${this.name}:fail`);
      throw new AgentError('FLUME_ERR_SINK_DELIVERY', `${this.name} is down`);
    }
    if (this.mode === 'empty') return 'backoff';
    this.delivered++;
    this.log.push(this.name);
    return 'ready';
  }
  async waitForEvents(): Promise<void> {
    this.waits++;
  }
}

function group(def: ProcessorDef<any>, props: Record<string, string>, names: string[]) {
  const log: string[] = [];
  const sinks = names.map((n) => new FakeSink(n, log));
  const clock = new FakeClock();
  const o = optionsFor(def, props);
  const problems = def.checkSinks?.(o, names) ?? [];
  const proc = def.create(o, { group: 'g1', sinks, logger: silentLogger(), clock });
  const by = Object.fromEntries(sinks.map((s) => [s.name, s]));
  return { proc, sinks: by, clock, log, problems };
}
const signal = new AbortController().signal;

// --- failover (TestFailoverSinkProcessor)

test('failover: the highest priority delivers; a failure moves the same call to the next sink', async () => {
  const { proc, sinks, log, problems } = group(
    failover,
    { 'priority.s1': '1', 'priority.s2': '2', 'priority.s3': '3' },
    ['s1', 's2', 's3'],
  );
  assert.deepEqual(problems, []);
  assert.equal(await proc.process(signal), 'ready');
  sinks.s3!.mode = 'fail';
  assert.equal(await proc.process(signal), 'ready');
  sinks.s2!.mode = 'fail';
  assert.equal(await proc.process(signal), 'ready');
  assert.deepEqual(log, ['s3', 's3:fail', 's2', 's2:fail', 's1']);
  assert.equal((proc as FailoverSinkProcessor).active, 's1');
  // while s2 and s3 cool down they are not even tried
  log.length = 0;
  await proc.process(signal);
  assert.deepEqual(log, ['s1']);
});

test('failover: penalties 1 s, 2 s, 4 s ... capped at maxpenalty on the monotonic clock; fail back on recovery', async () => {
  const { proc, sinks, clock, log } = group(failover, { 'priority.k1': '10', 'priority.k2': '5', maxpenalty: '5000' }, [
    'k1',
    'k2',
  ]);
  const fp = proc as FailoverSinkProcessor;
  const st = fp.sinks.find((s) => s.name === 'k1')!;
  await proc.process(signal);
  assert.equal(fp.active, 'k1');
  sinks.k1!.mode = 'fail';
  const penalties: number[] = [];
  for (let i = 0; i < 5; i++) {
    await proc.process(signal);
    penalties.push(st.until - clock.t);
    clock.t += 999 + penalties[i]! - 1000; // just before expiry: k1 is skipped
    log.length = 0;
    await proc.process(signal);
    assert.deepEqual(log, ['k2'], 'k1 is not retried before its penalty expires');
    clock.t += 1; // expiry
  }
  assert.deepEqual(penalties, [1000, 2000, 4000, 5000, 5000]);
  assert.equal(fp.active, 'k2');
  sinks.k1!.mode = 'ok';
  log.length = 0;
  await proc.process(signal);
  assert.deepEqual(log, ['k1'], 'fails back to k1 once its penalty expired and it delivers');
  assert.equal(st.failures, 0);
  assert.equal(fp.active, 'k1');
  assert.equal(fp.switches, 2);
});

test('failover: an empty channel (backoff) is not a failure and does not move to the next sink', async () => {
  const { proc, sinks } = group(failover, { 'priority.a': '2', 'priority.b': '1' }, ['a', 'b']);
  sinks.a!.mode = 'empty';
  assert.equal(await proc.process(signal), 'backoff');
  assert.equal(sinks.b!.calls, 0);
  assert.equal((proc as FailoverSinkProcessor).sinks[0]!.failures, 0);
  await proc.waitForEvents(10);
  assert.equal(sinks.a!.waits, 1);
});

test('failover: a sink on probation that finds nothing keeps its failure count', async () => {
  const { proc, sinks, clock } = group(failover, { 'priority.a': '2', 'priority.b': '1' }, ['a', 'b']);
  const a = (proc as FailoverSinkProcessor).sinks[0]!;
  sinks.a!.mode = 'fail';
  await proc.process(signal);
  clock.t += 1000;
  sinks.a!.mode = 'empty';
  assert.equal(await proc.process(signal), 'backoff');
  assert.equal(a.failures, 1);
  sinks.a!.mode = 'fail';
  await proc.process(signal);
  assert.equal(a.until - clock.t, 2000);
});

test('failover: every sink failing or cooling down is an error for the runner', async () => {
  const { proc, sinks, clock } = group(failover, { 'priority.a': '2', 'priority.b': '1' }, ['a', 'b']);
  sinks.a!.mode = 'fail';
  sinks.b!.mode = 'fail';
  await assert.rejects(
    proc.process(signal),
    (e: unknown) =>
      e instanceof AgentError &&
      e.code === 'FLUME_ERR_SINK_DELIVERY' &&
      /every sink .* failed .* next retry of a in 1000 ms/.test(e.message),
  );
  await assert.rejects(proc.process(signal), /cooling down/);
  assert.equal(sinks.a!.calls, 1);
  clock.t += 1000;
  sinks.b!.mode = 'ok';
  assert.equal(await proc.process(signal), 'ready', 'a is retried first and fails again; b takes the batch');
  assert.equal(sinks.a!.calls, 2);
  assert.equal((proc as FailoverSinkProcessor).sinks[0]!.until - clock.t, 2000);
});

test('failover: a delivery cut by shutdown is not a failure', async () => {
  const { proc, sinks } = group(failover, {}, ['a', 'b']);
  const ac = new AbortController();
  sinks.a!.process = async () => {
    ac.abort();
    throw new Error('aborted');
  };
  await assert.rejects(proc.process(ac.signal), /aborted/);
  assert.equal((proc as FailoverSinkProcessor).sinks[0]!.failures, 0);
  assert.equal(sinks.b!.calls, 0);
});

test('failover: sinks without a priority come after the others, in listed order', async () => {
  const { proc } = group(failover, { 'priority.c': '-5' }, ['a', 'b', 'c']);
  assert.deepEqual(
    (proc as FailoverSinkProcessor).sinks.map((s) => s.name),
    ['c', 'a', 'b'],
  );
});

test('failover: duplicate priorities and priorities for other sinks are problems', () => {
  const { problems } = group(failover, { 'priority.k1': '5', 'priority.k2': '5', 'priority.k9': '1' }, ['k1', 'k2']);
  assert.equal(problems.length, 2);
  assert.match(problems.find((p) => p.key === 'priority.k2')!.message, /'k1' and 'k2' both have priority 5/);
  assert.match(problems.find((p) => p.key === 'priority.k9')!.hint!, /did you mean 'k1'/);
});

// --- load_balance (TestLoadBalancingSinkProcessor)

test('load_balance: round robin by default, one sink per call, starting one further each call', async () => {
  const { proc, log, problems } = group(loadBalance, {}, ['s1', 's2', 's3']);
  assert.deepEqual(problems, []);
  for (let i = 0; i < 6; i++) assert.equal(await proc.process(signal), 'ready');
  assert.deepEqual(log, ['s1', 's2', 's3', 's1', 's2', 's3']);
});

test('load_balance: a failing sink hands its call to the next sink (round robin, no backoff)', async () => {
  const { proc, sinks, log } = group(loadBalance, { selector: 'round_robin' }, ['s1', 's2', 's3']);
  sinks.s2!.mode = 'fail';
  for (let i = 0; i < 6; i++) assert.equal(await proc.process(signal), 'ready');
  // the rotation continues after the sink that delivered, so s3 does not get a double share after s2 fails
  assert.deepEqual(log, ['s1', 's2:fail', 's3', 's1', 's2:fail', 's3', 's1', 's2:fail', 's3']);
  assert.equal(sinks.s2!.delivered, 0);
});

test('load_balance: round robin alternates even when batches trickle in one at a time (empty polls do not rotate)', async () => {
  const { proc, sinks } = group(loadBalance, { selector: 'round_robin' }, ['s1', 's2']);
  for (const s of Object.values(sinks)) s.mode = 'empty';
  for (let i = 0; i < 10; i++) {
    assert.equal(await proc.process(signal), 'backoff');
    // one batch arrives: whichever sink polls first takes it
    sinks.s1!.mode = 'ok';
    sinks.s2!.mode = 'ok';
    assert.equal(await proc.process(signal), 'ready');
    sinks.s1!.mode = 'empty';
    sinks.s2!.mode = 'empty';
  }
  assert.equal(sinks.s1!.delivered, 5);
  assert.equal(sinks.s2!.delivered, 5);
});

test('load_balance: random with one working sink delivers every batch through it', async () => {
  const { proc, sinks } = group(loadBalance, { selector: 'random' }, ['s1', 's2', 's3']);
  sinks.s1!.mode = 'fail';
  sinks.s3!.mode = 'fail';
  for (let i = 0; i < 50; i++) assert.equal(await proc.process(signal), 'ready');
  assert.equal(sinks.s2!.delivered, 50);
});

test('load_balance: random spreads over every sink', async () => {
  const { proc, sinks } = group(loadBalance, { selector: 'RANDOM' }, ['s1', 's2', 's3']);
  for (let i = 0; i < 300; i++) await proc.process(signal);
  for (const s of Object.values(sinks)) assert.ok(s.delivered > 50, `${s.name} delivered ${s.delivered}`);
});

test('load_balance: backoff excludes a failed sink for 1 s, 2 s, 4 s ... up to maxTimeOut; success resets', async () => {
  const { proc, sinks, clock, log } = group(loadBalance, { backoff: 'true', 'selector.maxTimeOut': '3000' }, [
    's1',
    's2',
  ]);
  const lb = proc as LoadBalancingSinkProcessor;
  sinks.s1!.mode = 'fail';
  const exclusions: number[] = [];
  for (let i = 0; i < 4; i++) {
    log.length = 0;
    // run calls until s1 is tried (and fails) once
    while (!log.includes('s1:fail')) await proc.process(signal);
    exclusions.push(lb.sinks[0]!.until - clock.t);
    log.length = 0;
    await proc.process(signal);
    await proc.process(signal);
    assert.ok(!log.includes('s1:fail'), 'excluded sink is skipped');
    clock.t = lb.sinks[0]!.until;
  }
  assert.deepEqual(exclusions, [1000, 2000, 3000, 3000]);
  sinks.s1!.mode = 'ok';
  while (sinks.s1!.delivered === 0) await proc.process(signal);
  assert.equal(lb.sinks[0]!.failures, 0);
});

test('load_balance: all sinks failing or backed off is an error; empty channels move on, all empty is backoff', async () => {
  const { proc, sinks } = group(loadBalance, { backoff: 'true' }, ['s1', 's2']);
  sinks.s1!.mode = 'fail';
  sinks.s2!.mode = 'fail';
  await assert.rejects(proc.process(signal), /2 of 2 sinks .* failed/);
  await assert.rejects(proc.process(signal), /backed off/);
  const g = group(loadBalance, {}, ['s1', 's2']);
  g.sinks.s1!.mode = 'empty';
  assert.equal(await g.proc.process(signal), 'ready', 'an empty channel does not end the call');
  assert.equal(g.sinks.s2!.delivered, 1);
  g.sinks.s2!.mode = 'empty';
  assert.equal(await g.proc.process(signal), 'backoff');
  await g.proc.waitForEvents(5);
  assert.equal(g.sinks.s1!.waits + g.sinks.s2!.waits, 2);
});

test('load_balance needs two sinks; default drives exactly one', () => {
  assert.match(group(loadBalance, {}, ['s1']).problems[0]!.message, /at least 2 sinks/);
  assert.match(defaultProcessor.checkSinks!({}, ['a', 'b'])[0]!.message, /exactly one sink/);
});

// --- validation of sink groups

const BASE = `
a1.sources = r1
a1.channels = c1
a1.sinks = k1 k2 k3
a1.sources.r1.type = seq
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.sinks.k1.type = null
a1.sinks.k1.channel = c1
a1.sinks.k2.type = null
a1.sinks.k2.channel = c1
a1.sinks.k3.type = null
a1.sinks.k3.channel = c1
`;
const errorsOf = (text: string) =>
  configFromText(text, { agent: 'a1', sys: {}, env: {}, file: 'g.properties' }).issues.filter(
    (i) => i.severity === 'error',
  );

test('validation: a group without processor.type is an error with a hint', () => {
  const errs = errorsOf(`${BASE}a1.sinkgroups = g1\na1.sinkgroups.g1.sinks = k1 k2\n`);
  const e = errs.find((x) => /type is missing/.test(x.message));
  assert.ok(e, JSON.stringify(errs));
  assert.equal(e.key, 'a1.sinkgroups.g1.processor.type');
  assert.match(e.hint!, /failover or load_balance/);
});

test('validation: a sink in two groups is an error naming the first group', () => {
  const errs = errorsOf(`${BASE}a1.sinkgroups = g1 g2
a1.sinkgroups.g1.sinks = k1 k2
a1.sinkgroups.g1.processor.type = failover
a1.sinkgroups.g2.sinks = k2 k3
a1.sinkgroups.g2.processor.type = load_balance
`);
  const e = errs.find((x) => /sink 'k2' is already in sink group 'g1' \(g\.properties:15\)/.test(x.message));
  assert.ok(e, JSON.stringify(errs));
  assert.match(e.hint!, /remove it from one of the groups/);
});

test('validation: duplicate failover priorities, unknown priority sinks, misspelt keys, load_balance with one sink', () => {
  const errs = errorsOf(`${BASE}a1.sinkgroups = g1 g2
a1.sinkgroups.g1.sinks = k1 k2
a1.sinkgroups.g1.processor.type = failover
a1.sinkgroups.g1.processor.priority.k1 = 10
a1.sinkgroups.g1.processor.priority.k2 = 10
a1.sinkgroups.g1.processor.priority.k4 = 1
a1.sinkgroups.g1.processor.maxPenalty = 1000
a1.sinkgroups.g2.sinks = k3
a1.sinkgroups.g2.processor.type = load_balance
`);
  const msgs = errs.map((e) => e.message);
  assert.ok(
    msgs.some((m) => /unknown property 'maxPenalty'/.test(m)),
    msgs.join('\n'),
  );
  assert.ok(
    errs.find((e) => /unknown property 'maxPenalty'/.test(e.message))!.hint!.includes("did you mean 'maxpenalty'"),
  );
  assert.ok(
    msgs.some((m) => /at least 2 sinks/.test(m)),
    msgs.join('\n'),
  );
  const ok = errorsOf(`${BASE}a1.sinkgroups = g1
a1.sinkgroups.g1.sinks = k1 k2
a1.sinkgroups.g1.processor.type = failover
a1.sinkgroups.g1.processor.priority.k1 = 10
a1.sinkgroups.g1.processor.priority.k2 = 10
a1.sinkgroups.g1.processor.priority.k4 = 1
`);
  const dup = ok.find((e) => /both have priority 10/.test(e.message));
  assert.ok(dup, JSON.stringify(ok));
  assert.equal(dup.line, 18);
  assert.ok(ok.some((e) => /priority\.k4: sink 'k4' is not in this group/.test(e.message)));
});

test('validation: valid failover and load_balance groups plan with the class names Flume uses', () => {
  const r = configFromText(
    `${BASE}a1.sinkgroups = g1
a1.sinkgroups.g1.sinks = k1 k2 k3
a1.sinkgroups.g1.processor.type = org.apache.flume.sink.LoadBalancingSinkProcessor
a1.sinkgroups.g1.processor.selector = random
a1.sinkgroups.g1.processor.backoff = true
a1.sinkgroups.g1.processor.selector.maxTimeOut = 10000
`,
    { agent: 'a1', sys: {}, env: {} },
  );
  assert.ok(r.plan, JSON.stringify(r.issues));
  const g = r.plan.groups.find((x) => x.name === 'g1')!;
  assert.equal(g.processor.def.type, 'load_balance');
  assert.deepEqual(g.processor.options, { selector: 'random', backoff: true, 'selector.maxTimeOut': 10000 });
});
