import { ZodPipe } from '@countersign/bus';
import { CodedError, JobProposedDataSchema } from '@countersign/contracts';
import { decide } from '@countersign/policy';
import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiBody, ApiOkResponse, ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
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

@ApiTags('policy')
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
  @ApiOkResponse({ description: 'decision, policy_rule_id, policy_reason, matched_rules, policy_snapshot, job_hash, constraints, approval, decision_summary' })
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
  snapshot(@Param('id') id: string) {
    const s = this.store.snapshot(id);
    if (!s) throw new CodedError('NOT_FOUND', `no snapshot ${id} has been active in this service`, 404);
    return s;
  }
}
