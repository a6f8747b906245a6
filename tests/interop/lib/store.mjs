// Starts otlpd with the `store` exporter writing Arrow IPC files into a temp directory, sends
// OTLP/JSON over HTTP, and reads the files back with the apache-arrow npm package, which none
// of us wrote. Every wait is bounded; otlpd is stopped by its own PID only.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { CompressionType, MessageReader, compressionRegistry, tableFromIPC } from 'apache-arrow';
import { decompress as zstdDecompress } from 'fzstd';
import lz4 from 'lz4js';

import { Otlpd, otlpdBinary, promValue } from './otlpd.mjs';

export const EOS = Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

function storeConfig(dir, storeDir, compression) {
  const q = (s) => JSON.stringify(s);
  const compressionLine = compression === 'default' ? '' : `    compression: ${compression}\n`;
  return `receivers:
  otlp:
    protocols:
      grpc: { endpoint: "127.0.0.1:0" }
      http: { endpoint: "127.0.0.1:0" }
exporters:
  store:
    directory: ${q(storeDir)}
    write_interval: 100ms
${compressionLine}extensions:
  health_check: { endpoint: "127.0.0.1:0" }
service:
  extensions: [health_check]
  telemetry:
    metrics: { address: "127.0.0.1:0" }
  pipelines:
    traces: { receivers: [otlp], exporters: [store] }
    metrics: { receivers: [otlp], exporters: [store] }
    logs: { receivers: [otlp], exporters: [store] }
`;
}

/**
 * Starts otlpd on `storeDir` (kept across restarts); the caller stops it. `compression` is the
 * store's body compression: none (the default here, readable without codecs), zstd or lz4, or
 * 'default' to leave the key out and get the exporter's own default.
 */
export async function startStoreOtlpd(dir, storeDir, { compression = 'none' } = {}) {
  const configPath = path.join(dir, 'config.yaml');
  const readyPath = path.join(dir, `ready-${Date.now()}.json`);
  fs.writeFileSync(configPath, storeConfig(dir, storeDir, compression));
  const child = spawn(otlpdBinary(), ['serve', '--config', configPath, '--ready-file', readyPath], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const otlpd = new Otlpd({ child, dir, configPath, readyPath });
  try {
    await otlpd.waitReady(20000);
  } catch (e) {
    await otlpd.stop(2000);
    throw e;
  }
  return otlpd;
}

export function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'otlpd-store-interop-'));
}

export async function postJson(otlpd, signal, body) {
  const res = await fetch(otlpd.url('otlp.http', `/v1/${signal}`), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`POST /v1/${signal}: ${res.status} ${text}`);
}

/** Waits until otlpd reports `rows` rows written for `signal`. */
export async function waitRows(otlpd, signal, rows, timeoutMs = 10000) {
  const { value, text } = await otlpd.waitForMetric('otlpd_store_rows_written_total', { signal }, rows, { timeoutMs });
  if (value === undefined || value < rows) {
    throw new Error(`expected ${rows} ${signal} rows written, got ${value}\n${text}\n${otlpd.describe()}`);
  }
}

export function arrowFiles(storeDir, signal) {
  const d = path.join(storeDir, signal);
  if (!fs.existsSync(d)) return [];
  return fs.readdirSync(d).filter((f) => f.endsWith('.arrow')).sort().map((f) => path.join(d, f));
}

export function readTable(file) {
  return tableFromIPC(fs.readFileSync(file));
}

// apache-arrow makes typed arrays (BigInt64Array for int64/timestamps) directly over what a codec
// returns, so the bytes must start 8-aligned. fzstd 0.1.1 returns a view 12 bytes into its own
// allocation; copy such a view to a fresh buffer.
const aligned = (u8) => (u8.byteOffset % 8 === 0 ? u8 : u8.slice());

/**
 * Lets apache-arrow read compressed bodies: it has no codec of its own and looks one up per
 * CompressionType. Both decoders are pure JS from npm (fzstd, lz4js), not ours. Each gets one
 * IPC buffer without its 8-byte length prefix and returns the decompressed bytes.
 */
export function registerCodecs() {
  compressionRegistry.set(CompressionType.ZSTD, { decode: (bytes) => aligned(zstdDecompress(bytes)) });
  compressionRegistry.set(CompressionType.LZ4_FRAME, { decode: (bytes) => aligned(lz4.decompress(bytes)) });
}

/**
 * The IPC messages of a stream file as apache-arrow's MessageReader sees them, without decoding
 * bodies: for each dictionary and record batch its BodyCompression type (null when none) and how
 * many of its buffers are stored compressed (length prefix other than -1) or as they are (-1).
 */
export function describeMessages(file) {
  const reader = new MessageReader(fs.readFileSync(file));
  const out = [];
  for (let msg = reader.readMessage(); msg; msg = reader.readMessage()) {
    const body = reader.readMessageBody(msg.bodyLength);
    if (msg.isSchema()) {
      out.push({ type: 'schema' });
      continue;
    }
    const header = msg.header();
    const batch = msg.isDictionaryBatch() ? header.data : header;
    const compression = batch.compression ? batch.compression.type : null;
    let compressed = 0;
    let raw = 0;
    if (compression !== null) {
      for (const { offset, length } of batch.buffers) {
        if (length === 0) continue;
        const prefix = Buffer.from(body.buffer, body.byteOffset + offset, 8).readBigInt64LE(0);
        if (prefix === -1n) raw += 1;
        else compressed += 1;
      }
    }
    out.push({ type: msg.isDictionaryBatch() ? 'dictionary' : 'batch', compression, compressed, raw });
  }
  return out;
}

export const hex = (u8) => Buffer.from(u8).toString('hex');

const attr = (key, value) => ({ key, value });
export const TRACE_ID = '5b8efff798038103d269b633813fc60c';
export function tracesBody(base) {
  return {
    resourceSpans: [{
      resource: { attributes: [attr('service.name', { stringValue: 'checkout' })] },
      scopeSpans: [{
        scope: { name: 'interop', version: '1.0' },
        spans: [0, 1, 2].map((i) => ({
          traceId: TRACE_ID,
          spanId: `eee19b7ec3c1b17${i}`,
          parentSpanId: i === 0 ? '' : `eee19b7ec3c1b17${i - 1}`,
          name: i === 0 ? 'GET /orders' : 'SELECT orders',
          kind: i === 0 ? 2 : 3,
          startTimeUnixNano: String(base + BigInt(i) * 1000000n),
          endTimeUnixNano: String(base + BigInt(i) * 1000000n + 250000n),
          attributes: [
            attr('http.response.status_code', { intValue: '200' }),
            attr('app.ratio', { doubleValue: 0.5 }),
            attr('app.cached', { boolValue: true }),
            attr('url.path', { stringValue: `/orders/${i}` }),
            attr('http.request.method', { stringValue: 'GET' }),
          ],
          events: i === 0 ? [{ timeUnixNano: String(base + 10n), name: 'exception', attributes: [] }] : [],
          status: i === 2 ? { code: 2, message: 'boom' } : {},
        })),
      }],
    }],
  };
}

export function logsBody(base) {
  return {
    resourceLogs: [{
      resource: { attributes: [attr('service.name', { stringValue: 'checkout' })] },
      scopeLogs: [{
        scope: { name: 'interop' },
        logRecords: [
          { timeUnixNano: String(base), severityNumber: 9, severityText: 'INFO', body: { stringValue: 'hello' } },
          { timeUnixNano: String(base + 1n), severityNumber: 17, severityText: 'ERROR',
            body: { kvlistValue: { values: [attr('k', { intValue: '7' })] } }, traceId: TRACE_ID, spanId: 'eee19b7ec3c1b170' },
        ],
      }],
    }],
  };
}

export function metricsBody(base) {
  return {
    resourceMetrics: [{
      resource: { attributes: [attr('service.name', { stringValue: 'checkout' })] },
      scopeMetrics: [{
        scope: { name: 'interop' },
        metrics: [
          { name: 'requests', unit: '1', sum: { aggregationTemporality: 2, isMonotonic: true,
            dataPoints: [{ timeUnixNano: String(base), startTimeUnixNano: String(base - 1000n), asInt: '42' }] } },
          { name: 'latency', unit: 'ms', histogram: { aggregationTemporality: 2,
            dataPoints: [{ timeUnixNano: String(base), startTimeUnixNano: String(base - 1000n), count: '3', sum: 7.5,
              bucketCounts: ['1', '2', '0'], explicitBounds: [1, 5] }] } },
        ],
      }],
    }],
  };
}

export async function waitFor(fn, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export { promValue };
