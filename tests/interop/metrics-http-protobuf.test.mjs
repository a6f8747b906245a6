// Metrics from the official OpenTelemetry JS SDK over http/protobuf (@opentelemetry/exporter-metrics-otlp-proto) into otlpd.
import { test } from 'node:test';

import { metricsInterop } from './lib/metrics.mjs';

test('metrics over http/protobuf (@opentelemetry/exporter-metrics-otlp-proto) arrive intact in otlpd', { timeout: 45000 }, () => metricsInterop('http/protobuf'));
