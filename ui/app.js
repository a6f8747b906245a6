// Entry point: top bar, routing to the pages, error banners.
import { clearBanners, initBanners, showError } from './banners.js';
import { replaceChildren } from './dom.js';
import { adoptPathRoute, currentRoute, navigate } from './router.js';
import * as searchPage from './search.js';
import * as tracePage from './trace.js';
import * as logsPage from './logs.js';
import * as metricsPage from './metrics.js';
import * as depsPage from './deps.js';

const PAGES = {
  search: searchPage,
  trace: tracePage,
  logs: logsPage,
  metrics: metricsPage,
  dependencies: depsPage,
  services: depsPage,
};

let current = null; // {module, key, instance}

function route() {
  const r = currentRoute();
  const module = PAGES[r.page] ?? searchPage;
  const key = `${r.page}/${r.parts.slice(1).join('/')}`;
  document.querySelectorAll('.nav a').forEach((a) => {
    a.classList.toggle('active', a.dataset.page === r.page || (r.page === 'services' && a.dataset.page === 'dependencies'));
  });
  if (current && current.module === module && current.key === key && current.instance?.update) {
    current.instance.update(r);
    return;
  }
  if (current?.instance?.destroy) current.instance.destroy();
  clearBanners();
  const page = document.getElementById('page');
  replaceChildren(page);
  page.dataset.page = r.page;
  try {
    current = { module, key, instance: module.mount(page, r) };
  } catch (e) {
    current = null;
    showError(e);
  }
}

function init() {
  initBanners(document.getElementById('banners'));
  adoptPathRoute();
  document.getElementById('trace-lookup').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = ev.target.elements.traceID;
    const id = input.value.trim().toLowerCase();
    if (!/^[0-9a-f]{1,32}$/.test(id)) {
      showError(new Error(`"${input.value}" is not a trace ID (up to 32 hex digits)`));
      return;
    }
    input.value = '';
    navigate(`/trace/${id.padStart(32, '0')}`);
  });
  window.addEventListener('hashchange', route);
  window.addEventListener('unhandledrejection', (ev) => showError(ev.reason));
  route();
}

init();
