/**
 * The status page's script (the entry module; ../index.ts links it and the modules it imports into the page): polls
 * ./api/status every second, then draws (topology.ts), updates (update.ts) and summarises (summary.ts); on failure
 * it says "agent unreachable" and keeps the last status on screen, greyed out.
 */
import type { StatusResponse } from '../api.js';
import { $, fmtAgo, fmtTime, setAttr, setText } from './format.js';
import { forgetRates, rateSeconds, record } from './rates.js';
import { build, drawEdges, edges, keyOf, topo, type AnyCard } from './topology.js';
import { setRate, update } from './update.js';
import { renderBanner, renderStats } from './summary.js';

const POLL_MS = 1000;
const TIMEOUT_MS = 2500;
let topoKey = '';
let last: StatusResponse | null = null; // last good status
let lastOkAt = 0;

function setConn(state: string, text: string): void {
  setAttr($('conn'), 'data-conn', state);
  setText($('conn-text'), text);
}

function render(d: StatusResponse): void {
  record(d);
  const key = keyOf(d);
  if (key !== topoKey) {
    build(d);
    topoKey = key;
  }
  update(d);
  renderBanner(d, null);
  renderStats(d);
  topo.classList.remove('stale');
  setConn('live', 'live');
  setText(
    $('updated'),
    'Updated ' + fmtTime(d.now) + ' · refreshes every second · rates over the last ' + rateSeconds() + ' s',
  );
  drawEdges();
}

function fail(err: unknown): void {
  // rates are unknown while the agent does not answer: blank them (the counters stay as last seen)
  forgetRates();
  Array.prototype.forEach.call(topo.querySelectorAll<AnyCard>('.card'), function (c: AnyCard) {
    if (c._rate) setRate(c, 'data-rate', c._rate, null);
    if (c._put) setRate(c, 'data-rate', c._put, null);
    if (c._take) setRate(c, 'data-take-rate', c._take, null);
  });
  edges.forEach(function (e) {
    setAttr(e.path, 'class', 'edge');
    setAttr(e.path, 'marker-end', 'url(#arrow)');
  });
  const e = err as { name?: string; message?: string } | null | undefined;
  const msg =
    e && e.name === 'AbortError' ? 'no answer in ' + TIMEOUT_MS / 1000 + ' s' : (e && e.message) || String(err);
  renderBanner(last, msg, lastOkAt);
  topo.classList.add('stale');
  setConn('unreachable', 'agent unreachable');
  setText(
    $('updated'),
    last
      ? 'Last update ' + fmtTime(lastOkAt) + ' (' + fmtAgo(Date.now() - lastOkAt) + ') · retrying every second'
      : 'No status yet · retrying every second',
  );
}

function poll(): void {
  const started = Date.now();
  const ctl = typeof AbortController === 'function' ? new AbortController() : null;
  const timer = setTimeout(function () {
    if (ctl) ctl.abort();
  }, TIMEOUT_MS);
  void fetch('./api/status', { cache: 'no-store', signal: ctl ? ctl.signal : undefined })
    .then(function (res) {
      if (!res.ok) throw new Error('HTTP ' + res.status);
      return res.json() as Promise<StatusResponse>;
    })
    .then(function (d) {
      last = d;
      lastOkAt = Date.now();
      render(d);
    })
    .catch(fail)
    .then(function () {
      clearTimeout(timer);
      setTimeout(poll, Math.max(100, POLL_MS - (Date.now() - started)));
    });
}

if (typeof ResizeObserver === 'function') new ResizeObserver(drawEdges).observe(topo);
else window.addEventListener('resize', drawEdges);
poll();
