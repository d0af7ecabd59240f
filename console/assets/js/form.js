// Form pieces shared by New canary and traffic control: labelled fields with an error slot,
// the rule-conditions and stickiness fieldsets, and placing the API's 400 `fields[]` next to
// the field each one names.
import { h } from './dom.js';

let seq = 0;

/** A labelled input; `path` is the API field it maps to (`trafficPercent`, `conditions.pathPatterns`). */
export function field(label, path, attrs = {}, hint = '') {
  const id = attrs.id || `f-${path.replace(/[^A-Za-z0-9]/g, '-')}-${++seq}`;
  const errId = `${id}-err`;
  const hintId = hint ? `${id}-hint` : null;
  const { tag, options, ...rest } = attrs;
  const described = [hintId, errId].filter(Boolean).join(' ');
  const input = tag === 'select'
    ? h('select', { ...rest, id, 'data-field': path, 'aria-describedby': described }, options || [])
    : h('input', { type: 'text', ...rest, id, 'data-field': path, 'aria-describedby': described });
  const wrap = h('div', { class: 'field' },
    h('label', { for: id }, label),
    input,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errId }));
  return { wrap, input };
}

export function checkbox(label, path, checked) {
  const id = `f-${path.replace(/[^A-Za-z0-9]/g, '-')}-${++seq}`;
  const input = h('input', { type: 'checkbox', id, checked, 'data-field': path, 'aria-describedby': `${id}-err` });
  return { wrap: h('div', { class: 'field check' }, input, h('label', { for: id }, label), h('p', { class: 'field-error', id: `${id}-err` })), input };
}

const list = (s) => String(s || '').split(',').map((x) => x.trim()).filter(Boolean);

/** Conditions fieldset; `read()` gives the API's RuleConditions, `fill(c)` shows one. */
export function conditionsFieldset(prefix) {
  const p = (f) => `${prefix}conditions.${f}`;
  const paths = field('Path patterns', p('pathPatterns'), {}, 'Comma-separated, e.g. /api/*, /v2/*');
  const methods = field('HTTP methods', p('httpMethods'), {}, 'Comma-separated, e.g. GET, HEAD');
  const hosts = field('Host headers', p('hostHeaders'), {}, 'Comma-separated, e.g. beta.example.com');
  const ips = field('Source IPs (CIDR)', p('sourceIps'), {}, 'Comma-separated, e.g. 203.0.113.0/24');
  const headers = field('HTTP headers', p('httpHeaders'), {}, 'One per line or ";"-separated: Name: value1, value2');
  const query = field('Query strings', p('queryStrings'), {}, 'Comma-separated key=value (or =value for any key)');
  const wrap = h('fieldset', {}, h('legend', {}, 'Rule conditions (optional; at most 5 values in all)'),
    h('div', { class: 'grid' }, paths.wrap, methods.wrap, hosts.wrap, ips.wrap, headers.wrap, query.wrap));
  return {
    wrap,
    read() {
      const c = {};
      if (list(paths.input.value).length) c.pathPatterns = list(paths.input.value);
      if (list(methods.input.value).length) c.httpMethods = list(methods.input.value).map((m) => m.toUpperCase());
      if (list(hosts.input.value).length) c.hostHeaders = list(hosts.input.value);
      if (list(ips.input.value).length) c.sourceIps = list(ips.input.value);
      const hs = headers.input.value.split(/[;\n]/).map((x) => x.trim()).filter(Boolean).map((line) => {
        const i = line.indexOf(':');
        return i < 0 ? { name: line, values: [] } : { name: line.slice(0, i).trim(), values: list(line.slice(i + 1)) };
      });
      if (hs.length) c.httpHeaders = hs;
      const qs = list(query.input.value).map((kv) => {
        const i = kv.indexOf('=');
        if (i < 0) return { value: kv };
        return i === 0 ? { value: kv.slice(1) } : { key: kv.slice(0, i), value: kv.slice(i + 1) };
      });
      if (qs.length) c.queryStrings = qs;
      return c;
    },
    fill(c = {}) {
      paths.input.value = (c.pathPatterns || []).join(', ');
      methods.input.value = (c.httpMethods || []).join(', ');
      hosts.input.value = (c.hostHeaders || []).join(', ');
      ips.input.value = (c.sourceIps || []).join(', ');
      headers.input.value = (c.httpHeaders || []).map((x) => `${x.name}: ${x.values.join(', ')}`).join('; ');
      query.input.value = (c.queryStrings || []).map((q) => (q.key ? `${q.key}=${q.value}` : `=${q.value}`)).join(', ');
    },
  };
}

export function stickinessFieldset(prefix, enabled, seconds) {
  const on = checkbox('Sticky sessions', `${prefix}stickiness.enabled`, enabled);
  const dur = field('Stickiness duration (seconds)', `${prefix}stickiness.durationSeconds`, { type: 'number', min: 1, max: 604800, value: seconds });
  return {
    wrap: h('fieldset', {}, h('legend', {}, 'Stickiness'), h('div', { class: 'grid' }, on.wrap, dur.wrap)),
    read() { return on.input.checked ? { enabled: true, durationSeconds: Number(dur.input.value) } : { enabled: false, durationSeconds: 0 }; },
    fill(s) { on.input.checked = !!(s && s.enabled !== false && s.durationSeconds); if (s && s.durationSeconds) dur.input.value = s.durationSeconds; },
  };
}

export function clearErrors(form) {
  for (const e of form.querySelectorAll('.field-error')) e.textContent = '';
  for (const e of form.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
}

/** Puts each `{field, message}` next to the input whose data-field is the longest prefix of
 *  the field's path (`spec.conditions.httpHeaders[0].name` → `conditions.httpHeaders`);
 *  returns the ones no input claims. */
export function showFieldErrors(form, fields, strip = '') {
  const inputs = [...form.querySelectorAll('[data-field]')];
  const rest = [];
  let first = null;
  for (const f of fields) {
    let path = f.field.startsWith(strip) ? f.field.slice(strip.length) : f.field;
    let input = null;
    while (path && !input) {
      input = inputs.find((i) => i.dataset.field === path);
      if (!input) path = path.replace(/(\[\d+\]|\.[^.[\]]*)$/, '') === path ? '' : path.replace(/(\[\d+\]|\.[^.[\]]*)$/, '');
    }
    if (!input) { rest.push(f); continue; }
    const slot = document.getElementById(`${input.id}-err`);
    if (slot) slot.textContent = slot.textContent ? `${slot.textContent} ${f.message}` : f.message;
    input.setAttribute('aria-invalid', 'true');
    first = first || input;
  }
  if (first) first.focus();
  return rest;
}
