// The trace page (#/trace/<id>?span=<spanId>): header, waterfall with minimap and critical path,
// span details, and the trace's log records (a tab, and markers on their spans).
import { api, ApiError } from './api.js';
import { showBanner, showError } from './banners.js';
import { debounce, formatDuration, formatTime, h, replaceChildren } from './dom.js';
import { serviceColor } from './colors.js';
import { normalizeLog, logTable } from './logtable.js';
import { traceFromJaeger, traceFromOtlp } from './model.js';
import { spanDetails } from './spandetails.js';
import { Waterfall } from './waterfall.js';

const LOG_LIMIT = 1000;

async function loadTrace(id) {
  try {
    const env = await api.otlpTrace(id);
    const trace = traceFromOtlp(env.result ?? env.data?.result ?? env.data, id);
    if (trace.spans.length) return trace;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) throw e;
  }
  // The v3 endpoint is missing or does not know the trace: ask Jaeger's classic API, which
  // answers the same store (and explains a missing trace in its error).
  const env = await api.jaegerTrace(id);
  const jt = (env.data ?? [])[0];
  if (!jt) throw new ApiError(`trace ${id} was not found`);
  return traceFromJaeger(jt, id);
}

async function loadLogs(trace) {
  const margin = 3600e6; // records may be written a little before or after their spans
  const env = await api.logs({
    traceID: trace.traceID,
    start: Math.floor(trace.start - margin),
    end: Math.ceil(trace.end + margin),
    limit: LOG_LIMIT,
  });
  if (env.truncated) showBanner('warning', `only the first ${LOG_LIMIT} log records of this trace are shown`);
  return (env.data ?? []).map(normalizeLog).sort((a, b) => a.time - b.time);
}

export function mount(container, route) {
  const id = (route.parts[1] ?? '').toLowerCase();
  const controller = new AbortController();
  const state = { trace: null, waterfall: null, logs: [], detailsEl: null };
  const root = h('div', { class: 'trace-page', dataset: { traceId: id } }, h('p', { class: 'muted loading' }, `Loading trace ${id}…`));
  container.appendChild(root);

  const selectSpanById = (spanID) => {
    const idx = state.trace?.byId.get(spanID);
    if (idx !== undefined) state.waterfall.select(idx, { notify: true, scroll: true });
    showTab('timeline');
  };

  const showDetails = (idx) => {
    const span = state.trace.spans[idx];
    const next = spanDetails(state.trace, span, {
      onClose: () => {
        state.detailsEl?.remove();
        state.detailsEl = null;
        history.replaceState(null, '', `#/trace/${id}`);
      },
    });
    if (state.detailsEl) state.detailsEl.replaceWith(next);
    else state.body.appendChild(next);
    state.detailsEl = next;
    history.replaceState(null, '', `#/trace/${id}?span=${encodeURIComponent(span.spanID)}`);
  };

  let showTab = () => {};

  (async () => {
    let trace;
    try {
      trace = await loadTrace(id);
    } catch (e) {
      replaceChildren(root, h('p', { class: 'muted not-found' }, `Trace ${id} could not be loaded.`));
      showError(e);
      return;
    }
    let logs = [];
    try {
      logs = await loadLogs(trace);
    } catch (e) {
      showBanner('warning', `The trace's log records could not be loaded: ${e.message}`);
    }
    if (controller.signal.aborted) return;
    const orphanLogs = trace.attachLogs(logs);
    state.trace = trace;
    state.logs = logs;
    const resetZoom = h('button', { type: 'button', class: 'reset-zoom', hidden: true }, 'Reset zoom');
    state.waterfall = new Waterfall(trace, { onSelect: showDetails, onZoom: (zoomed) => { resetZoom.hidden = !zoomed; } });
    resetZoom.addEventListener('click', () => state.waterfall.setView(null, null));

    const rootSpan = trace.root;
    const findInput = h('input', { type: 'search', class: 'find', placeholder: 'Find in trace', 'aria-label': 'find spans' });
    const findCount = h('span', { class: 'find-count muted' });
    let matches = [];
    let matchAt = -1;
    findInput.addEventListener('input', debounce(() => {
      matches = state.waterfall.find(findInput.value);
      matchAt = -1;
      findCount.textContent = findInput.value.trim() ? `${matches.length} match${matches.length === 1 ? '' : 'es'}` : '';
    }, 200));
    findInput.addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && matches.length) {
        matchAt = (matchAt + 1) % matches.length;
        state.waterfall.select(matches[matchAt], { notify: true, scroll: true });
      }
    });
    const criticalToggle = h('input', { type: 'checkbox', checked: true, class: 'critical-toggle' });
    criticalToggle.addEventListener('change', () => state.waterfall.setCritical(criticalToggle.checked));

    const tabTimeline = h('button', { type: 'button', class: 'tab active', dataset: { tab: 'timeline' } }, 'Timeline');
    const tabLogs = h('button', { type: 'button', class: 'tab', dataset: { tab: 'logs' } }, `Logs (${logs.length})`);
    const timelinePane = h('div', { class: 'trace-body' }, state.waterfall.el);
    state.body = timelinePane;
    const logsPane = h('div', { class: 'trace-logs', hidden: true },
      logTable(logs, {
        traceLinks: false,
        onSpan: selectSpanById,
        spanLabel: (spanID) => { const i = trace.byId.get(spanID); return i === undefined ? null : `→ ${trace.spans[i].name}`; },
        traceStart: trace.start,
      }),
      orphanLogs.length ? h('p', { class: 'muted small' }, `${orphanLogs.length} record(s) carry no span of this trace.`) : null);
    showTab = (name) => {
      tabTimeline.classList.toggle('active', name === 'timeline');
      tabLogs.classList.toggle('active', name === 'logs');
      timelinePane.hidden = name !== 'timeline';
      logsPane.hidden = name !== 'logs';
    };
    tabTimeline.addEventListener('click', () => showTab('timeline'));
    tabLogs.addEventListener('click', () => showTab('logs'));

    replaceChildren(root,
      h('div', { class: 'trace-header' },
        h('h1', { class: 'trace-title' },
          rootSpan ? h('span', { class: 'svc-dot', style: { background: serviceColor(rootSpan.service) } }) : null,
          rootSpan ? `${rootSpan.service}: ${rootSpan.name}` : 'empty trace',
          h('span', { class: 'trace-id muted' }, trace.traceID)),
        h('dl', { class: 'trace-facts' },
          h('dt', null, 'Start'), h('dd', null, formatTime(trace.start)),
          h('dt', null, 'Duration'), h('dd', null, formatDuration(trace.duration)),
          h('dt', null, 'Spans'), h('dd', { class: 'span-count' }, String(trace.spans.length)),
          h('dt', null, 'Depth'), h('dd', null, String(trace.maxDepth + 1)),
          h('dt', null, 'Errors'), h('dd', { class: trace.errorCount ? 'errors' : '' }, String(trace.errorCount)),
          h('dt', null, 'Logs'), h('dd', null, String(logs.length))),
        h('div', { class: 'svc-pills' }, trace.services.map((s) => h('span', { class: 'svc-pill', style: { borderColor: serviceColor(s.name) } },
          h('span', { class: 'svc-dot', style: { background: serviceColor(s.name) } }), `${s.name} (${s.spanCount})`)))),
      h('div', { class: 'trace-toolbar' },
        h('div', { class: 'tabs', role: 'tablist' }, tabTimeline, tabLogs),
        h('button', { type: 'button', class: 'expand-all', onclick: () => state.waterfall.expandAll() }, 'Expand all'),
        h('button', { type: 'button', class: 'collapse-all', onclick: () => state.waterfall.collapseAll() }, 'Collapse all'),
        h('label', { class: 'check' }, criticalToggle, 'Critical path'),
        resetZoom,
        findInput, findCount,
        h('a', { class: 'raw-json', href: `/api/v3/traces/${encodeURIComponent(id)}`, target: '_blank', rel: 'noopener' }, 'JSON')),
      timelinePane,
      logsPane);
    state.waterfall.drawAxis();
    state.waterfall.render();
    state.waterfall.scroller.focus({ preventScroll: true });

    const wanted = route.params.get('span');
    if (wanted) selectSpanById(wanted);
    root.dataset.loaded = 'true';
  })();

  return {
    update(r) {
      const spanID = r.params.get('span');
      if (spanID && state.trace) selectSpanById(spanID);
    },
    destroy() {
      controller.abort();
      state.waterfall?.destroy();
    },
  };
}
