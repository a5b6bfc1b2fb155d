/** DOM and number formatting helpers of the status page. */

export function $(id: string): HTMLElement {
  return document.getElementById(id)!;
}
export function el(tag: string, cls?: string | null, text?: string | null): HTMLElement {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined && text !== null) e.textContent = text;
  return e;
}
export function setText(e: Element, text: string): void {
  if (e.textContent !== text) e.textContent = text;
}
export function setAttr(e: Element, k: string, v: string): void {
  if (e.getAttribute(k) !== v) e.setAttribute(k, v);
}
export function num(s: unknown): number {
  const n = Number(s);
  return isFinite(n) ? n : 0;
}
export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
export function fmtRate(r: number | null): string {
  if (r === null) return '–';
  if (r >= 1e6) return (r / 1e6).toFixed(r >= 1e7 ? 0 : 1) + 'M';
  if (r >= 1e4) return (r / 1e3).toFixed(r >= 1e5 ? 0 : 1) + 'k';
  if (r >= 100) return fmtInt(r);
  if (r >= 10) return r.toFixed(0);
  return r === 0 ? '0' : r.toFixed(1);
}
export function fmtBytes(b: number | undefined): string {
  if (b === undefined || !isFinite(b)) return '–';
  if (b >= 1073741824) return (b / 1073741824).toFixed(2) + ' GiB';
  return (b / 1048576).toFixed(b >= 104857600 ? 0 : 1) + ' MiB';
}
export function fmtDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400),
    h = Math.floor((s % 86400) / 3600),
    m = Math.floor((s % 3600) / 60),
    ss = s % 60;
  function p(x: number): string {
    return x < 10 ? '0' + x : String(x);
  }
  if (d) return d + 'd ' + h + 'h ' + p(m) + 'm';
  if (h) return h + 'h ' + p(m) + 'm ' + p(ss) + 's';
  if (m) return m + 'm ' + p(ss) + 's';
  return ss + 's';
}
export function fmtTime(ms: number | undefined): string {
  return new Date(ms as number).toLocaleTimeString('en-GB');
}
export function fmtAgo(ms: number): string {
  return fmtDuration(ms / 1000) + ' ago';
}
