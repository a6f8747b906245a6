// The filter forms of the search, logs and metrics pages: their state lives in the URL, a form
// only edits it (submitting navigates; the page's update() puts the URL back into the fields).
import { LOOKBACKS, formatTags, parseTags } from './api.js';
import { showError } from './banners.js';
import { h } from './dom.js';
import { navigate } from './router.js';

/** <option> of `value`, selected when it is `selected`. */
export function option(value, label, selected) {
  return h('option', { value, selected: value === selected }, label);
}

/** The options of LOOKBACKS (with 'custom' only when `custom`), `selected` selected. */
export function lookbackOptions(selected, { custom = true } = {}) {
  return LOOKBACKS.filter(([v]) => custom || v !== 'custom').map(([v, l]) => option(v, l, selected));
}

/**
 * The time range fields: a `lookback` select (with `attrs`) and `custom`, the From/To inputs of a
 * custom range, shown while 'custom' is selected; sync() shows or hides them after code set the
 * select's value.
 */
export function timeRangeFields(params, attrs = {}) {
  const lookback = h('select', { name: 'lookback', ...attrs }, lookbackOptions(params.get('lookback') || '1h'));
  const from = h('input', { type: 'datetime-local', name: 'from', value: params.get('from') ?? '', step: '1' });
  const to = h('input', { type: 'datetime-local', name: 'to', value: params.get('to') ?? '', step: '1' });
  const custom = h('div', { class: 'custom-range', hidden: lookback.value !== 'custom' }, h('label', null, 'From', from), h('label', null, 'To', to));
  const sync = () => { custom.hidden = lookback.value !== 'custom'; };
  lookback.addEventListener('change', sync);
  return { lookback, custom, sync };
}

/**
 * Submitting `form` navigates to `path` with the non-empty values of the fields `keys`: from/to
 * only with a custom time range, attribute filters (tags) in their canonical form. A malformed
 * filter shows an error instead.
 */
export function submitToRoute(form, path, keys) {
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    const params = {};
    for (const k of keys) {
      const v = (fd.get(k) ?? '').toString().trim();
      if (v) params[k] = v;
    }
    if (params.lookback !== 'custom') { delete params.from; delete params.to; }
    try {
      if (params.tags) params.tags = formatTags(parseTags(params.tags));
    } catch (e) {
      showError(e);
      return;
    }
    navigate(path, params);
  });
}

/** Puts the values of `keys` in `params` into the form's fields (`defaults`, else ''), but `skip`. */
export function fillForm(form, params, keys, { defaults = {}, skip = [] } = {}) {
  for (const k of keys) {
    const el = form.elements[k];
    if (el && !skip.includes(k)) el.value = params.get(k) ?? defaults[k] ?? '';
  }
}
