// The judge's view: `POST /deployments/{id}/analyses` runs an analysis; its record's `report`
// becomes a verdict and a per-metric table, its `series` one SVG chart per judged metric.
// While the API does not serve analyses (404/501) the section says so.
import { api } from './api.js';
import { h, replace, errorBox, announce } from './dom.js';
import { lineChart } from './chart.js';

export function judgeSection(id) {
  const out = h('div', { id: 'judge-result', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'No analysis run from this page yet.'));
  const run = h('button', { type: 'button', id: 'run-judge' }, 'Judge baseline vs canary');
  run.addEventListener('click', async () => {
    run.disabled = true;
    replace(out, h('p', {}, 'Judging…'));
    try {
      const rec = await api('POST', `/deployments/${encodeURIComponent(id)}/analyses`, {});
      replace(out, renderRecord(rec));
      announce(`Verdict: ${rec.report ? rec.report.classification : 'unknown'}.`);
    } catch (e) {
      if (e.status === 404 || e.status === 501) {
        replace(out, h('div', { class: 'notice', role: 'status', id: 'judge-unavailable' },
          h('strong', {}, 'The judge is not available on this API yet. '),
          `The API answered ${e.status} ${e.name}: ${e.message}`));
      } else replace(out, errorBox(e, 'The analysis failed'));
    } finally {
      run.disabled = false;
    }
  });
  return h('section', { 'aria-labelledby': 'judge-title' }, h('h2', { id: 'judge-title' }, 'Judge'),
    h('p', {}, 'Compares the canary\'s metrics with the baseline\'s over the time both ran.'), run, out);
}

export function renderRecord(rec) {
  const r = rec.report || {};
  const verdict = String(r.classification || 'unknown');
  const w = rec.window || {};
  return h('div', {},
    h('p', { class: `verdict v-${verdict.toLowerCase()}`, id: 'verdict' }, `Verdict: ${verdict} — score ${r.score}`,
      r.reason ? ` (${r.reason})` : ''),
    h('p', { class: 'muted' }, `source ${rec.source || '?'} · window ${w.start || '?'} → ${w.end || '?'}`),
    h('table', { class: 'small', id: 'metrics' }, h('caption', {}, 'Per metric'),
      h('thead', {}, h('tr', {}, ['Metric', 'Result', 'Direction', 'Critical', 'Samples (baseline / canary)', 'Why'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, (r.metrics || []).map((m) => h('tr', {},
        h('th', { scope: 'row' }, m.name), h('td', {}, String(m.label), m.muted ? ' (muted)' : ''), h('td', {}, String(m.direction)),
        h('td', {}, m.critical ? 'yes' : 'no'),
        h('td', {}, m.samples ? `${m.samples.baseline ?? '?'} / ${m.samples.canary ?? '?'}` : ''),
        h('td', {}, (m.reasons || []).join('; ')))))),
    (r.warnings || []).length ? h('ul', { class: 'muted' }, r.warnings.map((x) => h('li', {}, x))) : null,
    h('div', { class: 'charts' }, Object.entries(rec.series || {}).map(([name, s]) =>
      lineChart({ title: name, start: w.start, step: s.stepSeconds, baseline: s.baseline, canary: s.canary }))));
}
