// The query API client. Every call answers the parsed envelope or throws an ApiError whose
// message is fit for the error banner; nothing here touches the DOM.

export class ApiError extends Error {
  constructor(message, { status = 0, path = '' } = {}) {
    super(message);
    this.status = status;
    this.path = path;
  }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params ?? {})) {
    if (v === undefined || v === null || v === '') continue;
    q.set(k, typeof v === 'object' ? JSON.stringify(v) : String(v));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

function errorText(errors) {
  return errors.map((e) => (e && typeof e === 'object' ? `${e.msg ?? e.message ?? JSON.stringify(e)}` : String(e))).join('; ');
}

/**
 * GET path?params; answers the whole JSON envelope ({data, total, truncated, errors, ...}).
 * An envelope with both data and errors is a partial answer: it is returned with `partialErrors`
 * set so the page can show what is there and say what is not.
 */
export async function getJson(path, params, { signal } = {}) {
  const url = path + query(params);
  let res;
  try {
    res = await fetch(url, { signal, headers: { Accept: 'application/json' } });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(`${path}: the server did not answer (${e.message})`, { path });
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: fall through with body = null
  }
  if (!res.ok) {
    const detail = body && Array.isArray(body.errors) && body.errors.length ? errorText(body.errors)
      : text.slice(0, 200) || res.statusText;
    throw new ApiError(`${path} answered ${res.status}: ${detail}`, { status: res.status, path });
  }
  if (body === null || typeof body !== 'object') {
    throw new ApiError(`${path} answered something that is not JSON`, { status: res.status, path });
  }
  if (Array.isArray(body.errors) && body.errors.length) {
    if (body.data === null || body.data === undefined) {
      throw new ApiError(`${path}: ${errorText(body.errors)}`, { status: res.status, path });
    }
    body.partialErrors = errorText(body.errors);
  }
  return body;
}

// --- the endpoints ---------------------------------------------------------------------------

export const api = {
  services: () => getJson('/api/services'),
  operations: (service) => getJson(`/api/services/${encodeURIComponent(service)}/operations`),
  jaegerTraces: (params) => getJson('/api/traces', params),
  jaegerTrace: (id) => getJson(`/api/traces/${encodeURIComponent(id)}`),
  otlpTrace: (id) => getJson(`/api/v3/traces/${encodeURIComponent(id)}`),
  dependencies: (params) => getJson('/api/dependencies', params),
  traceSummaries: (params) => getJson('/api/otlpd/trace-summaries', params),
  logs: (params) => getJson('/api/otlpd/logs', params),
  metrics: (params) => getJson('/api/otlpd/metrics', params),
  metricSeries: (params) => getJson('/api/otlpd/metrics/series', params),
  red: (params) => getJson('/api/otlpd/red', params),
  redSeries: (params) => getJson('/api/otlpd/red/series', params),
};

// --- shared parameter helpers ----------------------------------------------------------------

/** Go-style durations the API accepts for minDuration/maxDuration/lookback: "250ms", "1.5s", "2h". */
export const DURATION_RE = /^\s*\d+(\.\d+)?\s*(ns|us|µs|ms|s|m|h)\s*$/;

/** Parses "k=v k2=\"v 2\"" (logfmt-like, the Jaeger UI's tag syntax) into {k: v}. */
export function parseTags(text) {
  const tags = {};
  // No space around '=': "c= d=1" is c="" and d=1.
  const re = /\s*([^\s=]+)=("((?:[^"\\]|\\.)*)"|\S*)/gy;
  const trimmed = (text ?? '').trim();
  if (!trimmed) return tags;
  re.lastIndex = 0;
  let m;
  let end = 0;
  while ((m = re.exec(trimmed)) !== null && m[0] !== '') {
    tags[m[1]] = m[3] !== undefined ? m[3].replace(/\\(.)/g, '$1') : m[2];
    end = re.lastIndex;
    if (end >= trimmed.length) break;
  }
  if (trimmed.slice(end).trim() !== '') {
    throw new ApiError(`cannot read the attribute filter near "${trimmed.slice(end, end + 30)}": use key=value key2="a value"`);
  }
  return tags;
}

export function formatTags(tags) {
  return Object.entries(tags ?? {}).map(([k, v]) => (/[\s"]/.test(v) || v === '' ? `${k}=${JSON.stringify(v)}` : `${k}=${v}`)).join(' ');
}

export const LOOKBACKS = [
  ['5m', 'Last 5 minutes'], ['15m', 'Last 15 minutes'], ['1h', 'Last hour'], ['2h', 'Last 2 hours'],
  ['6h', 'Last 6 hours'], ['12h', 'Last 12 hours'], ['24h', 'Last 24 hours'], ['48h', 'Last 2 days'],
  ['168h', 'Last 7 days'], ['custom', 'Custom range'],
];

const UNIT_US = { ns: 1e-3, us: 1, 'µs': 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };

export function durationToMicros(text) {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ns|us|µs|ms|s|m|h)\s*$/.exec(text ?? '');
  return m ? Number(m[1]) * UNIT_US[m[2]] : NaN;
}

/**
 * The time window of a form: {lookback} for presets (the server anchors it at "now"), or
 * {start, end} in µs for a custom range given as datetime-local strings.
 */
export function timeParams({ lookback, from, to }) {
  if (lookback !== 'custom') return { lookback: lookback || '1h' };
  const start = from ? new Date(from).getTime() * 1000 : undefined;
  const end = to ? new Date(to).getTime() * 1000 : Date.now() * 1000;
  return { start, end };
}
