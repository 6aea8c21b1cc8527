import { z } from 'zod';
import { TimestampSchema } from './common';

export const SignatureSchema = z.object({
  alg: z.literal('Ed25519'),
  key_id: z.string().min(1).max(128),
  value: z.string().min(1).max(256),
});
export type Signature = z.infer<typeof SignatureSchema>;

export const TraceContextSchema = z.object({
  traceparent: z.string().max(128).optional(),
  tracestate: z.string().max(512).optional(),
});
export type TraceContext = z.infer<typeof TraceContextSchema>;

/**
 * Every event on the bus: identity, type and version, when, the trace it belongs to,
 * which service produced it, its data, and (for decisions, approvals and grants) a signature
 * over the canonical JSON of everything else.
 */
export function envelopeSchema<T extends string, D extends z.ZodType>(type: T, data: D) {
  return z.object({
    event_id: z.uuid(),
    type: z.literal(type),
    schema_version: z.literal(1),
    occurred_at: TimestampSchema,
    producer: z.string().min(1).max(64),
    trace: TraceContextSchema.optional(),
    data,
    signature: SignatureSchema.optional(),
  });
}

export const AnyEnvelopeSchema = z.object({
  event_id: z.uuid(),
  type: z.string(),
  schema_version: z.number().int(),
  occurred_at: TimestampSchema,
  producer: z.string(),
  trace: TraceContextSchema.optional(),
  data: z.unknown(),
  signature: SignatureSchema.optional(),
});
export type AnyEnvelope = z.infer<typeof AnyEnvelopeSchema>;
