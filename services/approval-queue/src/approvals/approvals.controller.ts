import {
  ApiErrors,
  ApiJsonBody,
  ApiJsonOk,
  ApiParamsFrom,
  ApiQueryFrom,
  Authenticated,
  CurrentActor,
  ZodPipe,
  type Actor,
} from '@countersign/service-kit';
import { Body, Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { ApiOperation, ApiTags } from '@nestjs/swagger';
import {
  ApprovalPageSchema,
  ApproveBodySchema,
  JobDecisionsSchema,
  JobParamsSchema,
  ListQuerySchema,
  RejectBodySchema,
  ReviewResultSchema,
  type ApprovalPage,
  type ApproveBody,
  type JobDecisions,
  type ListQuery,
  type ReviewResult,
} from './approval.schemas';
import { GetJobDecisionsQuery } from './get-job-decisions.query';
import { ListApprovalsQuery } from './list-approvals.query';
import { ReviewJobUseCase } from './review-job.use-case';

const unauthorized = 'UNAUTHENTICATED: no, bad or expired bearer token';

/** The reviewers' API. There is deliberately no `GET /api/v1/approvals/{job_id}`. */
@ApiTags('approvals')
@Authenticated()
@Controller('api/v1')
export class ApprovalsController {
  constructor(
    private readonly list: ListApprovalsQuery,
    private readonly reviewJob: ReviewJobUseCase,
    private readonly decisions: GetJobDecisionsQuery,
  ) {}

  @Get('approvals')
  @ApiOperation({
    summary: 'The approval queue',
    description:
      'Items the token may see (a role in approver_roles, or the default role `approver` when it names none; ' +
      'a tenant in the token tenants, all with `"*"`, none without the claim), ' +
      'sorted by due_at. Keyset pagination: pass next_cursor back as cursor.',
  })
  @ApiQueryFrom(ListQuerySchema)
  @ApiJsonOk(ApprovalPageSchema)
  @ApiErrors({ 400: 'INVALID_REQUEST (the field is named)', 401: unauthorized })
  listApprovals(
    @CurrentActor() actor: Actor,
    @Query(new ZodPipe(ListQuerySchema)) query: ListQuery,
  ): Promise<ApprovalPage> {
    return this.list.execute(actor, query);
  }

  @Post('approvals/:job_id/approve')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Approve a job',
    description: 'The actor is the token subject. N approvals by N distinct people resolve APPROVED.',
  })
  @ApiParamsFrom(JobParamsSchema)
  @ApiJsonBody(ApproveBodySchema, { required: false })
  @ApiJsonOk(ReviewResultSchema)
  @ApiErrors({
    400: 'INVALID_REQUEST',
    401: unauthorized,
    403: 'ROLE_NOT_ALLOWED | TENANT_NOT_ALLOWED | SELF_APPROVAL',
    404: 'NOT_FOUND: no approval for this job',
    409: 'ALREADY_RESOLVED (the body carries the resolution) | ALREADY_DECIDED_BY_ACTOR | PROPOSAL_PENDING',
  })
  approve(
    @CurrentActor() actor: Actor,
    @Param(new ZodPipe(JobParamsSchema)) params: { job_id: string },
    @Body(new ZodPipe(ApproveBodySchema)) body: ApproveBody,
  ): Promise<ReviewResult> {
    return this.reviewJob.execute({
      jobId: params.job_id,
      action: 'approve',
      reviewer: actor,
      reason: body.reason ?? null,
      note: body.note ?? null,
    });
  }

  @Post('approvals/:job_id/reject')
  @HttpCode(200)
  @ApiOperation({ summary: 'Reject a job', description: 'One rejection resolves REJECTED. A reason is required.' })
  @ApiParamsFrom(JobParamsSchema)
  @ApiJsonBody(RejectBodySchema)
  @ApiJsonOk(ReviewResultSchema)
  @ApiErrors({
    400: 'INVALID_REQUEST (e.g. reason missing)',
    401: unauthorized,
    403: 'ROLE_NOT_ALLOWED | TENANT_NOT_ALLOWED',
    404: 'NOT_FOUND',
    409: 'ALREADY_RESOLVED | ALREADY_DECIDED_BY_ACTOR',
  })
  reject(
    @CurrentActor() actor: Actor,
    @Param(new ZodPipe(JobParamsSchema)) params: { job_id: string },
    @Body(new ZodPipe(RejectBodySchema)) body: { reason: string; note?: string | null | undefined },
  ): Promise<ReviewResult> {
    return this.reviewJob.execute({
      jobId: params.job_id,
      action: 'reject',
      reviewer: actor,
      reason: body.reason,
      note: body.note ?? null,
    });
  }

  @Get('jobs/:job_id/decisions')
  @ApiOperation({ summary: 'The policy decision and every approval action for a job' })
  @ApiParamsFrom(JobParamsSchema)
  @ApiJsonOk(JobDecisionsSchema)
  @ApiErrors({ 400: 'INVALID_REQUEST (job_id)', 401: unauthorized, 403: 'TENANT_NOT_ALLOWED', 404: 'NOT_FOUND' })
  jobDecisions(
    @CurrentActor() actor: Actor,
    @Param(new ZodPipe(JobParamsSchema)) params: { job_id: string },
  ): Promise<JobDecisions> {
    return this.decisions.execute(actor, params.job_id);
  }
}
