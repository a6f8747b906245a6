// The minimap above the waterfall: every visible row drawn as a thin bar on one canvas (cheap
// even for 50,000 spans), with a box showing the rows in view. Click or drag to scroll there.
import { h } from './dom.js';
import { serviceColor } from './colors.js';

const HEIGHT = 56;

export class Minimap {
  constructor(trace, waterfall) {
    this.trace = trace;
    this.waterfall = waterfall;
    this.canvas = h('canvas', { class: 'minimap-canvas', height: String(HEIGHT), 'aria-hidden': 'true' });
    this.viewport = h('div', { class: 'minimap-viewport' });
    // Shade the time outside the waterfall's zoom window.
    this.beforeZoom = h('div', { class: 'minimap-shade' });
    this.afterZoom = h('div', { class: 'minimap-shade' });
    this.el = h('div', { class: 'minimap', title: 'trace overview: click or drag to scroll' }, this.canvas, this.viewport, this.beforeZoom, this.afterZoom);
    let dragging = false;
    const jump = (ev) => {
      const rect = this.canvas.getBoundingClientRect();
      const frac = Math.min(1, Math.max(0, (ev.clientY - rect.top) / rect.height));
      const sc = this.waterfall.scroller;
      sc.scrollTop = frac * sc.scrollHeight - sc.clientHeight / 2;
    };
    this.el.addEventListener('pointerdown', (ev) => {
      dragging = true;
      this.el.setPointerCapture(ev.pointerId);
      jump(ev);
    });
    this.el.addEventListener('pointermove', (ev) => { if (dragging) jump(ev); });
    this.el.addEventListener('pointerup', () => { dragging = false; });
  }

  draw() {
    const { trace } = this;
    const rows = this.waterfall.visible;
    const width = Math.max(100, this.el.clientWidth || 800);
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(width * ratio);
    this.canvas.height = Math.round(HEIGHT * ratio);
    this.canvas.style.width = `${width}px`;
    this.canvas.style.height = `${HEIGHT}px`;
    const ctx = this.canvas.getContext('2d');
    ctx.scale(ratio, ratio);
    ctx.clearRect(0, 0, width, HEIGHT);
    const total = trace.duration || 1;
    const n = rows.length || 1;
    const rowH = Math.max(HEIGHT / n, 0.5);
    for (let p = 0; p < rows.length; p++) {
      const s = trace.spans[rows[p]];
      ctx.fillStyle = s.error ? '#d62728' : serviceColor(s.service);
      const x = ((s.start - trace.start) / total) * width;
      ctx.fillRect(x, (p / n) * HEIGHT, Math.max(1, (s.duration / total) * width), Math.max(rowH, 1));
    }
    this.drawViewport();
  }

  drawViewport() {
    const sc = this.waterfall.scroller;
    const total = sc.scrollHeight || 1;
    const top = (sc.scrollTop / total) * HEIGHT;
    const height = Math.max(3, (sc.clientHeight / total) * HEIGHT);
    this.viewport.style.top = `${top}px`;
    this.viewport.style.height = `${Math.min(HEIGHT - top, height)}px`;
    const { trace, waterfall: w } = this;
    const duration = trace.duration || 1;
    this.beforeZoom.style.left = '0';
    this.beforeZoom.style.width = `${((w.viewStart - trace.start) / duration) * 100}%`;
    this.afterZoom.style.right = '0';
    this.afterZoom.style.width = `${((trace.end - w.viewEnd) / duration) * 100}%`;
  }
}
