/** The health banner and the agent and process figures above the topology. */
import type { StatusResponse } from '../api.js';
import { $, el, fmtBytes, fmtDuration, fmtTime, setAttr, setText } from './format.js';

interface Banner extends HTMLElement {
  _key?: string;
}
type BannerItem = [string, string];

function countComponents(d: StatusResponse): number {
  const groups = d.groups.filter(function (g) {
    return !g.implicit;
  }).length;
  return d.sources.length + d.channels.length + d.sinks.length + groups;
}

/** The banner for status `d`, or for `error` (then `d` is the last good status, from `lastOkAt`, or null). */
export function renderBanner(d: StatusResponse | null, error: string | null, lastOkAt = 0): void {
  const b: Banner = $('banner');
  let state: string,
    title: string,
    items: BannerItem[] = [];
  if (error) {
    state = 'unreachable';
    title =
      'Agent unreachable (' +
      error +
      ').' +
      (d ? ' Showing the status from ' + fmtTime(lastOkAt) + '; retrying every second.' : ' Retrying every second.');
  } else if (d!.health && d!.health.length) {
    state = 'failing';
    const health = d!.health;
    title = health.length + (health.length === 1 ? ' component is' : ' components are') + ' not healthy';
    items = health.map(function (h): BannerItem {
      const since = h.since ? ' (for ' + fmtDuration((d!.now - h.since) / 1000) + ')' : '';
      return [h.component, h.state + ': ' + h.reason + since];
    });
  } else {
    state = 'ok';
    title = 'Healthy: all ' + countComponents(d!) + ' components are running';
  }
  const c = error ? undefined : d!.config;
  const warn = function (text: string): void {
    if (state === 'ok') {
      state = 'warning';
      title = 'All ' + countComponents(d!) + ' components are running, but ' + text;
    }
  };
  if (c && c.refused) {
    warn('a new configuration was refused');
    items.push([
      'configuration',
      c.refused.version +
        ' refused at ' +
        fmtTime(c.refused.at) +
        '; ' +
        (c.running ? c.running.version : 'the previous configuration') +
        ' keeps running' +
        (c.refused.issues.length ? ': ' + c.refused.issues.join('; ') : ''),
    ]);
  }
  if (c && c.connection && c.connection.state !== 'connected') {
    warn('the configuration store cannot be reached');
    items.push([
      'configuration store',
      c.store +
        ' ' +
        c.connection.state +
        ' since ' +
        fmtTime(c.connection.since) +
        (c.connection.error ? ' (' + c.connection.error + ')' : '') +
        '; the running configuration stays',
    ]);
  }
  if (!error && !(c && c.refused) && d!.reload && d!.reload.status === 'failed') {
    const r = d!.reload;
    if (state === 'ok') {
      state = 'warning';
      title = 'All ' + countComponents(d!) + ' components are running, but the last configuration reload failed';
    }
    items.push([
      'last reload',
      'failed at ' +
        fmtTime(r.at) +
        '; the previous configuration keeps running' +
        (r.issues && r.issues.length ? ': ' + r.issues.join('; ') : ''),
    ]);
  }
  const key = JSON.stringify([state, title, items]);
  if (b._key === key) return;
  b._key = key;
  b.setAttribute('data-health', state);
  b.textContent = '';
  b.appendChild(el('p', 'banner-title', title));
  if (items.length) {
    const ul = el('ul');
    items.forEach(function (it) {
      const li = el('li');
      li.appendChild(el('code', null, it[0]));
      li.appendChild(document.createTextNode(' — ' + it[1]));
      ul.appendChild(li);
    });
    b.appendChild(ul);
  }
}

export function renderStats(d: StatusResponse): void {
  const st = $('st-state');
  setText(st, d.state);
  st.className = 'v ' + (d.state === 'running' ? 'good' : 'warn');
  const p: Partial<StatusResponse['process']> = d.process || {};
  setText(
    $('st-uptime'),
    p.uptimeSeconds !== undefined ? fmtDuration(p.uptimeSeconds) : fmtDuration((d.now - d.startedAt) / 1000),
  );
  setText($('st-rss'), fmtBytes(p.rssBytes));
  setText($('st-heap'), fmtBytes(p.heapUsedBytes));
  const lag = $('st-lag');
  const lagMs = p.eventLoopLagP99Ms;
  setText(lag, typeof lagMs === 'number' ? lagMs.toFixed(lagMs < 10 ? 1 : 0) + ' ms' : '–');
  const lagClass = typeof lagMs !== 'number' ? '' : lagMs > 200 ? ' bad' : lagMs > 50 ? ' warn' : '';
  lag.className = 'v' + lagClass;
  const r = d.reload,
    rl = $('st-reload');
  let txt = 'none since start',
    cls = 'v';
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
  renderConfig(d);
}

/** Where the configuration comes from, which version runs, and the state of the store's connection. */
function renderConfig(d: StatusResponse): void {
  const c = d.config,
    box = $('st-config-box'),
    v = $('st-config');
  box.hidden = !c;
  if (!c) return;
  const parts = [c.location];
  if (c.running) parts.push(c.running.version + (c.running.fromCache ? ' (from the on-disk cache)' : ''));
  if (c.connection) parts.push(c.connection.state);
  if (c.refused) parts.push(c.refused.version + ' refused');
  setText(v, parts.join(' · '));
  setAttr(box, 'data-store', c.store);
  setAttr(box, 'data-version', c.running ? c.running.version : '');
  setAttr(box, 'data-connection', c.connection ? c.connection.state : '');
  setAttr(box, 'data-refused', c.refused ? c.refused.version : '');
  const bad = c.refused || (c.connection && c.connection.state !== 'connected') || (c.running && c.running.fromCache);
  v.className = 'v' + (bad ? ' warn' : '');
  v.title = c.cache ? 'cache: ' + c.cache : '';
}
