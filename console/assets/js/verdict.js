// The live verdict: `GET /deployments/{id}/verdict` (anytime-valid, so refreshing it while you
// look is safe). The detail page refreshes it every 15 s while the canary is ACTIVE; this module
// draws the decision and one row per metric.
import { api } from './api.js';
import { h, replace, errorBox, secs } from './dom.js';
import { lineChart } from './chart.js';

const LABEL = {
  'canary-worse': 'Canary worse',
  'canary-better': 'Canary better',
  'no-difference-yet': 'No difference yet',
};

const num = (x) => (typeof x === 'number' ? (Math.abs(x) >= 1e6 ? x.toExponential(2) : x.toFixed(2)) : '—');

export function renderVerdict(v) {
  const rows = (v.metrics || []).map((m) => h('tr', {},
    h('th', { scope: 'row' }, m.name),
    h('td', {}, m.test),
    h('td', { class: `d-${m.decision}` }, LABEL[m.decision] || m.decision),
    h('td', {}, `${num(m.eValue)} / ${num(m.threshold)}`),
    h('td', {}, `${m.samples.baseline} / ${m.samples.canary}`),
    h('td', {}, num(m.effect))));
  return h('div', {},
    h('p', {}, h('span', { class: `badge d-${v.decision}`, id: 'live-decision' }, LABEL[v.decision] || v.decision),
      ` α = ${v.alpha}`, v.source ? ` · ${v.source}, ${v.periodSeconds} s periods` : '',
      v.through ? ` · counted through ${new Date(secs(v.through) * 1000).toISOString().slice(11, 19)}Z` : ''),
    rows.length ? h('table', { class: 'small', id: 'live-metrics' },
      h('caption', {}, 'Each metric decides when its e-value reaches its threshold'),
      h('thead', {}, h('tr', {}, ['Metric', 'Test', 'Decision', 'E-value / threshold', 'Periods (baseline / canary)', 'Effect']
        .map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, rows)) : null,
    h('div', { class: 'charts', id: 'live-charts' }, (v.metrics || []).filter((m) => m.recent && m.recent.baseline.length).map((m) =>
      lineChart({ title: m.name, start: m.recent.start, step: m.recent.stepSeconds, baseline: m.recent.baseline, canary: m.recent.canary }))),
    (v.notes || []).map((n) => h('p', { class: 'muted' }, n)));
}

/** The section and a `refresh()` the page calls while the canary runs. */
export function verdictSection(id) {
  const out = h('div', { id: 'live-verdict', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Loading the live verdict…'));
  let busy = false;
  async function refresh() {
    if (busy) return;
    busy = true;
    try {
      replace(out, renderVerdict(await api('GET', `/deployments/${encodeURIComponent(id)}/verdict`)));
    } catch (e) {
      replace(out, errorBox(e, 'The live verdict could not be refreshed'));
    } finally {
      busy = false;
    }
  }
  function waiting() {
    replace(out, h('p', { class: 'muted', id: 'live-waiting' }, 'The live verdict starts when the canary takes traffic.'));
  }
  const section = h('section', { 'aria-labelledby': 'live-title' }, h('h2', { id: 'live-title' }, 'Live verdict'),
    h('p', {}, 'Anytime-valid: refreshing as often as you like keeps the chance of a false alarm below α.'), out);
  return { section, refresh, waiting };
}
