// Logs from the official OpenTelemetry JS SDK over http/json (@opentelemetry/exporter-logs-otlp-http) into otlpd.
import { test } from 'node:test';

import { logsInterop } from './lib/logs.mjs';

test('logs over http/json (@opentelemetry/exporter-logs-otlp-http) arrive intact in otlpd', { timeout: 45000 }, () => logsInterop('http/json'));
