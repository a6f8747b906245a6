// The search page (#/search?service=&operation=&tags=&lookback=&minDuration=&maxDuration=&limit=&sort=):
// a form whose state lives in the URL, a duration-over-time scatter plot, and the results list.
import { api, ApiError, DURATION_RE, parseTags, timeParams } from './api.js';
import { showBanner, showError } from './banners.js';
import { debounce, formatAge, formatDuration, formatNumber, formatTime, h, replaceChildren } from './dom.js';
import { fillForm, option, submitToRoute, timeRangeFields } from './forms.js';
import { serviceColor } from './colors.js';
import { scatterChart } from './chart.js';
import { navigate, routeHref } from './router.js';
import { traceFromJaeger } from './model.js';

const SORTS = [
  ['recent', 'Most recent'], ['oldest', 'Oldest first'], ['longest', 'Longest first'], ['shortest', 'Shortest first'],
  ['spans', 'Most spans'], ['errors', 'Most errors'],
];
const SORTERS = {
  recent: (a, b) => b.startTime - a.startTime,
  oldest: (a, b) => a.startTime - b.startTime,
  longest: (a, b) => b.duration - a.duration,
  shortest: (a, b) => a.duration - b.duration,
  spans: (a, b) => b.spanCount - a.spanCount,
  errors: (a, b) => b.errorCount - a.errorCount || b.startTime - a.startTime,
};
const FORM_KEYS = ['service', 'operation', 'tags', 'lookback', 'from', 'to', 'minDuration', 'maxDuration', 'limit', 'sort'];

/** Jaeger JSON traces → the summaries the list shows (for when trace-summaries is unavailable). */
function summariesFromJaeger(traces) {
  return traces.map((jt) => {
    const t = traceFromJaeger(jt, jt.traceID);
    const root = t.root;
    return {
      traceID: jt.traceID, rootService: root?.service ?? '', rootName: root?.name ?? '', startTime: t.start,
      duration: t.duration, spanCount: t.spans.length, errorCount: t.errorCount, services: t.services,
    };
  });
}

export function mount(container, route) {
  const p = route.params;
  const serviceSelect = h('select', { name: 'service', 'aria-label': 'service' }, option('', 'All services', ''));
  const operationSelect = h('select', { name: 'operation', 'aria-label': 'operation' }, option('', 'All operations', ''));
  const { lookback: lookbackSelect, custom, sync: syncCustom } = timeRangeFields(p, { 'aria-label': 'time range' });
  const form = h('form', { class: 'search-form', autocomplete: 'off' },
    h('label', null, 'Service', serviceSelect),
    h('label', null, 'Operation', operationSelect),
    h('label', null, 'Attributes', h('input', { name: 'tags', value: p.get('tags') ?? '', placeholder: 'http.response.status_code=500 error=true', spellcheck: 'false' })),
    h('label', null, 'Time range', lookbackSelect),
    custom,
    h('div', { class: 'row2' },
      h('label', null, 'Min duration', h('input', { name: 'minDuration', value: p.get('minDuration') ?? '', placeholder: 'e.g. 100ms' })),
      h('label', null, 'Max duration', h('input', { name: 'maxDuration', value: p.get('maxDuration') ?? '', placeholder: 'e.g. 2s' }))),
    h('div', { class: 'row2' },
      h('label', null, 'Limit', h('input', { name: 'limit', type: 'number', min: '1', max: '1000', value: p.get('limit') ?? '20' })),
      h('label', null, 'Sort', h('select', { name: 'sort' }, SORTS.map(([v, l]) => option(v, l, p.get('sort') || 'recent'))))),
    h('button', { type: 'submit', class: 'primary find-traces' }, 'Find traces'),
    h('label', { class: 'follow' }, h('input', { type: 'checkbox', name: 'follow' }), ' Follow new traces (live)'));

  const chartBox = h('div', { class: 'scatter-box' });
  const resultsHead = h('div', { class: 'results-head' });
  const list = h('ol', { class: 'results' });
  const results = h('section', { class: 'search-results', 'aria-live': 'polite' }, resultsHead, chartBox, list);
  container.appendChild(h('div', { class: 'search-page' }, h('aside', { class: 'sidebar' }, h('h2', null, 'Search'), form), results));

  let lastSummaries = [];
  let lastEnvelope = null;

  const loadOperations = async (service, selected) => {
    replaceChildren(operationSelect, option('', 'All operations', ''));
    if (!service) return;
    try {
      const env = await api.operations(service);
      for (const op of [...(env.data ?? [])].map((o) => (typeof o === 'string' ? o : o.name)).sort()) operationSelect.append(option(op, op, selected));
    } catch (e) {
      showError(e);
    }
  };
  serviceSelect.addEventListener('change', () => loadOperations(serviceSelect.value, ''));

  (async () => {
    try {
      const env = await api.services();
      const selected = p.get('service') ?? '';
      const names = [...(env.data ?? [])].sort();
      if (selected && !names.includes(selected)) names.unshift(selected);
      for (const s of names) serviceSelect.append(option(s, s, selected));
      await loadOperations(selected, p.get('operation') ?? '');
    } catch (e) {
      showError(e);
    }
  })();

  submitToRoute(form, '/search', FORM_KEYS);

  const renderResults = () => {
    const sortKey = new FormData(form).get('sort') || 'recent';
    const sorted = [...lastSummaries].sort(SORTERS[sortKey] ?? SORTERS.recent);
    const env = lastEnvelope ?? {};
    replaceChildren(resultsHead,
      h('h2', null, `${sorted.length} trace${sorted.length === 1 ? '' : 's'}`),
      env.truncated ? h('span', { class: 'badge warn' }, 'limit reached: narrow the search for more') : null,
      env.scannedBytes ? h('span', { class: 'muted small' }, `${formatNumber(env.scannedBytes / 1e6)} MB scanned`) : null,
      liveBadge);
    const width = Math.max(300, chartBox.clientWidth || results.clientWidth || 800);
    replaceChildren(chartBox, sorted.length ? scatterChart(sorted.map((t) => ({
      t: t.startTime, d: t.duration, r: t.spanCount, error: t.errorCount > 0,
      label: `${t.rootService}: ${t.rootName}\n${formatDuration(t.duration)}, ${t.spanCount} spans${t.errorCount ? `, ${t.errorCount} errors` : ''}\n${formatTime(t.startTime)}`,
      onClick: () => navigate(`/trace/${t.traceID}`),
    })), { width }) : h('p', { class: 'muted' }, 'No traces match. Widen the time range or remove filters.'));
    const maxDuration = Math.max(1, ...sorted.map((t) => t.duration));
    replaceChildren(list, ...sorted.map((t) => h('li', null,
      h('a', { class: ['trace-result', t.errorCount && 'has-errors'], href: routeHref(`/trace/${t.traceID}`), dataset: { traceId: t.traceID } },
        h('div', { class: 'result-title' },
          h('span', { class: 'svc-dot', style: { background: serviceColor(t.rootService) } }),
          h('span', { class: 'root-service' }, t.rootService), h('span', { class: 'sep' }, ':'),
          h('span', { class: 'root-name' }, t.rootName || '(missing root span)'),
          h('span', { class: 'trace-id muted' }, t.traceID.slice(0, 12))),
        h('div', { class: 'result-duration' },
          h('span', { class: 'duration-bar', style: { width: `${(t.duration / maxDuration) * 100}%` } }),
          h('span', { class: 'duration-text' }, formatDuration(t.duration))),
        h('div', { class: 'result-meta' },
          h('span', { class: 'span-count' }, `${t.spanCount} span${t.spanCount === 1 ? '' : 's'}`),
          t.errorCount ? h('span', { class: 'error-count' }, `${t.errorCount} error${t.errorCount === 1 ? '' : 's'}`) : null,
          h('span', { class: 'svc-pills' }, (t.services ?? []).map((s) => h('span', { class: ['svc-pill', s.errorCount && 'has-errors'], style: { borderColor: serviceColor(s.name) } },
            h('span', { class: 'svc-dot', style: { background: serviceColor(s.name) } }), `${s.name} ${s.spanCount}`))),
          h('span', { class: 'start-time', title: formatTime(t.startTime) }, formatAge(t.startTime)))))));
  };
  form.elements.sort.addEventListener('change', () => renderResults());

  let generation = 0;
  const search = async (params) => {
    const gen = ++generation;
    const q = {
      service: params.get('service') || undefined,
      operation: params.get('operation') || undefined,
      minDuration: params.get('minDuration') || undefined,
      maxDuration: params.get('maxDuration') || undefined,
      limit: params.get('limit') || 20,
      ...timeParams({ lookback: params.get('lookback') || '1h', from: params.get('from'), to: params.get('to') }),
    };
    for (const k of ['minDuration', 'maxDuration']) {
      if (q[k] && !DURATION_RE.test(q[k])) {
        showError(new Error(`${k} "${q[k]}" is not a duration like 250ms, 1.5s or 2m`));
        return;
      }
    }
    try {
      const tags = parseTags(params.get('tags') ?? '');
      if (Object.keys(tags).length) q.tags = tags;
    } catch (e) {
      showError(e);
      return;
    }
    replaceChildren(resultsHead, h('p', { class: 'muted' }, 'Searching…'));
    let env;
    try {
      env = await api.traceSummaries(q);
      lastSummaries = env.data ?? [];
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 404) {
        if (gen === generation) { replaceChildren(resultsHead); showError(e); }
        return;
      }
      // No trace-summaries endpoint on this server: summarise Jaeger's full traces here.
      try {
        env = await api.jaegerTraces(q);
        lastSummaries = summariesFromJaeger(env.data ?? []);
        showBanner('info', 'This server has no /api/otlpd/trace-summaries: results come from /api/traces.');
      } catch (e2) {
        if (gen === generation) { replaceChildren(resultsHead); showError(e2); }
        return;
      }
    }
    if (gen !== generation) return;
    if (env.partialErrors) showBanner('warning', `Some results may be missing: ${env.partialErrors}`);
    lastEnvelope = env;
    renderResults();
    results.dataset.loaded = 'true';
  };

  // The live view: new traces matching the filters arrive as Server-Sent Events and join the list.
  let live = null;
  let liveDropped = 0;
  const liveBadge = h('span', { class: 'badge live-badge', hidden: true });
  const stopLive = () => {
    if (live) live.close();
    live = null;
    delete container.firstChild.dataset.live;
    liveBadge.hidden = true;
  };
  const startLive = (params) => {
    stopLive();
    const q = new URLSearchParams();
    for (const k of ['service', 'operation', 'minDuration', 'maxDuration']) if (params.get(k)) q.set(k, params.get(k));
    try {
      const tags = parseTags(params.get('tags') ?? '');
      if (Object.keys(tags).length) q.set('tags', JSON.stringify(tags));
    } catch (e) {
      showError(e);
      return;
    }
    liveDropped = 0;
    live = new EventSource(`/api/otlpd/live?${q}`);
    live.addEventListener('open', () => {
      container.firstChild.dataset.live = 'open';
      liveBadge.hidden = false;
      liveBadge.textContent = 'live';
    });
    live.addEventListener('trace', (ev) => {
      const t = JSON.parse(ev.data);
      if (lastSummaries.some((x) => x.traceID === t.traceID)) return;
      lastSummaries = [t, ...lastSummaries];
      lastEnvelope ??= {};
      renderResults();
    });
    live.addEventListener('dropped', (ev) => {
      const d = JSON.parse(ev.data);
      liveDropped += d.count;
      liveBadge.textContent = `live: ${liveDropped} traces not shown (more than ${d.maxPerSecond}/s)`;
    });
    live.addEventListener('error', () => {
      // The browser reconnects by itself; say so while it does.
      if (live && live.readyState !== EventSource.OPEN) liveBadge.textContent = 'live: reconnecting…';
    });
  };
  form.elements.follow.addEventListener('change', () => {
    if (form.elements.follow.checked) startLive(new URLSearchParams(route.params)); else stopLive();
  });

  const onResize = debounce(() => { if (lastEnvelope) renderResults(); }, 150);
  window.addEventListener('resize', onResize);
  // The search does not need the service list (the URL has the parameters): run both at once.
  search(p);

  return {
    update(r) {
      // Keep the form in step with the URL (back/forward), then search again.
      fillForm(form, r.params, FORM_KEYS, { defaults: { lookback: '1h', limit: '20', sort: 'recent' }, skip: ['service', 'operation'] });
      syncCustom();
      if (serviceSelect.value !== (r.params.get('service') ?? '')) {
        serviceSelect.value = r.params.get('service') ?? '';
        loadOperations(serviceSelect.value, r.params.get('operation') ?? '');
      } else {
        operationSelect.value = r.params.get('operation') ?? '';
      }
      search(r.params);
      if (live) startLive(r.params);
    },
    destroy() {
      stopLive();
      window.removeEventListener('resize', onResize);
    },
  };
}
