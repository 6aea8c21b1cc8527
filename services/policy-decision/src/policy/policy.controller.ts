import { ApiErrors, ApiJsonBody, ApiJsonOk, ApiParamsFrom, OperatorApi, ZodPipe } from '@countersign/service-kit';
import { decide, type PolicyDecision } from '@countersign/policy';
import { Body, Controller, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { snapshotNotFound } from './policy.errors';
import { PolicyStore, type ActiveSnapshot } from './policy-store';
import {
  ActiveSnapshotsSchema,
  EvaluateBodySchema,
  EvaluationSchema,
  PolicySnapshotSchema,
  SnapshotIdSchema,
  SnapshotParamsSchema,
  type EvaluateBody,
} from './policy.schemas';

/** Policy is operators' and auditors' business: a dry run is an oracle for what passes, so agents get none. */
@ApiTags('policy')
@OperatorApi({ 401: 'UNAUTHENTICATED', 403: 'ROLE_NOT_ALLOWED (needs operator or auditor)' })
@Controller('api/v1/policy')
export class PolicyController {
  constructor(private readonly store: PolicyStore) {}

  @Post('evaluate')
  @HttpCode(200)
  @ApiOperation({ summary: 'Dry run: the decision the active policy would make for a job (no event is emitted)' })
  @ApiJsonBody(EvaluateBodySchema)
  @ApiJsonOk(EvaluationSchema)
  @ApiErrors({ 400: 'INVALID_REQUEST (the field is named)' })
  evaluate(@Body(new ZodPipe(EvaluateBodySchema)) job: EvaluateBody): PolicyDecision {
    // A dry run may leave the requester out: its job_hash then covers an empty requester, which no
    // proposal can have (ids are never empty), so it never passes for a real job's hash.
    return decide({ ...job, requested_by: job.requested_by ?? '' }, this.store.current);
  }

  @Get('snapshots')
  @ApiOperation({ summary: 'The active snapshot of every scope (system and each tenant with its own file)' })
  @ApiJsonOk(ActiveSnapshotsSchema)
  snapshots() {
    return {
      snapshots: this.store.active().map((s) => ({ scope: s.scope, snapshot_id: s.snapshot_id })),
      last_reload_error: this.store.lastError ?? null,
    };
  }

  @Get('snapshots/:id')
  @ApiOperation({ summary: 'The canonical policy document a snapshot id names' })
  @ApiParamsFrom(SnapshotParamsSchema)
  @ApiJsonOk(PolicySnapshotSchema)
  @ApiErrors({ 400: 'INVALID_REQUEST (not a snapshot id)', 404: 'NOT_FOUND' })
  snapshot(@Param('id', new ZodPipe(SnapshotIdSchema)) id: string): ActiveSnapshot {
    const s = this.store.snapshot(id);
    if (!s) throw snapshotNotFound(id);
    return s;
  }
}
