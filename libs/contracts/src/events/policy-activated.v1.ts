import { z } from 'zod';
import { PolicySnapshotSchema, TimestampSchema } from '../common';
import { envelopeSchema } from '../envelope';
import { Topics } from '../topics';

export const PolicyActivatedDataSchema = z.object({
  snapshot_id: PolicySnapshotSchema,
  scope: z.string().regex(/^(system|tenant:[A-Za-z0-9][A-Za-z0-9._:@-]*)$/),
  /** The canonical document whose SHA-256 the snapshot id names. */
  document: z.unknown(),
  previous_snapshot_id: PolicySnapshotSchema.nullable(),
  activated_at: TimestampSchema,
});
export type PolicyActivatedData = z.infer<typeof PolicyActivatedDataSchema>;

export const PolicyActivatedV1Schema = envelopeSchema(Topics.PolicyActivated, PolicyActivatedDataSchema);
export type PolicyActivatedV1 = z.infer<typeof PolicyActivatedV1Schema>;
