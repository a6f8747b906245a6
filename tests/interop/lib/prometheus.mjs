// Debian's real Prometheus server (2.42) for interop tests: one process on a free loopback port
// with its config and TSDB in a temp dir, stopped by its own PID only; every wait is bounded.
// Queries go through its HTTP API (/api/v1/query, /api/v1/query_range).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { freePort } from './nginx.mjs';

const CANDIDATES = ['/usr/bin/prometheus', '/usr/local/bin/prometheus'];

export function prometheusBinary() {
  for (const p of CANDIDATES) {
    if (fs.existsSync(p)) return p;
  }
  throw new Error("prometheus is not installed (scripts/setup.sh installs Debian's prometheus)");
}

/**
 * Starts Prometheus with `configYaml` (its scrape configs) and `flags`. Returns
 * {url, port, pid, dir, stop(), log(), query(expr, time?), series(match)}.
 */
export async function startPrometheus({ configYaml = 'scrape_configs: []\n', flags = [], readyTimeoutMs = 30000 } = {}) {
  const bin = prometheusBinary();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'otlpd-prometheus-'));
  const port = await freePort();
  const configPath = path.join(dir, 'prometheus.yml');
  fs.writeFileSync(configPath, configYaml);
  let log = '';
  const child = spawn(bin, [
    `--config.file=${configPath}`,
    `--storage.tsdb.path=${path.join(dir, 'data')}`,
    `--web.listen-address=127.0.0.1:${port}`,
    '--log.level=warn',
    ...flags,
  ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_PROXY: '*' } });
  child.stdout.on('data', (d) => { log += d; });
  child.stderr.on('data', (d) => { log += d; });
  let exited = null;
  const done = new Promise((resolve) => child.once('exit', (code, signal) => {
    exited = { code, signal };
    resolve(exited);
  }));
  const url = `http://127.0.0.1:${port}`;
  const prom = {
    url,
    port,
    pid: child.pid,
    dir,
    log: () => log.slice(-4000),
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => { if (!exited) child.kill('SIGKILL'); }, 10000);
        await done;
        clearTimeout(timer);
      }
      if (!process.env.OTLPD_INTEROP_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    },
    /** The API's `data` of an instant query (at `time`, seconds, when given). */
    async query(expr, time) {
      const params = new URLSearchParams({ query: expr });
      if (time !== undefined) params.set('time', String(time));
      return apiGet(`${url}/api/v1/query?${params}`);
    },
    async queryRange(expr, start, end, step) {
      const params = new URLSearchParams({ query: expr, start: String(start), end: String(end), step: String(step) });
      return apiGet(`${url}/api/v1/query_range?${params}`);
    },
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (exited) throw new Error(`prometheus exited ${JSON.stringify(exited)}: ${log.slice(-4000)}`);
    try {
      const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await prom.stop();
      throw new Error(`prometheus not ready after ${readyTimeoutMs} ms: ${log.slice(-4000)}`);
    }
    await sleep(100);
  }
  return prom;
}

async function apiGet(u) {
  const res = await fetch(u, { signal: AbortSignal.timeout(10000) });
  const body = await res.json();
  if (body.status !== 'success') throw new Error(`${u}: ${JSON.stringify(body)}`);
  return body.data;
}

/** Polls fn() every 250 ms until it returns a truthy value, at most timeoutMs; returns it. */
export async function eventually(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}
