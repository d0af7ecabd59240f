// Deployments: every canary with status, age, traffic share and listener; a status filter
// and live refresh.
import { api } from './api.js';
import { h, replace, age, badge, shortArn, split, errorBox, weightBar } from './dom.js';

const STATUSES = ['PENDING', 'PROVISIONING', 'REGISTERING', 'ROUTING', 'WAITING_HEALTHY', 'ACTIVE', 'TEARING_DOWN', 'DESTROYED', 'FAILED', 'REJECTED'];

export function renderDeployments(main) {
  let timer = null;
  const filter = h('select', { id: 'status-filter' }, h('option', { value: '' }, 'All'), STATUSES.map((s) => h('option', { value: s }, s)));
  const live = h('input', { type: 'checkbox', id: 'live', checked: true });
  const body = h('div', { id: 'deployments', 'aria-live': 'polite' }, h('p', {}, 'Loading…'));
  const updated = h('span', { class: 'muted' });
  replace(main,
    h('h1', {}, 'Deployments'),
    h('div', { class: 'toolbar' },
      h('label', { for: 'status-filter' }, 'Status'), filter,
      h('label', { class: 'check' }, live, ' Live refresh'),
      h('button', { type: 'button', onclick: () => load() }, 'Refresh'),
      updated,
      h('a', { class: 'button primary', href: '#/new' }, 'New canary')),
    body);

  async function load() {
    const q = filter.value ? `?status=${encodeURIComponent(filter.value)}&limit=100` : '?limit=100';
    try {
      const page = await api('GET', '/deployments' + q);
      replace(body, table(page.items || []));
      updated.textContent = `updated ${new Date().toLocaleTimeString()}`;
    } catch (e) {
      replace(body, errorBox(e, 'Could not list deployments'));
    }
  }
  function schedule() {
    clearInterval(timer);
    timer = live.checked ? setInterval(load, 3000) : null;
  }
  filter.addEventListener('change', load);
  live.addEventListener('change', schedule);
  load();
  schedule();
  return () => clearInterval(timer);
}

function table(items) {
  if (!items.length) return h('p', { class: 'empty' }, 'No deployments. ', h('a', { href: '#/new' }, 'Start a canary'), '.');
  return h('table', { class: 'list' },
    h('caption', { class: 'sr-only' }, 'Deployments, newest first'),
    h('thead', {}, h('tr', {}, ['Deployment', 'Status', 'Age', 'Traffic share', 'Listener'].map((c) => h('th', { scope: 'col' }, c)))),
    // On narrow screens each row becomes a card; data-label names the value.
    h('tbody', {}, items.map((d) => h('tr', { 'data-id': d.id },
      h('th', { scope: 'row' }, h('a', { href: `#/d/${encodeURIComponent(d.id)}` }, d.id)),
      h('td', { 'data-label': 'Status' }, badge(d.status), d.statusReason ? h('div', { class: 'muted small' }, d.statusReason) : null),
      h('td', { 'data-label': 'Age', title: d.createdAt }, age(d.createdAt)),
      h('td', { 'data-label': 'Traffic' }, d.traffic ? [weightBar(d.traffic), h('div', { class: 'small' }, split(d.traffic))] : d.spec ? `${d.spec.trafficPercent}% requested` : '—'),
      h('td', { 'data-label': 'Listener', title: d.spec ? d.spec.listenerArn : '' }, d.spec ? shortArn(d.spec.listenerArn) : '—')))));
}
