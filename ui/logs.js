// The logs page (#/logs?service=&severity=&body=&traceID=&lookback=&limit=): filters in the URL,
// records newest first with severity colours, each linking to its trace.
import { api, timeParams } from './api.js';
import { showBanner, showError } from './banners.js';
import { h, replaceChildren } from './dom.js';
import { fillForm, option, submitToRoute, timeRangeFields } from './forms.js';
import { logTable, normalizeLog } from './logtable.js';
import { SEVERITIES } from './semconv.js';

const KEYS = ['service', 'severity', 'body', 'traceID', 'lookback', 'from', 'to', 'limit'];

export function mount(container, route) {
  const p = route.params;
  const serviceSelect = h('select', { name: 'service', 'aria-label': 'service' }, option('', 'All services', ''));
  const { lookback, custom, sync: syncCustom } = timeRangeFields(p);
  const form = h('form', { class: 'filters logs-filters', autocomplete: 'off' },
    h('label', null, 'Service', serviceSelect),
    h('label', null, 'Min severity', h('select', { name: 'severity' }, option('', 'Any', p.get('severity') ?? ''), SEVERITIES.map(([name]) => option(name, name, p.get('severity') ?? '')))),
    h('label', { class: 'grow' }, 'Body contains', h('input', { name: 'body', type: 'search', value: p.get('body') ?? '', placeholder: 'text in the log body' })),
    h('label', null, 'Trace ID', h('input', { name: 'traceID', value: p.get('traceID') ?? '', spellcheck: 'false', size: '20' })),
    h('label', null, 'Time range', lookback),
    custom,
    h('label', null, 'Limit', h('input', { name: 'limit', type: 'number', min: '1', max: '1000', value: p.get('limit') ?? '100' })),
    h('button', { type: 'submit', class: 'primary' }, 'Search logs'));
  const head = h('div', { class: 'results-head' });
  const out = h('div', { class: 'logs-results' });
  container.appendChild(h('div', { class: 'logs-page' }, h('h1', null, 'Logs'), form, head, out));

  (async () => {
    try {
      const env = await api.services();
      for (const s of [...(env.data ?? [])].sort()) serviceSelect.append(option(s, s, p.get('service') ?? ''));
    } catch (e) {
      showError(e);
    }
  })();

  submitToRoute(form, '/logs', KEYS);

  let generation = 0;
  const search = async (params) => {
    const gen = ++generation;
    replaceChildren(head, h('p', { class: 'muted' }, 'Searching…'));
    try {
      const env = await api.logs({
        service: params.get('service'), severity: params.get('severity'), body: params.get('body'),
        traceID: params.get('traceID')?.toLowerCase(), limit: params.get('limit') || 100,
        ...timeParams({ lookback: params.get('lookback') || '1h', from: params.get('from'), to: params.get('to') }),
      });
      if (gen !== generation) return;
      const records = (env.data ?? []).map(normalizeLog);
      if (env.partialErrors) showBanner('warning', `Some records may be missing: ${env.partialErrors}`);
      replaceChildren(head, h('h2', null, `${records.length} record${records.length === 1 ? '' : 's'}`),
        env.truncated ? h('span', { class: 'badge warn' }, 'limit reached') : null);
      replaceChildren(out, logTable(records));
      out.dataset.loaded = 'true';
    } catch (e) {
      if (gen !== generation) return;
      replaceChildren(head);
      showError(e);
    }
  };
  search(p);

  return {
    update(r) {
      fillForm(form, r.params, KEYS, { defaults: { lookback: '1h', limit: '100' }, skip: ['service'] });
      serviceSelect.value = r.params.get('service') ?? '';
      syncCustom();
      search(r.params);
    },
  };
}
