// Small SVG charts (scatter for search results, lines for metrics) with text built through
// textContent only. Sizes come from the container at draw time.
import { s, formatDuration, formatNumber } from './dom.js';

export const MARGIN = { top: 10, right: 16, bottom: 26, left: 64 };

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min, max, count = 5) {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (max === min) {
    max = min + 1;
  }
  const raw = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => raw <= st) ?? 10 * mag;
  const ticks = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function timeLabel(us, spanUs) {
  const d = new Date(us / 1000);
  const pad = (n) => String(n).padStart(2, '0');
  if (spanUs > 2 * 86400e6) return `${d.getMonth() + 1}/${d.getDate()} ${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (spanUs > 120e6) return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (spanUs > 20e6) return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return `${pad(d.getMinutes())}:${pad(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

function frame(width, height, xMin, xMax, yMin, yMax, yFormat) {
  const innerW = width - MARGIN.left - MARGIN.right;
  const innerH = height - MARGIN.top - MARGIN.bottom;
  const x = (v) => MARGIN.left + ((v - xMin) / (xMax - xMin || 1)) * innerW;
  const y = (v) => MARGIN.top + innerH - ((v - yMin) / (yMax - yMin || 1)) * innerH;
  const axes = s('g', { class: 'axes' });
  for (const t of niceTicks(yMin, yMax, 4)) {
    axes.append(
      s('line', { class: 'grid', x1: MARGIN.left, x2: width - MARGIN.right, y1: y(t), y2: y(t) }),
      s('text', { class: 'tick-label', x: MARGIN.left - 6, y: y(t) + 4, 'text-anchor': 'end' }, yFormat(t)));
  }
  const xTicks = niceTicks(xMin, xMax, Math.max(2, Math.floor(innerW / 110)));
  for (const t of xTicks) {
    axes.append(s('text', { class: 'tick-label', x: x(t), y: height - 8, 'text-anchor': 'middle' }, timeLabel(t, xMax - xMin)));
  }
  axes.append(s('line', { class: 'axis', x1: MARGIN.left, x2: width - MARGIN.right, y1: MARGIN.top + innerH, y2: MARGIN.top + innerH }));
  return { x, y, axes };
}

/**
 * Duration-over-time scatter of traces. points: [{t µs, d µs, r (size weight), error, label, onClick}].
 */
export function scatterChart(points, { width = 800, height = 170 } = {}) {
  const svg = s('svg', { class: 'chart scatter', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'trace durations over time' });
  if (!points.length) return svg;
  let tMin = Math.min(...points.map((p) => p.t));
  let tMax = Math.max(...points.map((p) => p.t));
  if (tMax - tMin < 1e6) { tMin -= 5e5; tMax += 5e5; }
  const dMax = Math.max(...points.map((p) => p.d)) * 1.1 || 1;
  const { x, y, axes } = frame(width, height, tMin, tMax, 0, dMax, formatDuration);
  svg.append(axes);
  const rMax = Math.max(...points.map((p) => p.r), 1);
  for (const p of points) {
    const c = s('circle', {
      class: ['point', p.error && 'error'], cx: x(p.t), cy: y(p.d), r: 3 + 6 * Math.sqrt(p.r / rMax), tabindex: '0',
    }, s('title', null, p.label));
    if (p.onClick) {
      c.addEventListener('click', p.onClick);
      c.addEventListener('keydown', (ev) => { if (ev.key === 'Enter') p.onClick(); });
    }
    svg.append(c);
  }
  return svg;
}

/** Line chart. series: [{label, color, points: [[µs, value]]}]; `timeRange` [µs, µs] fixes the x axis. */
export function lineChart(series, { width = 800, height = 300, unit = '', timeRange = null } = {}) {
  const svg = s('svg', { class: 'chart lines', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': 'metric over time' });
  const all = series.flatMap((se) => se.points);
  if (!all.length) return svg;
  let tMin = Infinity; let tMax = -Infinity; let vMin = Infinity; let vMax = -Infinity;
  for (const [t, v] of all) {
    if (t < tMin) tMin = t;
    if (t > tMax) tMax = t;
    if (v < vMin) vMin = v;
    if (v > vMax) vMax = v;
  }
  if (timeRange) [tMin, tMax] = timeRange;
  if (tMax === tMin) { tMin -= 30e6; tMax += 30e6; }
  vMin = Math.min(0, vMin);
  if (vMax === vMin) vMax = vMin + 1;
  vMax += (vMax - vMin) * 0.05;
  // UCUM annotations like "{order}" and the dimensionless "1" are not worth repeating on every tick.
  const shownUnit = unit && unit !== '1' && !unit.startsWith('{') ? ` ${unit}` : '';
  const fmt = (v) => `${formatNumber(v)}${shownUnit}`;
  const { x, y, axes } = frame(width, height, tMin, tMax, vMin, vMax, fmt);
  svg.append(axes);
  for (const se of series) {
    const pts = [...se.points].sort((a, b) => a[0] - b[0]);
    const d = pts.map(([t, v], i) => `${i ? 'L' : 'M'}${x(t).toFixed(1)},${y(v).toFixed(1)}`).join('');
    svg.append(s('path', { class: 'series', d, stroke: se.color, fill: 'none' }, s('title', null, se.label)));
    if (pts.length <= 200) {
      for (const [t, v] of pts) {
        svg.append(s('circle', { class: 'series-point', cx: x(t), cy: y(v), r: 2.5, fill: se.color },
          s('title', null, `${se.label}\n${new Date(t / 1000).toISOString()}: ${fmt(v)}`)));
      }
    }
  }
  return svg;
}
