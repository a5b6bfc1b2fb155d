/**
 * The live status page served at GET / on the monitoring port: one self-contained HTML document (inline CSS and
 * script, no external URLs). It polls ./api/status every second and draws the agent's topology
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
 *     data-fill    (channels) ChannelSize / ChannelCapacity in percent ("" when the channel cannot know them)
 *   [data-edge="source.r1->channel.c1"]  one SVG path per connection
 *   #banner[data-health="ok" | "failing" | "unreachable" | "unknown"]  the health banner
 *
 * The page is made of real files in ./assets: status.html, status.css and the browser modules (TypeScript checked
 * against lib "dom" with assets/tsconfig.json; `npm run build` puts the compiled .js beside the .html and .css in
 * dist). status.html names the others as {{file}} placeholders; this module inlines them (a script linked with the
 * modules it imports, link.ts), and the escaped agent name for {{agent}}, so the document needs nothing else from
 * the server. /api/status answers in the shape of api.d.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentError } from '../../core/errors.js';
import { linkModules } from './link.js';

export type { StatusResponse } from './api.js';

const ASSETS = new URL('./assets/', import.meta.url);
const PLACEHOLDER = /\{\{([\w.-]+)\}\}/g;
/** What would end an inlined style or script element early. */
const CLOSERS: Record<string, string> = { '.css': '</style', '.js': '</script' };

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

/** Renders the page for one agent name. */
export type StatusPage = (agent: string) => string;

function assetError(message: string, cause?: unknown): AgentError {
  return new AgentError('FLUME_ERR_MONITOR_ASSET', message, { cause });
}

/**
 * Reads the page's assets from `dir` (default: ./assets next to this module) and inlines them into status.html.
 * Throws AgentError FLUME_ERR_MONITOR_ASSET naming the file when one is missing or cannot be inlined.
 */
export function loadStatusPage(dir: URL = ASSETS): StatusPage {
  const read = (name: string): string => {
    const file = fileURLToPath(new URL(name, dir));
    try {
      return fs.readFileSync(file, 'utf8');
    } catch (err) {
      throw assetError(`status page asset ${file} cannot be read: ${(err as Error).message}`, err);
    }
  };
  const inline = (name: string): string => {
    const text = path.extname(name) === '.js' ? linkModules(name, read) : read(name);
    const closer = CLOSERS[path.extname(name)];
    if (closer && text.toLowerCase().includes(closer)) {
      throw assetError(`status page asset ${name} contains '${closer}', which would end its element in the page early`);
    }
    return text;
  };
  // the page as text between placeholders; null where the agent's name goes. Nothing inlined is scanned again.
  const html = read('status.html');
  const segments: (string | null)[] = [];
  let at = 0;
  for (const m of html.matchAll(PLACEHOLDER)) {
    segments.push(html.slice(at, m.index), m[1] === 'agent' ? null : inline(m[1]!));
    at = m.index! + m[0].length;
  }
  segments.push(html.slice(at));
  return (agent) => {
    const name = escapeHtml(agent);
    return segments.map((s) => s ?? name).join('');
  };
}

let page: StatusPage | undefined;

/** The page for `agent`, from the assets installed with this module (read once). */
export function statusPageHtml(agent: string): string {
  page ??= loadStatusPage();
  return page(agent);
}
