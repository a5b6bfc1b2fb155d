/**
 * The live status page (GET / on the monitoring port), through the real CLI:
 *  - plain HTTP: the page is self-contained HTML with the agent name escaped, /api/status lists every component;
 *  - a real headless browser (Debian's /usr/bin/chromium driven by playwright-core): every component of a sample
 *    agent is drawn, its numbers move while events flow, the health banner names the failing component and the
 *    page says "agent unreachable" once the agent is gone.
 * UPDATE_SCREENSHOT=1 writes docs/status-page.png. FLUME_TS_SKIP_BROWSER=1 skips (visibly) the browser test on
 * machines without chromium; otherwise a missing browser or playwright-core fails the test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { AgentProcess, ROOT, freePort, tmpDir, writeConfig } from '../helpers/cli.js';
import { waitFor } from '../helpers/wait.js';
import { statusPageHtml } from '../../src/monitor/status-page/index.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = path.join(ROOT, 'docs', 'status-page.png');

/**
 * r1 seq (200 events, batches of 10) and r2 netcat (fed by the test) replicate into c1 and c2; r3 netcat listens on
 * a port the test holds, so it fails to start and is retried. c1 -> logger k1; c2 -> sink group g1 (load_balance)
 * of two null sinks.
 */
function sampleConfig(a: string, netcatPort: number, busyPort: number): string {
  return `${a}.sources = r1 r2 r3
${a}.channels = c1 c2
${a}.sinks = k1 k2 k3
${a}.sinkgroups = g1

${a}.sources.r1.type = seq
${a}.sources.r1.batchSize = 10
${a}.sources.r1.totalEvents = 200
${a}.sources.r1.channels = c1 c2
${a}.sources.r1.selector.type = replicating

${a}.sources.r2.type = netcat
${a}.sources.r2.bind = 127.0.0.1
${a}.sources.r2.port = ${netcatPort}
${a}.sources.r2.ack-every-event = false
${a}.sources.r2.channels = c1 c2

${a}.sources.r3.type = netcat
${a}.sources.r3.bind = 127.0.0.1
${a}.sources.r3.port = ${busyPort}
${a}.sources.r3.channels = c2

${a}.channels.c1.type = memory
${a}.channels.c1.capacity = 10000
${a}.channels.c1.transactionCapacity = 1000
${a}.channels.c2.type = memory
${a}.channels.c2.capacity = 10000
${a}.channels.c2.transactionCapacity = 1000

${a}.sinks.k1.type = logger
${a}.sinks.k1.channel = c1
${a}.sinks.k2.type = null
${a}.sinks.k2.channel = c2
${a}.sinks.k3.type = null
${a}.sinks.k3.channel = c2

${a}.sinkgroups.g1.sinks = k2 k3
${a}.sinkgroups.g1.processor.type = load_balance
`;
}

const COMPONENTS = [
  'source.r1',
  'source.r2',
  'source.r3',
  'channel.c1',
  'channel.c2',
  'sink.k1',
  'sink.k2',
  'sink.k3',
  'sinkgroup.g1',
];
const EDGES = [
  'source.r1->channel.c1',
  'source.r1->channel.c2',
  'source.r2->channel.c1',
  'source.r2->channel.c2',
  'source.r3->channel.c2',
  'channel.c1->sink.k1',
  'channel.c2->sink.k2',
  'channel.c2->sink.k3',
];

/** Holds a port so that a source configured on it fails to start. */
async function occupyPort(): Promise<net.Server> {
  const s = net.createServer((c) => c.destroy());
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve());
  });
  return s;
}

interface Running {
  agent: AgentProcess;
  monitoringPort: number;
  netcatPort: number;
  cleanup: () => Promise<void>;
}

async function startSampleAgent(name: string): Promise<Running> {
  const dir = tmpDir('flume-ts-status-');
  const busy = await occupyPort();
  const busyPort = (busy.address() as net.AddressInfo).port;
  const netcatPort = await freePort();
  const monitoringPort = await freePort();
  const conf = writeConfig(dir, sampleConfig(name, netcatPort, busyPort));
  const agent = new AgentProcess([
    'agent',
    '-n',
    name,
    '-f',
    conf,
    '--no-reload-conf',
    '-Dflume.monitoring.type=http',
    `-Dflume.monitoring.port=${monitoringPort}`,
    '-Dflume.monitoring.bind=127.0.0.1',
    '-Dflume.root.logger=INFO,console',
  ]);
  const cleanup = async () => {
    await agent.stop();
    await new Promise((r) => busy.close(r));
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await agent.waitForOutput(/Monitoring server listening/);
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { agent, monitoringPort, netcatPort, cleanup };
}

async function getText(url: string): Promise<{ status: number; type: string; body: string }> {
  const res = await fetch(url);
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.text() };
}

test(
  'GET / is a self-contained page with the agent name escaped; /api/status lists every component',
  { timeout: 30_000 },
  async () => {
    const name = `a<b>&"x'`;
    const run = await startSampleAgent(name);
    try {
      const base = `http://127.0.0.1:${run.monitoringPort}`;
      const page = await getText(`${base}/`);
      assert.equal(page.status, 200);
      assert.match(page.type, /^text\/html/);
      assert.ok(page.body.includes('a&lt;b&gt;&amp;&quot;x&#39;'), 'the escaped agent name is on the page');
      assert.ok(!page.body.includes(name), 'the raw agent name never reaches the HTML');
      assert.ok(page.body.includes("fetch('./api/status'"), 'the page polls the status API with a relative URL');
      assert.doesNotMatch(page.body, /(src|href)\s*=\s*["']?(https?:)?\/\//i, 'no external scripts, styles or links');
      assert.equal(statusPageHtml('<script>alert(1)</script>').includes('<script>alert'), false);

      // the status API: every configured component, with Flume's counters
      await waitFor(
        async () => {
          const s = JSON.parse((await getText(`${base}/api/status`)).body);
          return (
            Number(s.sinks.find((k: { name: string }) => k.name === 'k1')?.counters.EventDrainSuccessCount) === 200
          );
        },
        10_000,
        "the seq source's 200 events drained by k1",
      );
      const status = JSON.parse((await getText(`${base}/api/status`)).body);
      assert.equal(status.agent, name);
      assert.deepEqual(status.sources.map((s: { name: string }) => s.name).sort(), ['r1', 'r2', 'r3']);
      assert.deepEqual(status.channels.map((c: { name: string }) => c.name).sort(), ['c1', 'c2']);
      assert.deepEqual(status.sinks.map((k: { name: string; group: string }) => `${k.name}@${k.group}`).sort(), [
        'k1@k1',
        'k2@g1',
        'k3@g1',
      ]);
      const g1 = status.groups.find((g: { name: string }) => g.name === 'g1');
      assert.deepEqual(
        { processor: g1.processor, sinks: g1.sinks, implicit: g1.implicit },
        { processor: 'load_balance', sinks: ['k2', 'k3'], implicit: false },
      );
      assert.equal(status.sources.find((s: { name: string }) => s.name === 'r1').counters.EventAcceptedCount, '200');
      assert.equal(status.channels.find((c: { name: string }) => c.name === 'c2').counters.EventPutSuccessCount, '200');
      assert.ok(
        status.health.some((h: { component: string }) => h.component === 'source.r3'),
        'the source on a taken port is reported',
      );
      assert.equal(typeof status.process.rssBytes, 'number');
      assert.equal(typeof status.now, 'number');
    } finally {
      await run.cleanup();
    }
  },
);

// ---- the browser test ----

interface PwPage {
  goto(url: string, opts?: { waitUntil?: string; timeout?: number }): Promise<unknown>;
  evaluate(expression: string): Promise<unknown>;
  screenshot(opts: { path: string; fullPage?: boolean }): Promise<unknown>;
  on(event: 'pageerror', fn: (err: Error) => void): void;
}
interface PwBrowser {
  newPage(opts?: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' }): Promise<PwPage>;
  close(): Promise<void>;
}
interface PwModule {
  chromium: { launch(opts: { executablePath: string; args: string[]; timeout?: number }): Promise<PwBrowser> };
}

/** The browser, or a reason to skip; throws when it is missing and skipping was not asked for. */
async function loadBrowser(): Promise<{ browser?: PwBrowser; skip?: string }> {
  const skip = process.env.FLUME_TS_SKIP_BROWSER === '1';
  const missing = (what: string) => {
    if (skip) return { skip: `FLUME_TS_SKIP_BROWSER=1 and ${what}: browser test skipped` };
    throw new Error(
      `${what}. The status-page browser test needs Debian's chromium and playwright-core ` +
        '(apt-get install -y chromium; npm ci). Set FLUME_TS_SKIP_BROWSER=1 to skip it.',
    );
  };
  if (skip) return { skip: 'FLUME_TS_SKIP_BROWSER=1: browser test skipped' };
  if (!fs.existsSync(CHROMIUM)) return missing(`${CHROMIUM} is missing`);
  let pw: PwModule;
  try {
    const spec = 'playwright-core';
    pw = (await import(spec)) as PwModule;
  } catch (err) {
    return missing(`playwright-core cannot be loaded (${(err as Error).message})`);
  }
  const browser = await pw.chromium.launch({
    executablePath: CHROMIUM,
    timeout: 20_000,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return { browser };
}

interface Shown {
  state: string | null;
  rate: string | null;
  take: string | null;
  count: string | null;
  fill: string | null;
  text: string;
}

/** What the page shows for every component, read from its data attributes. */
const READ_COMPONENTS = `(() => {
  const out = {};
  for (const e of document.querySelectorAll('[data-component]')) {
    out[e.getAttribute('data-component')] = { state: e.getAttribute('data-state'), rate: e.getAttribute('data-rate'),
      take: e.getAttribute('data-take-rate'), count: e.getAttribute('data-count'), fill: e.getAttribute('data-fill'), text: e.textContent };
  }
  return out;
})()`;

/** Sends `perTick` lines every 100 ms to the netcat source until stopped. */
function feeder(port: number, perTick: number): { stop: () => Promise<number> } {
  const sock = net.connect(port, '127.0.0.1');
  sock.on('error', () => undefined);
  let sent = 0;
  const timer = setInterval(() => {
    let chunk = '';
    for (let i = 0; i < perTick; i++) chunk += `status page event ${sent++}\n`;
    sock.write(chunk);
  }, 100);
  return {
    stop: async () => {
      clearInterval(timer);
      await new Promise<void>((r) => sock.end(() => r()));
      return sent;
    },
  };
}

test(
  'status page in a real browser: topology, moving rates, health, unreachable agent',
  { timeout: 45_000 },
  async (t) => {
    const { browser, skip } = await loadBrowser();
    if (!browser) {
      t.skip(skip);
      return;
    }
    const run = await startSampleAgent('a1');
    let feed: ReturnType<typeof feeder> | undefined;
    const pageErrors: string[] = [];
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`http://127.0.0.1:${run.monitoringPort}/`, { waitUntil: 'load', timeout: 10_000 });
      const shown = async () => (await page.evaluate(READ_COMPONENTS)) as Record<string, Shown>;
      const until = async (cond: (s: Record<string, Shown>) => boolean, what: string, timeoutMs = 10_000) => {
        let last: Record<string, Shown> = {};
        try {
          await waitFor(async () => cond((last = await shown())), timeoutMs, what);
        } catch (err) {
          throw new Error(`${(err as Error).message}\nthe page shows: ${JSON.stringify(last, null, 1)}`, {
            cause: err,
          });
        }
        return last;
      };

      // every component and every connection is drawn
      const first = await until(
        (s) => COMPONENTS.every((c) => c in s) && s['source.r1']!.count === '200',
        'every component on the page, seq done',
      );
      assert.deepEqual(Object.keys(first).sort(), [...COMPONENTS].sort());
      const edges = (await page.evaluate(
        `[...document.querySelectorAll('[data-edge]')].filter((p) => /^M[\\d.]+,[\\d.]+ C/.test(p.getAttribute('d') || '')).map((p) => p.getAttribute('data-edge'))`,
      )) as string[];
      assert.deepEqual(edges.sort(), [...EDGES].sort());
      assert.equal(
        await page.evaluate(
          `document.querySelector('[data-component="sinkgroup.g1"] [data-component="sink.k2"]') !== null && document.querySelector('[data-component="sinkgroup.g1"]').textContent.includes('load_balance')`,
        ),
        true,
        'k2 is boxed inside its group with the processor type',
      );
      for (const c of ['source.r1', 'source.r2', 'channel.c1', 'channel.c2', 'sink.k1', 'sink.k2', 'sink.k3'])
        assert.equal(first[c]!.state, 'running', c);
      assert.equal(first['source.r3']!.state, 'failed');
      assert.match(first['source.r1']!.text, /seq/);
      assert.match(first['channel.c1']!.text, /memory/);
      assert.match(first['sink.k1']!.text, /logger/);
      assert.equal(first['channel.c1']!.fill, '0');

      // the health banner names the failing source and why; the process figures are shown
      const banner = (await page.evaluate(
        `(() => { const b = document.getElementById('banner'); return { health: b.getAttribute('data-health'), text: b.textContent }; })()`,
      )) as { health: string; text: string };
      assert.equal(banner.health, 'failing');
      assert.match(banner.text, /source\.r3/);
      assert.match(banner.text, /EADDRINUSE|in use/i);
      assert.match((await page.evaluate(`document.getElementById('st-rss').textContent`)) as string, /\d MiB/);
      assert.match((await page.evaluate(`document.getElementById('st-lag').textContent`)) as string, /\d ms/);
      assert.match(
        (await page.evaluate(`document.getElementById('st-reload').textContent`)) as string,
        /none since start/,
      );
      // where the configuration came from: the file and its modification time
      const config = (await page.evaluate(
        `(() => { const b = document.getElementById('st-config-box'); return { hidden: b.hidden, store: b.getAttribute('data-store'), text: b.textContent }; })()`,
      )) as { hidden: boolean; store: string; text: string };
      assert.equal(config.hidden, false);
      assert.equal(config.store, 'file');
      assert.match(config.text, /flume-ts-status-.*agent\.properties · files modified at \d{4}-/);

      // numbers move while events flow through r2 -> c1/c2 -> k1, g1
      const before = await until(
        (s) => s['source.r2']!.rate === '0' && s['sink.k1']!.rate === '0',
        'rates settle to 0 once the seq source is done',
      );
      feed = feeder(run.netcatPort, 20);
      const num = (s: Record<string, Shown>, c: string, k: 'rate' | 'take' | 'count') => Number(s[c]![k] || 0);
      const moving = await until(
        (s) =>
          num(s, 'source.r2', 'rate') > 0 &&
          num(s, 'channel.c1', 'rate') > 0 &&
          num(s, 'channel.c1', 'take') > 0 &&
          num(s, 'channel.c2', 'rate') > 0 &&
          num(s, 'sink.k1', 'rate') > 0 &&
          num(s, 'sink.k2', 'rate') + num(s, 'sink.k3', 'rate') > 0,
        'rates above 0 on r2, c1, c2, k1 and g1 while events flow',
      );
      assert.ok(num(moving, 'source.r2', 'count') > num(before, 'source.r2', 'count'));
      assert.ok(num(moving, 'sink.k1', 'count') > num(before, 'sink.k1', 'count'));
      assert.doesNotMatch(moving['source.r2']!.text, /–/, 'the rate is displayed');
      // ...and keep moving: a later read shows higher counters
      await until(
        (s) =>
          num(s, 'source.r2', 'count') >= num(moving, 'source.r2', 'count') + 40 &&
          num(s, 'sink.k1', 'count') > num(moving, 'sink.k1', 'count'),
        'counters keep growing on later polls',
      );
      assert.equal(
        await page.evaluate(`document.querySelectorAll('path.edge.on[data-edge^="source.r2"]').length`),
        2,
        "r2's connectors are lit",
      );

      if (process.env.UPDATE_SCREENSHOT === '1') {
        fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
        await page.screenshot({ path: SCREENSHOT });
      }

      const sent = await feed.stop();
      feed = undefined;
      await until(
        (s) => num(s, 'source.r2', 'count') === sent && num(s, 'sink.k1', 'count') === 200 + sent,
        'every fed event counted',
        10_000,
      );

      // the agent goes away: the page keeps its last picture and says so
      assert.equal(await run.agent.stop(), 0);
      await waitFor(
        async () =>
          (await page.evaluate(`document.getElementById('banner').getAttribute('data-health')`)) === 'unreachable',
        8000,
        'the unreachable banner',
      );
      assert.match((await page.evaluate(`document.getElementById('conn').textContent`)) as string, /agent unreachable/);
      assert.equal(Object.keys(await shown()).length, COMPONENTS.length, 'the last known topology stays on screen');
      assert.deepEqual(pageErrors, [], 'no script errors on the page');
    } finally {
      await feed?.stop();
      await browser.close();
      await run.cleanup();
    }
  },
);
