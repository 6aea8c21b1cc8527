import { BearerAuthGuard, OPERATOR_ROLES, RequireRoles, RolesGuard, ZodPipe } from '@countersign/bus';
import { JobProposedDataSchema } from '@countersign/contracts';
import { decide } from '@countersign/policy';
import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { snapshotNotFound } from './policy.errors';
import { PolicyStore } from './policy-store';

/** The job a dry run evaluates: the proposal's fields, without the envelope. */
export const EvaluateBodySchema = JobProposedDataSchema.pick({
  job_id: true,
  tenant: true,
  agent_id: true,
  topic: true,
  risk_tags: true,
  payload: true,
  summary: true,
}).extend({ requested_by: z.string().optional() });

/** Policy is operators' and auditors' business: a dry run is an oracle for what passes, so agents get none. */
/** A snapshot id as the store names them; anything else is a 400, never a lookup. */
const SnapshotIdSchema = z
  .string()
  .min(1)
  .max(400)
  .regex(/^cfg:[A-Za-z0-9._:@-]+:policy#sha256:[0-9a-f]{64}$/, 'a snapshot id: cfg:<scope>:policy#sha256:<64 hex>');

@ApiTags('policy')
@ApiBearerAuth()
@ApiResponse({ status: 401, description: 'UNAUTHENTICATED' })
@ApiResponse({ status: 403, description: 'ROLE_NOT_ALLOWED (needs operator or auditor)' })
@UseGuards(BearerAuthGuard, RolesGuard)
@RequireRoles(...OPERATOR_ROLES)
@Controller('api/v1/policy')
export class PolicyController {
  constructor(private readonly store: PolicyStore) {}

  @Post('evaluate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Dry run: the decision the active policy would make for a job (no event is emitted)' })
  @ApiBody({
    schema: {
      type: 'object',
      required: ['job_id', 'tenant', 'agent_id', 'topic', 'risk_tags', 'payload'],
      properties: {
        job_id: { type: 'string' },
        tenant: { type: 'string' },
        agent_id: { type: 'string' },
        topic: { type: 'string', example: 'job.deploy.rollout' },
        risk_tags: { type: 'array', items: { type: 'string' }, example: ['prod', 'write'] },
        payload: { type: 'object' },
        summary: { type: 'object', properties: { title: { type: 'string' } } },
      },
    },
  })
  @ApiOkResponse({
    description:
      'decision, policy_rule_id, policy_reason, matched_rules, policy_snapshot, job_hash, constraints, approval, decision_summary',
  })
  evaluate(@Body(new ZodPipe(EvaluateBodySchema)) job: z.infer<typeof EvaluateBodySchema>) {
    return decide(job, this.store.current);
  }

  @Get('snapshots')
  @ApiOperation({ summary: 'The active snapshot of every scope (system and each tenant with its own file)' })
  snapshots() {
    return {
      snapshots: this.store.active().map((s) => ({ scope: s.scope, snapshot_id: s.snapshot_id })),
      last_reload_error: this.store.lastError ?? null,
    };
  }

  @Get('snapshots/:id')
  @ApiOperation({ summary: 'The canonical policy document a snapshot id names' })
  snapshot(@Param('id', new ZodPipe(SnapshotIdSchema)) id: string) {
    const s = this.store.snapshot(id);
    if (!s) throw snapshotNotFound(id);
    return s;
  }
}
