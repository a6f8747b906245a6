// The trace model behind the trace page: spans from OTLP/JSON (/api/v3) or Jaeger JSON
// (/api/traces/{id}), the parent/child tree in display order, and the critical path. Everything
// is precomputed once in O(n log n) so a 50,000-span trace renders and collapses quickly.

export const SPAN_KIND = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
const STATUS_ERROR = 2;

/** OTLP/JSON AnyValue → plain JS value (64-bit ints stay decimal strings: no precision loss). */
export function anyValue(v) {
  if (!v || typeof v !== 'object') return v ?? null;
  if ('stringValue' in v) return v.stringValue;
  if ('intValue' in v) return String(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('boolValue' in v) return Boolean(v.boolValue);
  if ('arrayValue' in v) return (v.arrayValue?.values ?? []).map(anyValue);
  if ('kvlistValue' in v) return Object.fromEntries((v.kvlistValue?.values ?? []).map((kv) => [kv.key, anyValue(kv.value)]));
  if ('bytesValue' in v) return `base64:${v.bytesValue}`;
  return null;
}

/** OTLP KeyValue list → [[key, value], ...]. */
export function attributePairs(list) {
  return (list ?? []).map((kv) => [kv.key, anyValue(kv.value)]);
}

const nanosToMicros = (ns) => Number(ns ?? 0) / 1000;

function makeSpan(fields) {
  return {
    idx: 0,
    parent: -1,
    children: [],
    depth: 0,
    logs: [],
    error: false,
    ...fields,
  };
}

/** {resourceSpans: [...]} (the /api/v3 "result") → Trace. */
export function traceFromOtlp(result, requestedId) {
  const spans = [];
  for (const rs of result?.resourceSpans ?? []) {
    const resource = attributePairs(rs.resource?.attributes);
    const serviceEntry = resource.find(([k]) => k === 'service.name');
    const service = serviceEntry ? String(serviceEntry[1]) : 'unknown_service';
    for (const ss of rs.scopeSpans ?? []) {
      const scope = { name: ss.scope?.name ?? '', version: ss.scope?.version ?? '', attributes: attributePairs(ss.scope?.attributes) };
      for (const sp of ss.spans ?? []) {
        const start = nanosToMicros(sp.startTimeUnixNano);
        const end = Math.max(start, nanosToMicros(sp.endTimeUnixNano));
        const status = { code: Number(sp.status?.code ?? 0), message: sp.status?.message ?? '' };
        spans.push(makeSpan({
          traceID: sp.traceId ?? requestedId,
          spanID: sp.spanId ?? '',
          parentSpanID: sp.parentSpanId ?? '',
          name: sp.name ?? '',
          kind: Number(sp.kind ?? 0),
          service,
          resource,
          scope,
          attributes: attributePairs(sp.attributes),
          events: (sp.events ?? []).map((e) => ({ time: nanosToMicros(e.timeUnixNano), name: e.name ?? '', attributes: attributePairs(e.attributes) })),
          links: (sp.links ?? []).map((l) => ({ traceID: l.traceId ?? '', spanID: l.spanId ?? '', attributes: attributePairs(l.attributes) })),
          status,
          error: status.code === STATUS_ERROR,
          start,
          end,
          duration: end - start,
          traceState: sp.traceState ?? '',
        }));
      }
    }
  }
  return new Trace(requestedId, spans);
}

const JAEGER_KIND = { internal: 1, server: 2, client: 3, producer: 4, consumer: 5 };

/** One Jaeger JSON trace ({traceID, spans, processes}) → Trace. */
export function traceFromJaeger(jt, requestedId) {
  const processes = jt?.processes ?? {};
  const spans = (jt?.spans ?? []).map((sp) => {
    const proc = processes[sp.processID] ?? {};
    const tags = (sp.tags ?? []).map((t) => [t.key, t.value]);
    const tag = (k) => tags.find(([key]) => key === k)?.[1];
    const parentRef = (sp.references ?? []).find((r) => r.refType === 'CHILD_OF' && r.traceID === sp.traceID);
    const statusText = tag('otel.status_code');
    const isError = statusText === 'ERROR' || tag('error') === true || tag('error') === 'true';
    const hidden = new Set(['span.kind', 'otel.status_code', 'otel.status_description', 'otel.scope.name', 'otel.scope.version', 'otel.library.name', 'otel.library.version', 'error']);
    return makeSpan({
      traceID: sp.traceID,
      spanID: sp.spanID,
      parentSpanID: parentRef?.spanID ?? '',
      name: sp.operationName ?? '',
      kind: JAEGER_KIND[tag('span.kind')] ?? 0,
      service: proc.serviceName ?? 'unknown_service',
      resource: [['service.name', proc.serviceName], ...(proc.tags ?? []).map((t) => [t.key, t.value])],
      scope: { name: tag('otel.scope.name') ?? tag('otel.library.name') ?? '', version: tag('otel.scope.version') ?? tag('otel.library.version') ?? '', attributes: [] },
      attributes: tags.filter(([k]) => !hidden.has(k)),
      events: (sp.logs ?? []).map((l) => {
        const fields = (l.fields ?? []).map((f) => [f.key, f.value]);
        const name = fields.find(([k]) => k === 'event')?.[1] ?? '';
        return { time: l.timestamp, name: String(name), attributes: fields.filter(([k]) => k !== 'event') };
      }),
      links: (sp.references ?? []).filter((r) => r !== parentRef).map((r) => ({ traceID: r.traceID, spanID: r.spanID, attributes: [] })),
      status: { code: isError ? STATUS_ERROR : statusText === 'OK' ? 1 : 0, message: tag('otel.status_description') ?? '' },
      error: isError,
      start: sp.startTime,
      end: sp.startTime + sp.duration,
      duration: sp.duration,
      traceState: '',
    });
  });
  return new Trace(requestedId, spans);
}

export class Trace {
  constructor(traceID, spans) {
    this.traceID = traceID;
    this.spans = spans;
    const n = spans.length;
    this.byId = new Map();
    spans.forEach((s, i) => {
      s.idx = i;
      // A repeated span ID (a buggy SDK) keeps the first; the others become roots below.
      if (!this.byId.has(s.spanID)) this.byId.set(s.spanID, i);
    });

    // Parents; a span whose parent is missing (not yet received, sampled out) is a root.
    this.roots = [];
    for (const s of spans) {
      const p = s.parentSpanID ? this.byId.get(s.parentSpanID) : undefined;
      if (p !== undefined && p !== s.idx) {
        s.parent = p;
        spans[p].children.push(s.idx);
      } else {
        this.roots.push(s.idx);
      }
    }
    const byStart = (a, b) => spans[a].start - spans[b].start || spans[a].end - spans[b].end;
    this.roots.sort(byStart);
    for (const s of spans) if (s.children.length > 1) s.children.sort(byStart);

    // Depth-first order (iterative: a long chain must not overflow the stack). A cycle of
    // parent IDs cannot be reached from a root; such spans are appended as roots afterwards.
    this.order = new Int32Array(n);
    const placed = new Uint8Array(n);
    let pos = 0;
    const walk = (rootIdx) => {
      const stack = [rootIdx];
      spans[rootIdx].depth = 0;
      while (stack.length) {
        const i = stack.pop();
        if (placed[i]) continue;
        placed[i] = 1;
        this.order[pos++] = i;
        const kids = spans[i].children;
        for (let k = kids.length - 1; k >= 0; k--) {
          spans[kids[k]].depth = spans[i].depth + 1;
          stack.push(kids[k]);
        }
      }
    };
    for (const r of this.roots) walk(r);
    for (let i = 0; i < n; i++) {
      if (!placed[i]) {
        spans[i].parent = -1;
        this.roots.push(i);
        walk(i);
      }
    }

    // Subtree sizes (children come after their parent in `order`, so walk it backwards).
    this.positionOf = new Int32Array(n);
    const size = new Int32Array(n).fill(1);
    for (let p = n - 1; p >= 0; p--) {
      const i = this.order[p];
      this.positionOf[i] = p;
      const parent = spans[i].parent;
      if (parent >= 0) size[parent] += size[i];
    }
    this.subtreeSize = size;

    // A loop, not Math.min(...spans): spreading 50k arguments can overflow the stack.
    this.start = Infinity;
    this.end = -Infinity;
    for (const s of spans) {
      if (s.start < this.start) this.start = s.start;
      if (s.end > this.end) this.end = s.end;
    }
    if (!n) this.start = this.end = 0;
    this.duration = this.end - this.start;
    this.maxDepth = spans.reduce((m, s) => Math.max(m, s.depth), 0);

    const services = new Map();
    for (const s of spans) {
      const e = services.get(s.service) ?? { name: s.service, spanCount: 0, errorCount: 0 };
      e.spanCount++;
      if (s.error) e.errorCount++;
      services.set(s.service, e);
    }
    this.services = [...services.values()].sort((a, b) => b.spanCount - a.spanCount || a.name.localeCompare(b.name));
    this.errorCount = spans.reduce((c, s) => c + (s.error ? 1 : 0), 0);
    this.critical = computeCriticalPath(this);
  }

  get root() {
    return this.roots.length ? this.spans[this.roots[0]] : null;
  }

  /** Spans in display order, skipping the descendants of collapsed spans. */
  visibleRows(collapsed) {
    const out = new Int32Array(this.spans.length);
    let count = 0;
    for (let p = 0; p < this.order.length;) {
      const i = this.order[p];
      out[count++] = i;
      p += collapsed[i] ? this.subtreeSize[i] : 1;
    }
    return out.subarray(0, count);
  }

  /** Attaches log records ({spanID, time µs, ...}) to their spans; answers those without a span. */
  attachLogs(records) {
    for (const s of this.spans) s.logs = [];
    const orphans = [];
    for (const r of records) {
      const i = r.spanID ? this.byId.get(r.spanID) : undefined;
      if (i === undefined) orphans.push(r);
      else this.spans[i].logs.push(r);
    }
    return orphans;
  }
}

/**
 * The critical path: the chain of work the trace's end waited for. From the root's end, step
 * into the last child to finish; when a span has no child finishing before the point we are
 * at, the span itself was the work, and we return to its parent at its start. Children are
 * clamped to their parent's window. Answers Map span index → [[start, end], ...] in µs.
 */
export function computeCriticalPath(trace) {
  const { spans, roots } = trace;
  const segments = new Map();
  if (!roots.length) return segments;
  let root = roots[0];
  for (const r of roots) if (spans[r].duration > spans[root].duration) root = r;

  const n = spans.length;
  const cs = new Float64Array(n);
  const ce = new Float64Array(n);
  const valid = new Uint8Array(n);
  // Clamp top-down in display order (parents before children).
  for (let p = 0; p < n; p++) {
    const i = trace.order[p];
    const s = spans[i];
    if (s.parent < 0) {
      cs[i] = s.start;
      ce[i] = s.end;
      valid[i] = 1;
    } else if (valid[s.parent]) {
      cs[i] = Math.max(s.start, cs[s.parent]);
      ce[i] = Math.min(s.end, ce[s.parent]);
      valid[i] = ce[i] >= cs[i] ? 1 : 0;
    }
  }
  const sortedKids = new Map();
  const kidsOf = (i) => {
    let k = sortedKids.get(i);
    if (!k) {
      k = spans[i].children.filter((c) => valid[c]).sort((a, b) => ce[b] - ce[a]);
      sortedKids.set(i, k);
    }
    return k;
  };
  const next = new Int32Array(n);
  const add = (i, a, b) => {
    if (b <= a) return;
    let list = segments.get(i);
    if (!list) segments.set(i, (list = []));
    list.push([a, b]);
  };

  let cur = root;
  let blocked = Infinity; // look for children ending before this
  let sectionEnd = ce[root];
  for (let guard = 0; guard < 4 * n + 10; guard++) {
    const kids = kidsOf(cur);
    let p = next[cur];
    while (p < kids.length && ce[kids[p]] >= blocked) p++;
    if (p < kids.length) {
      const child = kids[p];
      next[cur] = p + 1;
      add(cur, ce[child], sectionEnd);
      cur = child;
      blocked = Infinity;
      sectionEnd = ce[child];
    } else {
      next[cur] = kids.length;
      add(cur, cs[cur], sectionEnd);
      if (cur === root) break;
      blocked = cs[cur];
      sectionEnd = cs[cur];
      cur = spans[cur].parent;
    }
  }
  for (const list of segments.values()) list.reverse();
  return segments;
}

/** A span's own time: its duration less the time covered by at least one of its children. */
export function selfTime(trace, span) {
  const intervals = span.children
    .map((c) => [Math.max(trace.spans[c].start, span.start), Math.min(trace.spans[c].end, span.end)])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0]);
  let covered = 0;
  let [curA, curB] = [null, null];
  for (const [a, b] of intervals) {
    if (curB === null || a > curB) {
      if (curB !== null) covered += curB - curA;
      [curA, curB] = [a, b];
    } else if (b > curB) {
      curB = b;
    }
  }
  if (curB !== null) covered += curB - curA;
  return span.duration - covered;
}
