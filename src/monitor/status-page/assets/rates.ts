/** Rates: events per second from the counters of the last few polls. */
import type { StatusResponse } from '../api.js';
import { num } from './format.js';

/** Counters of one poll: component id -> {a: main counter, b: channels' take counter}. */
interface Sample {
  t: number;
  c: Record<string, Record<string, number>>;
}

const WINDOW = 4; // rates are computed over up to the last WINDOW polls (about 3 s)
let samples: Sample[] = [];
let startedAt: number | null = null;

export function record(d: StatusResponse): void {
  if (startedAt !== d.startedAt) {
    samples = [];
    startedAt = d.startedAt;
  }
  const c: Sample['c'] = {};
  d.sources.forEach(function (s) {
    c['source.' + s.name] = { a: num(s.counters.EventAcceptedCount) };
  });
  d.channels.forEach(function (ch) {
    c['channel.' + ch.name] = { a: num(ch.counters.EventPutSuccessCount), b: num(ch.counters.EventTakeSuccessCount) };
  });
  d.sinks.forEach(function (k) {
    c['sink.' + k.name] = { a: num(k.counters.EventDrainSuccessCount) };
  });
  samples.push({ t: d.now, c: c });
  while (samples.length > WINDOW) samples.shift();
}
// events/s of counter k of component id over the window; null when unknown (first poll, counter reset by a reload)
export function rate(id: string, k: 'a' | 'b'): number | null {
  const cur = samples[samples.length - 1];
  if (!cur || !cur.c[id]) return null;
  for (let i = 0; i < samples.length - 1; i++) {
    const s = samples[i],
      v = s.c[id];
    if (!v || v[k] > cur.c[id][k] || cur.t <= s.t) continue;
    return ((cur.c[id][k] - v[k]) * 1000) / (cur.t - s.t);
  }
  return null;
}

/** Seconds the rates are computed over (at least 1). */
export function rateSeconds(): number {
  return Math.max(1, samples.length - 1);
}

/** Forgets the counters seen so far: rates are unknown until two new polls. */
export function forgetRates(): void {
  samples = [];
}
