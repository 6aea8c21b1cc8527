import { BearerAuthGuard, OPERATOR_ROLES, RequireRoles, RolesGuard, ZodPipe } from '@countersign/bus';
import { IdSchema } from '@countersign/contracts';
import { Body, Controller, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiBody, ApiOkResponse, ApiOperation, ApiParam, ApiResponse, ApiTags } from '@nestjs/swagger';
import {
  ReportOutcomeUseCase,
  ReportBodySchema,
  type ReportAnswer,
  type ReportBody,
} from '../execution/report-outcome.use-case';
import { GetJobStateQuery } from './get-job-state.query';
import { JobStateDto, ReportAnswerDto, ReportBodyDto } from './job-state.dto';

@ApiTags('jobs')
@Controller('api/v1/jobs')
export class JobsController {
  constructor(
    private readonly getJobState: GetJobStateQuery,
    private readonly reportOutcome: ReportOutcomeUseCase,
  ) {}

  @Get(':job_id/state')
  @UseGuards(BearerAuthGuard, RolesGuard)
  @RequireRoles(...OPERATOR_ROLES)
  @ApiBearerAuth()
  @ApiOperation({
    summary: 'Where a job stands in the binding state machine',
    description:
      'pending | proposed | decided | awaiting_approval | released | executing | executed | blocked (with the reason), with the facts received and their timestamps. Needs a bearer token with the operator or auditor role (it shows executor results and block reasons); agents read their own outcomes through the SDK.',
  })
  @ApiParam({ name: 'job_id' })
  @ApiOkResponse({ type: JobStateDto })
  @ApiResponse({ status: 401, description: 'UNAUTHENTICATED' })
  @ApiResponse({ status: 403, description: 'ROLE_NOT_ALLOWED (needs operator or auditor)' })
  @ApiResponse({ status: 404, description: 'JOB_NOT_FOUND' })
  state(@Param('job_id', new ZodPipe(IdSchema)) jobId: string): Promise<JobStateDto> {
    return this.getJobState.execute(jobId);
  }

  @Post(':job_id/report')
  @HttpCode(200)
  @ApiOperation({
    summary: "The agent's report of a released job it ran",
    description:
      "Authenticated by the grant itself: the job.released event, which must carry execution-binding's signature and be the grant issued for this job. The first report becomes job.executed; the same report again answers recorded=false; a different one 409 ALREADY_REPORTED.",
  })
  @ApiParam({ name: 'job_id' })
  @ApiBody({ type: ReportBodyDto })
  @ApiOkResponse({ type: ReportAnswerDto })
  @ApiResponse({ status: 403, description: 'INVALID_GRANT or GRANT_MISMATCH' })
  @ApiResponse({ status: 409, description: 'NOT_RELEASED or ALREADY_REPORTED' })
  report(
    @Param('job_id', new ZodPipe(IdSchema)) jobId: string,
    @Body(new ZodPipe(ReportBodySchema)) body: ReportBody,
  ): Promise<ReportAnswer> {
    return this.reportOutcome.execute(jobId, body);
  }
}
