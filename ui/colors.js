// One stable colour per service, the same on every page (pills, bars, graph nodes).

// No reds: red means "error" everywhere in the UI.
const PALETTE = [
  '#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#2f7ed8',
  '#8bbc21', '#1aadce', '#492970', '#77a1e5', '#17becf', '#bcbd22', '#8c564b', '#6b8e23',
];

const assigned = new Map();

function hash(text) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

export function serviceColor(service) {
  let c = assigned.get(service);
  if (!c) {
    // Start at the service's hashed colour; move on while another service already has it, so
    // the services of one page differ (until the palette runs out).
    const start = hash(service ?? '') % PALETTE.length;
    const taken = new Set(assigned.values());
    c = PALETTE[start];
    for (let k = 0; k < PALETTE.length; k++) {
      const candidate = PALETTE[(start + k) % PALETTE.length];
      if (!taken.has(candidate)) {
        c = candidate;
        break;
      }
    }
    assigned.set(service, c);
  }
  return c;
}
