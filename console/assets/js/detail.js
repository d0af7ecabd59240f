// Canary detail: status timeline, live event log, resources, monitoring links, traffic
// control (PATCH …/traffic, confirmed), the judge (see judge.js) and destroy (confirmed),
// all refreshed live until the deployment is final.
import { api } from './api.js';
import { h, replace, when, age, secs, shortArn, split, errorBox, announce, weightBar } from './dom.js';
import { field, conditionsFieldset, stickinessFieldset, clearErrors, showFieldErrors } from './form.js';
import { judgeSection } from './judge.js';
import { verdictSection } from './verdict.js';

const FLOW = ['PENDING', 'PROVISIONING', 'REGISTERING', 'ROUTING', 'WAITING_HEALTHY', 'ACTIVE', 'TEARING_DOWN', 'DESTROYED'];
const FINAL = ['DESTROYED', 'FAILED', 'REJECTED'];

function fmtMs(ms) {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 60000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60000);
  return m < 60 ? `${m}m ${Math.round((ms % 60000) / 1000)}s` : `${Math.floor(m / 60)}h ${m % 60}m`;
}

export function renderDetail(main, id) {
  let timer = null;
  let dep = null;
  let filled = false;
  const initial = { conditions: '{}', stickiness: '' };
  const head = h('div', { id: 'summary' }, h('p', {}, 'Loading…'));
  const timeline = h('ol', { class: 'timeline', id: 'timeline', 'aria-label': 'Status timeline' });
  const durations = h('p', { class: 'muted small', id: 'durations' });
  const trafficNow = h('div', { id: 'traffic-now' });
  const resources = h('dl', { class: 'kv', id: 'resources' });
  const links = h('div', { id: 'links' });
  const events = h('div', { id: 'events', role: 'log', 'aria-label': 'Event log', tabindex: 0 });
  const loadError = h('div');
  const live = verdictSection(id);
  let liveAt = 0;
  let liveStatus = null;
  // camelCase resource keys as people read them.
  const LABELS = {
    baselineInstanceId: 'Baseline instance', canaryInstanceId: 'Canary instance', monitorInstanceId: 'Monitor instance',
    baselineTargetGroupArn: 'Baseline target group', canaryTargetGroupArn: 'Canary target group', ruleArn: 'Listener rule',
    priority: 'Rule priority', loadBalancerArn: 'Load balancer', appSecurityGroupId: 'App security group',
    monitorSecurityGroupId: 'Monitor security group', productionTargets: 'Production targets',
    vpcId: 'VPC', subnetIds: 'Subnets', loadBalancerSecurityGroupIds: 'Load balancer security groups',
    production: 'Production target groups', instanceSecurityGroup: 'Instance security group',
  };
  const label = (k) => LABELS[k] || k.replace(/([A-Z])/g, ' $1').replace(/^./, (c) => c.toUpperCase()).replace(/ Arn$/, '').replace(/ Id$/, '');

  // Traffic control.
  const share = field('Canary traffic share (%)', 'trafficPercent', { type: 'number', min: 0.1, max: 50, step: 0.1 });
  const cond = conditionsFieldset('');
  const sticky = stickinessFieldset('', false, 600);
  const trafficMsg = h('div', { id: 'traffic-msg' });
  const apply = h('button', { type: 'submit', class: 'primary' }, 'Apply traffic change');
  const trafficForm = h('form', { id: 'traffic-form', novalidate: true, 'aria-labelledby': 'traffic-title' },
    h('div', { class: 'grid' }, share.wrap), cond.wrap, sticky.wrap, trafficMsg, h('div', { class: 'actions' }, apply));

  // Destroy.
  const destroyBtn = h('button', { type: 'button', class: 'danger', id: 'destroy' }, 'Destroy canary…');
  const destroyMsg = h('div', { id: 'destroy-msg', role: 'status' });

  replace(main,
    h('p', {}, h('a', { href: '#/' }, '← Deployments')),
    h('h1', {}, `Canary ${id}`),
    loadError, head, timeline, durations,
    h('div', { class: 'columns' },
      h('section', { 'aria-labelledby': 'traffic-title' }, h('h2', { id: 'traffic-title' }, 'Traffic'), trafficNow, trafficForm),
      h('section', { 'aria-labelledby': 'res-title' }, h('h2', { id: 'res-title' }, 'Resources'), resources, h('h2', {}, 'Monitoring'), links)),
    live.section,
    judgeSection(id),
    h('section', { 'aria-labelledby': 'events-title' }, h('h2', { id: 'events-title' }, 'Event log'), events),
    h('section', { 'aria-labelledby': 'destroy-title' }, h('h2', { id: 'destroy-title' }, 'Destroy'),
      h('p', {}, 'Removes the canary rule first (the listener is left exactly as it was), then the instances and target groups.'),
      destroyBtn, destroyMsg));

  trafficForm.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(trafficForm);
    replace(trafficMsg);
    // Only what changed: `conditions` replaces all of the rule's conditions.
    const change = { trafficPercent: Number(share.input.value) };
    if (JSON.stringify(cond.read()) !== initial.conditions) change.conditions = cond.read();
    if (JSON.stringify(sticky.read()) !== initial.stickiness) change.stickiness = sticky.read();
    if (!window.confirm(`Send ${change.trafficPercent}% of matching traffic to the canary (and as much to the baseline)?`)) return;
    apply.disabled = true;
    try {
      dep = await api('PATCH', `/deployments/${encodeURIComponent(id)}/traffic`, change);
      replace(trafficMsg, h('p', { class: 'ok', role: 'status' }, `Applied: ${split(dep.traffic)}`));
      announce('Traffic change applied.');
      show(dep);
    } catch (e) {
      const rest = showFieldErrors(trafficForm, e.fields || []);
      if (rest.length || !(e.fields || []).length) replace(trafficMsg, errorBox({ ...e, message: e.message, status: e.status, name: e.name, fields: rest }, 'The traffic change was not applied'));
    } finally {
      apply.disabled = !(dep && dep.status === 'ACTIVE');
    }
  });

  destroyBtn.addEventListener('click', async () => {
    if (!window.confirm(`Destroy canary ${id}? Its traffic returns to production and its instances are terminated.`)) return;
    destroyBtn.disabled = true;
    try {
      const r = await api('DELETE', `/deployments/${encodeURIComponent(id)}`);
      replace(destroyMsg, h('p', {}, `Teardown requested: ${r.status}. Following progress until DESTROYED…`));
      announce('Teardown requested.');
      load();
    } catch (e) {
      destroyBtn.disabled = false;
      replace(destroyMsg, errorBox(e, 'The teardown was not requested'));
    }
  });

  async function load() {
    try {
      dep = await api('GET', `/deployments/${encodeURIComponent(id)}`);
      replace(loadError);
      show(dep);
      const ev = await api('GET', `/deployments/${encodeURIComponent(id)}/events?limit=500`);
      showEvents(ev.items || []);
      // The verdict only changes once a period closes: every 15 s is plenty, and at once when
      // the status changes. Before the canary takes traffic there is nothing to judge.
      const ran = FLOW.indexOf(dep.status) >= FLOW.indexOf('ACTIVE') || dep.status === 'FAILED';
      if (!ran) live.waiting();
      else if (dep.status !== liveStatus || Date.now() - liveAt > 15000) { liveAt = Date.now(); liveStatus = dep.status; live.refresh(); }
      if (FINAL.includes(dep.status)) { clearInterval(timer); timer = null; }
    } catch (e) {
      if (e.status === 404) {
        // Nothing to show or change: the page is only the message.
        clearInterval(timer); timer = null;
        replace(main, h('p', {}, h('a', { href: '#/' }, '← Deployments')), h('h1', {}, `Canary ${id}`), errorBox(e, 'No such deployment'));
        return;
      }
      replace(loadError, errorBox(e, 'Could not load the deployment'));
    }
  }

  function show(d) {
    // The status once, as a badge.
    replace(head, h('p', { class: 'status-line' }, h('span', { class: `badge s-${String(d.status).toLowerCase()}`, id: 'status-text' }, d.status), d.statusReason ? ` — ${d.statusReason}` : '',
      d.failureReason ? h('span', { class: 'error-text' }, ` (${d.failureReason})`) : ''),
      h('p', { class: 'muted' }, `created ${when(d.createdAt)} (${age(d.createdAt)} ago) · expires ${when(d.expiresAt)} · listener `,
        h('span', { title: d.spec ? d.spec.listenerArn : '' }, d.spec ? shortArn(d.spec.listenerArn) : '—')));
    const at = FLOW.indexOf(d.status);
    const lasted = statusDurations(d);
    const item = (s, attrs) => h('li', attrs, s, lasted.has(s) ? h('span', { class: 'dur' }, ` ${lasted.get(s)}`) : null);
    replace(timeline, FLOW.map((s, i) => item(s, {
      class: s === d.status ? 'current' : (at >= 0 && i < at) ? 'done' : '',
      'aria-current': s === d.status ? 'step' : null,
    })), at < 0 ? item(d.status, { class: 'current bad', 'aria-current': 'step' }) : null);

    const w = d.weights; // [{role, targetGroupArn, weight}] in forward-action order
    replace(trafficNow,
      weightBar(d.traffic),
      h('p', { id: 'split' }, split(d.traffic)),
      w ? h('table', { class: 'small', id: 'weights' }, h('caption', {}, 'Listener rule weights'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Target group'), h('th', { scope: 'col' }, 'Role'), h('th', { scope: 'col' }, 'Weight'))),
        h('tbody', {},
          w.map((t) => h('tr', {}, h('td', {}, shortArn(t.targetGroupArn)), h('td', {}, t.role),
            h('td', t.role === 'production' ? {} : { 'data-role': t.role }, t.weight))))) : null);
    const active = d.status === 'ACTIVE';
    for (const el of trafficForm.elements) el.disabled = !active;
    if (!active) replace(trafficMsg, h('p', { class: 'muted' }, 'Traffic can be changed while the canary is ACTIVE.'));
    else if (trafficMsg.textContent.startsWith('Traffic can')) replace(trafficMsg);
    if (!filled && d.spec) {
      share.input.value = d.traffic ? d.traffic.canaryPercent : d.spec.trafficPercent;
      cond.fill(d.spec.conditions || {});
      sticky.fill(d.spec.stickiness);
      initial.conditions = JSON.stringify(cond.read());
      initial.stickiness = JSON.stringify(sticky.read());
      filled = active;
    }

    const r = d.resources || {};
    replace(resources, Object.entries(r).filter(([, v]) => v !== null && v !== undefined && !(Array.isArray(v) && !v.length)).map(([k, v]) =>
      [h('dt', { title: k }, label(k)), h('dd', { title: Array.isArray(v) ? '' : String(v) },
        Array.isArray(v) ? v.map((x) => (typeof x === 'object' ? `${shortArn(x.targetGroupArn)}=${x.weight}` : x)).join(', ')
          : String(v).startsWith('arn:') ? shortArn(String(v)) : String(v))]));
    const m = d.monitoring;
    replace(links, m && (m.grafana || m.prometheus || m.referee)
      ? h('ul', {}, [['Grafana', m.grafana], ['Prometheus', m.prometheus], ['Referee', m.referee], ['Kayenta', m.kayenta]]
        .filter(([, u]) => u).map(([n, u]) => h('li', {}, h('a', { href: u, target: '_blank', rel: 'noopener noreferrer' }, n))))
      : h('p', { class: 'muted' }, d.spec && d.spec.monitoring && d.spec.monitoring.enabled === false ? 'Monitoring is off for this canary.' : 'No monitor address yet.'));

    const final = FINAL.includes(d.status);
    destroyBtn.disabled = final || d.status === 'TEARING_DOWN';
    // A judge error from before the end is no longer news.
    const judged = document.getElementById('judge-result');
    if (final && judged && judged.querySelector('.error')) {
      replace(judged, h('p', { class: 'muted' }, `The canary is ${d.status}; there is nothing left to judge.`));
    }
    if (final) replace(destroyMsg, h('p', { id: 'final' }, `This deployment is ${d.status}.`));
  }

  // How long each status lasted, from the deployment's status history: from entering it to
  // entering the next; the current one "so far" until the deployment is final.
  function statusDurations(d) {
    const seq = [{ status: FLOW[0], ms: secs(d.createdAt) * 1000 }]
      .concat((d.statusHistory || []).map((c) => ({ status: c.status, ms: Date.parse(c.at) })));
    const out = new Map();
    seq.forEach((c, i) => {
      const next = seq[i + 1];
      if (next) out.set(c.status, fmtMs(next.ms - c.ms));
      else if (!FINAL.includes(c.status)) out.set(c.status, `${fmtMs(Date.now() - c.ms)} so far`);
    });
    return out;
  }

  // How long each step took: from its first event to the next step's first event.
  const STEPS = ['admission', 'provision', 'register-targets', 'add-listener-rule', 'check-health', 'teardown'];
  function showDurations(items) {
    const first = new Map();
    for (const e of items) if (STEPS.includes(e.step) && !first.has(e.step)) first.set(e.step, Date.parse(e.time));
    const seen = STEPS.filter((s) => first.has(s));
    const parts = seen.map((s, i) => {
      const next = seen[i + 1];
      const ms = next ? first.get(next) - first.get(s) : null;
      return ms === null ? s : `${s} ${fmtMs(ms)}`;
    });
    replace(durations, parts.length ? `Steps: ${parts.join(' → ')}` : '');
  }

  function showEvents(items) {
    showDurations(items);
    const atBottom = events.scrollTop + events.clientHeight >= events.scrollHeight - 4;
    replace(events, items.length ? h('table', { class: 'small' },
      h('thead', {}, h('tr', {}, ['Time', 'Step', 'Outcome', 'Detail'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, items.map((e) => h('tr', { class: `o-${e.outcome}` },
        h('td', {}, e.time.slice(11, 23)), h('td', {}, e.step), h('td', {}, e.outcome), h('td', {}, e.detail))))) : h('p', { class: 'muted' }, 'No events yet.'));
    if (atBottom) events.scrollTop = events.scrollHeight;
  }

  load();
  timer = setInterval(load, 1500);
  return () => clearInterval(timer);
}
