// Baseline vs canary as an SVG line chart (null points leave gaps), with a text alternative.
import { secs } from './dom.js';

const NS = 'http://www.w3.org/2000/svg';

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const fmt = (v) => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(2) : String(Math.round(v * 1000) / 1000));

export function lineChart({ title, start, step, baseline = [], canary = [] }) {
  const W = 420, H = 180, L = 56, R = 10, T = 24, B = 28;
  const all = [...baseline, ...canary].filter((v) => v !== null && Number.isFinite(v));
  const n = Math.max(baseline.length, canary.length, 2);
  let lo = all.length ? Math.min(...all) : 0, hi = all.length ? Math.max(...all) : 1;
  if (lo === hi) { lo -= 1; hi += 1; }
  const x = (i) => L + (i / (n - 1)) * (W - L - R);
  const y = (v) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const mean = (a) => { const v = a.filter((q) => q !== null); return v.length ? fmt(v.reduce((p, q) => p + q, 0) / v.length) : 'no data'; };
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', class: 'chart',
    'aria-label': `${title}: baseline mean ${mean(baseline)}, canary mean ${mean(canary)}, ${n} points every ${step || '?'}s` });
  svg.append(s('title', {}, `${title} — baseline vs canary`));
  svg.append(s('text', { x: L, y: 14, class: 'ct' }, title));
  svg.append(s('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis' }));
  svg.append(s('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis' }));
  svg.append(s('text', { x: L - 4, y: T + 4, 'text-anchor': 'end', class: 'tick' }, fmt(hi)));
  svg.append(s('text', { x: L - 4, y: H - B, 'text-anchor': 'end', class: 'tick' }, fmt(lo)));
  start = secs(start);
  if (start) {
    const t = (sec) => new Date(sec * 1000).toISOString().slice(11, 16);
    svg.append(s('text', { x: L, y: H - 8, class: 'tick' }, t(start)));
    svg.append(s('text', { x: W - R, y: H - 8, 'text-anchor': 'end', class: 'tick' }, t(start + (n - 1) * (step || 60))));
  }
  for (const [vals, cls] of [[baseline, 'baseline'], [canary, 'canary']]) {
    let d = '';
    let pen = false;
    vals.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) { pen = false; return; }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    if (d) svg.append(s('path', { d, class: `line ${cls}` }));
  }
  svg.append(s('text', { x: W - R - 120, y: 14, class: 'legend baseline' }, '— baseline'));
  svg.append(s('text', { x: W - R - 50, y: 14, class: 'legend canary' }, '— canary'));
  return svg;
}
