// Error and notice banners under the top bar. A failing endpoint shows its message here; the
// page keeps whatever it could draw.
import { h, replaceChildren } from './dom.js';

let container;

export function initBanners(el) {
  container = el;
}

/** kind: 'error' | 'warning' | 'info'. Same text twice shows once. */
export function showBanner(kind, text) {
  if (!container) return;
  for (const b of container.children) {
    if (b.dataset.text === text) return;
  }
  const banner = h('div', { class: ['banner', kind], role: kind === 'error' ? 'alert' : 'status', dataset: { text } },
    h('span', { class: 'banner-text' }, text),
    h('button', { class: 'banner-close', type: 'button', 'aria-label': 'dismiss', onclick: () => banner.remove() }, '×'));
  container.appendChild(banner);
}

export function showError(e) {
  if (e && e.name === 'AbortError') return;
  showBanner('error', e && e.message ? e.message : String(e));
}

export function clearBanners() {
  if (container) replaceChildren(container);
}
