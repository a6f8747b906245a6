// The services page (#/dependencies, #/services): the service dependency graph from parent/child
// spans across services, and per-service RED numbers (rate, errors, duration percentiles).
import { api, durationToMicros } from './api.js';
import { showError } from './banners.js';
import { lineChart } from './chart.js';
import { formatDuration, formatNumber, h, replaceChildren, s } from './dom.js';
import { lookbackOptions } from './forms.js';
import { serviceColor } from './colors.js';
import { navigate, routeHref } from './router.js';

const NODE_W = 150;
const NODE_H = 34;
const COL_GAP = 90;
const ROW_GAP = 22;

/** Columns by longest path from the sources (cycles broken by visiting each edge once). */
function layers(nodes, edges) {
  const layer = new Map(nodes.map((n) => [n, 0]));
  for (let round = 0; round < nodes.length; round++) {
    let changed = false;
    for (const e of edges) {
      if (e.parent === e.child) continue;
      const want = layer.get(e.parent) + 1;
      if (want > layer.get(e.child) && want < nodes.length) {
        layer.set(e.child, want);
        changed = true;
      }
    }
    if (!changed) break;
  }
  return layer;
}

export function dependencyGraph(links) {
  const nodes = [...new Set(links.flatMap((l) => [l.parent, l.child]))].sort();
  if (!nodes.length) return h('p', { class: 'muted' }, 'No calls between services in this time range.');
  const layer = layers(nodes, links);
  const columns = [];
  for (const n of nodes) (columns[layer.get(n)] ??= []).push(n);
  const pos = new Map();
  columns.forEach((col, c) => col.forEach((n, r) => pos.set(n, { x: 20 + c * (NODE_W + COL_GAP), y: 20 + r * (NODE_H + ROW_GAP) })));
  const width = 40 + columns.length * NODE_W + (columns.length - 1) * COL_GAP;
  const height = 40 + Math.max(...columns.map((c) => c.length)) * (NODE_H + ROW_GAP);
  const maxCalls = Math.max(1, ...links.map((l) => l.callCount));

  const svg = s('svg', { class: 'dep-graph', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'service dependency graph' },
    s('defs', null, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: '10', refY: '5', markerWidth: '9', markerHeight: '9', markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' },
      s('path', { d: 'M0,0L10,5L0,10z', class: 'arrow-head' }))));
  for (const l of links) {
    const a = pos.get(l.parent);
    const b = pos.get(l.child);
    let d;
    let labelX;
    let labelY;
    if (l.parent === l.child) {
      d = `M${a.x + NODE_W - 20},${a.y}c0,-18 30,-18 20,0`;
      labelX = a.x + NODE_W;
      labelY = a.y - 16;
    } else {
      const x1 = a.x + NODE_W;
      const y1 = a.y + NODE_H / 2;
      const x2 = b.x;
      const y2 = b.y + NODE_H / 2;
      const back = x2 <= x1;
      const bend = back ? 80 : (x2 - x1) / 2;
      d = back ? `M${a.x},${y1}C${a.x - bend},${y1} ${b.x + NODE_W + bend},${y2} ${b.x + NODE_W},${y2}`
        : `M${x1},${y1}C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`;
      labelX = (x1 + x2) / 2;
      labelY = (y1 + y2) / 2 - 4;
    }
    svg.append(s('g', { class: 'edge', dataset: { parent: l.parent, child: l.child } },
      s('path', { d, class: 'edge-line', 'marker-end': 'url(#arrow)', 'stroke-width': 1 + 3 * (l.callCount / maxCalls) },
        s('title', null, `${l.parent} → ${l.child}: ${l.callCount} calls`)),
      s('text', { class: 'edge-label', x: labelX, y: labelY, 'text-anchor': 'middle' }, formatNumber(l.callCount))));
  }
  for (const n of nodes) {
    const { x, y } = pos.get(n);
    const g = s('g', { class: 'node', dataset: { service: n }, tabindex: '0', role: 'link' },
      s('rect', { x, y, width: NODE_W, height: NODE_H, rx: 6, stroke: serviceColor(n) }),
      s('circle', { cx: x + 12, cy: y + NODE_H / 2, r: 5, fill: serviceColor(n) }),
      s('text', { x: x + 24, y: y + NODE_H / 2 + 4, class: 'node-label' }, n.length > 18 ? `${n.slice(0, 17)}…` : n),
      s('title', null, `${n}: open its traces`));
    const open = () => navigate('/search', { service: n });
    g.addEventListener('click', open);
    g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') open(); });
    svg.append(g);
  }
  return svg;
}

const RED_COLUMNS = [
  ['service', 'Service'], ['requests', 'Requests'], ['ratePerSecond', 'Rate /s'], ['errorRate', 'Error rate'],
  ['p50', 'p50'], ['p95', 'p95'], ['p99', 'p99'],
];

function redTable(rows, { sortKey, onSort, onExpand, expanded, operations }) {
  const sorted = [...rows].sort((a, b) => (sortKey === 'service' ? a.service.localeCompare(b.service) : (b[sortKey] ?? 0) - (a[sortKey] ?? 0)));
  const cells = (r, isOp) => [
    h('td', { class: 'red-name' }, isOp ? h('span', { class: 'op-name' }, r.operation)
      : [h('button', { type: 'button', class: 'link-button expand', 'aria-expanded': String(expanded === r.service), onclick: () => onExpand(r.service) }, expanded === r.service ? '▾' : '▸'),
        h('span', { class: 'svc-dot', style: { background: serviceColor(r.service) } }),
        h('a', { href: routeHref('/search', { service: r.service }), class: 'red-service' }, r.service)]),
    h('td', { class: 'num' }, formatNumber(r.requests)),
    h('td', { class: 'num' }, formatNumber(r.ratePerSecond, 3)),
    h('td', { class: ['num', r.errorRate > 0 && 'bad'] }, `${formatNumber((r.errorRate ?? 0) * 100, 2)}%`),
    h('td', { class: 'num' }, formatDuration(r.p50)),
    h('td', { class: 'num' }, formatDuration(r.p95)),
    h('td', { class: 'num' }, formatDuration(r.p99)),
  ];
  const body = h('tbody');
  for (const r of sorted) {
    body.append(h('tr', { class: 'red-row', dataset: { service: r.service } }, cells(r, false)));
    if (expanded === r.service) {
      for (const op of operations ?? []) body.append(h('tr', { class: 'red-op-row' }, cells(op, true)));
    }
  }
  return h('table', { class: 'red-table' },
    h('thead', null, h('tr', null, RED_COLUMNS.map(([k, label]) => h('th', { class: [k !== 'service' && 'num', sortKey === k && 'sorted'] },
      h('button', { type: 'button', class: 'link-button', onclick: () => onSort(k) }, label))))),
    body);
}

// What the seven-day chart can show, from each point of /api/otlpd/red/series.
const HISTORY_MEASURES = {
  rate: { label: 'Requests /s', value: (p, step) => p.requests / step, unit: '/s' },
  errors: { label: 'Error rate %', value: (p) => (p.requests ? (100 * p.errors) / p.requests : 0), unit: '%' },
  p95: { label: 'p95 duration (ms)', value: (p) => p.p95 / 1000, unit: 'ms' },
  p99: { label: 'p99 duration (ms)', value: (p) => p.p99 / 1000, unit: 'ms' },
};

/** The seven-day history of every service (per-minute rollups summed per hour): one line each. */
export function historyChart(groups, measure, width) {
  const m = HISTORY_MEASURES[measure] ?? HISTORY_MEASURES.rate;
  const series = groups.map((g) => ({
    label: g.service,
    color: serviceColor(g.service),
    points: g.points.map((p) => [p.time, m.value(p, g.stepSeconds)]),
  }));
  const now = Date.now() * 1000;
  const svg = lineChart(series, { width, height: 220, unit: m.unit, timeRange: [now - 7 * 86400e6, now] });
  svg.setAttribute('aria-label', `${m.label} of each service over seven days`);
  return svg;
}

export function mount(container, route) {
  const lookbackValue = route.params.get('lookback') || '1h';
  const lookback = h('select', { name: 'lookback', 'aria-label': 'time range' },
    lookbackOptions(lookbackValue, { custom: false }));
  lookback.addEventListener('change', () => navigate('/dependencies', { lookback: lookback.value }));
  const graphBox = h('div', { class: 'graph-box' }, h('p', { class: 'muted' }, 'Loading…'));
  const history = historySection(route.params.get('measure') || 'rate');
  const redBox = h('div', { class: 'red-box' }, h('p', { class: 'muted' }, 'Loading…'));
  container.appendChild(h('div', { class: 'deps-page' },
    h('div', { class: 'page-head' }, h('h1', null, 'Services'), h('label', null, 'Time range ', lookback)),
    h('section', null, h('h2', null, 'Dependencies'), graphBox),
    h('section', null, h('h2', null, 'Requests, errors, duration (RED) of entry spans'), redBox),
    history.section));

  const lookbackUs = durationToMicros(lookbackValue);
  (async () => {
    try {
      const env = await api.dependencies({ endTs: Date.now(), lookback: Math.round(lookbackUs / 1000) });
      replaceChildren(graphBox, dependencyGraph(env.data ?? []));
      graphBox.dataset.loaded = 'true';
    } catch (e) {
      replaceChildren(graphBox, h('p', { class: 'muted' }, 'The dependency graph is unavailable.'));
      showError(e);
    }
  })();

  const state = { rows: [], sortKey: 'requests', expanded: null, operations: [] };
  const draw = () => replaceChildren(redBox, state.rows.length ? redTable(state.rows, {
    ...state,
    onSort: (k) => { state.sortKey = k; draw(); },
    onExpand: async (service) => {
      if (state.expanded === service) {
        state.expanded = null;
        draw();
        return;
      }
      try {
        const env = await api.red({ service, lookback: lookbackValue });
        state.operations = (env.data ?? []).filter((r) => r.operation !== undefined && r.operation !== null);
        state.expanded = service;
        draw();
      } catch (e) {
        showError(e);
      }
    },
  }) : h('p', { class: 'muted' }, 'No requests in this time range.'));
  (async () => {
    try {
      const env = await api.red({ lookback: lookbackValue });
      state.rows = (env.data ?? []).filter((r) => r.operation === undefined || r.operation === null || r.operation === '');
      if (!state.rows.length) state.rows = env.data ?? [];
      draw();
      redBox.dataset.loaded = 'true';
    } catch (e) {
      replaceChildren(redBox, h('p', { class: 'muted' }, 'RED numbers are unavailable.'));
      showError(e);
    }
  })();
  return {};
}

/** The "last 7 days" section: a measure select, one line per service, a legend. */
function historySection(measure) {
  const select = h('select', { name: 'measure', 'aria-label': 'measure' },
    Object.entries(HISTORY_MEASURES).map(([k, m]) => h('option', { value: k, selected: k === measure }, m.label)));
  const chartBox = h('div', { class: 'history-chart' }, h('p', { class: 'muted' }, 'Loading…'));
  const legend = h('ul', { class: 'legend' });
  const section = h('section', null,
    h('div', { class: 'page-head' }, h('h2', null, 'Last 7 days'), h('label', null, 'Show ', select)),
    chartBox, legend);
  let groups = [];
  const draw = () => {
    if (!groups.length) {
      replaceChildren(chartBox, h('p', { class: 'muted' }, 'No requests in the last seven days.'));
      replaceChildren(legend);
      return;
    }
    replaceChildren(chartBox, historyChart(groups, select.value, Math.max(400, chartBox.clientWidth || 800)));
    replaceChildren(legend, ...groups.map((g) => h('li', { dataset: { service: g.service } },
      h('span', { class: 'swatch', style: { background: serviceColor(g.service) } }),
      h('span', { class: 'legend-label' }, g.service))));
  };
  select.addEventListener('change', draw);
  (async () => {
    try {
      const env = await api.redSeries({ lookback: '168h', step: '1h' });
      groups = env.data ?? [];
      draw();
      chartBox.dataset.loaded = 'true';
    } catch (e) {
      replaceChildren(chartBox, h('p', { class: 'muted' }, 'The seven-day history is unavailable.'));
      showError(e);
    }
  })();
  return { section };
}
