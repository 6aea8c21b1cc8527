import { context, propagation, trace, ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { startNodeSDK } from '@opentelemetry/sdk-node';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { KafkaJsInstrumentation } from '@opentelemetry/instrumentation-kafkajs';

export interface TelemetryHandle {
  shutdown(): Promise<void>;
}

let sdk: TelemetryHandle | undefined;

/** Keeps spans (and so trace ids) alive for propagation and logs when no exporter is configured. */
const discardingProcessor = {
  onStart: () => undefined,
  onEnd: () => undefined,
  forceFlush: () => Promise.resolve(),
  shutdown: () => Promise.resolve(),
};

/**
 * Starts OpenTelemetry. Call it first in main.ts, before Nest, kafkajs or pg are loaded, so their
 * modules are patched. The exporter follows the standard OTEL_* variables (`otlp`, `console`); with
 * none set, trace ids are still made and propagated (they cross Kafka and reach the logs) but spans
 * are neither recorded nor exported.
 */
export function startTelemetry(serviceName: string): TelemetryHandle {
  if (sdk) return sdk;
  process.env['OTEL_SERVICE_NAME'] ??= serviceName;
  process.env['OTEL_METRICS_EXPORTER'] ??= 'none';
  process.env['OTEL_LOGS_EXPORTER'] ??= 'none';
  const exporter = process.env['OTEL_TRACES_EXPORTER'];
  // Nothing exported: spans are not recorded at all (no span objects, attributes or processors on
  // the hot path), yet every span still carries a trace id that propagates across Kafka and into
  // the logs. An explicit OTEL_TRACES_SAMPLER wins.
  if (!exporter || exporter === 'none') process.env['OTEL_TRACES_SAMPLER'] ??= 'always_off';
  sdk = startNodeSDK({
    resourceAttributes: { 'service.name': process.env['OTEL_SERVICE_NAME'] },
    ...(!exporter || exporter === 'none' ? { spanProcessors: [discardingProcessor] } : {}),
    instrumentations: [
      new HttpInstrumentation({ ignoreIncomingRequestHook: (req) => /\/(healthz|readyz)$/.test(req.url ?? '') }),
      new ExpressInstrumentation(),
      new PgInstrumentation({ requireParentSpan: true }),
      new KafkaJsInstrumentation(),
    ],
  });
  return sdk;
}

export interface TraceCarrier {
  traceparent?: string;
  tracestate?: string;
}

/** The active trace context as W3C headers, to store beside an outbox row or in an envelope. */
export function currentTraceContext(): TraceCarrier {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const out: TraceCarrier = {};
  if (carrier['traceparent']) out.traceparent = carrier['traceparent'];
  if (carrier['tracestate']) out.tracestate = carrier['tracestate'];
  return out;
}

export function contextFrom(carrier: TraceCarrier | undefined | null): Context {
  if (!carrier?.traceparent) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** Runs `fn` inside the trace a stored carrier names, so work done later joins the original trace. */
export function withTraceContext<T>(carrier: TraceCarrier | undefined | null, fn: () => T): T {
  return context.with(contextFrom(carrier), fn);
}

export function currentTraceId(): string | undefined {
  const span = trace.getSpan(context.active());
  const id = span?.spanContext().traceId;
  return id && id !== '00000000000000000000000000000000' ? id : undefined;
}
