// New canary: choose a listener from `GET /environment`, describe the canary, upload the
// tarballs and compose file through presigned URLs (`POST /uploads`, with progress bars),
// then `POST /deployments`. The API's 400 `fields[]` appear next to the fields they name.
import { api, upload } from './api.js';
import { h, replace, errorBox, shortArn, announce } from './dom.js';
import { field, checkbox, conditionsFieldset, stickinessFieldset, clearErrors, showFieldErrors } from './form.js';

function token() {
  const b = new Uint8Array(6);
  crypto.getRandomValues(b);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

export function renderNew(main) {
  let env = null;
  // One token per form: upload names and the idempotency key (a resubmit reuses them).
  const tok = token();
  const uploaded = new Map(); // File → uploaded key name

  const name = field('Canary name', 'name', { required: true, pattern: '[a-z]([a-z0-9-]{0,30}[a-z0-9])?', autocomplete: 'off' }, 'Lowercase letters, digits and dashes, e.g. web');
  const lb = field('Load balancer', 'loadBalancer', { tag: 'select', required: true, options: [h('option', { value: '' }, 'Loading…')] });
  const listener = field('Listener', 'listenerArn', { tag: 'select', required: true, options: [h('option', { value: '' }, 'Choose a load balancer first')] });
  const rules = h('div', { class: 'rules' });
  const share = field('Traffic share for the canary (%)', 'trafficPercent', { type: 'number', min: 0.1, max: 50, step: 0.1, value: 5, required: true }, 'The baseline gets the same share; production the rest.');
  const cond = conditionsFieldset('');
  const sticky = stickinessFieldset('', false, 600);
  const hcPath = field('Health check path', 'healthCheck.path', { value: '/' });
  const hcMatcher = field('Health check success codes', 'healthCheck.matcher', { value: '200' });
  const port = field('App port', 'appPort', { type: 'number', min: 1, max: 65535, value: 8080, required: true });
  const itype = field('Instance type', 'instanceType', { value: 't4g.small' });
  const ttl = field('Time to live (minutes)', 'ttlMinutes', { type: 'number', min: 10, max: 10080, value: 240 }, 'Torn down automatically after this.');
  const mon = checkbox('Monitoring (Prometheus, Grafana, Referee)', 'monitoring.enabled', true);
  const cidr = field('Monitoring allowed CIDR', 'monitoring.allowedCidr', {}, 'Who may open the dashboards, e.g. 203.0.113.0/24');
  const files = [
    { key: 'baseline', label: 'Baseline tarball (docker save)', accept: '.tar', ext: '.tar' },
    { key: 'compose', label: 'Compose file', accept: '.yml,.yaml', ext: '.yml' },
    { key: 'canary', label: 'Canary tarball (docker save)', accept: '.tar', ext: '.tar' },
  ].map((f) => {
    const fl = field(f.label, `file.${f.key}`, { type: 'file', accept: f.accept, required: true });
    const bar = h('progress', { max: 1, value: 0, 'aria-label': `${f.label} upload progress`, id: `progress-${f.key}` });
    fl.wrap.append(bar);
    return { ...f, ...fl, bar };
  });
  const formError = h('div', { id: 'form-error' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Upload and start canary');
  const progressText = h('p', { class: 'muted', id: 'submit-progress', role: 'status' });

  const form = h('form', { novalidate: true, 'aria-labelledby': 'new-title' },
    h('fieldset', {}, h('legend', {}, 'Where'), h('div', { class: 'grid' }, name.wrap, lb.wrap, listener.wrap), rules),
    h('fieldset', {}, h('legend', {}, 'Traffic'), h('div', { class: 'grid' }, share.wrap)),
    cond.wrap, sticky.wrap,
    h('fieldset', {}, h('legend', {}, 'Instances'), h('div', { class: 'grid' }, port.wrap, itype.wrap, ttl.wrap, hcPath.wrap, hcMatcher.wrap)),
    h('fieldset', {}, h('legend', {}, 'Monitoring'), h('div', { class: 'grid' }, mon.wrap, cidr.wrap)),
    h('fieldset', {}, h('legend', {}, 'Artifacts'), h('div', { class: 'grid' }, files.map((f) => f.wrap))),
    formError, h('div', { class: 'actions' }, submit), progressText);
  replace(main, h('h1', { id: 'new-title' }, 'New canary'), form);

  mon.input.addEventListener('change', () => { cidr.input.disabled = !mon.input.checked; });
  lb.input.addEventListener('change', fillListeners);
  listener.input.addEventListener('change', showRules);

  api('GET', '/environment').then((e) => {
    env = e;
    const lbs = e.loadBalancers || [];
    replace(lb.input, h('option', { value: '' }, lbs.length ? 'Choose…' : 'No load balancers in this region'),
      lbs.map((l) => h('option', { value: l.loadBalancerArn }, `${l.name} (${[l.scheme, `${l.listeners.length} listener${l.listeners.length === 1 ? '' : 's'}`].filter(Boolean).join(', ')})`)));
  }).catch((e) => replace(formError, errorBox(e, 'Could not read the environment (GET /environment)')));

  function currentLb() { return env && env.loadBalancers.find((l) => l.loadBalancerArn === lb.input.value); }
  function fillListeners() {
    const l = currentLb();
    const ls = l ? l.listeners : [];
    replace(listener.input, h('option', { value: '' }, l ? 'Choose…' : 'Choose a load balancer first'),
      ls.map((x) => h('option', { value: x.listenerArn }, `${x.protocol}:${x.port}`)));
    if (ls.length === 1) listener.input.value = ls[0].listenerArn;
    showRules();
  }
  function showRules() {
    const l = currentLb();
    const x = l && l.listeners.find((y) => y.listenerArn === listener.input.value);
    if (!x) { replace(rules); return; }
    replace(rules, h('table', { class: 'small' }, h('caption', {}, `Current rules of ${x.protocol}:${x.port}`),
      h('thead', {}, h('tr', {}, ['Priority', 'Conditions', 'Forward to'].map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, x.rules.map((r) => h('tr', {}, h('td', {}, r.priority ?? 'default'), h('td', {}, r.conditions.join(' & ') || '—'),
        h('td', {}, r.forward.map((t) => `${shortArn(t.targetGroupArn)}=${t.weight}`).join(', ') || (r.otherActions || []).join(', ')))))));
  }

  function spec(names) {
    const s = {
      name: name.input.value.trim(),
      listenerArn: listener.input.value,
      trafficPercent: Number(share.input.value),
      appPort: Number(port.input.value),
      instanceType: itype.input.value.trim() || undefined,
      ttlMinutes: ttl.input.value ? Number(ttl.input.value) : undefined,
      healthCheck: { path: hcPath.input.value.trim() || '/', matcher: hcMatcher.input.value.trim() || '200' },
      monitoring: { enabled: mon.input.checked },
      artifacts: { baselineTarball: names.baseline, canaryTarball: names.canary, composeFile: names.compose },
    };
    if (mon.input.checked && cidr.input.value.trim()) s.monitoring.allowedCidr = cidr.input.value.trim();
    const c = cond.read();
    if (Object.keys(c).length) s.conditions = c;
    const st = sticky.read();
    if (st.enabled) s.stickiness = st;
    return s;
  }

  function localErrors() {
    const errs = [];
    if (!/^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$/.test(name.input.value.trim())) errs.push({ field: 'name', message: 'Lowercase letters, digits and dashes, starting with a letter (at most 32).' });
    if (!lb.input.value) errs.push({ field: 'loadBalancer', message: 'Choose a load balancer.' });
    if (!listener.input.value) errs.push({ field: 'listenerArn', message: 'Choose a listener.' });
    for (const f of files) if (!f.input.files.length) errs.push({ field: `file.${f.key}`, message: 'Choose a file.' });
    return errs;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(form);
    replace(formError);
    const errs = localErrors();
    if (errs.length) { showFieldErrors(form, errs); announce('Please correct the highlighted fields.'); return; }
    submit.disabled = true;
    try {
      const names = {};
      for (const f of files) {
        const file = f.input.files[0];
        const ext = f.key === 'compose' && /\.yaml$/i.test(file.name) ? '.yaml' : f.ext;
        names[f.key] = `${f.key}-${tok}${ext}`;
      }
      const todo = files.filter((f) => uploaded.get(f.input.files[0]) !== names[f.key]);
      if (todo.length) {
        progressText.textContent = 'Asking for upload URLs…';
        const plan = await api('POST', '/uploads', {
          name: name.input.value.trim(),
          files: todo.map((f) => ({ file: names[f.key], contentLength: f.input.files[0].size })),
        }).catch((e) => { throw mapUploadFields(e, todo); });
        for (const u of plan.uploads) {
          const f = todo.find((x) => names[x.key] === u.file);
          if (!f) continue;
          progressText.textContent = `Uploading ${f.input.files[0].name}…`;
          await upload(u.url, f.input.files[0], (p) => { f.bar.value = p; f.bar.textContent = `${Math.round(p * 100)}%`; });
          uploaded.set(f.input.files[0], names[f.key]);
        }
      }
      progressText.textContent = 'Starting the canary…';
      const d = await api('POST', '/deployments', { spec: spec(names) }, { 'idempotency-key': `console-${tok}` });
      announce(`Canary ${d.id} started.`);
      location.hash = `#/d/${encodeURIComponent(d.id)}`;
    } catch (e) {
      progressText.textContent = '';
      const rest = showFieldErrors(form, e.fields || [], 'spec.');
      if (rest.length || !(e.fields || []).length) replace(formError, errorBox({ ...e, message: e.message, status: e.status, name: e.name, fields: rest }, 'The canary was not started'));
      announce('The canary was not started.');
    } finally {
      submit.disabled = false;
    }
  });
  return () => {};
}

/** `files[i].…` in a POST /uploads 400 → the file input it is about; `name` stays `name`. */
function mapUploadFields(e, todo) {
  if (e.fields) e.fields = e.fields.map((f) => {
    const m = /^files\[(\d+)\]/.exec(f.field);
    return m && todo[Number(m[1])] ? { field: `file.${todo[Number(m[1])].key}`, message: f.message } : f;
  });
  return e;
}
