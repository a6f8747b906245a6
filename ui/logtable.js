// A table of log records, shared by the logs page and the trace page's logs tab. Bodies and
// attributes are text; a row opens to show attributes, resource and scope.
import { h, formatTime, kvTable, valueText } from './dom.js';
import { serviceColor } from './colors.js';
import { routeHref } from './router.js';
import { severityClass, severityLabel } from './semconv.js';

/** Adds the derived fields the views use (bodyText, severityClass) to an API log record. */
export function normalizeLog(r) {
  r.bodyText = valueText(r.body);
  r.severityClass = severityClass(r.severityNumber);
  return r;
}

function entries(obj) {
  if (!obj) return [];
  if (Array.isArray(obj)) return obj.map((kv) => (Array.isArray(kv) ? kv : [kv.key, kv.value]));
  return Object.entries(obj);
}

/**
 * @param records normalised log records
 * @param opts.traceLinks show "trace" links (the logs page); opts.onSpan(spanID) makes the span
 *        ID a button (the trace page: select the span in the waterfall), labelled
 *        opts.spanLabel(spanID) when given
 */
export function logTable(records, { traceLinks = true, onSpan = null, spanLabel = null, traceStart = null } = {}) {
  if (!records.length) return h('p', { class: 'muted empty-logs' }, 'No log records.');
  const body = h('tbody');
  for (const r of records) {
    const detailRow = h('tr', { class: 'log-detail', hidden: true },
      h('td', { colspan: '5' },
        h('div', { class: 'log-detail-grid' },
          h('section', null, h('h4', null, 'Attributes'), kvTable(entries(r.attributes))),
          h('section', null, h('h4', null, 'Resource'), kvTable(entries(r.resource))),
          h('section', null, h('h4', null, 'Scope'), kvTable(entries(r.scope).filter(([, v]) => v !== '' && v !== undefined))))));
    const traceCell = h('td', { class: 'log-trace' });
    if (r.traceID && traceLinks) {
      traceCell.appendChild(h('a', { class: 'trace-link', href: routeHref(`/trace/${r.traceID}`, { span: r.spanID || undefined }), title: `trace ${r.traceID}` }, 'trace ↗'));
    } else if (r.spanID && onSpan) {
      traceCell.appendChild(h('button', { class: 'link-button span-link', type: 'button', onclick: (ev) => { ev.stopPropagation(); onSpan(r.spanID); } }, spanLabel?.(r.spanID) ?? `span ${r.spanID.slice(0, 8)}`));
    }
    const when = traceStart !== null ? `+${((r.time - traceStart) / 1000).toFixed(3)}ms` : formatTime(r.time);
    const row = h('tr', { class: ['log-row', `sev-${r.severityClass}`], dataset: { severity: r.severityClass }, tabindex: '0' },
      h('td', { class: 'log-time', title: formatTime(r.time) }, when),
      h('td', { class: 'log-sev' }, h('span', { class: ['sev-badge', `sev-${r.severityClass}`] }, severityLabel(r))),
      h('td', { class: 'log-service' }, r.service ? [h('span', { class: 'svc-dot', style: { background: serviceColor(r.service) } }), r.service] : ''),
      h('td', { class: 'log-body' }, r.bodyText),
      traceCell);
    const toggle = () => { detailRow.hidden = !detailRow.hidden; row.classList.toggle('open', !detailRow.hidden); };
    row.addEventListener('click', (ev) => { if (!ev.target.closest('a,button')) toggle(); });
    row.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') toggle(); });
    body.append(row, detailRow);
  }
  return h('table', { class: 'logs-table' },
    h('thead', null, h('tr', null, h('th', null, 'Time'), h('th', null, 'Severity'), h('th', null, 'Service'), h('th', null, 'Body'), h('th', null, ''))),
    body);
}

/** A compact list of log records for narrow places (the span details panel). */
export function logList(records, { traceStart }) {
  if (!records.length) return h('p', { class: 'muted small' }, 'none');
  return h('ul', { class: 'log-list' }, records.map((r) => h('li', { class: ['log-item', `sev-${r.severityClass}`], dataset: { severity: r.severityClass } },
    h('div', { class: 'log-item-head' },
      h('span', { class: ['sev-badge', `sev-${r.severityClass}`] }, severityLabel(r)),
      h('span', { class: 'log-time', title: formatTime(r.time) }, `+${((r.time - traceStart) / 1000).toFixed(3)}ms`)),
    h('div', { class: 'log-body' }, r.bodyText),
    entries(r.attributes).length ? kvTable(entries(r.attributes)) : null)));
}
