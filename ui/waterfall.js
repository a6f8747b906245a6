// The trace waterfall: one row per span on a shared time axis, nested by parent. Rows are
// virtualised — only the rows in view (plus an overscan) exist in the DOM, positioned inside a
// spacer as tall as all visible rows — so a 50,000-span trace scrolls like a 50-span one.
// Collapsing recomputes the visible-row index (an Int32Array walk) and redraws only the window.
import { formatDuration, h, replaceChildren } from './dom.js';
import { serviceColor } from './colors.js';
import { spanSummary } from './semconv.js';
import { Minimap } from './minimap.js';

export const ROW_HEIGHT = 24;
const OVERSCAN = 12;
const INDENT_PX = 14;
const MAX_INDENT_LEVELS = 40; // deeper levels still show their depth, but stop shifting right

export class Waterfall {
  /**
   * @param trace   model.Trace
   * @param onSelect(spanIdx) called when the user selects a row
   */
  constructor(trace, { onSelect, onZoom } = {}) {
    this.trace = trace;
    this.onSelect = onSelect ?? (() => {});
    this.onZoom = onZoom ?? (() => {});
    // The time window the bars are drawn in (µs); the whole trace until the user zooms.
    this.viewStart = trace.start;
    this.viewEnd = trace.end;
    this.collapsed = new Uint8Array(trace.spans.length);
    this.visible = trace.visibleRows(this.collapsed);
    this.rows = new Map(); // span index → row element, for the rows in the DOM
    this.selected = -1;
    this.showCritical = true;
    this.matches = null; // Uint8Array of find matches, or null
    this.framePending = false;

    this.axis = h('div', { class: 'wf-axis' });
    this.spacer = h('div', { class: 'wf-spacer' });
    this.scroller = h('div', { class: 'wf-scroller', tabindex: '0', role: 'tree', 'aria-label': 'spans' }, this.spacer);
    this.minimap = new Minimap(trace, this);
    const resizer = h('div', { class: 'wf-resizer', title: 'drag to resize the name column', 'aria-hidden': 'true' });
    this.el = h('div', { class: 'waterfall' },
      this.minimap.el,
      h('div', { class: 'wf-header' },
        h('div', { class: 'wf-name-head' }, 'Service · operation', resizer),
        this.axis),
      this.scroller);
    this.makeResizable(resizer);
    this.makeZoomable();

    this.scroller.addEventListener('scroll', () => this.schedule());
    this.scroller.addEventListener('click', (ev) => this.onClick(ev));
    this.scroller.addEventListener('keydown', (ev) => this.onKey(ev));
    this.resizeObserver = new ResizeObserver(() => {
      this.drawAxis();
      this.schedule();
      this.minimap.draw();
    });
    this.resizeObserver.observe(this.scroller);
    this.relayout();
  }

  destroy() {
    this.resizeObserver.disconnect();
  }

  // --- layout ----------------------------------------------------------------------------------

  relayout() {
    this.visible = this.trace.visibleRows(this.collapsed);
    this.positionInVisible = null;
    this.spacer.style.height = `${this.visible.length * ROW_HEIGHT}px`;
    for (const row of this.rows.values()) row.remove();
    this.rows.clear();
    this.render();
    this.minimap.draw();
  }

  schedule() {
    if (this.framePending) return;
    this.framePending = true;
    requestAnimationFrame(() => {
      this.framePending = false;
      this.render();
    });
  }

  /** Keeps exactly the rows in view (+ overscan) in the DOM. */
  render() {
    const top = this.scroller.scrollTop;
    const height = this.scroller.clientHeight || 600;
    const first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN);
    const last = Math.min(this.visible.length, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN);
    const wanted = new Set();
    for (let p = first; p < last; p++) wanted.add(this.visible[p]);
    for (const [idx, row] of this.rows) {
      if (!wanted.has(idx)) {
        row.remove();
        this.rows.delete(idx);
      }
    }
    const fragment = document.createDocumentFragment();
    for (let p = first; p < last; p++) {
      const idx = this.visible[p];
      let row = this.rows.get(idx);
      if (!row) {
        row = this.buildRow(idx);
        this.rows.set(idx, row);
        fragment.appendChild(row);
      }
      row.style.transform = `translateY(${p * ROW_HEIGHT}px)`;
      row.dataset.row = String(p);
    }
    this.spacer.appendChild(fragment);
    this.minimap.drawViewport();
  }

  buildRow(idx) {
    const { trace } = this;
    const span = trace.spans[idx];
    const hasKids = span.children.length > 0;
    const indent = Math.min(span.depth, MAX_INDENT_LEVELS) * INDENT_PX;
    const color = serviceColor(span.service);
    const v0 = this.viewStart;
    const total = this.viewEnd - this.viewStart || 1;
    const left = ((span.start - v0) / total) * 100;
    const width = Math.max((span.duration / total) * 100, 0.05);
    const summary = spanSummary(span);

    const bar = h('div', {
      class: ['wf-bar', span.error && 'error'],
      style: { left: `${left}%`, width: `${width}%`, background: color },
      title: `${span.service}: ${span.name}\n${formatDuration(span.duration)} from +${formatDuration(span.start - trace.start)}`,
    });
    const critical = this.showCritical ? trace.critical.get(idx) : null;
    if (critical && span.duration > 0) {
      for (const [a, b] of critical) {
        bar.appendChild(h('div', {
          class: 'wf-critical',
          style: { left: `${((a - span.start) / span.duration) * 100}%`, width: `${((b - a) / span.duration) * 100}%` },
        }));
      }
    }
    const cell = h('div', { class: 'wf-bar-cell' }, bar);
    const marker = (t, attrs) => {
      const at = ((t - v0) / total) * 100;
      if (at >= 0 && at <= 100) cell.appendChild(h('div', { ...attrs, style: { left: `${at}%` } }));
    };
    for (const e of span.events) marker(e.time, { class: 'wf-event', title: `event: ${e.name}` });
    for (const r of span.logs) marker(r.time, { class: ['wf-log', `sev-${r.severityClass}`], title: `log: ${r.bodyText.slice(0, 200)}` });
    // The duration goes right of the bar, else left of it, else inside its right end (or, when
    // zoomed so the bar fills the view, at the view's right edge).
    if (left < 100 && left + width > 0) {
      const place = left + width <= 80 ? 'right' : left >= 12 ? 'left' : 'inside';
      const labelStyle = place === 'right' ? { left: `${left + width}%` }
        : place === 'left' ? { right: `${100 - left}%` } : { right: `${Math.max(0, 100 - left - width)}%` };
      cell.appendChild(h('span', { class: ['wf-bar-label', place], style: labelStyle }, formatDuration(span.duration)));
    }

    const row = h('div', {
      class: ['wf-row', span.error && 'error', idx === this.selected && 'selected', critical && 'critical', this.matches?.[idx] ? 'match' : ''],
      role: 'treeitem',
      'aria-level': String(span.depth + 1),
      'aria-expanded': hasKids ? String(!this.collapsed[idx]) : undefined,
      'aria-selected': String(idx === this.selected),
      dataset: { spanId: span.spanID, depth: span.depth, idx },
    },
    h('div', { class: 'wf-name', style: { paddingLeft: `${indent + 4}px` } },
      hasKids
        ? h('button', { class: 'wf-toggle', type: 'button', tabindex: '-1', 'aria-label': this.collapsed[idx] ? 'expand' : 'collapse', title: `${trace.subtreeSize[idx] - 1} descendant(s)` }, this.collapsed[idx] ? '▸' : '▾')
        : h('span', { class: 'wf-toggle-spacer' }),
      h('span', { class: 'svc-dot', style: { background: color } }),
      h('span', { class: 'wf-service' }, span.service),
      h('span', { class: 'wf-op' }, span.name),
      summary ? h('span', { class: 'wf-summary' }, summary) : null,
      span.error ? h('span', { class: 'wf-error-icon', title: span.status.message || 'error' }, '!') : null,
      this.collapsed[idx] && hasKids ? h('span', { class: 'wf-hidden-count' }, `+${trace.subtreeSize[idx] - 1}`) : null),
    cell);
    return row;
  }

  drawAxis() {
    const from = this.viewStart - this.trace.start;
    const total = this.viewEnd - this.viewStart;
    const ticks = 5;
    const children = [];
    for (let i = 0; i <= ticks; i++) {
      const pct = (i / ticks) * 100;
      children.push(h('span', { class: ['wf-tick', i === ticks && 'last'], style: { left: `${pct}%` } }, formatDuration(from + (total * i) / ticks)));
    }
    replaceChildren(this.axis, ...children, this.selection);
  }

  get zoomed() {
    return this.viewStart > this.trace.start || this.viewEnd < this.trace.end;
  }

  /** Draws the bars in [start, end] µs (clamped to the trace); null, null shows the whole trace. */
  setView(start, end) {
    const t = this.trace;
    this.viewStart = Math.max(t.start, start ?? t.start);
    this.viewEnd = Math.min(t.end, end ?? t.end);
    if (this.viewEnd - this.viewStart < 1) {
      // A zero-length span: show a microsecond around it.
      this.viewEnd = Math.min(t.end, this.viewStart + 1);
    }
    this.el.classList.toggle('zoomed', this.zoomed);
    this.drawAxis();
    this.relayout();
    this.onZoom(this.zoomed);
  }

  /** Drag across the time axis to zoom into that range; double-click a row to zoom to its span. */
  makeZoomable() {
    this.selection = h('div', { class: 'wf-axis-selection', hidden: true });
    this.axis.title = 'drag to zoom into a time range';
    let from = null;
    const frac = (ev) => {
      const r = this.axis.getBoundingClientRect();
      return Math.min(1, Math.max(0, (ev.clientX - r.left) / r.width));
    };
    const show = (a, b) => {
      this.selection.hidden = false;
      this.selection.style.left = `${Math.min(a, b) * 100}%`;
      this.selection.style.width = `${Math.abs(b - a) * 100}%`;
    };
    this.axis.addEventListener('pointerdown', (ev) => {
      from = frac(ev);
      this.axis.setPointerCapture(ev.pointerId);
      show(from, from);
      ev.preventDefault();
    });
    this.axis.addEventListener('pointermove', (ev) => { if (from !== null) show(from, frac(ev)); });
    this.axis.addEventListener('pointerup', (ev) => {
      if (from === null) return;
      const to = frac(ev);
      this.selection.hidden = true;
      const [a, b] = [Math.min(from, to), Math.max(from, to)];
      from = null;
      if (b - a < 0.005) return;
      const span = this.viewEnd - this.viewStart;
      this.setView(this.viewStart + a * span, this.viewStart + b * span);
    });
    this.scroller.addEventListener('dblclick', (ev) => {
      const row = ev.target.closest('.wf-row');
      if (!row || ev.target.closest('.wf-toggle')) return;
      const s = this.trace.spans[Number(row.dataset.idx)];
      const pad = Math.max(s.duration * 0.05, 1);
      this.setView(s.start - pad, s.end + pad);
    });
  }

  /** Dragging the handle sets the name column's width (a CSS variable: no row is rebuilt). */
  makeResizable(handle) {
    let dragging = false;
    handle.addEventListener('pointerdown', (ev) => {
      dragging = true;
      handle.setPointerCapture(ev.pointerId);
      ev.preventDefault();
    });
    handle.addEventListener('pointermove', (ev) => {
      if (!dragging) return;
      const rect = this.el.getBoundingClientRect();
      const pct = Math.min(70, Math.max(15, ((ev.clientX - rect.left) / rect.width) * 100));
      this.el.style.setProperty('--name-col', `${pct.toFixed(1)}%`);
    });
    handle.addEventListener('pointerup', () => {
      dragging = false;
      this.drawAxis();
    });
  }

  // --- interaction -----------------------------------------------------------------------------

  onClick(ev) {
    const row = ev.target.closest('.wf-row');
    if (!row) return;
    const idx = Number(row.dataset.idx);
    if (ev.target.closest('.wf-toggle')) {
      this.toggle(idx);
      return;
    }
    this.select(idx, { notify: true });
  }

  onKey(ev) {
    const pos = this.selected >= 0 ? this.visiblePosition(this.selected) : -1;
    const span = this.selected >= 0 ? this.trace.spans[this.selected] : null;
    switch (ev.key) {
      case 'ArrowDown':
      case 'j':
        this.selectAt(Math.min(this.visible.length - 1, pos + 1));
        break;
      case 'ArrowUp':
      case 'k':
        this.selectAt(Math.max(0, pos - 1));
        break;
      case 'Home':
        this.selectAt(0);
        break;
      case 'End':
        this.selectAt(this.visible.length - 1);
        break;
      case 'ArrowLeft':
        if (!span) return;
        if (span.children.length && !this.collapsed[span.idx]) this.toggle(span.idx);
        else if (span.parent >= 0) this.select(span.parent, { notify: true, scroll: true });
        break;
      case 'ArrowRight':
        if (span && span.children.length && this.collapsed[span.idx]) this.toggle(span.idx);
        break;
      case 'Enter':
      case ' ':
        if (span && span.children.length) this.toggle(span.idx);
        break;
      default:
        return;
    }
    ev.preventDefault();
  }

  selectAt(pos) {
    if (pos >= 0 && pos < this.visible.length) this.select(this.visible[pos], { notify: true, scroll: true });
  }

  visiblePosition(idx) {
    if (!this.positionInVisible) {
      this.positionInVisible = new Int32Array(this.trace.spans.length).fill(-1);
      this.visible.forEach((spanIdx, p) => { this.positionInVisible[spanIdx] = p; });
    }
    return this.positionInVisible[idx];
  }

  toggle(idx) {
    this.collapsed[idx] = this.collapsed[idx] ? 0 : 1;
    this.relayout();
  }

  collapseAll() {
    for (const s of this.trace.spans) this.collapsed[s.idx] = s.children.length && s.parent >= 0 ? 1 : 0;
    this.relayout();
  }

  expandAll() {
    this.collapsed.fill(0);
    this.relayout();
  }

  /** Selects a span: expands its ancestors, scrolls it into view, marks the row. */
  select(idx, { notify = false, scroll = false } = {}) {
    if (idx < 0 || idx >= this.trace.spans.length) return;
    let changedLayout = false;
    for (let p = this.trace.spans[idx].parent; p >= 0; p = this.trace.spans[p].parent) {
      if (this.collapsed[p]) {
        this.collapsed[p] = 0;
        changedLayout = true;
      }
    }
    const previous = this.rows.get(this.selected);
    if (previous) {
      previous.classList.remove('selected');
      previous.setAttribute('aria-selected', 'false');
    }
    this.selected = idx;
    if (changedLayout) this.relayout();
    if (scroll) this.scrollToSpan(idx);
    const row = this.rows.get(idx);
    if (row) {
      row.classList.add('selected');
      row.setAttribute('aria-selected', 'true');
    }
    if (notify) this.onSelect(idx);
  }

  scrollToSpan(idx) {
    const pos = this.visiblePosition(idx);
    if (pos < 0) return;
    const top = pos * ROW_HEIGHT;
    const view = this.scroller.clientHeight;
    if (top < this.scroller.scrollTop || top + ROW_HEIGHT > this.scroller.scrollTop + view) {
      this.scroller.scrollTop = Math.max(0, top - view / 3);
    }
    this.render();
  }

  setCritical(on) {
    this.showCritical = on;
    this.el.classList.toggle('no-critical', !on);
    this.relayout();
  }

  /** Highlights spans whose service, name or attribute values contain `text`; answers the matches. */
  find(text) {
    const needle = text.trim().toLowerCase();
    if (!needle) {
      this.matches = null;
      this.relayout();
      return [];
    }
    this.matches = new Uint8Array(this.trace.spans.length);
    const found = [];
    for (let p = 0; p < this.trace.order.length; p++) {
      const s = this.trace.spans[this.trace.order[p]];
      if (s.name.toLowerCase().includes(needle) || s.service.toLowerCase().includes(needle) || s.spanID === needle ||
          s.attributes.some(([k, v]) => k.toLowerCase().includes(needle) || String(v).toLowerCase().includes(needle))) {
        this.matches[s.idx] = 1;
        found.push(s.idx);
      }
    }
    this.relayout();
    return found;
  }
}
