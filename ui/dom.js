// DOM building without innerHTML: every piece of data reaches the page through textContent or
// an attribute set with setAttribute, so span names, attribute values and log bodies can never
// become markup or script.

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(parent, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(parent, c);
  } else if (child instanceof Node) {
    parent.appendChild(child);
  } else {
    parent.appendChild(document.createTextNode(String(child)));
  }
}

function applyAttrs(el, attrs) {
  if (!attrs) return;
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') {
      el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    } else if (key === 'style') {
      Object.assign(el.style, value); // CSSOM, allowed by a strict style-src
    } else if (key === 'dataset') {
      for (const [k, v] of Object.entries(value)) el.dataset[k] = String(v);
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'value' || key === 'checked' || key === 'selected' || key === 'disabled') {
      el[key] = value;
    } else {
      el.setAttribute(key, value === true ? '' : String(value));
    }
  }
}

/** h('div', {class: 'x', onclick: fn}, 'text', child, [more]) → HTMLElement. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

/** Same for SVG elements (charts, the dependency graph). */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

export function replaceChildren(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

// --- formatting -----------------------------------------------------------------------------

/** µs → "1.23s", "45.6ms", "789µs". */
export function formatDuration(us) {
  if (!Number.isFinite(us)) return '–';
  const abs = Math.abs(us);
  if (abs >= 3600e6) return `${(us / 3600e6).toFixed(2)}h`;
  if (abs >= 60e6) return `${(us / 60e6).toFixed(2)}m`;
  if (abs >= 1e6) return `${trim(us / 1e6)}s`;
  if (abs >= 1e3) return `${trim(us / 1e3)}ms`;
  return `${trim(us)}µs`;
}

function trim(n) {
  return Number(n.toPrecision(3)).toString();
}

/** µs since the epoch → "2024-01-02 03:04:05.678" in local time. */
export function formatTime(us) {
  if (!Number.isFinite(us)) return '–';
  const d = new Date(us / 1000);
  const pad = (n, w = 2) => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** "3m ago" style age of a µs timestamp. */
export function formatAge(us) {
  const s = (Date.now() * 1000 - us) / 1e6;
  if (s < 0) return 'in the future';
  if (s < 60) return `${Math.floor(s)}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

export function formatNumber(n, digits = 2) {
  if (!Number.isFinite(n)) return '–';
  if (Number.isInteger(n)) return n.toLocaleString('en-US');
  // Small rates (0.00042/s) keep two significant digits instead of rounding to 0.
  if (Math.abs(n) < 0.1) return String(Number(n.toPrecision(2)));
  return Number(n.toFixed(digits)).toLocaleString('en-US', { maximumFractionDigits: digits });
}

/** Any attribute value (string, number, bool, array, object) as one line of text. */
export function valueText(v) {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

/** A key/value table (attributes, resource); rows are [key, value] pairs. */
export function kvTable(pairs, { className = 'kv' } = {}) {
  if (!pairs.length) return h('p', { class: 'muted small' }, 'none');
  return h('table', { class: className },
    h('tbody', null, pairs.map(([k, v]) => h('tr', { dataset: { key: k } },
      h('th', { scope: 'row' }, k),
      h('td', null, valueText(v))))));
}

/** Debounce for input handlers. */
export function debounce(fn, ms) {
  let timer;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}
