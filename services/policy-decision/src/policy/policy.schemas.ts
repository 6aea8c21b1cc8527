import { DecisionMadeDataSchema, JobProposedDataSchema } from '@countersign/contracts';
import { z } from 'zod';

/** The job a dry run evaluates: the proposal's fields, without the envelope. */
export const EvaluateBodySchema = JobProposedDataSchema.pick({
  job_id: true,
  tenant: true,
  agent_id: true,
  topic: true,
  risk_tags: true,
  payload: true,
  summary: true,
})
  .extend({ requested_by: z.string().optional() })
  .meta({
    example: {
      job_id: 'job-1',
      tenant: 'acme',
      agent_id: 'deployer',
      topic: 'job.deploy.rollout',
      risk_tags: ['prod', 'write'],
      payload: {},
    },
  });
export type EvaluateBody = z.infer<typeof EvaluateBodySchema>;

/** What the active policy decides: the policy part of `decision.made` (no job id, tenant or time). */
export const EvaluationSchema = DecisionMadeDataSchema.omit({ job_id: true, tenant: true, decided_at: true });

/** A snapshot id as the store names them; anything else is a 400, never a lookup. */
export const SnapshotIdSchema = z
  .string()
  .min(1)
  .max(400)
  .regex(/^cfg:[A-Za-z0-9._:@-]+:policy#sha256:[0-9a-f]{64}$/, 'a snapshot id: cfg:<scope>:policy#sha256:<64 hex>');

export const SnapshotParamsSchema = z.object({ id: SnapshotIdSchema });

export const ActiveSnapshotsSchema = z.object({
  snapshots: z.array(z.object({ scope: z.string(), snapshot_id: z.string() })),
  last_reload_error: z
    .object({ message: z.string(), at: z.string() })
    .nullable()
    .meta({ description: 'why the last reload of the policy files failed (the previous policy stays active)' }),
});

export const PolicySnapshotSchema = z.object({
  scope: z.string().meta({ example: 'system' }),
  snapshot_id: z.string(),
  document: z.record(z.string(), z.unknown()).meta({ description: 'the canonical policy document' }),
});
