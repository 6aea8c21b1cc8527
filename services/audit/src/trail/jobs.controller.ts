import { BearerAuthGuard, CurrentActor, ZodPipe, type Actor } from '@countersign/bus';
import { jobNotFound } from './trail.errors';
import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AuditorGuard, tenantVisible } from '../auth/auditor.guard';
import { AuditRecordRepository, toAuditRecord } from '../records/audit-record.repository';
import { buildJobTimeline, type JobTimeline } from './core/job-timeline';
import { ErrorOpenApi, TimelineOpenApi } from './trail.openapi';
import { JobIdParamSchema } from './trail-query.schemas';

const ParamsSchema = z.object({ job_id: JobIdParamSchema });

@ApiTags('audit')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard, AuditorGuard)
@Controller('api/v1/jobs')
export class JobsController {
  constructor(private readonly records: AuditRecordRepository) {}

  @Get(':job_id/timeline')
  @ApiOperation({
    summary: "A job's whole story from the audit trail, in order",
    description:
      'Proposal, decision with its policy snapshot and rule (policy_url links the policy text), approvals with actors and reasons, release, execution or block.',
  })
  @ApiParam({ name: 'job_id' })
  @ApiOkResponse({ schema: TimelineOpenApi })
  @ApiNotFoundResponse({ description: 'JOB_NOT_FOUND', schema: ErrorOpenApi })
  async timeline(
    @Param(new ZodPipe(ParamsSchema)) params: z.infer<typeof ParamsSchema>,
    @CurrentActor() actor: Actor,
  ): Promise<JobTimeline> {
    const rows = await this.records.forJob(params.job_id);
    const timeline = buildJobTimeline(params.job_id, rows.map(toAuditRecord));
    // A job outside the token's tenants is answered exactly like one that does not exist.
    if (rows.length === 0 || !tenantVisible(actor, timeline.tenant)) {
      throw jobNotFound(params.job_id);
    }
    return timeline;
  }
}
