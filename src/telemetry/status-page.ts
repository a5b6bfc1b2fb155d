/**
 * The live status page served at GET / on the monitoring port: one self-contained HTML document (inline CSS and
 * vanilla JS, no external URLs, no build step). It polls ./api/status every second and draws the agent's topology
 * (sources -> channels -> sink groups/sinks) with per-component rates computed in the browser from successive
 * counter snapshots, channel fill, component states, the health list, the last reload and process figures.
 *
 * Stable hooks for tests and scrapers of the page itself:
 *   [data-component="source.r1" | "channel.c1" | "sink.k1" | "sinkgroup.g1"]  one element per component
 *     data-state   the component's state (running, starting, failed, stopping, stopped)
 *     data-rate    events/s: sources EventAcceptedCount, channels EventPutSuccessCount, sinks EventDrainSuccessCount
 *                  ("" until two polls have been seen)
 *     data-count   the cumulative counter behind data-rate
 *     data-take-rate (channels) EventTakeSuccessCount per second
 *     data-fill    (channels) ChannelSize / ChannelCapacity in percent
 *   [data-edge="source.r1->channel.c1"]  one SVG path per connection
 *   #banner[data-health="ok" | "failing" | "unreachable" | "unknown"]  the health banner
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

export function statusPageHtml(agent: string): string {
  const name = escapeHtml(agent);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; img-src data:">
<meta name="color-scheme" content="light dark">
<title>${name} · flume-ts status</title>
<style>${CSS}</style>
</head>
<body>
<header class="top">
  <div class="brand"><span class="logo" aria-hidden="true"></span><span>flume-ts</span><span class="slash" aria-hidden="true">/</span><h1>agent <span class="agent-name">${name}</span></h1></div>
  <div class="conn" id="conn" data-conn="connecting"><span class="dot" aria-hidden="true"></span><span id="conn-text">connecting…</span></div>
</header>
<main>
  <section id="banner" class="banner" data-health="unknown" role="status" aria-live="polite" aria-atomic="true">
    <p class="banner-title">Waiting for the first status from the agent…</p>
  </section>
  <section class="stats" aria-label="Agent and process">
    <div class="stat"><span class="k">Agent state</span><span class="v" id="st-state">–</span></div>
    <div class="stat"><span class="k">Uptime</span><span class="v" id="st-uptime">–</span></div>
    <div class="stat"><span class="k">Memory (RSS)</span><span class="v" id="st-rss">–</span></div>
    <div class="stat"><span class="k">JS heap</span><span class="v" id="st-heap">–</span></div>
    <div class="stat"><span class="k">Event-loop lag p99</span><span class="v" id="st-lag">–</span></div>
    <div class="stat wide"><span class="k">Last reload</span><span class="v" id="st-reload">–</span></div>
  </section>
  <section class="topo" id="topo" aria-label="Topology">
    <svg id="edges" class="edges" aria-hidden="true" focusable="false"></svg>
    <div class="col" id="col-sources"><h2>Sources</h2><div class="items"></div></div>
    <div class="col" id="col-channels"><h2>Channels</h2><div class="items"></div></div>
    <div class="col" id="col-sinks"><h2>Sinks</h2><div class="items"></div></div>
  </section>
  <footer class="foot">
    <span id="updated">Refreshes every second.</span>
    <nav aria-label="Raw data"><a href="./metrics">/metrics</a><a href="./health">/health</a><a href="./api/status">/api/status</a></nav>
  </footer>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
}

const CSS = String.raw`
:root {
  --bg: #eef1f5; --panel: #ffffff; --ink: #111827; --ink2: #374151; --line: #cbd2db; --soft: #f6f8fa;
  --accent: #1d4ed8; --edge: #9aa4b2; --edge-on: #2563eb;
  --ok: #166534; --ok-bg: #dcfce7; --ok-line: #22c55e;
  --warn: #92400e; --warn-bg: #fef3c7; --warn-line: #f59e0b;
  --bad: #991b1b; --bad-bg: #fee2e2; --bad-line: #ef4444;
  --idle: #374151; --idle-bg: #e5e7eb; --idle-line: #9ca3af;
  --fill: #3b82f6;
  --shadow: 0 1px 2px rgba(16, 24, 40, .06), 0 1px 3px rgba(16, 24, 40, .08);
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #0f141b; --panel: #18202b; --ink: #e8edf3; --ink2: #c3ccd8; --line: #334155; --soft: #1f2937;
    --accent: #93c5fd; --edge: #5b6779; --edge-on: #60a5fa;
    --ok: #bbf7d0; --ok-bg: #14532d; --warn: #fde68a; --warn-bg: #713f12; --bad: #fecaca; --bad-bg: #7f1d1d;
    --idle: #e5e7eb; --idle-bg: #374151; --fill: #60a5fa; --shadow: none;
  }
}
* { box-sizing: border-box; }
html, body { margin: 0; }
body { background: var(--bg); color: var(--ink); font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; }
code, .type, .mono { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; }
a { color: var(--accent); }
a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.top { display: flex; align-items: center; justify-content: space-between; gap: 16px; padding: 12px 28px; background: var(--panel); border-bottom: 1px solid var(--line); }
.brand { display: flex; align-items: center; gap: 10px; font-size: 17px; font-weight: 600; }
.brand h1 { font-size: 17px; margin: 0; font-weight: 600; }
.agent-name { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 1px 8px; }
.logo { width: 22px; height: 22px; border-radius: 6px; background: linear-gradient(135deg, #2563eb, #06b6d4); display: inline-block; }
.slash { color: var(--ink2); font-weight: 400; }
.conn { display: flex; align-items: center; gap: 8px; font-weight: 600; padding: 4px 12px; border-radius: 999px; background: var(--idle-bg); color: var(--idle); }
.conn .dot { width: 10px; height: 10px; border-radius: 50%; background: var(--idle-line); }
.conn[data-conn="live"] { background: var(--ok-bg); color: var(--ok); }
.conn[data-conn="live"] .dot { background: var(--ok-line); }
.conn[data-conn="unreachable"] { background: var(--bad-bg); color: var(--bad); }
.conn[data-conn="unreachable"] .dot { background: var(--bad-line); }
main { padding: 16px 28px 20px; max-width: 1600px; margin: 0 auto; }
.banner { border-radius: 10px; padding: 10px 16px; border: 1px solid var(--idle-line); background: var(--idle-bg); color: var(--idle); border-left-width: 6px; }
.banner p { margin: 0; }
.banner-title { font-weight: 650; }
.banner ul { margin: 6px 0 0; padding-left: 20px; }
.banner li { margin: 2px 0; }
.banner code { font-weight: 600; }
.banner[data-health="ok"] { background: var(--ok-bg); color: var(--ok); border-color: var(--ok-line); }
.banner[data-health="failing"], .banner[data-health="unreachable"] { background: var(--bad-bg); color: var(--bad); border-color: var(--bad-line); }
.banner[data-health="warning"] { background: var(--warn-bg); color: var(--warn); border-color: var(--warn-line); }
.stats { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)) minmax(0, 2fr); gap: 10px; margin: 12px 0 14px; }
.stat { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 8px 12px; display: flex; flex-direction: column; min-width: 0; box-shadow: var(--shadow); }
.stat .k { font-size: 13px; color: var(--ink2); font-weight: 600; }
.stat .v { font-size: 17px; font-weight: 650; font-variant-numeric: tabular-nums; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.v.good { color: var(--ok); } .v.bad { color: var(--bad); } .v.warn { color: var(--warn); }
.topo { position: relative; display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); column-gap: 76px; align-items: stretch; background: var(--panel); border: 1px solid var(--line); border-radius: 12px; padding: 12px 22px 18px; box-shadow: var(--shadow); transition: opacity .3s; }
.topo.stale { opacity: .55; }
.edges { position: absolute; inset: 0; width: 100%; height: 100%; pointer-events: none; overflow: visible; z-index: 2; }
.edge { fill: none; stroke: var(--edge); stroke-width: 2; }
.edge.on { stroke: var(--edge-on); stroke-width: 2.5; stroke-dasharray: 7 5; animation: flow 0.9s linear infinite; }
@keyframes flow { to { stroke-dashoffset: -12; } }
@media (prefers-reduced-motion: reduce) { .edge.on { animation: none; stroke-dasharray: none; } }
.col { position: relative; z-index: 1; display: flex; flex-direction: column; min-width: 0; }
.col h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--ink2); margin: 0 0 8px; }
.items { flex: 1; display: flex; flex-direction: column; justify-content: center; gap: 12px; }
.empty { color: var(--ink2); font-style: italic; }
.card { background: var(--panel); border: 1px solid var(--line); border-left: 5px solid var(--idle-line); border-radius: 10px; padding: 8px 12px 10px; box-shadow: var(--shadow); min-width: 0; }
.card[data-state="running"] { border-left-color: var(--ok-line); }
.card[data-state="starting"], .card[data-health="failing"] { border-left-color: var(--warn-line); }
.card[data-state="failed"] { border-left-color: var(--bad-line); }
.card-head { display: flex; align-items: center; gap: 8px; min-width: 0; }
.card-head h3 { margin: 0; font-size: 16px; font-weight: 700; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.type { font-size: 13px; background: var(--soft); border: 1px solid var(--line); border-radius: 5px; padding: 0 6px; color: var(--ink2); white-space: nowrap; }
.state { margin-left: auto; font-size: 13px; font-weight: 650; padding: 1px 9px; border-radius: 999px; background: var(--idle-bg); color: var(--idle); white-space: nowrap; }
.state[data-state="running"] { background: var(--ok-bg); color: var(--ok); }
.state[data-state="starting"], .state[data-state="failing"] { background: var(--warn-bg); color: var(--warn); }
.state[data-state="failed"] { background: var(--bad-bg); color: var(--bad); }
.metrics { display: flex; gap: 18px; margin-top: 6px; }
.metric { display: flex; align-items: baseline; gap: 6px; min-width: 0; }
.metric .big { font-size: 22px; font-weight: 700; font-variant-numeric: tabular-nums; }
.metric .unit { font-size: 13px; color: var(--ink2); }
.sub { font-size: 13px; color: var(--ink2); margin-top: 2px; font-variant-numeric: tabular-nums; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.err { margin-top: 6px; font-size: 13px; font-weight: 600; color: var(--bad); background: var(--bad-bg); border-radius: 6px; padding: 3px 8px; overflow-wrap: anywhere; }
.err[hidden] { display: none; }
.fillbar { position: relative; height: 12px; border-radius: 6px; background: var(--soft); border: 1px solid var(--line); margin-top: 8px; overflow: hidden; }
.fillbar > div { position: absolute; inset: 0 auto 0 0; width: 0; background: var(--fill); transition: width .4s; }
.fillbar.high > div { background: var(--warn-line); }
.fillbar.full > div { background: var(--bad-line); }
.group { border: 2px dashed var(--line); border-radius: 12px; padding: 6px 10px 10px; background: var(--soft); display: flex; flex-direction: column; gap: 10px; }
.group[data-health="failing"] { border-color: var(--warn-line); }
.group-head { display: flex; align-items: center; gap: 8px; font-size: 14px; }
.group-head h3 { margin: 0; font-size: 14px; font-weight: 700; }
.group-head .kind { color: var(--ink2); font-size: 13px; font-weight: 600; text-transform: uppercase; letter-spacing: .05em; }
.foot { display: flex; justify-content: space-between; align-items: center; gap: 12px; margin-top: 12px; color: var(--ink2); font-size: 14px; }
.foot nav { display: flex; gap: 14px; }
@media (max-width: 900px) {
  .stats { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .topo { grid-template-columns: minmax(0, 1fr); row-gap: 18px; }
  .edges { display: none; }
}
`;

// Plain ES2017 for any browser; no backticks and no dollar-brace in here (this text sits in a template literal).
const SCRIPT = String.raw`
(function () {
  'use strict';
  var POLL_MS = 1000;
  var TIMEOUT_MS = 2500;
  var WINDOW = 4;            // rates are computed over up to the last WINDOW polls (about 3 s)
  var samples = [];          // [{t: serverMs, c: {componentId: {counter: number}}}]
  var startedAt = null;
  var topoKey = '';
  var last = null;           // last good status
  var lastOkAt = 0;
  var svgNS = 'http://www.w3.org/2000/svg';
  var topo = document.getElementById('topo');
  var svg = document.getElementById('edges');
  var edges = [];            // [{from, to, path}]

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function setText(e, text) { if (e.textContent !== text) e.textContent = text; }
  function setAttr(e, k, v) { if (e.getAttribute(k) !== v) e.setAttribute(k, v); }
  function num(s) { var n = Number(s); return isFinite(n) ? n : 0; }
  function fmtInt(n) { return Math.round(n).toLocaleString('en-US'); }
  function fmtRate(r) {
    if (r === null) return '–';
    if (r >= 1e6) return (r / 1e6).toFixed(r >= 1e7 ? 0 : 1) + 'M';
    if (r >= 1e4) return (r / 1e3).toFixed(r >= 1e5 ? 0 : 1) + 'k';
    if (r >= 100) return fmtInt(r);
    if (r >= 10) return r.toFixed(0);
    return r === 0 ? '0' : r.toFixed(1);
  }
  function fmtBytes(b) {
    if (!isFinite(b)) return '–';
    if (b >= 1073741824) return (b / 1073741824).toFixed(2) + ' GiB';
    return (b / 1048576).toFixed(b >= 104857600 ? 0 : 1) + ' MiB';
  }
  function fmtDuration(s) {
    s = Math.max(0, Math.floor(s));
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), ss = s % 60;
    function p(x) { return x < 10 ? '0' + x : String(x); }
    if (d) return d + 'd ' + h + 'h ' + p(m) + 'm';
    if (h) return h + 'h ' + p(m) + 'm ' + p(ss) + 's';
    if (m) return m + 'm ' + p(ss) + 's';
    return ss + 's';
  }
  function fmtTime(ms) { return new Date(ms).toLocaleTimeString('en-GB'); }
  function fmtAgo(ms) { return fmtDuration(ms / 1000) + ' ago'; }

  // ---- rates ----
  function record(d) {
    if (startedAt !== d.startedAt) { samples = []; startedAt = d.startedAt; }
    var c = {};
    d.sources.forEach(function (s) { c['source.' + s.name] = { a: num(s.counters.EventAcceptedCount) }; });
    d.channels.forEach(function (ch) { c['channel.' + ch.name] = { a: num(ch.counters.EventPutSuccessCount), b: num(ch.counters.EventTakeSuccessCount) }; });
    d.sinks.forEach(function (k) { c['sink.' + k.name] = { a: num(k.counters.EventDrainSuccessCount) }; });
    samples.push({ t: d.now, c: c });
    while (samples.length > WINDOW) samples.shift();
  }
  // events/s of counter k of component id over the window; null when unknown (first poll, counter reset by a reload)
  function rate(id, k) {
    var cur = samples[samples.length - 1];
    if (!cur || !cur.c[id]) return null;
    for (var i = 0; i < samples.length - 1; i++) {
      var s = samples[i], v = s.c[id];
      if (!v || v[k] > cur.c[id][k] || cur.t <= s.t) continue;
      return (cur.c[id][k] - v[k]) * 1000 / (cur.t - s.t);
    }
    return null;
  }

  // ---- topology ----
  function keyOf(d) {
    return JSON.stringify([
      d.sources.map(function (s) { return [s.name, s.type, s.channels, s.selector, s.interceptors]; }),
      d.channels.map(function (c) { return [c.name, c.type]; }),
      d.sinks.map(function (k) { return [k.name, k.type, k.channel, k.group]; }),
      d.groups.map(function (g) { return [g.name, g.processor, g.sinks, g.implicit]; })
    ]);
  }

  function card(kind, name, type) {
    var c = el('article', 'card');
    c.setAttribute('data-component', kind + '.' + name);
    c.setAttribute('data-kind', kind);
    c.setAttribute('aria-label', kind + ' ' + name + ' (' + type + ')');
    var h = el('div', 'card-head');
    h.appendChild(el('h3', null, name));
    h.appendChild(el('span', 'type', type));
    var st = el('span', 'state', '…');
    h.appendChild(st);
    c.appendChild(h);
    c._state = st;
    return c;
  }
  function metric(c, label) {
    var m = el('div', 'metric');
    var big = el('span', 'big', '–');
    m.appendChild(big);
    m.appendChild(el('span', 'unit', label));
    return { box: m, big: big };
  }
  function finishCard(c) {
    var sub = el('div', 'sub');
    var err = el('div', 'err');
    err.hidden = true;
    c.appendChild(sub);
    c.appendChild(err);
    c._sub = sub;
    c._err = err;
  }

  function build(d) {
    var cols = { source: $('col-sources').querySelector('.items'), channel: $('col-channels').querySelector('.items'), sink: $('col-sinks').querySelector('.items') };
    Object.keys(cols).forEach(function (k) { cols[k].textContent = ''; });
    edges = [];
    while (svg.firstChild) svg.removeChild(svg.firstChild);

    d.sources.forEach(function (s) {
      var c = card('source', s.name, s.type);
      var ms = el('div', 'metrics');
      var m = metric(c, 'events/s accepted');
      ms.appendChild(m.box);
      c.appendChild(ms);
      c._rate = m.big;
      finishCard(c);
      var cfg = [];
      if (s.channels.length > 1) cfg.push('selector: ' + s.selector);
      if (s.interceptors && s.interceptors.length) cfg.push('interceptors: ' + s.interceptors.join(', '));
      if (cfg.length) c.insertBefore(el('div', 'sub', cfg.join(' · ')), c._err);
      cols.source.appendChild(c);
    });

    // channels in the order sources first mention them, so connectors cross as little as possible
    var order = {};
    var n = 0;
    d.sources.forEach(function (s) { s.channels.forEach(function (ch) { if (!(ch in order)) order[ch] = n++; }); });
    var channels = d.channels.slice().sort(function (a, b) {
      var x = a.name in order ? order[a.name] : 1e9, y = b.name in order ? order[b.name] : 1e9;
      return x - y;
    });
    var chIndex = {};
    channels.forEach(function (ch, i) {
      chIndex[ch.name] = i;
      var c = card('channel', ch.name, ch.type);
      var ms = el('div', 'metrics');
      var put = metric(c, 'put/s');
      var take = metric(c, 'take/s');
      ms.appendChild(put.box);
      ms.appendChild(take.box);
      c.appendChild(ms);
      var bar = el('div', 'fillbar');
      bar.setAttribute('role', 'meter');
      bar.setAttribute('aria-label', 'channel ' + ch.name + ' fill');
      bar.setAttribute('aria-valuemin', '0');
      bar.setAttribute('aria-valuemax', '100');
      var inner = el('div');
      bar.appendChild(inner);
      c.appendChild(bar);
      c._put = put.big;
      c._take = take.big;
      c._bar = bar;
      c._barInner = inner;
      finishCard(c);
      cols.channel.appendChild(c);
    });

    // sink column: non-implicit groups (boxed, with their processor) and lone sinks, ordered by their channels
    var sinkByName = {};
    d.sinks.forEach(function (k) { sinkByName[k.name] = k; });
    var units = [];
    var grouped = {};
    d.groups.forEach(function (g) {
      if (g.implicit) return;
      g.sinks.forEach(function (s) { grouped[s] = true; });
      units.push({ group: g, sinks: g.sinks.map(function (s) { return sinkByName[s]; }).filter(Boolean) });
    });
    d.sinks.forEach(function (k) { if (!grouped[k.name]) units.push({ group: null, sinks: [k] }); });
    function rank(u) {
      var r = 1e9;
      u.sinks.forEach(function (k) { if (k.channel in chIndex) r = Math.min(r, chIndex[k.channel]); });
      return r;
    }
    units.forEach(function (u, i) { u.i = i; u.r = rank(u); });
    units.sort(function (a, b) { return a.r - b.r || a.i - b.i; });
    units.forEach(function (u) {
      var parent = cols.sink;
      if (u.group) {
        var g = el('section', 'group');
        g.setAttribute('data-component', 'sinkgroup.' + u.group.name);
        g.setAttribute('aria-label', 'sink group ' + u.group.name + ', processor ' + u.group.processor);
        var gh = el('div', 'group-head');
        gh.appendChild(el('span', 'kind', 'group'));
        gh.appendChild(el('h3', null, u.group.name));
        gh.appendChild(el('span', 'type', u.group.processor));
        g.appendChild(gh);
        var gerr = el('div', 'err');
        gerr.hidden = true;
        g.appendChild(gerr);
        g._err = gerr;
        cols.sink.appendChild(g);
        parent = g;
      }
      u.sinks.forEach(function (k) {
        var c = card('sink', k.name, k.type);
        var ms = el('div', 'metrics');
        var m = metric(c, 'events/s drained');
        ms.appendChild(m.box);
        c.appendChild(ms);
        c._rate = m.big;
        finishCard(c);
        parent.appendChild(c);
      });
    });

    Object.keys(cols).forEach(function (k) {
      if (!cols[k].firstChild) cols[k].appendChild(el('p', 'empty', 'none'));
    });

    // connectors
    var defs = document.createElementNS(svgNS, 'defs');
    [['arrow', 'var(--edge)'], ['arrow-on', 'var(--edge-on)']].forEach(function (a) {
      var mk = document.createElementNS(svgNS, 'marker');
      mk.setAttribute('id', a[0]);
      mk.setAttribute('viewBox', '0 0 10 10');
      mk.setAttribute('refX', '9');
      mk.setAttribute('refY', '5');
      mk.setAttribute('markerUnits', 'userSpaceOnUse');
      mk.setAttribute('markerWidth', '11');
      mk.setAttribute('markerHeight', '11');
      mk.setAttribute('orient', 'auto-start-reverse');
      var p = document.createElementNS(svgNS, 'path');
      p.setAttribute('d', 'M0,0 L10,5 L0,10 z');
      p.setAttribute('style', 'fill:' + a[1]);
      mk.appendChild(p);
      defs.appendChild(mk);
    });
    svg.appendChild(defs);
    function edge(from, to) {
      var p = document.createElementNS(svgNS, 'path');
      p.setAttribute('class', 'edge');
      p.setAttribute('data-edge', from + '->' + to);
      p.setAttribute('marker-end', 'url(#arrow)');
      svg.appendChild(p);
      edges.push({ from: from, to: to, path: p });
    }
    d.sources.forEach(function (s) { s.channels.forEach(function (ch) { edge('source.' + s.name, 'channel.' + ch); }); });
    d.sinks.forEach(function (k) { edge('channel.' + k.channel, 'sink.' + k.name); });
  }

  function find(id) { return topo.querySelector('[data-component="' + id.replace(/["\\]/g, '\\$&') + '"]'); }

  function drawEdges() {
    var box = topo.getBoundingClientRect();
    svg.setAttribute('viewBox', '0 0 ' + box.width + ' ' + box.height);
    edges.forEach(function (e) {
      var a = find(e.from), b = find(e.to);
      if (!a || !b) { e.path.setAttribute('d', ''); return; }
      var ra = a.getBoundingClientRect(), rb = b.getBoundingClientRect();
      var x1 = ra.right - box.left, y1 = ra.top + ra.height / 2 - box.top;
      var x2 = rb.left - box.left - 2, y2 = rb.top + rb.height / 2 - box.top;
      var dx = Math.max(24, (x2 - x1) / 2);
      e.path.setAttribute('d', 'M' + x1 + ',' + y1 + ' C' + (x1 + dx) + ',' + y1 + ' ' + (x2 - dx) + ',' + y2 + ' ' + x2 + ',' + y2);
    });
  }

  // ---- updates ----
  function setState(c, state, failing) {
    setAttr(c, 'data-state', state);
    setAttr(c._state, 'data-state', failing && state === 'running' ? 'failing' : state);
    setText(c._state, failing && state === 'running' ? 'failing' : state);
    if (failing) setAttr(c, 'data-health', 'failing'); else c.removeAttribute('data-health');
  }
  function setErr(e, text) {
    e.hidden = !text;
    setText(e, text || '');
  }
  // the error text worth showing on a card: the component's error, or its health reason unless that only repeats the state
  function reason(x, why) {
    if (x.error) return x.error;
    return why && why !== x.state ? why : '';
  }
  function setRate(c, attr, big, r) {
    setAttr(c, attr, r === null ? '' : String(Math.round(r * 100) / 100));
    setText(big, fmtRate(r));
  }

  function update(d) {
    var unhealthy = {};
    (d.health || []).forEach(function (h) { unhealthy[h.component] = h.reason; });
    d.sources.forEach(function (s) {
      var id = 'source.' + s.name, c = find(id);
      if (!c) return;
      var accepted = num(s.counters.EventAcceptedCount), received = num(s.counters.EventReceivedCount);
      setState(c, s.state, id in unhealthy);
      setRate(c, 'data-rate', c._rate, rate(id, 'a'));
      setAttr(c, 'data-count', String(accepted));
      var extra = [fmtInt(accepted) + ' accepted'];
      if (received !== accepted) extra.push(fmtInt(received) + ' received');
      var fails = num(s.counters.ChannelWriteFail) + num(s.counters.EventReadFail) + num(s.counters.GenericProcessingFail);
      if (fails) extra.push(fmtInt(fails) + ' failures');
      var conns = num(s.counters.OpenConnectionCount);
      if (conns || s.type === 'netcat') extra.push(fmtInt(conns) + (conns === 1 ? ' open connection' : ' open connections'));
      setText(c._sub, extra.join(' · '));
      setErr(c._err, reason(s, unhealthy[id]));
    });
    d.channels.forEach(function (ch) {
      var id = 'channel.' + ch.name, c = find(id);
      if (!c) return;
      var size = num(ch.counters.ChannelSize !== undefined ? ch.counters.ChannelSize : ch.size);
      var cap = num(ch.counters.ChannelCapacity !== undefined ? ch.counters.ChannelCapacity : ch.capacity);
      var pct = cap > 0 ? Math.min(100, size * 100 / cap) : 0;
      setState(c, ch.state, id in unhealthy);
      setRate(c, 'data-rate', c._put, rate(id, 'a'));
      setRate(c, 'data-take-rate', c._take, rate(id, 'b'));
      setAttr(c, 'data-count', String(num(ch.counters.EventPutSuccessCount)));
      var p = String(Math.round(pct * 100) / 100);
      setAttr(c, 'data-fill', p);
      setAttr(c._bar, 'aria-valuenow', p);
      c._barInner.style.width = pct + '%';
      c._bar.className = 'fillbar' + (pct >= 95 ? ' full' : pct >= 70 ? ' high' : '');
      setText(c._sub, fmtInt(size) + ' / ' + fmtInt(cap) + ' events (' + (pct > 0 && pct < 1 ? '<1' : Math.round(pct)) + '% full)');
      setErr(c._err, reason(ch, unhealthy[id]));
    });
    d.sinks.forEach(function (k) {
      var id = 'sink.' + k.name, c = find(id);
      if (!c) return;
      var drained = num(k.counters.EventDrainSuccessCount);
      setState(c, k.state, id in unhealthy);
      setRate(c, 'data-rate', c._rate, rate(id, 'a'));
      setAttr(c, 'data-count', String(drained));
      var extra = [fmtInt(drained) + ' drained', 'from ' + k.channel];
      var fails = num(k.counters.EventWriteFail) + num(k.counters.ChannelReadFail) + num(k.counters.ConnectionFailedCount);
      if (fails) extra.push(fmtInt(fails) + ' failures');
      setText(c._sub, extra.join(' · '));
      setErr(c._err, reason(k, unhealthy[id]));
    });
    d.groups.forEach(function (g) {
      if (g.implicit) return;
      var e = find('sinkgroup.' + g.name);
      if (!e) return;
      var bad = unhealthy['sinkgroup.' + g.name];
      var msg = bad || (g.failure ? 'delivery failing since ' + fmtTime(g.failure.since) + ': ' + g.failure.message : '');
      if (msg) setAttr(e, 'data-health', 'failing'); else e.removeAttribute('data-health');
      setErr(e._err, msg);
    });
    edges.forEach(function (e) {
      // a source's edges light up while it accepts events, a channel's edge to a sink while that sink drains
      var driver = find(e.from.indexOf('source.') === 0 ? e.from : e.to);
      var on = !!driver && Number(driver.getAttribute('data-rate')) > 0;
      setAttr(e.path, 'class', on ? 'edge on' : 'edge');
      setAttr(e.path, 'marker-end', on ? 'url(#arrow-on)' : 'url(#arrow)');
    });
  }

  function countComponents(d) {
    var groups = d.groups.filter(function (g) { return !g.implicit; }).length;
    return d.sources.length + d.channels.length + d.sinks.length + groups;
  }

  function renderBanner(d, error) {
    var b = $('banner');
    var state, title, items = [];
    if (error) {
      state = 'unreachable';
      title = 'Agent unreachable (' + error + ').' + (last ? ' Showing the status from ' + fmtTime(lastOkAt) + '; retrying every second.' : ' Retrying every second.');
    } else if (d.health && d.health.length) {
      state = 'failing';
      title = d.health.length + (d.health.length === 1 ? ' component is' : ' components are') + ' not healthy';
      items = d.health.map(function (h) {
        return [h.component, h.state + ': ' + h.reason + (h.since ? ' (for ' + fmtDuration((d.now - h.since) / 1000) + ')' : '')];
      });
    } else {
      state = 'ok';
      title = 'Healthy: all ' + countComponents(d) + ' components are running';
    }
    if (!error && d.reload && d.reload.status === 'failed') {
      if (state === 'ok') {
        state = 'warning';
        title = 'All ' + countComponents(d) + ' components are running, but the last configuration reload failed';
      }
      items.push(['last reload', 'failed at ' + fmtTime(d.reload.at) + '; the previous configuration keeps running' + (d.reload.issues && d.reload.issues.length ? ': ' + d.reload.issues.join('; ') : '')]);
    }
    var key = JSON.stringify([state, title, items]);
    if (b._key === key) return;
    b._key = key;
    b.setAttribute('data-health', state);
    b.textContent = '';
    b.appendChild(el('p', 'banner-title', title));
    if (items.length) {
      var ul = el('ul');
      items.forEach(function (it) {
        var li = el('li');
        li.appendChild(el('code', null, it[0]));
        li.appendChild(document.createTextNode(' — ' + it[1]));
        ul.appendChild(li);
      });
      b.appendChild(ul);
    }
  }

  function renderStats(d) {
    var st = $('st-state');
    setText(st, d.state);
    st.className = 'v ' + (d.state === 'running' ? 'good' : 'warn');
    var p = d.process || {};
    setText($('st-uptime'), p.uptimeSeconds !== undefined ? fmtDuration(p.uptimeSeconds) : fmtDuration((d.now - d.startedAt) / 1000));
    setText($('st-rss'), fmtBytes(p.rssBytes));
    setText($('st-heap'), fmtBytes(p.heapUsedBytes));
    var lag = $('st-lag');
    setText(lag, typeof p.eventLoopLagP99Ms === 'number' ? p.eventLoopLagP99Ms.toFixed(p.eventLoopLagP99Ms < 10 ? 1 : 0) + ' ms' : '–');
    lag.className = 'v' + (p.eventLoopLagP99Ms > 200 ? ' bad' : p.eventLoopLagP99Ms > 50 ? ' warn' : '');
    var r = d.reload, rl = $('st-reload'), txt = 'none since start', cls = 'v';
    if (r && r.status === 'ok') {
      txt = 'ok at ' + fmtTime(r.at) + ' (' + r.count + (r.count === 1 ? ' reload)' : ' reloads)');
      cls = 'v good';
    } else if (r && r.status === 'failed') {
      txt = 'failed at ' + fmtTime(r.at);
      cls = 'v bad';
    }
    setText(rl, txt);
    rl.className = cls;
    rl.title = r && r.issues ? r.issues.join('\n') : '';
  }

  function setConn(state, text) {
    setAttr($('conn'), 'data-conn', state);
    setText($('conn-text'), text);
  }

  function render(d) {
    record(d);
    var key = keyOf(d);
    if (key !== topoKey) { build(d); topoKey = key; }
    update(d);
    renderBanner(d, null);
    renderStats(d);
    topo.classList.remove('stale');
    setConn('live', 'live');
    setText($('updated'), 'Updated ' + fmtTime(d.now) + ' · refreshes every second · rates over the last ' + Math.max(1, samples.length - 1) + ' s');
    drawEdges();
  }

  function fail(err) {
    // rates are unknown while the agent does not answer: blank them (the counters stay as last seen)
    samples = [];
    Array.prototype.forEach.call(topo.querySelectorAll('.card'), function (c) {
      if (c._rate) setRate(c, 'data-rate', c._rate, null);
      if (c._put) setRate(c, 'data-rate', c._put, null);
      if (c._take) setRate(c, 'data-take-rate', c._take, null);
    });
    edges.forEach(function (e) {
      setAttr(e.path, 'class', 'edge');
      setAttr(e.path, 'marker-end', 'url(#arrow)');
    });
    var msg = err && err.name === 'AbortError' ? 'no answer in ' + TIMEOUT_MS / 1000 + ' s' : (err && err.message) || String(err);
    renderBanner(last, msg);
    topo.classList.add('stale');
    setConn('unreachable', 'agent unreachable');
    setText($('updated'), last ? 'Last update ' + fmtTime(lastOkAt) + ' (' + fmtAgo(Date.now() - lastOkAt) + ') · retrying every second' : 'No status yet · retrying every second');
  }

  function poll() {
    var started = Date.now();
    var ctl = typeof AbortController === 'function' ? new AbortController() : null;
    var timer = setTimeout(function () { if (ctl) ctl.abort(); }, TIMEOUT_MS);
    fetch('./api/status', { cache: 'no-store', signal: ctl ? ctl.signal : undefined })
      .then(function (res) {
        if (!res.ok) throw new Error('HTTP ' + res.status);
        return res.json();
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
})();
`;
