// OpenTelemetry semantic conventions for showing spans: the attributes a reader looks for first
// (http.*, db.*, rpc.*, messaging.*, ...) go on top, and a one-line summary says what a span did.

const PRIORITY_PREFIXES = [
  'http.', 'url.', 'server.', 'client.', 'db.', 'rpc.', 'messaging.', 'network.', 'error.', 'exception.',
  'user_agent.', 'code.', 'peer.', 'net.',
];

function rank(key) {
  const i = PRIORITY_PREFIXES.findIndex((p) => key.startsWith(p));
  return i < 0 ? PRIORITY_PREFIXES.length : i;
}

/** [[key, value]] sorted: semantic-convention groups first (in PRIORITY_PREFIXES order), then by key. */
export function orderAttributes(pairs) {
  return [...pairs].sort((a, b) => rank(a[0]) - rank(b[0]) || a[0].localeCompare(b[0]));
}

export function isConventional(key) {
  return rank(key) < PRIORITY_PREFIXES.length;
}

/** "GET /users/{id} → 200", "postgresql SELECT users", "grpc helloworld.Greeter/SayHello", or ''. */
export function spanSummary(span) {
  const a = new Map(span.attributes);
  const get = (...keys) => {
    for (const k of keys) if (a.has(k) && a.get(k) !== '') return String(a.get(k));
    return '';
  };
  const method = get('http.request.method', 'http.method');
  if (method) {
    const target = get('http.route', 'url.path', 'http.target', 'url.full', 'http.url');
    const status = get('http.response.status_code', 'http.status_code');
    return [method, target, status && `→ ${status}`].filter(Boolean).join(' ');
  }
  const db = get('db.system.name', 'db.system');
  if (db) {
    return [db, get('db.operation.name', 'db.operation'), get('db.collection.name', 'db.sql.table', 'db.name', 'db.namespace')].filter(Boolean).join(' ');
  }
  const rpc = get('rpc.system');
  if (rpc) {
    const svc = get('rpc.service');
    const m = get('rpc.method');
    const code = get('rpc.grpc.status_code', 'rpc.response.status_code');
    return [rpc, [svc, m].filter(Boolean).join('/'), code && `→ ${code}`].filter(Boolean).join(' ');
  }
  const msg = get('messaging.system');
  if (msg) return [msg, get('messaging.operation.type', 'messaging.operation'), get('messaging.destination.name')].filter(Boolean).join(' ');
  return '';
}

/** The db.query.text / db.statement of a span, shown as a block under the summary. */
export function spanStatement(span) {
  const a = new Map(span.attributes);
  for (const k of ['db.query.text', 'db.statement']) if (a.has(k)) return String(a.get(k));
  return '';
}

export const SEVERITIES = [
  ['TRACE', 1], ['DEBUG', 5], ['INFO', 9], ['WARN', 13], ['ERROR', 17], ['FATAL', 21],
];

/** Severity number → 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'unset'. */
export function severityClass(n) {
  if (!n) return 'unset';
  if (n >= 21) return 'fatal';
  if (n >= 17) return 'error';
  if (n >= 13) return 'warn';
  if (n >= 9) return 'info';
  if (n >= 5) return 'debug';
  return 'trace';
}

export function severityLabel(record) {
  return record.severityText || (record.severityNumber ? severityClass(record.severityNumber).toUpperCase() : 'UNSET');
}
