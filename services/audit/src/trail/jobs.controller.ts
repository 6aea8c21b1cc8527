import { ApiErrors, ApiJsonOk, ApiParamsFrom, CurrentActor, ZodPipe, type Actor } from '@countersign/service-kit';
import { jobNotFound } from './trail.errors';
import { Controller, Get, Param } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import { z } from 'zod';
import { AuditorApi, tenantVisible } from '../auth/auditor.guard';
import { AuditRecordRepository, toAuditRecord } from '../records/audit-record.repository';
import { buildJobTimeline, type JobTimeline } from './core/job-timeline';
import { JobIdParamSchema, TimelineSchema } from './trail.schemas';

const ParamsSchema = z.object({ job_id: JobIdParamSchema });

@ApiTags('audit')
@AuditorApi('INVALID_REQUEST (job_id)')
@Controller('api/v1/jobs')
export class JobsController {
  constructor(private readonly records: AuditRecordRepository) {}

  @Get(':job_id/timeline')
  @ApiOperation({
    summary: "A job's whole story from the audit trail, in order",
    description:
      'Proposal, decision with its policy snapshot and rule (policy_url links the policy text), approvals with actors and reasons, release, execution or block.',
  })
  @ApiParamsFrom(ParamsSchema)
  @ApiJsonOk(TimelineSchema)
  @ApiErrors({ 404: 'JOB_NOT_FOUND' })
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
