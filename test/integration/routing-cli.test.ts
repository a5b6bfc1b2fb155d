/**
 * Routing through the real CLI: replicating fan-out, multiplexing by a header set by an interceptor, regex_filter,
 * and a failover group whose primary breaks and recovers (zero loss, order kept, switch times reported).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { AgentProcess, freePort, tcpExchange, tmpDir, writeConfig } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';

/** Lines of every file under `dir`, files in file_roll name order (`<epoch ms>-<n>`). */
function linesIn(dir: string): string[] {
  let names: string[];
  try {
    if (!fs.statSync(dir).isDirectory()) return [];
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const key = (n: string) => n.split('-').map(Number);
  names.sort((a, b) => {
    const [a1 = 0, a2 = 0] = key(a);
    const [b1 = 0, b2 = 0] = key(b);
    return a1 - b1 || a2 - b2;
  });
  const out: string[] = [];
  for (const n of names) {
    const text = fs.readFileSync(path.join(dir, n), 'utf8');
    out.push(...text.split('\n').filter((l) => l !== ''));
  }
  return out;
}

function filesIn(dir: string): string[][] {
  return fs
    .readdirSync(dir)
    .sort()
    .map((n) =>
      fs
        .readFileSync(path.join(dir, n), 'utf8')
        .split('\n')
        .filter((l) => l !== ''),
    );
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => String(from + i));

async function withAgent(
  config: string,
  fn: (agent: AgentProcess, dir: string) => Promise<void>,
  dir = tmpDir('flume-routing-'),
): Promise<void> {
  const file = writeConfig(dir, config);
  const agent = AgentProcess.agent(file);
  try {
    await agent.waitForOutput(/Agent started/);
    await fn(agent, dir);
  } finally {
    await agent.stop('SIGKILL').catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function send(port: number, lines: string[]): Promise<void> {
  const reply = await tcpExchange(port, `${lines.join('\n')}\n`, {
    until: (r) => (r.match(/OK\n/g)?.length ?? 0) >= lines.length,
    timeoutMs: 10_000,
  });
  assert.equal(reply.match(/OK\n/g)?.length, lines.length, `acks: ${reply.slice(0, 200)}`);
}

test('replicating: two file_roll sinks receive identical output', async () => {
  const dir = tmpDir('flume-routing-');
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  fs.mkdirSync(a);
  fs.mkdirSync(b);
  await withAgent(
    `
a1.sources = r1
a1.channels = c1 c2
a1.sinks = k1 k2
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = 5000
a1.sources.r1.batchSize = 100
a1.sources.r1.channels = c1 c2
a1.channels.c1.type = memory
a1.channels.c1.capacity = 10000
a1.channels.c1.transactionCapacity = 1000
a1.channels.c2.type = memory
a1.channels.c2.capacity = 10000
a1.channels.c2.transactionCapacity = 1000
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = ${a}
a1.sinks.k1.sink.rollInterval = 0
a1.sinks.k2.type = file_roll
a1.sinks.k2.channel = c2
a1.sinks.k2.sink.directory = ${b}
a1.sinks.k2.sink.rollInterval = 0
`,
    async (agent) => {
      await waitFor(
        () => linesIn(a).length >= 5000 && linesIn(b).length >= 5000,
        20_000,
        'both sinks wrote 5000 events',
      );
      assert.equal(await agent.stop(), 0);
      const fa = filesIn(a);
      const fb = filesIn(b);
      assert.deepEqual(fa.flat(), range(0, 5000));
      assert.deepEqual(fb.flat(), fa.flat(), 'identical output');
    },
    dir,
  );
});

test('multiplexing: routes by a header an interceptor extracted; default and optional channels', async () => {
  const dir = tmpDir('flume-routing-');
  const dirs = { red: path.join(dir, 'red'), blue: path.join(dir, 'blue'), other: path.join(dir, 'other') };
  for (const d of Object.values(dirs)) fs.mkdirSync(d);
  const port = await freePort();
  await withAgent(
    `
a1.sources = r1
a1.channels = c1 c2 c3
a1.sinks = k1 k2 k3
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${port}
a1.sources.r1.channels = c1 c2 c3
a1.sources.r1.interceptors = color
a1.sources.r1.interceptors.color.type = regex_extractor
a1.sources.r1.interceptors.color.regex = ^(\\\\w+):
a1.sources.r1.interceptors.color.serializers = s1
a1.sources.r1.interceptors.color.serializers.s1.name = color
a1.sources.r1.selector.type = multiplexing
a1.sources.r1.selector.header = color
a1.sources.r1.selector.mapping.red = c1
a1.sources.r1.selector.mapping.blue = c2
a1.sources.r1.selector.optional.red = c3
a1.sources.r1.selector.default = c3
a1.channels.c1.type = memory
a1.channels.c2.type = memory
a1.channels.c3.type = memory
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = ${dirs.red}
a1.sinks.k1.sink.rollInterval = 0
a1.sinks.k2.type = file_roll
a1.sinks.k2.channel = c2
a1.sinks.k2.sink.directory = ${dirs.blue}
a1.sinks.k2.sink.rollInterval = 0
a1.sinks.k3.type = file_roll
a1.sinks.k3.channel = c3
a1.sinks.k3.sink.directory = ${dirs.other}
a1.sinks.k3.sink.rollInterval = 0
`,
    async (agent) => {
      await send(port, ['red:1', 'blue:2', 'green:3', 'RED:4', 'red:5', 'no header here', 'blue:6']);
      await waitFor(
        () => linesIn(dirs.red).length >= 2 && linesIn(dirs.blue).length >= 2 && linesIn(dirs.other).length >= 5,
        10_000,
        'routed events',
      );
      assert.equal(await agent.stop(), 0);
      assert.deepEqual(linesIn(dirs.red), ['red:1', 'red:5']);
      assert.deepEqual(linesIn(dirs.blue), ['blue:2', 'blue:6']);
      assert.deepEqual(
        linesIn(dirs.other).sort(),
        ['RED:4', 'green:3', 'no header here', 'red:1', 'red:5'],
        'default (unmapped, other case, no header) plus the optional copy of red',
      );
    },
    dir,
  );
});

test('regex_filter: include and exclude', async () => {
  const dir = tmpDir('flume-routing-');
  const inc = path.join(dir, 'inc');
  const exc = path.join(dir, 'exc');
  fs.mkdirSync(inc);
  fs.mkdirSync(exc);
  await withAgent(
    `
a1.sources = r1 r2
a1.channels = c1 c2
a1.sinks = k1 k2
a1.sources.r1.type = seq
a1.sources.r1.totalEvents = 1000
a1.sources.r1.batchSize = 50
a1.sources.r1.channels = c1
a1.sources.r1.interceptors = f
a1.sources.r1.interceptors.f.type = regex_filter
a1.sources.r1.interceptors.f.regex = 7$
a1.sources.r2.type = seq
a1.sources.r2.totalEvents = 1000
a1.sources.r2.batchSize = 50
a1.sources.r2.channels = c2
a1.sources.r2.interceptors = f
a1.sources.r2.interceptors.f.type = org.apache.flume.interceptor.RegexFilteringInterceptor$Builder
a1.sources.r2.interceptors.f.regex = 7$
a1.sources.r2.interceptors.f.excludeEvents = true
a1.channels.c1.type = memory
a1.channels.c2.type = memory
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = ${inc}
a1.sinks.k1.sink.rollInterval = 0
a1.sinks.k2.type = file_roll
a1.sinks.k2.channel = c2
a1.sinks.k2.sink.directory = ${exc}
a1.sinks.k2.sink.rollInterval = 0
`,
    async (agent) => {
      const all = range(0, 1000);
      await waitFor(() => linesIn(inc).length >= 100 && linesIn(exc).length >= 900, 15_000, 'filtered events');
      assert.equal(await agent.stop(), 0);
      assert.deepEqual(
        linesIn(inc),
        all.filter((n) => n.endsWith('7')),
      );
      assert.deepEqual(
        linesIn(exc),
        all.filter((n) => !n.endsWith('7')),
      );
    },
    dir,
  );
});

test('failover: the primary breaks and recovers; zero loss, order kept, switch times reported', async (t) => {
  const dir = tmpDir('flume-routing-');
  const primary = path.join(dir, 'primary');
  const parked = path.join(dir, 'primary.parked');
  const secondary = path.join(dir, 'secondary');
  fs.mkdirSync(primary);
  fs.mkdirSync(secondary);
  const port = await freePort();
  await withAgent(
    `
a1.sources = r1
a1.channels = c1
a1.sinks = k1 k2
a1.sinkgroups = g1
a1.sources.r1.type = netcat
a1.sources.r1.bind = 127.0.0.1
a1.sources.r1.port = ${port}
a1.sources.r1.channels = c1
a1.channels.c1.type = memory
a1.channels.c1.capacity = 100000
a1.channels.c1.transactionCapacity = 1000
a1.sinks.k1.type = file_roll
a1.sinks.k1.channel = c1
a1.sinks.k1.sink.directory = ${primary}
a1.sinks.k1.sink.rollInterval = 100ms
a1.sinks.k1.sink.batchSize = 100
a1.sinks.k2.type = file_roll
a1.sinks.k2.channel = c1
a1.sinks.k2.sink.directory = ${secondary}
a1.sinks.k2.sink.rollInterval = 0
a1.sinks.k2.sink.batchSize = 100
a1.sinkgroups.g1.sinks = k1 k2
a1.sinkgroups.g1.processor.type = failover
a1.sinkgroups.g1.processor.priority.k1 = 10
a1.sinkgroups.g1.processor.priority.k2 = 5
a1.sinkgroups.g1.processor.maxpenalty = 1000
`,
    async (agent) => {
      let next = 0;
      const sendNext = async (n: number) => {
        await send(port, range(next, next + n));
        next += n;
      };
      const delivered = () => [...linesIn(primary), ...linesIn(parked), ...linesIn(secondary)];
      /** Sends 10 events every 50 ms until `cond` holds (at most 10 s). */
      const trickleUntil = async (cond: () => boolean, since: number, what: string) => {
        while (!cond()) {
          assert.ok(performance.now() - since < 10_000, `timed out: ${what}`);
          await sendNext(10);
          await new Promise((r) => setTimeout(r, 50));
        }
      };

      // 1. the primary takes everything
      await sendNext(300);
      await waitFor(() => linesIn(primary).length === 300, 10_000, 'primary has the first 300 events');
      assert.deepEqual(linesIn(secondary), []);

      // 2. break the primary: its directory becomes a regular file (works as root, unlike chmod 000);
      //    file_roll fails when it starts its next file (every 100 ms)
      fs.renameSync(primary, parked);
      fs.writeFileSync(primary, 'not a directory');
      const tBreak = performance.now();
      // a trickle: the batch that reaches the primary after its next roll fails and moves to the secondary
      await trickleUntil(() => linesIn(secondary).length > 0, tBreak, 'the secondary takes over');
      const switchMs = performance.now() - tBreak;
      await sendNext(300);
      await waitFor(() => delivered().length === next, 10_000, 'every event delivered while the primary is down');

      // 3. repair the primary; keep a trickle going until it delivers again
      fs.rmSync(primary);
      fs.renameSync(parked, primary);
      const tRepair = performance.now();
      const before = new Set(linesIn(primary));
      await trickleUntil(
        () => linesIn(primary).some((l) => !before.has(l)),
        tRepair,
        'the group fails back to the primary',
      );
      const failbackMs = performance.now() - tRepair;
      const secondaryDone = linesIn(secondary).length;
      await sendNext(200);
      await waitFor(() => delivered().length === next, 10_000, 'everything delivered after the failback');
      assert.equal(linesIn(secondary).length, secondaryDone, 'after the failback the primary gets every batch');

      assert.equal(await agent.stop(), 0);
      const p = linesIn(primary).map(Number);
      const s = linesIn(secondary).map(Number);
      // zero lost, none duplicated
      assert.deepEqual(
        [...p, ...s].sort((x, y) => x - y),
        range(0, next).map(Number),
      );
      // order within each path
      for (const [name, seq] of [
        ['primary', p],
        ['secondary', s],
      ] as const) {
        for (let i = 1; i < seq.length; i++)
          assert.ok(seq[i]! > seq[i - 1]!, `${name} out of order at ${i}: ${seq[i - 1]} then ${seq[i]}`);
      }
      assert.ok(s.length > 0 && s[0]! >= 300 && s[s.length - 1]! < next - 200);
      assert.match(agent.stdout, /Failing over to a lower-priority sink/);
      assert.match(agent.stdout, /Failing back to a higher-priority sink/);
      const report = `failover: switch ${switchMs.toFixed(0)} ms after the break, failback ${failbackMs.toFixed(0)} ms after the repair; ${next} events, ${s.length} via the secondary, 0 lost, 0 duplicated`;
      t.diagnostic(report);
      console.log(report);
    },
    dir,
  );
});
