// Metrics from the official OpenTelemetry JS SDK over grpc (@opentelemetry/exporter-metrics-otlp-grpc) into otlpd.
import { test } from 'node:test';

import { metricsInterop } from './lib/metrics.mjs';

test('metrics over grpc (@opentelemetry/exporter-metrics-otlp-grpc) arrive intact in otlpd', { timeout: 45000 }, () => metricsInterop('grpc'));
