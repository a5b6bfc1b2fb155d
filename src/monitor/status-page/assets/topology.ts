/** The topology: one card per component in three columns (sources, channels, sinks) and SVG connectors. */
import type { ChannelStatus, GroupStatus, SinkStatus, StatusResponse } from '../api.js';
import { $, el } from './format.js';

/** A component's card, with the elements that updates write into. */
export interface Card extends HTMLElement {
  _state: HTMLElement;
  _sub: HTMLElement;
  _err: HTMLElement;
}
/** Sources and sinks: one rate. */
export interface RateCard extends Card {
  _rate: HTMLElement;
}
/** Channels: put and take rates and a fill bar. */
export interface ChannelCard extends Card {
  _put: HTMLElement;
  _take: HTMLElement;
  _bar: HTMLElement;
  _barInner: HTMLElement;
}
export type AnyCard = Card & Partial<RateCard & ChannelCard>;
/** A sink group's box around its sinks. */
export interface GroupBox extends HTMLElement {
  _err: HTMLElement;
}
interface Edge {
  from: string;
  to: string;
  path: SVGPathElement;
}
/** A box in the sink column: a sink group with its sinks, or a lone sink; i, r: its order. */
interface SinkUnit {
  group: GroupStatus | null;
  sinks: SinkStatus[];
  i?: number;
  r?: number;
}

const svgNS = 'http://www.w3.org/2000/svg';
export const topo = $('topo');
const svg = $('edges');
export let edges: Edge[] = [];

export function keyOf(d: StatusResponse): string {
  return JSON.stringify([
    d.sources.map(function (s) {
      return [s.name, s.type, s.channels, s.selector, s.interceptors];
    }),
    d.channels.map(function (c) {
      return [c.name, c.type];
    }),
    d.sinks.map(function (k) {
      return [k.name, k.type, k.channel, k.group];
    }),
    d.groups.map(function (g) {
      return [g.name, g.processor, g.sinks, g.implicit];
    }),
  ]);
}

/** A card with its head; the caller adds its metrics, then finishCard() adds the sub line and the error box. */
function card(kind: string, name: string, type: string): Card {
  const c = el('article', 'card') as Card;
  c.setAttribute('data-component', kind + '.' + name);
  c.setAttribute('data-kind', kind);
  c.setAttribute('aria-label', kind + ' ' + name + ' (' + type + ')');
  const h = el('div', 'card-head');
  h.appendChild(el('h3', null, name));
  h.appendChild(el('span', 'type', type));
  const st = el('span', 'state', '…');
  h.appendChild(st);
  c.appendChild(h);
  c._state = st;
  return c;
}
function metric(label: string): { box: HTMLElement; big: HTMLElement } {
  const m = el('div', 'metric');
  const big = el('span', 'big', '–');
  m.appendChild(big);
  m.appendChild(el('span', 'unit', label));
  return { box: m, big: big };
}
function finishCard(c: Card): void {
  const sub = el('div', 'sub');
  const err = el('div', 'err');
  err.hidden = true;
  c.appendChild(sub);
  c.appendChild(err);
  c._sub = sub;
  c._err = err;
}
/** A source's or a sink's card: one rate. */
function rateCard(kind: string, name: string, type: string, label: string): RateCard {
  const c = card(kind, name, type) as RateCard;
  const ms = el('div', 'metrics');
  const m = metric(label);
  ms.appendChild(m.box);
  c.appendChild(ms);
  c._rate = m.big;
  finishCard(c);
  return c;
}

export function build(d: StatusResponse): void {
  const cols: Record<'source' | 'channel' | 'sink', Element> = {
    source: $('col-sources').querySelector('.items')!,
    channel: $('col-channels').querySelector('.items')!,
    sink: $('col-sinks').querySelector('.items')!,
  };
  Object.values(cols).forEach(function (col) {
    col.textContent = '';
  });
  edges = [];
  while (svg.firstChild) svg.removeChild(svg.firstChild);

  d.sources.forEach(function (s) {
    const c = rateCard('source', s.name, s.type, 'events/s accepted');
    const cfg: string[] = [];
    if (s.channels.length > 1) cfg.push('selector: ' + s.selector);
    if (s.interceptors && s.interceptors.length) cfg.push('interceptors: ' + s.interceptors.join(', '));
    if (cfg.length) c.insertBefore(el('div', 'sub', cfg.join(' · ')), c._err);
    cols.source.appendChild(c);
  });

  // channels in the order sources first mention them, so connectors cross as little as possible
  const order: Record<string, number> = {};
  let n = 0;
  d.sources.forEach(function (s) {
    s.channels.forEach(function (ch) {
      if (!(ch in order)) order[ch] = n++;
    });
  });
  const channels = d.channels.slice().sort(function (a: ChannelStatus, b: ChannelStatus) {
    const x = a.name in order ? order[a.name] : 1e9,
      y = b.name in order ? order[b.name] : 1e9;
    return x - y;
  });
  const chIndex: Record<string, number> = {};
  channels.forEach(function (ch, i) {
    chIndex[ch.name] = i;
    const c = card('channel', ch.name, ch.type) as ChannelCard;
    const ms = el('div', 'metrics');
    const put = metric('put/s');
    const take = metric('take/s');
    ms.appendChild(put.box);
    ms.appendChild(take.box);
    c.appendChild(ms);
    const bar = el('div', 'fillbar');
    bar.setAttribute('role', 'meter');
    bar.setAttribute('aria-label', 'channel ' + ch.name + ' fill');
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', '100');
    const inner = el('div');
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
  const sinkByName: Record<string, SinkStatus> = {};
  d.sinks.forEach(function (k) {
    sinkByName[k.name] = k;
  });
  const units: SinkUnit[] = [];
  const grouped: Record<string, boolean> = {};
  d.groups.forEach(function (g) {
    if (g.implicit) return;
    g.sinks.forEach(function (s) {
      grouped[s] = true;
    });
    units.push({
      group: g,
      sinks: g.sinks
        .map(function (s) {
          return sinkByName[s];
        })
        .filter(Boolean),
    });
  });
  d.sinks.forEach(function (k) {
    if (!grouped[k.name]) units.push({ group: null, sinks: [k] });
  });
  function rank(u: SinkUnit): number {
    let r = 1e9;
    u.sinks.forEach(function (k) {
      if (k.channel in chIndex) r = Math.min(r, chIndex[k.channel]);
    });
    return r;
  }
  units.forEach(function (u, i) {
    u.i = i;
    u.r = rank(u);
  });
  units.sort(function (a, b) {
    return a.r! - b.r! || a.i! - b.i!;
  });
  units.forEach(function (u) {
    let parent: Element = cols.sink;
    if (u.group) {
      const g = el('section', 'group') as GroupBox;
      g.setAttribute('data-component', 'sinkgroup.' + u.group.name);
      g.setAttribute('aria-label', 'sink group ' + u.group.name + ', processor ' + u.group.processor);
      const gh = el('div', 'group-head');
      gh.appendChild(el('span', 'kind', 'group'));
      gh.appendChild(el('h3', null, u.group.name));
      gh.appendChild(el('span', 'type', u.group.processor));
      g.appendChild(gh);
      const gerr = el('div', 'err');
      gerr.hidden = true;
      g.appendChild(gerr);
      g._err = gerr;
      cols.sink.appendChild(g);
      parent = g;
    }
    u.sinks.forEach(function (k) {
      parent.appendChild(rateCard('sink', k.name, k.type, 'events/s drained'));
    });
  });

  Object.values(cols).forEach(function (col) {
    if (!col.firstChild) col.appendChild(el('p', 'empty', 'none'));
  });

  // connectors
  const defs = document.createElementNS(svgNS, 'defs');
  [
    ['arrow', 'var(--edge)'],
    ['arrow-on', 'var(--edge-on)'],
  ].forEach(function (a) {
    const mk = document.createElementNS(svgNS, 'marker');
    mk.setAttribute('id', a[0]);
    mk.setAttribute('viewBox', '0 0 10 10');
    mk.setAttribute('refX', '9');
    mk.setAttribute('refY', '5');
    mk.setAttribute('markerUnits', 'userSpaceOnUse');
    mk.setAttribute('markerWidth', '11');
    mk.setAttribute('markerHeight', '11');
    mk.setAttribute('orient', 'auto-start-reverse');
    const p = document.createElementNS(svgNS, 'path');
    p.setAttribute('d', 'M0,0 L10,5 L0,10 z');
    p.setAttribute('style', 'fill:' + a[1]);
    mk.appendChild(p);
    defs.appendChild(mk);
  });
  svg.appendChild(defs);
  function edge(from: string, to: string): void {
    const p = document.createElementNS(svgNS, 'path') as SVGPathElement;
    p.setAttribute('class', 'edge');
    p.setAttribute('data-edge', from + '->' + to);
    p.setAttribute('marker-end', 'url(#arrow)');
    svg.appendChild(p);
    edges.push({ from: from, to: to, path: p });
  }
  d.sources.forEach(function (s) {
    s.channels.forEach(function (ch) {
      edge('source.' + s.name, 'channel.' + ch);
    });
  });
  d.sinks.forEach(function (k) {
    edge('channel.' + k.channel, 'sink.' + k.name);
  });
}

export function find<T extends HTMLElement = AnyCard>(id: string): T | null {
  return topo.querySelector<T>('[data-component="' + id.replace(/["\\]/g, '\\$&') + '"]');
}

export function drawEdges(): void {
  const box = topo.getBoundingClientRect();
  svg.setAttribute('viewBox', '0 0 ' + box.width + ' ' + box.height);
  edges.forEach(function (e) {
    const a = find(e.from),
      b = find(e.to);
    if (!a || !b) {
      e.path.setAttribute('d', '');
      return;
    }
    const ra = a.getBoundingClientRect(),
      rb = b.getBoundingClientRect();
    const x1 = ra.right - box.left,
      y1 = ra.top + ra.height / 2 - box.top;
    const x2 = rb.left - box.left - 2,
      y2 = rb.top + rb.height / 2 - box.top;
    const dx = Math.max(24, (x2 - x1) / 2);
    e.path.setAttribute(
      'd',
      'M' + x1 + ',' + y1 + ' C' + (x1 + dx) + ',' + y1 + ' ' + (x2 - dx) + ',' + y2 + ' ' + x2 + ',' + y2,
    );
  });
}
