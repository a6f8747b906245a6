// Starts the otlpd binary under test ($OTLPD_BIN) on OS-chosen loopback ports, and reads back
// what it produced: the ready file, its Prometheus self-metrics, the file exporter's OTLP/JSON
// lines and its stdout/stderr. Every wait is bounded; the child is stopped by its own PID only.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { parseJsonLossless } from './otlp-json.mjs';

export const SIGNALS = ['traces', 'metrics', 'logs'];
const READY_KEYS = ['otlp.grpc', 'otlp.http', 'telemetry.metrics', 'health_check'];
const OUTPUT_CAP = 4 * 1024 * 1024; // keep at most this much of each of stdout/stderr

// The test process talks to 127.0.0.1 only: make sure no proxy setting redirects the exporters.
for (const k of ['grpc_proxy', 'GRPC_PROXY', 'http_proxy', 'HTTP_PROXY', 'https_proxy', 'HTTPS_PROXY']) {
  delete process.env[k];
}
// And no OTEL_* variable from the environment changes what the SDK sends.
for (const k of Object.keys(process.env)) {
  if (k.startsWith('OTEL_')) delete process.env[k];
}

const live = new Set();
process.on('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

export function otlpdBinary() {
  const bin = process.env.OTLPD_BIN;
  if (!bin) throw new Error('OTLPD_BIN is not set: point it at the otlpd binary (ctest sets it)');
  try {
    fs.accessSync(bin, fs.constants.X_OK);
  } catch (e) {
    throw new Error(`OTLPD_BIN=${bin} is not an executable file: ${e.message}`);
  }
  return bin;
}

function configYaml(dir) {
  // JSON strings are valid YAML double-quoted scalars, so any temp path is quoted safely.
  const q = (s) => JSON.stringify(s);
  return `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      http: { endpoint: "127.0.0.1:0" }
exporters:
  file/traces: { path: ${q(path.join(dir, 'traces.jsonl'))} }
  file/metrics: { path: ${q(path.join(dir, 'metrics.jsonl'))} }
  file/logs: { path: ${q(path.join(dir, 'logs.jsonl'))} }
  debug: { verbosity: detailed }
extensions:
  health_check: { endpoint: "127.0.0.1:0" }
service:
  extensions: [health_check]
  telemetry:
    metrics: { address: "127.0.0.1:0" }
  pipelines:
    traces: { receivers: [otlp], exporters: [file/traces, debug] }
    metrics: { receivers: [otlp], exporters: [file/metrics, debug] }
    logs: { receivers: [otlp], exporters: [file/logs, debug] }
`;
}

/** promise's value, or null once ms have passed; leaves no timer behind. */
async function within(promise, ms) {
  let timer;
  const expired = new Promise((resolve) => {
    timer = setTimeout(() => resolve(null), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function tail(s, n = 4000) {
  return s.length > n ? `...${s.slice(-n)}` : s;
}

function validEndpoint(v) {
  return typeof v === 'string' && /^127\.0\.0\.1:[1-9][0-9]{0,4}$/.test(v);
}

export class Otlpd {
  constructor({ child, dir, configPath, readyPath, readyKeys = READY_KEYS }) {
    this.child = child;
    this.readyKeys = readyKeys;
    this.dir = dir;
    this.configPath = configPath;
    this.readyPath = readyPath;
    this.files = Object.fromEntries(SIGNALS.map((s) => [s, path.join(dir, `${s}.jsonl`)]));
    this.endpoints = null;
    this.stdout = '';
    this.stderr = '';
    this.exit = null; // {code, signal} once the process has exited
    const append = (key) => (chunk) => {
      if (this[key].length < OUTPUT_CAP) this[key] += chunk.toString('utf8');
    };
    child.stdout.on('data', append('stdout'));
    child.stderr.on('data', append('stderr'));
    this.exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        this.exit = { code, signal };
        live.delete(child);
        resolve(this.exit);
      });
    });
    this.spawnError = null;
    child.on('error', (e) => {
      this.spawnError = e;
    });
  }

  get pid() {
    return this.child.pid;
  }

  /** stdout and stderr together, for messages and the debug-exporter check. */
  output() {
    return `${this.stdout}\n${this.stderr}`;
  }

  describe() {
    return `otlpd pid ${this.pid} (dir ${this.dir}); exit ${JSON.stringify(this.exit)}\n` +
      `--- stderr (tail) ---\n${tail(this.stderr)}\n--- stdout (tail) ---\n${tail(this.stdout)}`;
  }

  async waitReady(timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    let lastProblem = 'ready file not written';
    while (Date.now() < deadline) {
      if (this.spawnError) throw new Error(`could not start otlpd: ${this.spawnError.message}`);
      if (this.exit) {
        throw new Error(`otlpd exited before it was ready: ${this.describe()}`);
      }
      if (fs.existsSync(this.readyPath)) {
        try {
          const ready = JSON.parse(fs.readFileSync(this.readyPath, 'utf8'));
          const bad = this.readyKeys.filter((k) => !validEndpoint(ready[k]));
          if (bad.length === 0) {
            this.endpoints = ready;
            return ready;
          }
          lastProblem = `ready file lacks valid 127.0.0.1:PORT for ${bad.join(', ')}: ${JSON.stringify(ready)}`;
        } catch (e) {
          // The file is written atomically, so a parse error is a real defect, unless we
          // raced a non-atomic writer; keep polling but remember the problem for the message.
          lastProblem = `ready file is not valid JSON: ${e.message}`;
        }
      }
      await sleep(50);
    }
    throw new Error(`otlpd not ready within ${timeoutMs} ms (${lastProblem}): ${this.describe()}`);
  }

  url(key, pathname = '') {
    if (!this.endpoints) throw new Error('otlpd is not ready');
    return `http://${this.endpoints[key]}${pathname}`;
  }

  async httpGet(key, pathname, timeoutMs = 5000) {
    const res = await fetch(this.url(key, pathname), { signal: AbortSignal.timeout(timeoutMs) });
    const body = await res.text();
    return { status: res.status, headers: res.headers, body };
  }

  async scrapeMetrics() {
    const r = await this.httpGet('telemetry.metrics', '/metrics');
    if (r.status !== 200) throw new Error(`GET /metrics returned ${r.status}: ${r.body}`);
    return r.body;
  }

  /** Parsed JSON lines of one file exporter output ([] while the file does not exist). */
  readJsonl(signal) {
    let text;
    try {
      text = fs.readFileSync(this.files[signal], 'utf8');
    } catch (e) {
      if (e.code === 'ENOENT') return [];
      throw e;
    }
    // The last element is '' after a final newline, or a line still being written: skip it.
    const complete = text.split('\n').slice(0, -1);
    return complete.filter((l) => l.trim() !== '').map((l, i) => {
      try {
        return parseJsonLossless(l);
      } catch (e) {
        throw new Error(`${this.files[signal]} line ${i + 1} is not JSON (${e.message}): ${l.slice(0, 500)}`);
      }
    });
  }

  /**
   * Polls the file exporter output until countFn(lines) >= expected, then waits `settleMs` more
   * and returns the lines (so a test can see extra, unexpected lines too).
   */
  async waitForJsonl(signal, countFn, expected, { timeoutMs = 10000, settleMs = 300 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let lines = [];
    while (Date.now() < deadline) {
      lines = this.readJsonl(signal);
      if (countFn(lines) >= expected) {
        await sleep(settleMs);
        return this.readJsonl(signal);
      }
      if (this.exit) break;
      await sleep(50);
    }
    throw new Error(`${this.files[signal]}: expected ${expected} items within ${timeoutMs} ms, ` +
      `found ${countFn(lines)} in ${lines.length} line(s): ${tail(JSON.stringify(lines), 3000)}\n${this.describe()}`);
  }

  /**
   * Polls /metrics until the sample `name{labels}` is >= expected (or the timeout passes) and
   * returns {value, text}; value is undefined if the series is absent.
   */
  async waitForMetric(name, labels, expected, { timeoutMs = 5000 } = {}) {
    const deadline = Date.now() + timeoutMs;
    let text = '';
    let value;
    do {
      text = await this.scrapeMetrics();
      value = promValue(text, name, labels);
      if (value !== undefined && value >= expected) break;
      await sleep(50);
    } while (Date.now() < deadline);
    return { value, text };
  }

  async waitForOutput(needles, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const out = this.output();
      const missing = needles.filter((n) => !out.includes(n));
      if (missing.length === 0 || Date.now() >= deadline) return missing;
      await sleep(50);
    }
  }

  /** SIGTERM (then SIGKILL after timeoutMs); returns {code, signal} and whether SIGKILL was needed. */
  async stop(timeoutMs = 10000) {
    if (this.exit) return { ...this.exit, killed: false };
    this.child.kill('SIGTERM');
    const exited = await within(this.exited, timeoutMs);
    if (exited) return { ...exited, killed: false };
    this.child.kill('SIGKILL');
    const afterKill = await within(this.exited, 5000);
    return { ...(afterKill ?? { code: null, signal: null }), killed: true };
  }

  cleanup() {
    if (process.env.OTLPD_INTEROP_KEEP) return;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Starts otlpd. `config(dir)` may replace the default config (file + debug exporters) with the
 * caller's YAML; it must still bind the endpoints the ready file is checked for (READY_KEYS),
 * plus `extraReadyKeys` (e.g. 'jaeger_query'). `env` adds to otlpd's environment.
 */
export async function startOtlpd({ readyTimeoutMs = 20000, config = configYaml, extraReadyKeys = [], env = {} } = {}) {
  const bin = otlpdBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otlpd-interop-'));
  const configPath = path.join(dir, 'config.yaml');
  const readyPath = path.join(dir, 'ready.json');
  fs.writeFileSync(configPath, config(dir));
  const child = spawn(bin, ['serve', '--config', configPath, '--ready-file', readyPath], {
    cwd: dir,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if (child.pid) live.add(child);
  const otlpd = new Otlpd({ child, dir, configPath, readyPath, readyKeys: [...READY_KEYS, ...extraReadyKeys] });
  try {
    await otlpd.waitReady(readyTimeoutMs);
  } catch (e) {
    await otlpd.stop(2000);
    otlpd.cleanup();
    throw e;
  }
  return otlpd;
}

/**
 * Runs fn(otlpd) against a fresh otlpd, then stops it with SIGTERM and requires exit code 0.
 * otlpd is always stopped and its temp dir removed, also when fn fails; a failure message
 * carries otlpd's output.
 */
export async function withOtlpd(fn, opts) {
  const otlpd = await startOtlpd(opts);
  let result;
  try {
    result = await fn(otlpd);
  } catch (e) {
    await otlpd.stop(5000);
    otlpd.cleanup();
    if (e && typeof e === 'object' && typeof e.message === 'string') {
      e.message += `\n${otlpd.describe()}`;
    }
    throw e;
  }
  const stopped = await otlpd.stop();
  otlpd.cleanup();
  if (stopped.killed || stopped.code !== 0) {
    throw new Error(`otlpd did not exit with code 0 on SIGTERM: ${JSON.stringify(stopped)}\n${otlpd.describe()}`);
  }
  return result;
}

// --- Prometheus text format ---------------------------------------------------------------

function parseLabels(s) {
  const labels = {};
  const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*,?/gy;
  let m;
  while ((m = re.exec(s)) !== null) {
    labels[m[1]] = m[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    if (re.lastIndex >= s.length) break;
  }
  return labels;
}

/** All samples of the metric `name` in Prometheus text: [{labels, value}]. */
export function promSamples(text, name) {
  const out = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\S+)?$/);
    if (!m || m[1] !== name) continue;
    out.push({ labels: m[2] ? parseLabels(m[2]) : {}, value: Number(m[3]) });
  }
  return out;
}

/**
 * Value of the series `name` whose labels include every given label (summed if several match,
 * e.g. when otlpd adds more labels); undefined when there is none.
 */
export function promValue(text, name, labels) {
  const matching = promSamples(text, name).filter((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matching.length === 0) return undefined;
  return matching.reduce((a, s) => a + s.value, 0);
}
