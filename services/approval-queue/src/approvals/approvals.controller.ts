import { BearerAuthGuard, CurrentActor, ZodPipe, type Actor } from '@countersign/bus';
import { Body, Controller, Get, HttpCode, Param, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiBody,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiQuery,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { ErrorBodySchema, openApi } from '../shared/openapi';
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
import { GetJobDecisionsUseCase } from './get-job-decisions.use-case';
import { ListApprovalsUseCase } from './list-approvals.use-case';
import { ReviewJobUseCase } from './review-job.use-case';

const error = openApi(ErrorBodySchema);
const unauthorized = { status: 401, description: 'UNAUTHENTICATED: no, bad or expired bearer token', schema: error };

/** The reviewers' API. There is deliberately no `GET /api/v1/approvals/{job_id}`. */
@ApiTags('approvals')
@ApiBearerAuth()
@UseGuards(BearerAuthGuard)
@Controller('api/v1')
export class ApprovalsController {
  constructor(
    private readonly list: ListApprovalsUseCase,
    private readonly reviewJob: ReviewJobUseCase,
    private readonly decisions: GetJobDecisionsUseCase,
  ) {}

  @Get('approvals')
  @ApiOperation({
    summary: 'The approval queue',
    description:
      'Items the token may see (a role in approver_roles, or the default role `approver` when it names none; ' +
      'a tenant in the token tenants, all with `"*"`, none without the claim), ' +
      'sorted by due_at. Keyset pagination: pass next_cursor back as cursor.',
  })
  @ApiQuery({ name: 'include_resolved', required: false, schema: { type: 'boolean', default: false } })
  @ApiQuery({ name: 'tenant', required: false, type: String })
  @ApiQuery({ name: 'topic', required: false, type: String })
  @ApiQuery({ name: 'risk_tag', required: false, type: String })
  @ApiQuery({ name: 'role', required: false, type: String, description: 'only items this role may approve' })
  @ApiQuery({ name: 'rule_id', required: false, type: String })
  @ApiQuery({ name: 'limit', required: false, schema: { type: 'integer', minimum: 1, maximum: 200, default: 50 } })
  @ApiQuery({ name: 'cursor', required: false, type: String })
  @ApiOkResponse({ schema: openApi(ApprovalPageSchema) })
  @ApiResponse({ status: 400, description: 'INVALID_REQUEST (the field is named)', schema: error })
  @ApiResponse(unauthorized)
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
  @ApiParam({ name: 'job_id', type: String })
  @ApiBody({ required: false, schema: openApi(ApproveBodySchema, 'input') })
  @ApiOkResponse({ schema: openApi(ReviewResultSchema) })
  @ApiResponse({ status: 400, description: 'INVALID_REQUEST', schema: error })
  @ApiResponse(unauthorized)
  @ApiResponse({ status: 403, description: 'ROLE_NOT_ALLOWED | TENANT_NOT_ALLOWED | SELF_APPROVAL', schema: error })
  @ApiResponse({ status: 404, description: 'NOT_FOUND: no approval for this job', schema: error })
  @ApiResponse({
    status: 409,
    description: 'ALREADY_RESOLVED (the body carries the resolution) | ALREADY_DECIDED_BY_ACTOR | PROPOSAL_PENDING',
    schema: error,
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
  @ApiParam({ name: 'job_id', type: String })
  @ApiBody({ schema: openApi(RejectBodySchema, 'input') })
  @ApiOkResponse({ schema: openApi(ReviewResultSchema) })
  @ApiResponse({ status: 400, description: 'INVALID_REQUEST (e.g. reason missing)', schema: error })
  @ApiResponse(unauthorized)
  @ApiResponse({ status: 403, description: 'ROLE_NOT_ALLOWED | TENANT_NOT_ALLOWED', schema: error })
  @ApiResponse({ status: 404, description: 'NOT_FOUND', schema: error })
  @ApiResponse({ status: 409, description: 'ALREADY_RESOLVED | ALREADY_DECIDED_BY_ACTOR', schema: error })
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
  @ApiParam({ name: 'job_id', type: String })
  @ApiOkResponse({ schema: openApi(JobDecisionsSchema) })
  @ApiResponse(unauthorized)
  @ApiResponse({ status: 403, description: 'TENANT_NOT_ALLOWED', schema: error })
  @ApiResponse({ status: 404, description: 'NOT_FOUND', schema: error })
  jobDecisions(
    @CurrentActor() actor: Actor,
    @Param(new ZodPipe(JobParamsSchema)) params: { job_id: string },
  ): Promise<JobDecisions> {
    return this.decisions.execute(actor, params.job_id);
  }
}
