// The span details panel of the trace page: what the span did (semantic-convention summary and
// attributes first), its status, events, links (to the linked trace), logs, resource and scope.
import { h, formatDuration, formatTime, kvTable } from './dom.js';
import { serviceColor } from './colors.js';
import { SPAN_KIND, selfTime } from './model.js';
import { routeHref } from './router.js';
import { isConventional, orderAttributes, spanStatement, spanSummary } from './semconv.js';
import { logList } from './logtable.js';

const STATUS = ['UNSET', 'OK', 'ERROR'];

function section(title, count, content, open = true) {
  return h('details', { class: 'detail-section', open },
    h('summary', null, title, count !== null ? h('span', { class: 'count' }, String(count)) : null),
    content);
}

export function spanDetails(trace, span, { onClose } = {}) {
  const summary = spanSummary(span);
  const statement = spanStatement(span);
  const parent = span.parent >= 0 ? trace.spans[span.parent] : null;
  const attrs = orderAttributes(span.attributes);
  const attrTable = kvTable(attrs, { className: 'kv attributes' });
  attrTable.querySelectorAll('tr').forEach((tr) => tr.classList.toggle('conventional', isConventional(tr.dataset.key)));

  const facts = [
    ['Span ID', span.spanID],
    ['Parent', parent ? `${parent.name} (${parent.spanID})` : span.parentSpanID ? `${span.parentSpanID} (not in this trace)` : 'root'],
    ['Kind', SPAN_KIND[span.kind] ?? String(span.kind)],
    ['Start', `+${formatDuration(span.start - trace.start)} (${formatTime(span.start)})`],
    ['Duration', `${formatDuration(span.duration)} (${trace.duration ? ((span.duration / trace.duration) * 100).toFixed(1) : '100'}% of the trace)`],
    ['Self time', `${formatDuration(selfTime(trace, span))} (not covered by child spans)`],
    ['Status', `${STATUS[span.status.code] ?? span.status.code}${span.status.message ? `: ${span.status.message}` : ''}`],
  ];
  if (span.traceState) facts.push(['Trace state', span.traceState]);
  const critical = trace.critical.get(span.idx);
  if (critical) facts.push(['Critical path', formatDuration(critical.reduce((t, [a, b]) => t + b - a, 0))]);

  const events = span.events.length
    ? h('ul', { class: 'events' }, span.events.map((e) => h('li', { class: 'event' },
      h('div', { class: 'event-head' }, h('span', { class: 'event-time' }, `+${formatDuration(e.time - trace.start)}`), h('span', { class: 'event-name' }, e.name)),
      e.attributes.length ? kvTable(e.attributes) : null)))
    : h('p', { class: 'muted small' }, 'none');

  const links = span.links.length
    ? h('ul', { class: 'links' }, span.links.map((l) => h('li', { class: 'link' },
      h('a', { href: routeHref(`/trace/${l.traceID}`, { span: l.spanID }), class: 'span-link-out' }, `trace ${l.traceID} · span ${l.spanID}`),
      l.attributes.length ? kvTable(l.attributes) : null)))
    : h('p', { class: 'muted small' }, 'none');

  const scope = [['name', span.scope.name], ['version', span.scope.version], ...span.scope.attributes].filter(([, v]) => v !== '' && v !== undefined);

  return h('aside', { class: 'span-details', dataset: { spanId: span.spanID }, 'aria-label': 'span details' },
    h('div', { class: 'details-head' },
      h('div', { class: 'details-title' },
        h('span', { class: 'svc-pill', style: { borderColor: serviceColor(span.service) } }, h('span', { class: 'svc-dot', style: { background: serviceColor(span.service) } }), span.service),
        h('h2', { class: 'span-name' }, span.name),
        span.error ? h('span', { class: 'error-badge' }, 'error') : null),
      h('button', { class: 'close', type: 'button', 'aria-label': 'close details', onclick: () => onClose?.() }, '×')),
    summary ? h('p', { class: 'span-summary' }, summary) : null,
    statement ? h('pre', { class: 'span-statement' }, statement) : null,
    kvTable(facts, { className: 'kv facts' }),
    section('Attributes', attrs.length, attrTable),
    section('Events', span.events.length, events),
    section('Links', span.links.length, links),
    section('Logs', span.logs.length, logList(span.logs, { traceStart: trace.start })),
    section('Resource', span.resource.length, kvTable(orderAttributes(span.resource)), false),
    section('Scope', null, kvTable(scope), false));
}
