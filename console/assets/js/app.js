// The console's router: `#/` deployments, `#/new` new canary, `#/d/<id>` a canary's detail.
import { renderDeployments } from './deployments.js';
import { renderNew } from './new.js';
import { renderDetail } from './detail.js';

const main = document.getElementById('main');
let cleanup = null;

function route() {
  if (cleanup) { cleanup(); cleanup = null; }
  const hash = location.hash || '#/';
  let page = 'deployments';
  if (hash === '#/new') { page = 'new'; cleanup = renderNew(main); }
  else if (hash.startsWith('#/d/')) { page = 'detail'; cleanup = renderDetail(main, decodeURIComponent(hash.slice(4))); }
  else cleanup = renderDeployments(main);
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (a.dataset.nav === page) a.setAttribute('aria-current', 'page'); else a.removeAttribute('aria-current');
  }
  const h1 = main.querySelector('h1');
  document.title = `${h1 ? h1.textContent : 'Aviary'} · Aviary console`;
  main.focus({ preventScroll: true });
}

window.addEventListener('hashchange', route);
route();
