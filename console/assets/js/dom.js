// Small DOM helpers shared by the pages.

/** h('p', {class: 'x', onclick: f}, 'text', child) → element. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Tells screen-reader users about something that happened elsewhere on the page. */
export function announce(text) {
  const el = document.getElementById('announce');
  if (el) el.textContent = text;
}

/** Unix seconds from an API time (RFC 3339 strings; numbers are taken as Unix seconds). */
export function secs(t) {
  if (t === null || t === undefined || t === '') return 0;
  return typeof t === 'number' ? t : Math.floor(Date.parse(t) / 1000);
}

export function age(time) {
  const unixSeconds = secs(time);
  if (!unixSeconds) return '';
  const s = Math.max(0, Math.round(Date.now() / 1000 - unixSeconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

export function when(time) {
  const unixSeconds = secs(time);
  return unixSeconds ? new Date(unixSeconds * 1000).toISOString().replace('T', ' ').slice(0, 19) + 'Z' : '';
}

export function badge(status) {
  return h('span', { class: `badge s-${String(status).toLowerCase()}` }, status);
}

/** `arn:…:listener/app/prod/abc/def` → `prod/def`; target groups → their name. */
export function shortArn(arn) {
  if (!arn) return '';
  const parts = String(arn).split('/');
  if (arn.includes(':listener/')) return `${parts[2]} / listener ${parts[4] ? parts[4].slice(0, 8) : ''}`;
  if (arn.includes(':targetgroup/')) return parts[1] || arn;
  if (arn.includes(':loadbalancer/')) return parts[2] || arn;
  return arn;
}

export function split(traffic) {
  if (!traffic) return '—';
  return `canary ${traffic.canaryPercent}% · baseline ${traffic.baselinePercent}% · production ${traffic.productionPercent}%`;
}

/** A bar of production / baseline / canary shares (an image with its numbers as its label). */
export function weightBar(traffic) {
  if (!traffic) return null;
  const parts = [['production', traffic.productionPercent], ['baseline', traffic.baselinePercent], ['canary', traffic.canaryPercent]];
  const label = parts.map(([r, p]) => `${r} ${p}%`).join(', ');
  // Widths through the CSSOM: the CSP allows no inline style attributes.
  const segment = ([r, p]) => {
    const el = h('span', { class: `w-${r}` });
    el.style.width = `${p}%`;
    return el;
  };
  return h('div', { class: 'weightbar', role: 'img', 'aria-label': `Traffic: ${label}`, title: label },
    parts.filter(([, p]) => p > 0).map(segment));
}

/** An error box for an API failure (status, name, message, and any field messages). */
export function errorBox(err, title = 'The request failed') {
  const fields = err && err.fields && err.fields.length
    ? h('ul', {}, err.fields.map((f) => h('li', {}, h('code', {}, f.field), ': ', f.message)))
    : null;
  const status = err && err.status ? `${err.status} ${err.name || ''}`.trim() : '';
  // A validation message repeats its fields: with the fields listed, say the status only.
  const line = fields ? status : [status, err ? err.message : ''].filter(Boolean).join(': ');
  return h('div', { class: 'error', role: 'alert' }, h('strong', {}, title), h('p', {}, line), fields);
}
