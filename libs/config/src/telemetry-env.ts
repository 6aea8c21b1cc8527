import { z } from 'zod';

/**
 * The standard OpenTelemetry variables the telemetry bootstrap (libs/telemetry) honours. The
 * OpenTelemetry SDK reads them itself; this schema only describes them, so the configuration
 * reference is generated from schemas alone. `defaultText` is what the reference shows as the default.
 */
export const TelemetryEnvSchema = z.object({
  OTEL_TRACES_EXPORTER: z.string().optional().meta({
    defaultText: '`none`',
    description:
      '`otlp` or `console` to export traces; unset/`none`: trace ids still propagate and are logged, but spans are not recorded (the sampler defaults to `always_off`).',
  }),
  OTEL_TRACES_SAMPLER: z.string().optional().meta({
    defaultText: '`always_off` with no exporter, else `parentbased_always_on`',
    description:
      'The standard OpenTelemetry sampler (`parentbased_traceidratio` with `OTEL_TRACES_SAMPLER_ARG=0.01` records one trace in a hundred on a busy gate).',
  }),
  OTEL_EXPORTER_OTLP_ENDPOINT: z.string().optional().meta({
    defaultText: '—',
    description: 'OTLP/HTTP collector endpoint, e.g. `http://otel-collector:4318`.',
  }),
  OTEL_SERVICE_NAME: z.string().optional().meta({
    defaultText: 'the service name',
    description: 'Service name on exported spans.',
  }),
});
