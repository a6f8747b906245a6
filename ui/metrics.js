// The metrics page (#/metrics?name=&service=&tags=&lookback=): pick a metric (and attributes),
// draw its series as lines over time with a legend.
import { api, parseTags, timeParams } from './api.js';
import { showBanner, showError } from './banners.js';
import { h, replaceChildren, valueText } from './dom.js';
import { lookbackOptions, option, submitToRoute } from './forms.js';
import { lineChart } from './chart.js';

const SERIES_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];

function seriesLabel(se) {
  const attrs = Object.entries(se.attributes ?? {}).map(([k, v]) => `${k}=${valueText(v)}`).join(', ');
  return [se.service, attrs].filter(Boolean).join(' · ') || se.name;
}

/** Per-second rate between consecutive points of a cumulative series; a drop (restart) is skipped. */
export function ratePoints(points) {
  const sorted = [...points].sort((a, b) => a[0] - b[0]);
  const out = [];
  for (let i = 1; i < sorted.length; i++) {
    const [t0, v0] = sorted[i - 1];
    const [t1, v1] = sorted[i];
    if (t1 > t0 && v1 >= v0) out.push([t1, (v1 - v0) / ((t1 - t0) / 1e6)]);
  }
  return out;
}

export function mount(container, route) {
  const p = route.params;
  const metricSelect = h('select', { name: 'name', 'aria-label': 'metric', required: true }, option('', 'Choose a metric', ''));
  const serviceSelect = h('select', { name: 'service', 'aria-label': 'service' }, option('', 'All services', ''));
  const lookback = h('select', { name: 'lookback' }, lookbackOptions(p.get('lookback') || '1h', { custom: false }));
  const keysHint = h('span', { class: 'muted small attr-keys' });
  // Cumulative sums (counters) read better as a rate; computed here from consecutive points.
  const rateBox = h('input', { type: 'checkbox', name: 'rate', value: '1', checked: p.get('rate') === '1' });
  const rateLabel = h('label', { class: 'check rate', hidden: true }, rateBox, 'as rate /s');
  const form = h('form', { class: 'filters metrics-filters', autocomplete: 'off' },
    h('label', null, 'Metric', metricSelect),
    h('label', null, 'Service', serviceSelect),
    h('label', { class: 'grow' }, 'Attributes', h('input', { name: 'tags', value: p.get('tags') ?? '', placeholder: 'key=value', spellcheck: 'false' }), keysHint),
    h('label', null, 'Time range', lookback),
    rateLabel,
    h('button', { type: 'submit', class: 'primary' }, 'Draw'));
  const info = h('div', { class: 'metric-info' });
  const chartBox = h('div', { class: 'metric-chart' });
  const legend = h('ul', { class: 'legend' });
  container.appendChild(h('div', { class: 'metrics-page' }, h('h1', null, 'Metrics'), form, info, chartBox, legend));

  let catalogue = [];
  const describe = () => {
    const m = catalogue.find((x) => x.name === metricSelect.value);
    keysHint.textContent = m?.attributeKeys?.length ? `keys: ${m.attributeKeys.join(', ')}` : '';
    replaceChildren(serviceSelect, option('', 'All services', ''), ...(m?.services ?? []).map((s) => option(s, s, p.get('service') ?? '')));
    const averaged = m && /histogram|summary/.test(m.type);
    replaceChildren(info, m ? h('p', null, h('strong', { class: 'metric-name' }, m.name), ` · ${m.type}${m.unit ? ` · ${m.unit}` : ''}`,
      averaged ? h('span', { class: 'muted' }, ' · drawn as the mean (sum / count) of each point') : null,
      m.description ? h('span', { class: 'muted' }, ` — ${m.description}`) : null) : null);
    rateLabel.hidden = !(m && m.type === 'sum');
  };
  metricSelect.addEventListener('change', describe);

  const ready = (async () => {
    try {
      const env = await api.metrics({ lookback: p.get('lookback') || '1h' });
      catalogue = [...(env.data ?? [])].sort((a, b) => a.name.localeCompare(b.name));
      const wanted = p.get('name') ?? '';
      for (const m of catalogue) metricSelect.append(option(m.name, m.name, wanted));
      describe();
    } catch (e) {
      showError(e);
    }
  })();

  submitToRoute(form, '/metrics', ['name', 'service', 'tags', 'lookback', 'rate']);

  let generation = 0;
  const draw = async (params) => {
    const name = params.get('name');
    if (!name) {
      replaceChildren(chartBox, h('p', { class: 'muted' }, 'Choose a metric to draw it.'));
      replaceChildren(legend);
      return;
    }
    const gen = ++generation;
    let tags;
    try {
      tags = parseTags(params.get('tags') ?? '');
    } catch (e) {
      showError(e);
      return;
    }
    replaceChildren(chartBox, h('p', { class: 'muted' }, 'Loading…'));
    try {
      const env = await api.metricSeries({
        name, service: params.get('service'), tags: Object.keys(tags).length ? tags : undefined, limit: 50,
        ...timeParams({ lookback: params.get('lookback') || '1h' }),
      });
      if (gen !== generation) return;
      if (env.partialErrors) showBanner('warning', env.partialErrors);
      if (env.truncated) showBanner('info', 'Only the first series are drawn: add attribute filters to see others.');
      const asRate = params.get('rate') === '1' && (env.data ?? []).every((se) => se.type === 'sum');
      const series = (env.data ?? []).map((se, i) => ({
        label: seriesLabel(se), color: SERIES_COLORS[i % SERIES_COLORS.length],
        points: asRate ? ratePoints(se.points ?? []) : se.points ?? [], unit: asRate ? `${se.unit ?? ''}/s` : se.unit,
      }));
      if (!series.some((se) => se.points.length)) {
        replaceChildren(chartBox, h('p', { class: 'muted' }, `No points of ${name} in this time range.`));
        replaceChildren(legend);
        return;
      }
      const width = Math.max(320, chartBox.clientWidth || 800);
      replaceChildren(chartBox, lineChart(series, { width, unit: series[0].unit ?? '' }));
      chartBox.dataset.loaded = 'true';
      replaceChildren(legend, ...series.map((se) => h('li', null,
        h('span', { class: 'swatch', style: { background: se.color } }),
        h('span', { class: 'legend-label' }, se.label),
        h('span', { class: 'muted small' }, ` ${se.points.length} point${se.points.length === 1 ? '' : 's'}, last ${valueText(se.points.at(-1)?.[1])}`))));
    } catch (e) {
      if (gen !== generation) return;
      replaceChildren(chartBox);
      showError(e);
    }
  };
  ready.then(() => draw(p));

  return {
    update(r) {
      metricSelect.value = r.params.get('name') ?? '';
      rateBox.checked = r.params.get('rate') === '1';
      form.elements.tags.value = r.params.get('tags') ?? '';
      lookback.value = r.params.get('lookback') || '1h';
      describe();
      serviceSelect.value = r.params.get('service') ?? '';
      draw(r.params);
    },
  };
}
