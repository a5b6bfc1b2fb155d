/** Updates: states, rates, counts, fill levels and errors written into the cards drawn by topology.ts. */
import type { StatusResponse } from '../api.js';
import { fmtInt, fmtRate, fmtTime, num, setAttr, setText } from './format.js';
import { rate } from './rates.js';
import { edges, find, type Card, type ChannelCard, type GroupBox, type RateCard } from './topology.js';

function setState(c: Card, state: string, failing: boolean): void {
  setAttr(c, 'data-state', state);
  setAttr(c._state, 'data-state', failing && state === 'running' ? 'failing' : state);
  setText(c._state, failing && state === 'running' ? 'failing' : state);
  if (failing) setAttr(c, 'data-health', 'failing');
  else c.removeAttribute('data-health');
}
function setErr(e: HTMLElement, text: string | undefined): void {
  e.hidden = !text;
  setText(e, text || '');
}
// the error text worth showing on a card: the component's error, or its health reason unless that only repeats the
// state
function reason(x: { error?: string; state: string }, why: string | undefined): string {
  if (x.error) return x.error;
  return why && why !== x.state ? why : '';
}
export function setRate(c: Element, attr: string, big: Element, r: number | null): void {
  setAttr(c, attr, r === null ? '' : String(Math.round(r * 100) / 100));
  setText(big, fmtRate(r));
}

export function update(d: StatusResponse): void {
  const unhealthy: Record<string, string> = {};
  (d.health || []).forEach(function (h) {
    unhealthy[h.component] = h.reason;
  });
  d.sources.forEach(function (s) {
    const id = 'source.' + s.name,
      c = find<RateCard>(id);
    if (!c) return;
    const accepted = num(s.counters.EventAcceptedCount),
      received = num(s.counters.EventReceivedCount);
    setState(c, s.state, id in unhealthy);
    setRate(c, 'data-rate', c._rate, rate(id, 'a'));
    setAttr(c, 'data-count', String(accepted));
    const extra = [fmtInt(accepted) + ' accepted'];
    if (received !== accepted) extra.push(fmtInt(received) + ' received');
    const fails =
      num(s.counters.ChannelWriteFail) + num(s.counters.EventReadFail) + num(s.counters.GenericProcessingFail);
    if (fails) extra.push(fmtInt(fails) + ' failures');
    const conns = num(s.counters.OpenConnectionCount);
    if (conns || s.type === 'netcat') {
      extra.push(fmtInt(conns) + (conns === 1 ? ' open connection' : ' open connections'));
    }
    setText(c._sub, extra.join(' · '));
    setErr(c._err, reason(s, unhealthy[id]));
  });
  d.channels.forEach(function (ch) {
    const id = 'channel.' + ch.name,
      c = find<ChannelCard>(id);
    if (!c) return;
    // size and capacity are null for a channel that cannot know them (remote, e.g. Kafka)
    const known = ch.size !== null && ch.capacity !== null;
    const size = num(ch.counters.ChannelSize !== undefined ? ch.counters.ChannelSize : ch.size);
    const cap = num(ch.counters.ChannelCapacity !== undefined ? ch.counters.ChannelCapacity : ch.capacity);
    const pct = known && cap > 0 ? Math.min(100, (size * 100) / cap) : 0;
    setState(c, ch.state, id in unhealthy);
    setRate(c, 'data-rate', c._put, rate(id, 'a'));
    setRate(c, 'data-take-rate', c._take, rate(id, 'b'));
    setAttr(c, 'data-count', String(num(ch.counters.EventPutSuccessCount)));
    const p = String(Math.round(pct * 100) / 100);
    setAttr(c, 'data-fill', known ? p : '');
    setAttr(c._bar, 'aria-valuenow', known ? p : '');
    c._barInner.style.width = pct + '%';
    c._bar.className = 'fillbar' + (pct >= 95 ? ' full' : pct >= 70 ? ' high' : '');
    const shown = pct > 0 && pct < 1 ? '<1' : Math.round(pct);
    const fill = fmtInt(size) + ' / ' + fmtInt(cap) + ' events (' + shown + '% full)';
    const unknownFill = ch.size !== null ? fmtInt(size) + ' events' : 'fill unknown: the events are held remotely';
    setText(c._sub, known ? fill : unknownFill);
    setErr(c._err, reason(ch, unhealthy[id]));
  });
  d.sinks.forEach(function (k) {
    const id = 'sink.' + k.name,
      c = find<RateCard>(id);
    if (!c) return;
    const drained = num(k.counters.EventDrainSuccessCount);
    setState(c, k.state, id in unhealthy);
    setRate(c, 'data-rate', c._rate, rate(id, 'a'));
    setAttr(c, 'data-count', String(drained));
    const extra = [fmtInt(drained) + ' drained', 'from ' + k.channel];
    const fails =
      num(k.counters.EventWriteFail) + num(k.counters.ChannelReadFail) + num(k.counters.ConnectionFailedCount);
    if (fails) extra.push(fmtInt(fails) + ' failures');
    setText(c._sub, extra.join(' · '));
    setErr(c._err, reason(k, unhealthy[id]));
  });
  d.groups.forEach(function (g) {
    if (g.implicit) return;
    const e = find<GroupBox>('sinkgroup.' + g.name);
    if (!e) return;
    const bad = unhealthy['sinkgroup.' + g.name];
    const failure = g.failure ? 'delivery failing since ' + fmtTime(g.failure.since) + ': ' + g.failure.message : '';
    const msg = bad || failure;
    if (msg) setAttr(e, 'data-health', 'failing');
    else e.removeAttribute('data-health');
    setErr(e._err, msg);
  });
  edges.forEach(function (e) {
    // a source's edges light up while it accepts events, a channel's edge to a sink while that sink drains
    const driver = find(e.from.indexOf('source.') === 0 ? e.from : e.to);
    const on = !!driver && Number(driver.getAttribute('data-rate')) > 0;
    setAttr(e.path, 'class', on ? 'edge on' : 'edge');
    setAttr(e.path, 'marker-end', on ? 'url(#arrow-on)' : 'url(#arrow)');
  });
}
