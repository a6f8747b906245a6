// Metrics from the official OpenTelemetry JS SDK over http/json (@opentelemetry/exporter-metrics-otlp-http) into otlpd.
import { test } from 'node:test';

import { metricsInterop } from './lib/metrics.mjs';

test('metrics over http/json (@opentelemetry/exporter-metrics-otlp-http) arrive intact in otlpd', { timeout: 45000 }, () => metricsInterop('http/json'));
