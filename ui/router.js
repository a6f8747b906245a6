// Hash routing: "#/search?service=a", "#/trace/<id>?span=<spanId>". Paths the server answers with
// index.html ("/trace/<id>", Jaeger's own links) are moved to the equivalent hash at start-up.

export function currentRoute() {
  const raw = location.hash.replace(/^#/, '') || '/search';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { path, parts, params, page: parts[0] || 'search' };
}

export function routeHref(path, params) {
  const q = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')).toString() : '';
  return `#${path}${q ? `?${q}` : ''}`;
}

/** Changes the route; `replace` keeps the back button for real navigation only. */
export function navigate(path, params, { replace = false } = {}) {
  const href = routeHref(path, params);
  if (replace || href === location.hash) {
    // Same URL (e.g. "Find" pressed twice): no hashchange would fire, but the user wants a refresh.
    history.replaceState(null, '', href);
    window.dispatchEvent(new HashChangeEvent('hashchange'));
  } else {
    location.hash = href.slice(1);
  }
}

/** A location like "/trace/abc" (deep link into the app) becomes "#/trace/abc". */
export function adoptPathRoute() {
  const p = location.pathname;
  if (p !== '/' && p !== '/index.html' && !location.hash) {
    history.replaceState(null, '', `/#${p}${location.search}`);
  }
}
