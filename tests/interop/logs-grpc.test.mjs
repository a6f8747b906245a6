// Logs from the official OpenTelemetry JS SDK over grpc (@opentelemetry/exporter-logs-otlp-grpc) into otlpd.
import { test } from 'node:test';

import { logsInterop } from './lib/logs.mjs';

test('logs over grpc (@opentelemetry/exporter-logs-otlp-grpc) arrive intact in otlpd', { timeout: 45000 }, () => logsInterop('grpc'));
